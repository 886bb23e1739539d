#!/usr/bin/env bash
# Ctrl+Z / Ctrl+Y in the real window, pressed with xdotool; the autosave file shows the scene
# going back and forth (it holds the current scene within a second of each change).
set -u
app="$1"
command -v xdotool > /dev/null || { echo "SKIP: no xdotool (apt-get install xdotool)"; exit 77; }
tmp=$(mktemp -d); pid=""
source "$(dirname "$0")/xvfb_helper.sh"
cleanup() { [ -n "$pid" ] && kill "$pid" 2> /dev/null; xvfb_cleanup; rm -rf "$tmp"; }
trap cleanup EXIT
private_display
state="$tmp/state"
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
saved() { ls "$state"/autosave-*.json 2> /dev/null | head -1; }  # this instance's autosave
wait_for() {  # wait_for PATTERN present|absent
  for _ in $(seq 60); do
    if [ "$2" = present ] && grep -q "$1" "$(saved)" 2> /dev/null; then return 0; fi
    if [ "$2" = absent ] && [ -s "$(saved)" ] && ! grep -q "$1" "$(saved)"; then return 0; fi
    sleep 0.1
  done
  return 1
}
press() {  # press KEY with Ctrl held across frames (ImGui 1.86 keeps key state, not events)
  xdotool keydown --window "$wid" ctrl; sleep 0.1
  xdotool keydown --window "$wid" "$1"; sleep 0.15
  xdotool keyup --window "$wid" "$1"; sleep 0.1
  xdotool keyup --window "$wid" ctrl; sleep 0.2
}
"$app" --state-dir "$state" --test-edit "undo me please" > "$tmp/out" 2>&1 &
pid=$!
wid=""
for _ in $(seq 50); do wid=$(xdotool search --pid "$pid" 2> /dev/null | head -1); [ -n "$wid" ] && break; sleep 0.1; done
[ -n "$wid" ] || { echo "FAIL: no window"; cat "$tmp/out"; exit 1; }
xdotool windowfocus --sync "$wid" 2> /dev/null || true
check "the edit is autosaved" "wait_for 'undo me please' present"
press z
check "Ctrl+Z undoes it (the lecture scene is back)" "wait_for 'undo me please' absent && grep -q 'fluffy' \"\$(saved)\""
press y
check "Ctrl+Y redoes it" "wait_for 'undo me please' present"
press z
check "Ctrl+Z again" "wait_for 'undo me please' absent"
press shift+z
check "Ctrl+Shift+Z redoes too" "wait_for 'undo me please' present"
kill "$pid"; wait "$pid" 2> /dev/null; pid=""
exit $fail
