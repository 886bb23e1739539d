#!/usr/bin/env bash
# Text in any language, typed as a person would: "猫 🐱 🍕 кот" with xdotool into the tokens box.
# The state dump (--dump-state) must hold exactly those four tokens (🐱 and 🍕 are above U+FFFF,
# which Debian's ImGui 1.86 cannot store: the window keeps them itself), and the chips must draw
# four different pictures (no "?" for every CJK character, no "�" for every emoji).
# LANG_KEEP=DIR keeps the screenshots.
set -u
app=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
command -v xdotool > /dev/null || { echo "SKIP: no xdotool (apt-get install xdotool)"; exit 77; }
source "$here/xvfb_helper.sh"
window_test_tmp LANG_KEEP
fail() { echo "FAIL: $*"; [ -f "$tmp/state.json" ] && echo "state: $(cat "$tmp/state.json")"; exit 1; }
export HOME="$tmp" XDG_CONFIG_HOME="$tmp/config"
cd "$tmp"
private_display 1280x720

"$app" --width 1280 --height 720 --dump-state "$tmp/state.json" > "$tmp/out" 2>&1 &
app_pid=$!
state() { cat "$tmp/state.json" 2> /dev/null; }
wait_state() {
  for _ in $(seq 150); do state | grep -qF "$1" && return 0; sleep 0.1; done
  fail "state never had $1"
}
rect() { state | sed -E "s/.*\"$1\":\[([^]]*)\].*/\1/" | tr ',' ' '; }
point() {
  read -r x0 y0 x1 y1 <<< "$(rect "$1")"
  [ -n "${y1:-}" ] || fail "no rectangle for $1"
  awk -v a="$x0" -v b="$y0" -v c="$x1" -v d="$y1" -v f="$2" 'BEGIN { printf "%d %d\n", a + (c - a) * f, (b + d) / 2 }'
}
key() { xdotool keydown "$1"; sleep 0.08; xdotool keyup "$1"; sleep 0.08; }

wait_state '"tokens.text"'
# xdotool types a character outside the keymap by remapping a scratch key for it; an X client reads
# the key with the mapping of the moment, so characters typed back to back come out as each other's
# or as nothing (the "🍕 vanished" of issue 10). Every character gets a key of its own first.
python3 "$here/map_chars.py" '猫🐱🍕кот' || fail "could not map the characters to keys"
sleep 0.5
read -r x y <<< "$(point tokens.text 0.5)"
xdotool mousemove "$x" "$y" click 1; sleep 0.3
xdotool keydown ctrl; sleep 0.05; key a; xdotool keyup ctrl; sleep 0.05
xdotool type --delay 150 '猫 🐱 🍕 кот'
wait_state '"tokens":["猫","🐱","🍕","кот"]'
# the field keeps them while it is still being edited: one more word, then Backspace ×3
xdotool type --delay 150 ' 🐱x'
wait_state '"tokens":["猫","🐱","🍕","кот","🐱","x"]'  # an emoji is a token of its own
for _ in 1 2 3; do key BackSpace; done
wait_state '"tokens":["猫","🐱","🍕","кот"]'
# leave the field (a click on empty space): the text stays, emoji included
xdotool mousemove 1200 700 click 1; sleep 0.5
wait_state '"tokens":["猫","🐱","🍕","кот"]'
sleep 0.5
import -display "$DISPLAY" -window root "$tmp/lang.png" || fail "screenshot"

# four chips, four different pictures (the glyphs, not '?' or '�' for all)
crop() {  # NAME → $tmp/NAME.png: the chip's inside (1 px in from its border), scaled to one size
  read -r x0 y0 x1 y1 <<< "$(rect "input.$1")"
  [ -n "${y1:-}" ] || fail "no rectangle for chip $1"
  local g; g=$(awk -v a="$x0" -v b="$y0" -v c="$x1" -v d="$y1" 'BEGIN { printf "%dx%d+%d+%d", c - a - 8, d - b - 4, a + 4, b + 2 }')
  convert "$tmp/lang.png" -crop "$g" +repage -resize '24x16!' "$tmp/$1.png"
}
for i in 0 1 2 3; do crop "chip$i"; done
for a in 0 1 2 3; do
  for b in 0 1 2 3; do
    [ "$a" -lt "$b" ] || continue
    d=$(compare -metric AE -fuzz 10% "$tmp/chip$a.png" "$tmp/chip$b.png" null: 2>&1 | cut -d' ' -f1)
    echo "chips $a and $b: $d of 384 pixels differ"
    [ "${d%%.*}" -gt 20 ] || fail "chips $a and $b look the same (the same fallback glyph?)"
  done
done
# every chip has ink (a glyph drawn, not an empty box)
for i in 0 1 2 3; do
  ink=$(convert "$tmp/chip$i.png" -colorspace Gray -format '%[fx:standard_deviation]' info:)
  awk -v s="$ink" 'BEGIN { exit !(s > 0.05) }' || fail "chip $i is blank (deviation $ink)"
done
grep -q "not found" "$tmp/out" && echo "note: $(grep 'not found' "$tmp/out")"
echo ok
