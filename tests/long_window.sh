#!/usr/bin/env bash
# A long sequence in the real window, as a researcher meets it: 4,096 tokens × 12 heads (every
# pattern at once would take 1.6 GB), on its own virtual X display, driven with xdotool. Waits for
# the statistics and the pooled overview (the state dump says when), checks the picture (the
# causal triangle: hatched above the diagonal, coloured below), zooms in with the mouse wheel until
# the exact cells of the visible block arrive, then edits one word and checks that the statistics
# stay ready (updated in place, no rebuild). LONG_KEEP=DIR keeps the screenshots.
set -u
app=$(realpath "$1")
tmp=$(mktemp -d)
xvfb_pid=""; app_pid=""
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null
  if [ -n "${LONG_KEEP:-}" ]; then mkdir -p "$LONG_KEEP"; cp "$tmp"/*.png "$LONG_KEEP"/ 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/state.json" ] && head -c 600 "$tmp/state.json" && echo; exit 1; }
ok() { echo "ok   $*"; }
export HOME="$tmp" XDG_CONFIG_HOME="$tmp/config" XDG_STATE_HOME="$tmp/state"

python3 - "$tmp/long.json" <<'EOF'
import json, sys
words = "the a fluffy blue creature roamed verdant forest while wise old owls watched quietly".split()
text = " ".join(words[(i * 7 + i // 5) % len(words)] for i in range(4096))
json.dump({"attnviz_scene": 1, "title": "4096 tokens", "text": text, "d_model": 96, "n_heads": 12,
           "mask": "causal", "seed": 4}, open(sys.argv[1], "w"))
EOF

Xvfb -displayfd 3 -screen 0 1280x720x24 -nolisten tcp -noreset 3>"$tmp/display" 2>/dev/null &
xvfb_pid=$!
for _ in $(seq 50); do [ -s "$tmp/display" ] && break; sleep 0.1; done
[ -s "$tmp/display" ] || fail "Xvfb did not start"
export DISPLAY=":$(head -n1 "$tmp/display")"

"$app" --scene "$tmp/long.json" --width 1280 --height 720 --dump-state "$tmp/state.json" > "$tmp/out" 2>&1 &
app_pid=$!
state() { cat "$tmp/state.json" 2>/dev/null; }
has() { state | grep -qF "$1"; }
wait_for() {  # JSON fragment, seconds
  for _ in $(seq $(( $2 * 10 ))); do has "$1" && return 0; kill -0 "$app_pid" 2>/dev/null || fail "the app exited"; sleep 0.1; done
  fail "state never had $1"
}
rect() { state | sed -E "s/.*\"$1\":\[([^]]*)\].*/\1/" | tr ',' ' '; }
shot() { sleep 0.3; import -display "$DISPLAY" -window root "$tmp/$1.png" || fail "screenshot $1"; }
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
  for _ in $(seq 30); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$app_pid" 2>/dev/null || break
done
kill -0 "$app_pid" 2>/dev/null && fail "Ctrl+Q did not quit"
wait "$app_pid"; rc=$?; app_pid=""
[ "$rc" -eq 0 ] || fail "exit code $rc"
ok "quit cleanly"
