#!/usr/bin/env bash
# End to end, as a person would: a real window on its own virtual X display, driven with xdotool.
# Types a sentence into the tokens box, changes the head count, toggles the causal mask, takes
# screenshots; checks the app's state dump (--dump-state) and that the screenshots change where
# they should. E2E_KEEP=DIR keeps the screenshots.
set -u
app=$(realpath "$1")
source "$(dirname "$0")/xvfb_helper.sh"
window_test_tmp E2E_KEEP
fail() { echo "FAIL: $*"; [ -f "$tmp/state.json" ] && echo "state: $(cat "$tmp/state.json")"; exit 1; }
export HOME="$tmp" XDG_CONFIG_HOME="$tmp/config"
cd "$tmp"  # panel exports go to the working folder

# our own display, so no other test's window covers ours
private_display 1280x720

"$app" --width 1280 --height 720 --dump-state "$tmp/state.json" &
app_pid=$!

state() { cat "$tmp/state.json" 2>/dev/null; }
# waits until the state dump contains the text (JSON fragment), up to ~15 s
wait_state() {
  for _ in $(seq 150); do state | grep -qF "$1" && return 0; sleep 0.1; done
  fail "state never had $1"
}
# the centre (or a point at fraction fx of the width) of a control, from the state dump
rect() { state | sed -E "s/.*\"$1\":\[([^]]*)\].*/\1/" | tr ',' ' '; }
point() { # name fx
  read -r x0 y0 x1 y1 <<<"$(rect "$1")"
  [ -n "${y1:-}" ] || fail "no rectangle for $1"
  awk -v a="$x0" -v b="$y0" -v c="$x1" -v d="$y1" -v f="$2" 'BEGIN { printf "%d %d\n", a + (c - a) * f, (b + d) / 2 }'
}
shot() { sleep 0.4; import -display "$DISPLAY" -window root "$tmp/$1.png" || fail "screenshot $1"; }
# pixels that differ (beyond 5% fuzz) between two screenshots inside a rectangle x0 y0 x1 y1
diff_in() { # a b x0 y0 x1 y1
  local g; g=$(awk -v a="$3" -v b="$4" -v c="$5" -v d="$6" 'BEGIN { printf "%dx%d+%d+%d", c - a, d - b, a, b }')
  convert "$tmp/$1.png" -crop "$g" +repage "$tmp/a.png"
  convert "$tmp/$2.png" -crop "$g" +repage "$tmp/b.png"
  compare -metric AE -fuzz 5% "$tmp/a.png" "$tmp/b.png" null: 2>&1 | cut -d' ' -f1
}
key() { xdotool keydown "$1"; sleep 0.08; xdotool keyup "$1"; sleep 0.08; }
ctrl_a() { xdotool keydown ctrl; sleep 0.05; key a; xdotool keyup ctrl; sleep 0.05; }

wait_state '"n_heads":2'
wait_state '"heatmap.plot"'
sleep 0.5
shot s0
title() { xdotool getwindowname "$(xdotool search --name 'attnviz' | head -n1)"; }
t=$(title); echo "title: $t"
[[ "$t" == *"Adjectives update nouns (01_adjectives_update_nouns.json)" ]] || fail "window title at start: $t"
read -r hx0 hy0 hx1 hy1 <<<"$(rect heatmap.plot)"

# 1. type a sentence: the tokens follow the text as it is typed
read -r x y <<<"$(point tokens.text 0.5)"
xdotool mousemove "$x" "$y" click 1; sleep 0.3
ctrl_a
xdotool type --delay 60 'the cat sat on the mat'
wait_state '"tokens":["the","cat","sat","on","the","mat"]'
wait_state '"n":6'
shot s1
d=$(diff_in s0 s1 "$hx0" "$hy0" "$hx1" "$hy1"); echo "typed: $d pixels of the heatmap changed"
[ "$d" -gt 1000 ] || fail "the heatmap did not change after typing ($d pixels)"

# 2. the head count: type 4 into the heads field, Enter
read -r x y <<<"$(point model.heads 0.15)"
xdotool mousemove "$x" "$y" click 1; sleep 0.3
ctrl_a
xdotool type --delay 80 '4'
key Return
wait_state '"n_heads":4'
wait_state '"grid.head3"'
shot s2
read -r gx0 gy0 _ _ <<<"$(rect grid.head0)"
read -r _ _ gx1 gy1 <<<"$(rect grid.average)"
d=$(diff_in s1 s2 "$gx0" "$gy0" "$gx1" "$gy1"); echo "heads: $d pixels of the head grid changed"
[ "$d" -gt 1000 ] || fail "the head grid did not change with 4 heads ($d pixels)"

# 3. toggle causal off: the hatched upper triangle of the heatmap fills with colour
read -r hx0 hy0 hx1 hy1 <<<"$(rect heatmap.plot)"
# cell (query 0, key 5) of the 6x6 heatmap: masked (grey hatching) while causal
cell=$(awk -v a="$hx0" -v b="$hy0" -v c="$hx1" -v d="$hy1" 'BEGIN { w = (c - a) / 6; h = (d - b) / 6; printf "%d %d %d %d\n", a + 5 * w + 4, b + 4, a + 6 * w - 4, b + h - 4 }')
read -r x y <<<"$(point mask.none 0.2)"
xdotool mousemove "$x" "$y" click 1
wait_state '"mask":"none"'
shot s3
read -r c0 c1 c2 c3 <<<"$cell"
sat() { convert "$tmp/$1.png" -crop "$((c2 - c0))x$((c3 - c1))+$c0+$c1" +repage -colorspace HSL -channel G -separate -format '%[fx:mean]' info:; }
s_before=$(sat s2); s_after=$(sat s3)
echo "cell (0,5) saturation: causal $s_before, no mask $s_after"
awk -v a="$s_before" -v b="$s_after" 'BEGIN { exit !(a < 0.05 && b > 0.2) }' || fail "cell (0,5) should be grey when masked and coloured without the mask"
d=$(diff_in s2 s3 "$hx0" "$hy0" "$hx1" "$hy1"); echo "mask off: $d pixels of the heatmap changed"
[ "$d" -gt 1000 ] || fail "the heatmap did not change without the mask"
read -r x y <<<"$(point mask.causal 0.2)"
xdotool mousemove "$x" "$y" click 1
wait_state '"mask":"causal"'
shot s4
[ "$(sat s4 | awk '{ print ($1 < 0.05) }')" = 1 ] || fail "cell (0,5) should be hatched grey again with the causal mask"
state | grep -qF '"modified":true' || fail "the scene should be marked modified"
t=$(title); echo "title: $t"
# the text is no longer the lecture's: the lecture's title is not shown over it
[[ "$t" == *"Untitled (from Adjectives update nouns)* (01_adjectives_update_nouns.json)" ]] || fail "the title should show the modified marker and that the scene is no longer the lecture's: $t"

# 4. the heatmap panel's exports: the CSV of head 0's causal pattern and a PNG of the panel
read -r x y <<<"$(point export_csv:pattern_h0 0.5)"
xdotool mousemove "$x" "$y" click 1
csv="$tmp/untitled_pattern_h0.csv"  # named for what it is, not for the lecture file
for _ in $(seq 50); do [ -s "$csv" ] && break; sleep 0.1; done
[ -s "$csv" ] || fail "Export CSV wrote nothing"
head -n1 "$csv" | grep -qx 'query\\key,0:the,1:cat,2:sat,3:on,4:the,5:mat' || fail "CSV header: $(head -n1 "$csv")"
# causal: query 'cat' (row 2) sees 'the' and 'cat' only, and its weights sum to 1
awk -F, 'NR == 3 { seen = 1; s = $2 + $3; z = $4 + $5 + $6 + $7; exit !(s > 0.9999 && s < 1.0001 && z == 0) } END { if (!seen) exit 1 }' "$csv" ||
  fail "row 'cat' of the exported pattern is not causal: $(sed -n 3p "$csv")"
read -r x y <<<"$(point export_png:pattern_h0 0.5)"
xdotool mousemove "$x" "$y" click 1
png="$tmp/untitled_pattern_h0.png"
for _ in $(seq 50); do [ -s "$png" ] && break; sleep 0.1; done
[ -s "$png" ] || fail "Export PNG wrote nothing"
[ "$(convert "$png" -format '%k' info:)" -gt 50 ] || fail "the exported PNG looks blank"
echo "exports: $(head -n1 "$csv"), png $(identify -format '%wx%h' "$png")"

# 5. click a heatmap cell: query 2 ("sat"), key 1 ("cat") become the selection
read -r hx0 hy0 hx1 hy1 <<<"$(rect heatmap.plot)"
read -r x y <<<"$(awk -v a="$hx0" -v b="$hy0" -v c="$hx1" -v d="$hy1" 'BEGIN { printf "%d %d\n", a + 1.5 * (c - a) / 6, b + 2.5 * (d - b) / 6 }')"
xdotool mousemove "$x" "$y"; sleep 0.2; xdotool click 1
wait_state '"query":2'
wait_state '"key":1'
shot s5

# 6. quit with Ctrl+Q: the scene is modified, so it asks first (unsaved_window.sh tests the
# question); Discard, and the app exits cleanly and keeps the layout in imgui.ini
xdotool mousemove 640 400
xdotool keydown ctrl; sleep 0.05; key q; xdotool keyup ctrl
wait_state '"unsaved_question":"quit"'
wait_state '"unsaved.discard"'
read -r x y <<<"$(point unsaved.discard 0.5)"
xdotool mousemove "$x" "$y"; sleep 0.15; xdotool mousedown 1; sleep 0.1; xdotool mouseup 1
for _ in $(seq 50); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$app_pid" 2>/dev/null && fail "the app did not quit on Ctrl+Q"
wait "$app_pid"; rc=$?; app_pid=""
[ $rc -eq 0 ] || fail "the app exited with $rc"
grep -q "Attention heatmap" "$tmp/config/attnviz/imgui.ini" || fail "imgui.ini was not written to \$XDG_CONFIG_HOME/attnviz"
echo ok
