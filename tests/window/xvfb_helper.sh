#!/usr/bin/env bash
# Sourced by the window tests: gives the test an X display.
#
#   source "$(dirname "$0")/xvfb_helper.sh"
#   private_display 1280x720   # its own Xvfb (display number: free, or $XVFB_DISPLAY_NUM when set) (key presses cannot reach another test's window, and no
#                              # other test's display going away can take this one with it)
#   any_display                # $DISPLAY when set, else its own Xvfb
#
# Neither Xvfb nor a display: the test is skipped (exit 77, ctest's SKIP_RETURN_CODE) with the
# reason, so plain `ctest` without a display passes. The Xvfb goes when the test's shell exits
# (xvfb_cleanup; a test with its own EXIT trap calls it there).
XVFB_SKIP=77
xvfb_pid=""
xvfb_dir=""
xvfb_cleanup() {
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2> /dev/null
  [ -n "$xvfb_dir" ] && rm -rf "$xvfb_dir"
  xvfb_pid=""; xvfb_dir=""
}
private_display() {  # WxH (default 1600x900)
  local size="${1:-1600x900}"
  if ! command -v Xvfb > /dev/null; then
    echo "SKIP: no Xvfb (apt-get install xvfb) for this window test"
    exit "$XVFB_SKIP"
  fi
  xvfb_dir=$(mktemp -d)
  if [ -n "${XVFB_DISPLAY_NUM:-}" ]; then  # a fixed display number (several people's tests on one machine)
    Xvfb ":$XVFB_DISPLAY_NUM" -screen 0 "${size}x24" -nolisten tcp -noreset 2> /dev/null &
    xvfb_pid=$!
    for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$XVFB_DISPLAY_NUM" ] && break; sleep 0.1; done
    [ -e "/tmp/.X11-unix/X$XVFB_DISPLAY_NUM" ] && echo "$XVFB_DISPLAY_NUM" > "$xvfb_dir/display"
  else
    Xvfb -displayfd 3 -screen 0 "${size}x24" -nolisten tcp -noreset 3> "$xvfb_dir/display" 2> /dev/null &
    xvfb_pid=$!
  fi
  for _ in $(seq 50); do [ -s "$xvfb_dir/display" ] && break; sleep 0.1; done
  if [ ! -s "$xvfb_dir/display" ]; then
    echo "FAIL: Xvfb did not start"
    exit 1
  fi
  export DISPLAY=":$(head -n1 "$xvfb_dir/display")"
  echo "display $DISPLAY (private Xvfb)"
}
any_display() {  # WxH for the Xvfb when there is no display
  if [ -n "${DISPLAY:-}" ]; then return 0; fi
  private_display "${1:-1600x900}"
}
# A test's own temporary folder $tmp, and $app_pid (the app it starts, killed at exit). At exit:
# the app and the Xvfb stop, the PNGs in $tmp are kept in the folder named by the variable
# KEEP_VAR (e.g. E2E_KEEP=DIR) when it is set, and $tmp goes.
window_test_tmp() {  # [KEEP_VAR]
  tmp=$(mktemp -d)
  app_pid=""
  keep_var="${1:-}"
  trap window_test_cleanup EXIT
}
window_test_cleanup() {
  [ -n "${app_pid:-}" ] && kill "$app_pid" 2> /dev/null
  xvfb_cleanup
  local keep=""
  [ -n "${keep_var:-}" ] && keep="${!keep_var:-}"
  if [ -n "$keep" ]; then mkdir -p "$keep"; cp "$tmp"/*.png "$keep"/ 2> /dev/null; fi
  rm -rf "$tmp"
}
trap xvfb_cleanup EXIT
