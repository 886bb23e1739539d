#!/usr/bin/env bash
# Lecture mode in the real window (needs an X display; setup.sh starts Xvfb): the presentation
# view is light (the projector theme) where the normal view is dark, F5 switches it as a person
# would press it, and ←/→ / PgDn do not crash it while paging through every lecture scene.
set -u
app="$1"; src="$2"
tmp=$(mktemp -d)
pid=""
source "$(dirname "$0")/xvfb_helper.sh"
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; xvfb_cleanup; rm -rf "$tmp"; }
trap cleanup EXIT
# A private X server: key presses cannot reach another test's window.
private_display 1600x900
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
mean() { convert "$1" -colorspace gray -format '%[fx:mean]' info:; }

"$app" --scene "$src/assets/scenes/07_cross_attention.json" --presentation --frames 5 --width 1280 --height 720 \
  --screenshot "$tmp/pres.png"
check "presentation view exits 0 with a screenshot" "[ $? -eq 0 ] && [ -s $tmp/pres.png ]"
"$app" --scene "$src/assets/scenes/07_cross_attention.json" --frames 5 --width 1280 --height 720 --screenshot "$tmp/normal.png"
p=$(mean "$tmp/pres.png"); n=$(mean "$tmp/normal.png")
echo "mean brightness: presentation $p, normal $n"
check "presentation is light (> 0.7)" "python3 -c 'import sys; sys.exit(0 if $p > 0.7 else 1)'"
check "normal view is darker" "python3 -c 'import sys; sys.exit(0 if $n < $p - 0.3 else 1)'"

# F5 pressed in the running window, then every scene paged through with PgDn and → steps.
if command -v xdotool > /dev/null && command -v import > /dev/null; then
  "$app" --scene "$src/assets/scenes/01_adjectives_update_nouns.json" --width 1280 --height 720 > "$tmp/log" 2>&1 &
  pid=$!
  # the window is up (fonts for every script are built at start: slower on a loaded machine)
  for _ in $(seq 150); do xdotool search --name attnviz > /dev/null 2>&1 && break; sleep 0.1; done
  sleep 3
  key() { xdotool keydown "$1"; sleep 0.08; xdotool keyup "$1"; sleep 0.12; }
  import -window root "$tmp/before.png"
  key F5
  sleep 1.5  # the slide's first frames build its fonts' new glyphs
  import -window root "$tmp/after.png"
  b=$(mean "$tmp/before.png"); a=$(mean "$tmp/after.png")
  echo "F5: brightness $b -> $a"
  check "F5 switches to the light presentation view" "python3 -c 'import sys; sys.exit(0 if $a > $b + 0.15 else 1)'"
  for i in $(seq 1 14); do key Next; key Right; key Down; done
  check "paging through every scene keeps the app running" "kill -0 $pid"
  key F5
  sleep 1.5
  import -window root "$tmp/back.png"
  check "F5 again goes back" "python3 -c 'import sys; sys.exit(0 if $(mean $tmp/back.png) < $a - 0.15 else 1)'"
fi
exit $fail
