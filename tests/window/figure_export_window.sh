#!/usr/bin/env bash
# Clean figures from the window (issue 10): every view's "Export PNG" button (heatmap, all heads,
# masked vs unmasked, shift plot, query–key plot) writes the view's figure — the drawing that
# `attnviz figures` rasterises — not a screenshot of the panel: the PNG has the figure's size
# (pixel for pixel the command line's PNG of the same figure) and none of the window's colours (the
# ImGui title bar's blue, present in a screenshot of the window, is absent from every export).
# FIGS_KEEP=DIR keeps the PNGs.
set -u
app=$(realpath "$1"); src=$(realpath "$2")
source "$(dirname "$0")/xvfb_helper.sh"
window_test_tmp FIGS_KEEP
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok   $*"; }
command -v convert > /dev/null || { echo "SKIP: no ImageMagick (convert)"; exit 77; }
export HOME="$tmp" XDG_CONFIG_HOME="$tmp/config" XDG_STATE_HOME="$tmp/state"
cd "$tmp"  # panel exports go to the working folder
scene="$src/assets/scenes/04_masking_next_token.json"
stem=04_masking_next_token

# the command line's figures of the same scene: what each button must write
"$app" figures --scenes "$scene" --out "$tmp/cli" --format png > "$tmp/cli.log" 2>&1 || fail "attnviz figures: $(cat "$tmp/cli.log")"

private_display 1600x900
"$app" --scene "$scene" --width 1600 --height 900 --dump-state "$tmp/state.json" > "$tmp/out" 2>&1 &
app_pid=$!
state() { cat "$tmp/state.json" 2>/dev/null; }
wait_state() {
  for _ in $(seq 200); do state | grep -qF "$1" && return 0; kill -0 "$app_pid" 2>/dev/null || fail "the app exited"; sleep 0.1; done
  fail "state never had $1"
}
rect() { state | sed -E "s/.*\"$1\":\[([^]]*)\].*/\1/" | tr ',' ' '; }
click() {  # the middle of a control named in the state dump
  read -r x0 y0 x1 y1 <<<"$(rect "$1")"
  [ -n "${y1:-}" ] || fail "no rectangle for $1"
  xdotool mousemove "$(( (${x0%.*} + ${x1%.*}) / 2 ))" "$(( (${y0%.*} + ${y1%.*}) / 2 ))"; sleep 0.15
  xdotool mousedown 1; sleep 0.08; xdotool mouseup 1
}
# pixels of exactly this colour (R,G,B)
count_colour() { convert "$1" -alpha off -fill black +opaque "rgb($2)" -fill white -opaque "rgb($2)" -format '%[fx:int(mean*w*h+0.5)]' info:; }
corner() { convert "$1" -format '%[fx:int(255*p{1,1}.r+0.5)],%[fx:int(255*p{1,1}.g+0.5)],%[fx:int(255*p{1,1}.b+0.5)]' info:; }
title_blue="41,74,122"  # ImGui's dark style: TitleBgActive (0.16, 0.29, 0.48)

wait_state '"export_png:pattern_h0"'
sleep 0.5
import -display "$DISPLAY" -window root "$tmp/window_attention.png" || fail "screenshot"
# button (state dump name) → the file it writes → the command line's figure
checks=(
  "export_png:pattern_h0 ${stem}_pattern_h0.png ${stem}_head0_pattern.png"
  "export_png:average ${stem}_average.png ${stem}_heads.png"
  "export_png:mask_difference_h0 ${stem}_mask_difference_h0.png ${stem}_compare.png"
  "export_png:shift ${stem}_shift.png ${stem}_shift.png"
  "export_png:qk_h0 ${stem}_qk_h0.png ${stem}_head0_qk.png"
)
for c in "${checks[@]}"; do
  read -r button file cli <<<"$c"
  # the shift and query-key plots live in the "Embeddings & weights" workspace
  if [ "$button" = export_png:shift ]; then click workspace.embeddings; sleep 0.5; fi
  wait_state "\"$button\""
  click "$button"
  for _ in $(seq 100); do [ -s "$tmp/$file" ] && break; sleep 0.1; done
  [ -s "$tmp/$file" ] || fail "$button wrote nothing ($file)"
  sleep 0.3  # the rename is atomic; let the status line settle
  size=$(identify -format '%wx%h' "$tmp/$file"); want=$(identify -format '%wx%h' "$tmp/cli/$cli")
  [ "$size" = "$want" ] || fail "$button: the PNG is $size, the figure $want"
  diff=$(compare -metric AE "$tmp/$file" "$tmp/cli/$cli" null: 2>&1 | cut -d' ' -f1)
  [ "$diff" = 0 ] || fail "$button: $diff pixels differ from attnviz figures' $cli"
  blue=$(count_colour "$tmp/$file" "$title_blue")
  [ "$blue" = 0 ] || fail "$button: $blue pixels of the window's title-bar blue in the figure"
  bg=$(corner "$tmp/$file")
  [ "$bg" = "255,255,255" ] || fail "$button: the corner is $bg, not the light theme's white"
  ok "$button: $file is the clean figure ($size, identical to attnviz figures' $cli, no title-bar blue)"
done
# the check above is not vacuous: the window itself shows the title-bar blue
import -display "$DISPLAY" -window root "$tmp/window_embeddings.png" || fail "screenshot"
[ "$(count_colour "$tmp/window_embeddings.png" "$title_blue")" -gt 100 ] || fail "the window's screenshot has no title-bar blue: the check proves nothing"
ok "a screenshot of the window does have the title-bar blue"
# dark theme: the "dark" box, then the heatmap's PNG has the dark background #1b1b1f
click workspace.attention; sleep 0.5
wait_state '"export_svg_dark:average"'
rm -f "$tmp/${stem}_pattern_h0.png"
click "export_svg_dark:average"; sleep 0.3  # one setting for every view (the heatmap panel's own box may be cut off at its right edge)
click "export_png:pattern_h0"
for _ in $(seq 100); do [ -s "$tmp/${stem}_pattern_h0.png" ] && break; sleep 0.1; done
bg=$(corner "$tmp/${stem}_pattern_h0.png")
[ "$bg" = "27,27,31" ] || fail "dark theme: the corner is $bg, not 27,27,31"
ok "dark theme: the figure's background is #1b1b1f"

kill "$app_pid"; wait "$app_pid" 2>/dev/null; app_pid=""
cp "$tmp"/cli/*.png "$tmp"/ 2>/dev/null  # kept with FIGS_KEEP
exit 0
