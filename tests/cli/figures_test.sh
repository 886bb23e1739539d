#!/usr/bin/env bash
# `attnviz figures`: every lecture scene's figures as SVG and PNG, checked as a user would (files
# there, well-formed XML, the right number of cells, labels escaped, PNGs of the SVG's size) and bad
# input refused clearly.
set -u
app="$1"; src="$2"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

"$app" figures --scenes "$src/assets/scenes" --out "$tmp/figs" > "$tmp/log" 2>&1
check "figures exits 0" "[ $? -eq 0 ]"
# One pattern and one query-key plot per head, all heads, the shift plot, and masked vs unmasked
# for a scene with a mask, counted from the scene files themselves.
expected=$(python3 -c "
import json,glob
def masked(d): return d.get('mask', 'none') not in ('none', None, {'type': 'none'})
print(sum(2 * json.load(open(f))['n_heads'] + 2 + masked(json.load(open(f))) for f in glob.glob('$src/assets/scenes/*.json')))")
check "two files per head + all heads + shift plot + compare when masked ($expected)" "[ \$(ls $tmp/figs/*.svg | wc -l) -eq $expected ]"
check "scene 4 (causal): the comparison figure" "grep -q 'masked (causal)' $tmp/figs/04_masking_next_token_compare.svg"
check "scene 6: all heads in one figure" "[ \$(grep -c 'class=\"title\"' $tmp/figs/06_multi_head_heads.svg) -ge 2 ]"
if command -v xmllint > /dev/null; then
  check "every SVG is well-formed XML" "xmllint --noout $tmp/figs/*.svg"
fi
# Scene 3 has 5 tokens: 25 cells, none masked; scene 4 (causal, 6 tokens): 15 masked of 36.
check "scene 3: 25 cells" "[ \$(grep -o 'class=\"cell' $tmp/figs/03_why_positions_head0_pattern.svg | wc -l) -eq 25 ]"
check "scene 4: 15 of 36 masked" "[ \$(grep -o 'class=\"cell masked' $tmp/figs/04_masking_next_token_head0_pattern.svg | wc -l) -eq 15 ]"
check "scene 6: '<s>' escaped" "grep -q '&lt;s&gt;' $tmp/figs/06_multi_head_head1_pattern.svg"
check "scene 6: a query-key plot per head, one circle per query" \
  "[ -f $tmp/figs/06_multi_head_head2_qk.svg ] && [ \$(grep -o 'class=\"query\"' $tmp/figs/06_multi_head_head0_qk.svg | wc -l) -eq \$(python3 -c \"import json; print(len(json.load(open('$src/assets/scenes/06_multi_head.json'))['tokens']))\") ]"

# PNG: the same figures rasterised, each as large as its SVG times the scale (2 by default).
"$app" figures --scenes "$src/assets/scenes" --out "$tmp/png" --format png > "$tmp/log" 2>&1
check "figures --format png exits 0" "[ $? -eq 0 ]"
check "--format png: one PNG per SVG, no SVG" "[ \$(ls $tmp/png/*.png | wc -l) -eq $expected ] && [ \$(ls $tmp/png | grep -c svg) -eq 0 ]"
png_sizes_ok() {  # every PNG's IHDR width/height = ceil(SVG width/height · scale); pixels not all one colour
  python3 - "$1" "$2" "$3" <<'PY'
import glob, math, os, re, struct, sys, zlib
png_dir, svg_dir, scale = sys.argv[1], sys.argv[2], float(sys.argv[3])
bad = 0
for p in sorted(glob.glob(png_dir + '/*.png')):
    data = open(p, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', p
    w, h = struct.unpack('>II', data[16:24])
    svg = open(os.path.join(svg_dir, os.path.basename(p)[:-4] + '.svg')).read()
    m = re.search(r'viewBox="0 0 ([0-9.]+) ([0-9.]+)"', svg)
    W, H = math.ceil(float(m.group(1)) * scale - 1e-9), math.ceil(float(m.group(2)) * scale - 1e-9)
    # IDAT: zlib of filtered rows; a blank image would compress to almost nothing
    idat, i = b'', 8
    while i < len(data):
        n, kind = struct.unpack('>I4s', data[i:i + 8])
        if kind == b'IDAT': idat += data[i + 8:i + 8 + n]
        i += 12 + n
    raw = zlib.decompress(idat)
    if (w, h) != (W, H) or len(raw) != h * (1 + 4 * w) or len(set(raw)) < 16:
        print('bad', p, (w, h), (W, H), len(raw), len(set(raw))); bad += 1
sys.exit(1 if bad else 0)
PY
}
check "--format png: each PNG is its SVG's size x 2 and not blank" "png_sizes_ok $tmp/png $tmp/figs 2"
"$app" figures --scenes "$src/assets/scenes/04_masking_next_token.json" --out "$tmp/both" --format both --scale 1 > "$tmp/log" 2>&1
check "--format both --scale 1: SVG and PNG side by side, PNG at the SVG's size" \
  "[ $? -eq 0 ] && [ \$(ls $tmp/both/*.png | wc -l) -eq \$(ls $tmp/both/*.svg | wc -l) ] && png_sizes_ok $tmp/both $tmp/both 1"
"$app" figures --scenes "$src/assets/scenes" --out "$tmp/z" --format jpeg > "$tmp/err3" 2>&1
check "--format jpeg: refused (exit non-zero) naming the option" "[ $? -ne 0 ] && grep -q 'format' $tmp/err3"

"$app" figures --scenes "$tmp/nothing-here" --out "$tmp/x" > "$tmp/err" 2>&1
check "missing scenes: exit 2 with a message" "[ $? -eq 2 ] && grep -q 'no scene files' $tmp/err"
echo '{"attnviz_scene": 1, "tokens": ["a"], "n_heads": 1, "d_model": 0}' > "$tmp/bad.json"
"$app" figures --scenes "$tmp/bad.json" --out "$tmp/y" > "$tmp/err2" 2>&1
check "bad scene: exit 2 naming the field" "[ $? -eq 2 ] && grep -q 'd_model' $tmp/err2"
exit $fail
