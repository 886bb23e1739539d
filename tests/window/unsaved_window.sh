#!/usr/bin/env bash
# Nothing the user made is lost, in the real window driven with xdotool (issue 10):
#   type a sentence (modified, undo steps) → F5 → PgDn → F5: the document is still the typed one,
#   with its undo history (the presentation deck is its own thing);
#   Ctrl+Q with unsaved changes asks Save / Discard / Cancel; Cancel keeps the window;
#   the window's close button asks the same; Discard quits (exit 0).
# UNSAVED_KEEP=DIR keeps the screenshots (the dialog: look at it).
set -u
app=$(realpath "$1")
here="$(cd "$(dirname "$0")" && pwd)"
command -v xdotool > /dev/null || { echo "SKIP: no xdotool (apt-get install xdotool)"; exit 77; }
source "$here/xvfb_helper.sh"
window_test_tmp UNSAVED_KEEP
fail() { echo "FAIL: $*"; [ -f "$tmp/state.json" ] && echo "state: $(cat "$tmp/state.json")"; exit 1; }
export HOME="$tmp" XDG_CONFIG_HOME="$tmp/config" XDG_STATE_HOME="$tmp/state" XDG_DOCUMENTS_DIR="$tmp/Documents"
cd "$tmp"
private_display 1280x720

"$app" --width 1280 --height 720 --dump-state "$tmp/state.json" > "$tmp/log" 2>&1 &
app_pid=$!

state() { cat "$tmp/state.json" 2> /dev/null; }
wait_state() {  # JSON fragment, up to ~15 s
  for _ in $(seq 150); do state | grep -qF "$1" && return 0; sleep 0.1; done
  fail "state never had $1"
}
field() { state | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
rect() { state | sed -E "s/.*\"$1\":\[([^]]*)\].*/\1/" | tr ',' ' '; }
click() {  # the centre of a control named in the state dump
  read -r x0 y0 x1 y1 <<< "$(rect "$1")"
  [ -n "${y1:-}" ] || fail "no rectangle for $1"
  xdotool mousemove "$(( (${x0%.*} + ${x1%.*}) / 2 ))" "$(( (${y0%.*} + ${y1%.*}) / 2 ))"; sleep 0.15
  xdotool mousedown 1; sleep 0.1; xdotool mouseup 1; sleep 0.2
}
key() { xdotool keydown "$1"; sleep 0.1; xdotool keyup "$1"; sleep 0.15; }
ctrl() { xdotool keydown ctrl; sleep 0.08; key "$1"; xdotool keyup ctrl; sleep 0.1; }
shot() { sleep 0.4; import -display "$DISPLAY" -window root "$tmp/$1.png" || fail "screenshot $1"; }
alive() { kill -0 "$app_pid" 2> /dev/null; }

wait_state '"tokens.text"'
sleep 0.3
# 1. type a sentence: modified, one undo step per keystroke group
click tokens.text
ctrl a
xdotool type --delay 70 'my cat likes warm milk'
wait_state '"text":"my cat likes warm milk"'
wait_state '"modified":true'
sleep 0.8
undo_steps=$(field undo)
[ "$undo_steps" -gt 0 ] || fail "typing left no undo steps"
echo "typed: undo steps $undo_steps"
xdotool mousemove 1200 700; sleep 0.1  # off the text box (keys go to the window, not the field)
click heatmap.plot
# 2. F5, PgDn, F5: the deck shows another scene, then gives the document back
key F5
wait_state '"presentation":true'
key Next
wait_state '"deck":true'
shot deck
[ "$(field text)" != "my cat likes warm milk" ] || fail "PgDn did not show the next lecture scene"
key F5
wait_state '"presentation":false'
wait_state '"deck":false'
[ "$(field text)" = "my cat likes warm milk" ] || fail "after F5, PgDn, F5 the document is not the typed one"
[ "$(field modified)" = "True" ] || fail "the document lost its modified mark"
[ "$(field undo)" = "$undo_steps" ] || fail "the undo history changed: $(field undo) steps, was $undo_steps"
echo "ok   F5, PgDn, F5: the typed document and its $undo_steps undo steps are back"

# 3. Ctrl+Q asks; Cancel keeps the window and the document
ctrl q
wait_state '"unsaved_question":"quit"'
wait_state '"unsaved.cancel"'
shot dialog
alive || fail "Ctrl+Q quit without asking"
click unsaved.cancel
wait_state '"unsaved_question":""'
sleep 0.5
alive || fail "Cancel closed the window"
[ "$(field text)" = "my cat likes warm milk" ] || fail "Cancel changed the document"
echo "ok   Ctrl+Q asks, Cancel keeps the window"

# 4. the window's close button asks the same
wid=$(xdotool search --pid "$app_pid" 2> /dev/null | head -1)
[ -n "$wid" ] || fail "no window id"
python3 "$here/wm_close.py" "$wid" || fail "could not send WM_DELETE_WINDOW"
wait_state '"unsaved_question":"quit"'
sleep 0.5
alive || fail "the close button quit without asking"
click unsaved.cancel
wait_state '"unsaved_question":""'
echo "ok   the close button asks, Cancel keeps the window"

# 5. Discard quits cleanly
ctrl q
wait_state '"unsaved_question":"quit"'
click unsaved.discard
for _ in $(seq 50); do alive || break; sleep 0.1; done
alive && fail "Discard did not quit"
wait "$app_pid"; rc=$?; app_pid=""
[ "$rc" -eq 0 ] || fail "exit code $rc after Discard"
echo "ok   Discard quits (exit 0)"
