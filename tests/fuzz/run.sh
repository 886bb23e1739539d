#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang twice and runs them for SECONDS in all:
#   - ASan + UBSan, portable flags: fuzz_scene and fuzz_tokenizer, SECONDS / 3 each;
#   - the release flags (-O3 -march=native -ffp-contract=fast, no sanitizers), where FMA
#     contraction changes the numbers (issue 9): fuzz_scene, SECONDS / 3.
#   bash tests/fuzz/run.sh [SECONDS]    default 60 (CI)
# Environment: BUILD_DIR (default build-fuzz; the release build goes to $BUILD_DIR-release),
# FUZZ_KEEP=1 adds new inputs to tests/fuzz/corpus/ (otherwise each run works on a copy and leaves
# the tree as it was), JOBS.
# Exits non-zero on any crash, leak, hang or sanitizer finding; the input is saved as
# $BUILD_DIR/crash-* (add it to tests/data/fuzz_regressions/ as a regression test).
set -euo pipefail
cd "$(dirname "$0")/../.."
total="${1:-60}"
dir="${BUILD_DIR:-build-fuzz}"
cxx="$(command -v clang++-14 || command -v clang++ || true)"
[ -n "$cxx" ] || { echo "fuzz: clang++ not found (install clang-14 and libclang-rt-14-dev)" >&2; exit 1; }
rel="$dir-release"
cmake -S . -B "$dir" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATTNVIZ_FUZZ=ON \
  -DATTNVIZ_SANITIZE=ON -DATTNVIZ_BUILD_APP=OFF -DATTNVIZ_BUILD_TESTS=OFF -DATTNVIZ_BUILD_BENCH=OFF \
  -DATTNVIZ_NATIVE=OFF > /dev/null
# The release flags: RelWithDebInfo here is -O3 (CMakeLists.txt), plus -march=native and FMA
# contraction forced on for every file that does not turn it off itself.
cmake -S . -B "$rel" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATTNVIZ_FUZZ=ON \
  -DATTNVIZ_SANITIZE=OFF -DATTNVIZ_BUILD_APP=OFF -DATTNVIZ_BUILD_TESTS=OFF -DATTNVIZ_BUILD_BENCH=OFF \
  -DATTNVIZ_NATIVE=ON -DCMAKE_CXX_FLAGS="-ffp-contract=fast" > /dev/null
cmake --build "$dir" -j "${JOBS:-2}" --target fuzz_scene fuzz_tokenizer
cmake --build "$rel" -j "${JOBS:-2}" --target fuzz_scene
each=$(( total / 3 )); [ "$each" -ge 1 ] || each=1
status=0
findings="$dir/findings"; rm -rf "$findings"; mkdir -p "$findings"
# run BUILD NAME LABEL
run() {
  local build="$1" name="$2" label="$3"
  local corpus="tests/fuzz/corpus/$name"
  local work="$corpus"
  if [ "${FUZZ_KEEP:-0}" != "1" ]; then
    work="$build/corpus-$name"; rm -rf "$work"; mkdir -p "$work"; cp -r "$corpus"/. "$work"/
  fi
  echo "fuzz_$name ($label): ${each}s on $(ls "$work" | wc -l) corpus inputs"
  local rc=0
  ASAN_OPTIONS=detect_leaks=1 "$build/tests/fuzz/fuzz_$name" -max_total_time="$each" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$findings/$label-$name-" $( [ "$name" = scene ] && echo "-dict=tests/fuzz/scene.dict" ) "$work" > "$build/fuzz_$name.log" 2>&1 || rc=$?
  grep -E 'stat::number_of_executed_units|stat::peak_rss_mb|ERROR|SUMMARY|Test unit written' "$build/fuzz_$name.log" || true
  if [ "$rc" -ne 0 ]; then echo "fuzz_$name ($label): exit $rc (log: $build/fuzz_$name.log)"; tail -40 "$build/fuzz_$name.log"; status=1; fi
}
run "$dir" scene sanitizers
run "$dir" tokenizer sanitizers
run "$rel" scene release
if [ "$status" -eq 0 ]; then echo "fuzz: no findings"; else echo "fuzz: FINDINGS:"; ls "$findings"; fi
exit "$status"
