#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (ASan + UBSan) and runs each for a share of SECONDS.
#   bash tests/fuzz/run.sh [SECONDS]    default 60 (CI); every fuzzer gets SECONDS / 2
# Environment: BUILD_DIR (default build-fuzz), FUZZ_KEEP=1 adds new inputs to tests/fuzz/corpus/
# (otherwise the run works on a copy and leaves the tree as it was), JOBS.
# Exits non-zero on any crash, leak, hang or sanitizer finding; the input is saved as
# $BUILD_DIR/crash-* (add it to tests/data/fuzz_regressions/ as a regression test).
set -euo pipefail
cd "$(dirname "$0")/../.."
total="${1:-60}"
dir="${BUILD_DIR:-build-fuzz}"
cxx="$(command -v clang++-14 || command -v clang++ || true)"
[ -n "$cxx" ] || { echo "fuzz: clang++ not found (install clang-14 and libclang-rt-14-dev)" >&2; exit 1; }
cmake -S . -B "$dir" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATTNVIZ_FUZZ=ON \
  -DATTNVIZ_SANITIZE=ON -DATTNVIZ_BUILD_APP=OFF -DATTNVIZ_BUILD_TESTS=OFF -DATTNVIZ_NATIVE=OFF > /dev/null
cmake --build "$dir" -j "${JOBS:-2}" --target fuzz_scene fuzz_tokenizer
each=$(( total / 2 )); [ "$each" -ge 1 ] || each=1
status=0
findings="$dir/findings"; rm -rf "$findings"; mkdir -p "$findings"
for name in scene tokenizer; do
  corpus="tests/fuzz/corpus/$name"
  work="$corpus"
  if [ "${FUZZ_KEEP:-0}" != "1" ]; then
    work="$dir/corpus-$name"; rm -rf "$work"; mkdir -p "$work"; cp -r "$corpus"/. "$work"/
  fi
  echo "fuzz_$name: ${each}s on $(ls "$work" | wc -l) corpus inputs"
  rc=0
  ASAN_OPTIONS=detect_leaks=1 "$dir/tests/fuzz/fuzz_$name" -max_total_time="$each" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$findings/$name-" $( [ "$name" = scene ] && echo "-dict=tests/fuzz/scene.dict" ) "$work" > "$dir/fuzz_$name.log" 2>&1 || rc=$?
  grep -E 'stat::number_of_executed_units|stat::peak_rss_mb|ERROR|SUMMARY|Test unit written' "$dir/fuzz_$name.log" || true
  if [ "$rc" -ne 0 ]; then echo "fuzz_$name: exit $rc (log: $dir/fuzz_$name.log)"; tail -40 "$dir/fuzz_$name.log"; status=1; fi
done
if [ "$status" -eq 0 ]; then echo "fuzz: no findings"; else echo "fuzz: FINDINGS:"; ls "$findings"; fi
exit "$status"
