#!/usr/bin/env bash
# The Train workspace in the real window (issue 13): open it, press Play, wait until a head's
# induction score on the probe passes 0.5, Pause (the step count stops), scrub the timeline back to
# the first snapshot (the heads show step 0's patterns again). TRAIN_KEEP=DIR keeps the screenshots
# (train_formed.png: the moment the induction head has formed; the one in docs/ is made this way).
set -u
app=$(realpath "$1")
command -v xdotool > /dev/null || { echo "SKIP: no xdotool (apt-get install xdotool)"; exit 77; }
source "$(dirname "$0")/xvfb_helper.sh"
window_test_tmp TRAIN_KEEP
fail() { echo "FAIL: $*"; [ -f "$tmp/state.json" ] && echo "state: $(cat "$tmp/state.json")"; [ -f "$tmp/log" ] && cat "$tmp/log"; exit 1; }
export HOME="$tmp" XDG_CONFIG_HOME="$tmp/config" XDG_STATE_HOME="$tmp/state"
cd "$tmp"
private_display 1600x900
"$app" --width 1600 --height 900 --dump-state "$tmp/state.json" > "$tmp/log" 2>&1 &
app_pid=$!
state() { cat "$tmp/state.json" 2> /dev/null; }
# a field of the state: train.step, widgets.train.play, …
field() {
  state | python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("|"):
    v = v[k] if k in v else None
    if v is None: break
print(json.dumps(v))' "$1" 2> /dev/null
}
wait_for() {  # python condition on the state `s`, seconds
  local cond="$1" secs="${2:-15}"
  for _ in $(seq $((secs * 10))); do
    state | python3 -c "import json, sys; s = json.load(sys.stdin); sys.exit(0 if ($cond) else 1)" 2> /dev/null && return 0
    sleep 0.1
  done
  fail "never: $cond (after ${secs}s)"
}
click() {  # widget name: its centre
  local r; r=$(field "widgets|$1")
  [ -n "$r" ] && [ "$r" != "null" ] || fail "no widget $1"
  read -r x y <<< "$(python3 -c "import json,sys; a=json.loads(sys.argv[1]); print(int((a[0]+a[2])/2), int((a[1]+a[3])/2))" "$r")"
  xdotool mousemove "$x" "$y"; sleep 0.15; xdotool click 1; sleep 0.3
}
shot() { import -display "$DISPLAY" -window root "$tmp/$1.png" || fail "screenshot $1"; }

wait_for '"workspace.train" in s["widgets"]'
click workspace.train
wait_for 's["workspace"] == 3 and "train" in s and "train.play" in s["widgets"]'
[ "$(field 'train|step')" = 0 ] || fail "the trainer did not start at step 0"
click train.play
wait_for 's["train"]["playing"] and s["train"]["step"] > 0' 20
start=$(date +%s.%N)
wait_for 's["train"]["max_induction"] >= 0.5' 420
took=$(python3 -c "import sys; print(round($(date +%s.%N) - $start, 1))")
echo "induction score $(field 'train|max_induction') at step $(field 'train|step') after ${took}s ($(field 'train|steps_per_s') steps/s, loss $(field 'train|loss'))"
sleep 1.5  # a little past the moment: the head is clean and the loss has dropped
shot train_formed

click train.pause
wait_for 'not s["train"]["playing"]' 10
paused=$(field 'train|step')
sleep 1.5
[ "$(field 'train|step')" = "$paused" ] || fail "the step count went on after Pause: $paused -> $(field 'train|step')"
echo "paused at step $paused; still $paused 1.5 s later"
live_sum=$(field 'train|shown_induction_sum')
[ "$(field 'train|shown_step')" = "$paused" ] || fail "the paused heads do not show the current step"
snaps=$(field 'train|snapshots')
python3 -c "import sys; sys.exit(0 if 2 <= $snaps <= 64 else 1)" || fail "snapshots: $snaps (expected 2..64)"

# scrub the timeline to the first snapshot: its left end
r=$(field "widgets|train.timeline")
read -r x y <<< "$(python3 -c "import json,sys; a=json.loads(sys.argv[1]); print(int(a[0]+3), int((a[1]+a[3])/2))" "$r")"
xdotool mousemove "$x" "$y"; sleep 0.15; xdotool click 1; sleep 0.3
wait_for 's["train"]["scrub"] == 0 and s["train"]["shown_step"] == 0' 10
first_sum=$(field 'train|shown_induction_sum')
echo "timeline at the first snapshot: step 0, sum of the heads' induction scores $first_sum (live: $live_sum)"
python3 -c "import sys; sys.exit(0 if abs($first_sum - $live_sum) > 0.5 else 1)" ||
  fail "the first snapshot's patterns look like the live ones ($first_sum vs $live_sum)"
python3 -c "import sys; sys.exit(0 if $(field 'train|shown_induction') < 0.3 else 1)" || fail "step 0 already has an induction head?"
shot train_scrubbed
[ "$(field 'train|step')" = "$paused" ] || fail "scrubbing moved the trainer"

# quit (nothing modified: no question)
xdotool keydown ctrl; sleep 0.08; xdotool keydown q; sleep 0.1; xdotool keyup q; xdotool keyup ctrl
for _ in $(seq 100); do kill -0 "$app_pid" 2> /dev/null || break; sleep 0.1; done
kill -0 "$app_pid" 2> /dev/null && fail "Ctrl+Q did not close the window within 10 s"
wait "$app_pid"; rc=$?; app_pid=""
[ "$rc" -eq 0 ] || fail "exit $rc"
echo "ok   Train workspace: Play forms an induction head, Pause stops, the timeline scrubs back to step 0"
