#!/usr/bin/env bash
# `attnviz render`: each view gives a PNG of the requested size that is not blank, the heatmap's
# cells carry the colormap's colours, and bad arguments are refused with a clear message.
set -u
app="$1"
source "$(dirname "$0")/xvfb_helper.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"; xvfb_cleanup' EXIT
any_display
export HOME="$tmp" XDG_CONFIG_HOME="$tmp/config"
fail() { echo "FAIL: $*"; exit 1; }
for view in window heatmap grid compare shift qk; do
  "$app" render --view "$view" --size 900x600 --out "$tmp/$view.png" || fail "render --view $view exited $?"
  size=$(identify -format '%wx%h' "$tmp/$view.png") || fail "$view.png is not an image"
  [ "$size" = "900x600" ] || fail "$view.png is $size, not 900x600"
  colours=$(convert "$tmp/$view.png" -format '%k' info:)
  echo "$view: $size, $colours colours"
  [ "$colours" -gt 50 ] || fail "$view.png looks blank ($colours colours)"
done
# Head 0's softmax pattern of the default scene: query 0 ("a") may only see itself, so its weight
# is exactly 1 → the top-left cell is viridis' top colour #FDE725; the cell right of it is masked
# (hatched grey, its pixels have R = G = B).
"$app" render --view heatmap --size 800x800 --head 0 --out "$tmp/h.png" || fail "render heatmap"
yellow=$(convert "$tmp/h.png" -fill black +opaque '#FDE725' -fill white -opaque '#FDE725' -format '%[fx:mean*w*h]' info:)
echo "pixels of viridis(1): $yellow"
[ "${yellow%.*}" -gt 500 ] || fail "no cell in viridis' top colour (the weight-1 cell of query 'a')"
# a bigger size is honoured and the default view is the whole window
"$app" render --size 1920x1080 --out "$tmp/big.png" || fail "render 1920x1080"
[ "$(identify -format '%wx%h' "$tmp/big.png")" = "1920x1080" ] || fail "big.png has the wrong size"
# errors: out-of-range head, malformed size
out=$("$app" render --head 7 --out "$tmp/x.png" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "head 7 is out of range" || fail "--head 7 gave rc=$rc: $out"
out=$("$app" render --size 12by5 --out "$tmp/x.png" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "size must look like" || fail "--size 12by5 gave rc=$rc: $out"
# a shader that does not compile: its log is printed (naming the file), the rest still draws
mkdir -p "$tmp/broken/shaders"
cp "$app" "$tmp/broken/attnviz"
cp "$(dirname "$app")/shaders/heatmap.vert.glsl" "$tmp/broken/shaders/"
printf '#version 330 core\nout vec4 c;\nvoid main() { c = undefined_thing; }\n' > "$tmp/broken/shaders/heatmap.frag.glsl"
out=$("$tmp/broken/attnviz" render --view heatmap --size 400x300 --out "$tmp/broken.png" 2>&1); rc=$?
echo "$out" | grep -q "heatmap.frag.glsl" && echo "$out" | grep -q "did not compile" && echo "$out" | grep -q "undefined_thing" ||
  fail "a broken shader should print its compile log (rc=$rc): $out"
[ $rc -eq 0 ] && [ -s "$tmp/broken.png" ] || fail "with a broken shader the render should still finish (rc=$rc)"
echo ok
