#!/usr/bin/env bash
# Long mode's minimap (issue 10): beside (or below) the heatmap of a 3,000-token scene (too large for every
# pattern at once) stands the whole pattern's pooled overview with the visible block outlined;
# zoomed in, a click on the minimap moves the heatmap's view there (the state dump's long.view).
# The Q/K/V inspector shows the selected query's row in long mode too, and masked vs unmasked is
# drawn (its three 3,000 × 3,000 matrices fit the memory budget). MINIMAP_KEEP=DIR keeps the
# screenshots.
set -u
app=$(realpath "$1")
source "$(dirname "$0")/xvfb_helper.sh"
window_test_tmp MINIMAP_KEEP
source "$(dirname "$0")/long_helper.sh"
long_scene "$tmp/long.json" 3000 32 4
private_display 1600x900
start_app 1600 900
view() { state | sed -E 's/.*"view":\[([^]]*)\].*/\1/' | tr ',' ' '; }

wait_for '"long_mode":true' 30
wait_for '"ready":true' 90
wait_for '"overview":true' 90
wait_for '"long.minimap"' 30
ok "long mode: the overview arrived and the minimap is drawn"
read -r mx0 my0 mx1 my1 <<<"$(rect long.minimap)"
mx0=${mx0%.*}; my0=${my0%.*}; mx1=${mx1%.*}; my1=${my1%.*}
read -r hx0 hy0 hx1 hy1 <<<"$(rect heatmap.plot)"
hx0=${hx0%.*}; hy0=${hy0%.*}; hx1=${hx1%.*}; hy1=${hy1%.*}
for v in "$mx0" "$my0" "$mx1" "$my1" "$hx0" "$hy0" "$hx1" "$hy1"; do [[ $v =~ ^-?[0-9]+$ ]] || fail "not a rectangle: minimap $mx0 $my0 $mx1 $my1, heatmap $hx0 $hy0 $hx1 $hy1"; done
[ $(( mx1 - mx0 )) -gt 40 ] && [ $(( my1 - my0 )) -gt 40 ] || fail "minimap too small: $mx0 $my0 $mx1 $my1"
[ "$mx0" -ge "$hx1" ] || [ "$my0" -ge "$hy1" ] || fail "the minimap ($mx0,$my0..$mx1,$my1) overlaps the heatmap (..$hx1,$hy1)"
ok "minimap ${mx0},${my0}..${mx1},${my1} beside or below the heatmap (${hx0},${hy0}..${hx1},${hy1})"

# zoom in on the top-left corner (the wheel, as a user would) until the view is a small block
xdotool mousemove "$(( hx0 + (hx1 - hx0) / 8 ))" "$(( hy0 + (hy1 - hy0) / 8 ))"; sleep 0.2
for _ in $(seq 10); do xdotool click 4; sleep 0.05; done
sleep 0.5
read -r vx0 vy0 vx1 vy1 <<<"$(view)"
[[ $vx0 =~ ^-?[0-9.]+$ && $vx1 =~ ^-?[0-9.]+$ ]] || fail "no view columns: $vx0 $vy0 $vx1 $vy1"
awk -v a="$vx0" -v c="$vx1" 'BEGIN { exit !(c - a < 1500) }' || fail "the wheel did not zoom in: view $vx0 $vy0 $vx1 $vy1"
ok "zoomed in: view columns $vx0..$vx1, rows $vy0..$vy1"
shot before 0.4

# a click at 50 % across and 80 % down the minimap: the view's centre moves to about key 1500, query 2400
xdotool mousemove "$(( mx0 + (mx1 - mx0) * 5 / 10 ))" "$(( my0 + (my1 - my0) * 8 / 10 ))"; sleep 0.2
xdotool mousedown 1; sleep 0.08; xdotool mouseup 1
for _ in $(seq 30); do
  read -r wx0 wy0 wx1 wy1 <<<"$(view)"
  [ "$wx0" != "$vx0" ] && break; sleep 0.1
done
echo "view after the click: $wx0 $wy0 $wx1 $wy1"
awk -v a="$wx0" -v b="$wy0" -v c="$wx1" -v d="$wy1" -v w="$(awk -v a="$vx0" -v c="$vx1" 'BEGIN { print c - a }')" '
  BEGIN { cx = (a + c) / 2; cy = (b + d) / 2
          exit !(cx > 1500 - 3000 * 0.03 && cx < 1500 + 3000 * 0.03 && cy > 2400 - 3000 * 0.03 && cy < 2400 + 3000 * 0.03 && (c - a) - w < 1 && w - (c - a) < 1) }' ||
  fail "the view did not move to (1500, 2400) keeping its size: $wx0 $wy0 $wx1 $wy1"
ok "a click on the minimap moved the view's centre to about key 1500, query 2400 (same zoom)"
shot after 0.4
cmp -s "$tmp/before.png" "$tmp/after.png" && fail "the click changed nothing on screen"

# the inspector in long mode: select a query (click the heatmap), the inspector lists its keys
xdotool mousemove "$(( (hx0 + hx1) / 2 ))" "$(( (hy0 + hy1) / 2 ))"; sleep 0.2
xdotool mousedown 1; sleep 0.08; xdotool mouseup 1
# masked vs unmasked: 3 × 3,000² × 4 bytes = 103 MiB fits the 256 MiB budget: the three views are drawn
wait_for '"compare.2"' 30
has '"compare.too_large"' && fail "the comparison was refused at 3,000 tokens"
ok "masked vs unmasked is drawn in long mode (103 MiB of 256)"
shot compare 0.4
# the inspector is in the "Embeddings & weights" workspace
read -r x0 y0 x1 y1 <<<"$(rect workspace.embeddings)"
xdotool mousemove "$(( (${x0%.*} + ${x1%.*}) / 2 ))" "$(( (${y0%.*} + ${y1%.*}) / 2 ))"; sleep 0.15
xdotool mousedown 1; sleep 0.08; xdotool mouseup 1
wait_for '"inspector.q"' 10
ok "the Q/K/V inspector draws q_i in long mode"
shot inspector 0.4

kill "$app_pid"; wait "$app_pid" 2>/dev/null; app_pid=""
exit 0
