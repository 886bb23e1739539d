#!/usr/bin/env bash
# The panel layout in the real window (issues 9 and 10): at first launch the default layout fills
# the window; after the window is shrunk to 100×100 and restored, every panel is back inside the
# window, below the menu, where it was — and the piled-up layout of the tiny window is never
# written to imgui.ini. LAYOUT_KEEP=DIR keeps the screenshots.
set -u
app=$(realpath "$1")
command -v xdotool > /dev/null || { echo "SKIP: no xdotool (apt-get install xdotool)"; exit 77; }
source "$(dirname "$0")/xvfb_helper.sh"
window_test_tmp LAYOUT_KEEP
fail() { echo "FAIL: $*"; [ -f "$tmp/state.json" ] && echo "state: $(cat "$tmp/state.json")"; exit 1; }
export HOME="$tmp" XDG_CONFIG_HOME="$tmp/config" XDG_STATE_HOME="$tmp/state"
cd "$tmp"
private_display 1280x720
"$app" --width 1280 --height 720 --dump-state "$tmp/state.json" > "$tmp/log" 2>&1 &
app_pid=$!
state() { cat "$tmp/state.json" 2> /dev/null; }
wait_state() { for _ in $(seq 150); do state | grep -qF "$1" && return 0; sleep 0.1; done; fail "state never had $1"; }
# prints "min_x0 min_y0 max_x1 max_y1 n" over the panels, and every panel's rectangle to the log
panels() {
  state | python3 -c '
import json, sys
w = json.load(sys.stdin)["widgets"]
p = {k: v for k, v in w.items() if k.startswith("panel:")}
for k, v in sorted(p.items()): print(k, [round(x) for x in v], file=sys.stderr)
print(min(v[0] for v in p.values()), min(v[1] for v in p.values()), max(v[2] for v in p.values()), max(v[3] for v in p.values()), len(p))'
}
shot() { sleep 0.4; import -display "$DISPLAY" -window root "$tmp/$1.png" || fail "screenshot $1"; }
wait_state '"panel:Attention heatmap"'
sleep 0.5
read -r x0 y0 x1 y1 n <<< "$(panels)"
echo "first launch: panels span $x0,$y0 .. $x1,$y1 ($n panels)"
shot first
python3 -c "import sys; sys.exit(0 if $x0 <= 1 and $y0 < 40 and $x1 >= 1279 and $y1 >= 680 else 1)" ||
  fail "the default layout does not fill the 1280x720 window: $x0,$y0 .. $x1,$y1"
before=$(state | python3 -c 'import json,sys; w=json.load(sys.stdin)["widgets"]; print(w["panel:Attention heatmap"])')

wid=$(xdotool search --pid "$app_pid" 2> /dev/null | head -1)
[ -n "$wid" ] || fail "no window"
xdotool windowsize "$wid" 100 100
sleep 7  # past ImGui's 5 s ini saving interval
shot tiny
if [ -f "$tmp/config/attnviz/imgui.ini" ]; then
  grep -A2 '^\[Window\]\[Attention heatmap\]' "$tmp/config/attnviz/imgui.ini" | grep -q 'Size=[0-9]*,[0-9]*' &&
    ! grep -A2 '^\[Window\]\[Attention heatmap\]' "$tmp/config/attnviz/imgui.ini" | grep -qE 'Pos=[0-9],|Size=([0-9]{1,2}|100),' ||
    fail "the 100x100 layout was saved to imgui.ini: $(cat "$tmp/config/attnviz/imgui.ini")"
fi
xdotool windowsize "$wid" 1280 720
sleep 1.5
read -r x0 y0 x1 y1 n <<< "$(panels)"
echo "after 100x100 and back: panels span $x0,$y0 .. $x1,$y1 ($n panels)"
shot restored
after=$(state | python3 -c 'import json,sys; w=json.load(sys.stdin)["widgets"]; print(w["panel:Attention heatmap"])')
echo "heatmap panel before $before, after $after"
python3 -c "
import sys
a, b = $before, $after
sys.exit(0 if all(abs(x - y) <= 2 for x, y in zip(a, b)) else 1)" || fail "the heatmap panel did not come back: $before -> $after"
python3 -c "import sys; sys.exit(0 if $y0 >= 15 and $x1 <= 1281 and $y1 <= 721 else 1)" || fail "a panel is outside the window or over the menu"
# quit (nothing modified: no question) and look at what was saved
xdotool keydown ctrl; sleep 0.08; xdotool keydown q; sleep 0.1; xdotool keyup q; xdotool keyup ctrl
for _ in $(seq 50); do kill -0 "$app_pid" 2> /dev/null || break; sleep 0.1; done
wait "$app_pid"; rc=$?; app_pid=""
[ "$rc" -eq 0 ] || fail "exit $rc"
ini="$tmp/config/attnviz/imgui.ini"
[ -f "$ini" ] || fail "no imgui.ini written at exit"
grep -A2 '^\[Window\]\[Attention heatmap\]' "$ini"
grep -A2 '^\[Window\]\[Attention heatmap\]' "$ini" | grep -qE 'Pos=(3[0-9][0-9]|4[0-9][0-9]),' || fail "imgui.ini does not hold the restored layout"
echo "ok   layout fills the window, survives 100x100, imgui.ini keeps the real layout"
