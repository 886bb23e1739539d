#!/usr/bin/env bash
# A long sequence in the real window, as a researcher meets it: 4,096 tokens × 12 heads (every
# pattern at once would take 1.6 GB), on its own virtual X display, driven with xdotool. Waits for
# the statistics and the pooled overview (the state dump says when), checks the picture (the
# causal triangle: hatched above the diagonal, coloured below), zooms in with the mouse wheel until
# the exact cells of the visible block arrive, then edits one word and checks that the statistics
# stay ready (updated in place, no rebuild). LONG_KEEP=DIR keeps the screenshots.
set -u
app=$(realpath "$1")
source "$(dirname "$0")/xvfb_helper.sh"
window_test_tmp LONG_KEEP
source "$(dirname "$0")/long_helper.sh"
long_scene "$tmp/long.json" 4096 96 12
private_display 1280x720
start_app 1280 720
# mean saturation of a small square around (x, y): grey hatching is ~0, viridis colours are not
sat_at() { convert "$tmp/$1.png" -crop "9x9+$(( $2 - 4 ))+$(( $3 - 4 ))" +repage -colorspace HSL -channel G -separate -format '%[fx:mean]' info:; }

wait_for '"long_mode":true' 20
ok "a 4,096-token, 12-head scene opens in long mode"
wait_for '"ready":true' 60
wait_for '"overview":true' 60
wait_for '"busy":false' 60
ok "statistics and the pooled overview computed on the worker"
read -r x0 y0 x1 y1 <<<"$(rect heatmap.plot)"
x0=${x0%.*}; y0=${y0%.*}; x1=${x1%.*}; y1=${y1%.*}
for v in "$x0" "$y0" "$x1" "$y1"; do [[ $v =~ ^-?[0-9]+$ ]] || fail "not a rectangle: heatmap.plot $x0 $y0 $x1 $y1"; done
[ $(( x1 - x0 )) -gt 200 ] || fail "heatmap plot too small: $x0 $y0 $x1 $y1"
xdotool mousemove 5 700; shot overview
w=$(( x1 - x0 )); h=$(( y1 - y0 ))
above=$(sat_at overview $(( x0 + w * 8 / 10 )) $(( y0 + h * 2 / 10 )))
below=$(sat_at overview $(( x0 + w * 2 / 10 )) $(( y0 + h * 8 / 10 )))
python3 -c "import sys; sys.exit(0 if $above < 0.08 else 1)" || fail "above the diagonal is not hatched grey (saturation $above)"
python3 -c "import sys; sys.exit(0 if $below > 0.25 else 1)" || fail "below the diagonal is not coloured (saturation $below)"
ok "overview: masked triangle hatched (saturation $above), weights coloured (saturation $below)"

# zoom in around the middle of the lower-left half with the wheel until exact cells arrive
cx=$(( x0 + w * 3 / 10 )); cy=$(( y0 + h * 7 / 10 ))
xdotool mousemove "$cx" "$cy"; sleep 0.2
for _ in $(seq 12); do xdotool click 4; sleep 0.05; done
wait_for '"detail_exact":true' 30
ok "zoomed in: the exact cells of the visible block computed on demand"
shot zoomed
cmp -s "$tmp/overview.png" "$tmp/zoomed.png" && fail "zooming changed nothing on screen"

# one word edited at the end of the text: updated in place, still ready at once
gen=$(state | sed -E 's/.*"generation":([0-9]+).*/\1/')
read -r tx0 ty0 tx1 ty1 <<<"$(rect tokens.text)"
xdotool mousemove "$(( (${tx0%.*} + ${tx1%.*}) / 2 ))" "$(( (${ty0%.*} + ${ty1%.*}) / 2 ))" click 1; sleep 0.3
xdotool key --delay 80 ctrl+End; sleep 0.2
xdotool type --delay 80 'x'
for _ in $(seq 100); do
  now=$(state)  # one reading: the frame right after the edit
  g=$(sed -E 's/.*"generation":([0-9]+).*/\1/' <<<"$now")
  [ -n "$g" ] && [ "$g" != "$gen" ] && break; sleep 0.05
done
[ "$g" != "$gen" ] || fail "typing did not edit the scene"
grep -qF '"n":4096' <<<"$now" || fail "the edit changed the number of tokens"
grep -qF '"ready":true' <<<"$now" || fail "after a one-word edit the statistics were rebuilt instead of updated in place"
ok "one word typed: statistics updated in place (generation $gen -> $g, still ready)"

xdotool mousemove 640 712 click 1; sleep 0.3  # the status line: out of the text box, Ctrl+Q is the window's
for _ in 1 2 3; do  # a key press can be lost while the worker keeps both cores busy: try again
  xdotool keydown ctrl; sleep 0.1; xdotool keydown q; sleep 0.1; xdotool keyup q; sleep 0.05; xdotool keyup ctrl
  for _ in $(seq 30); do kill -0 "$app_pid" 2>/dev/null || break; grep -qF '"unsaved.discard"' "$tmp/state.json" && break; sleep 0.1; done
  kill -0 "$app_pid" 2>/dev/null || break
  # the scene was edited: Ctrl+Q asks Save / Discard / Cancel first (unsaved_window.sh tests it): Discard
  if grep -qF '"unsaved.discard"' "$tmp/state.json"; then
    read -r x0 y0 x1 y1 <<<"$(sed -E 's/.*"unsaved.discard":\[([^]]*)\].*/\1/' "$tmp/state.json" | tr ',' ' ')"
    xdotool mousemove "$(( (${x0%.*} + ${x1%.*}) / 2 ))" "$(( (${y0%.*} + ${y1%.*}) / 2 ))"; sleep 0.15
    xdotool mousedown 1; sleep 0.1; xdotool mouseup 1
    for _ in $(seq 50); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$app_pid" 2>/dev/null || break
  fi
done
kill -0 "$app_pid" 2>/dev/null && fail "Ctrl+Q did not quit"
wait "$app_pid"; rc=$?; app_pid=""
[ "$rc" -eq 0 ] || fail "exit code $rc"
ok "quit cleanly"
