#!/usr/bin/env bash
# `attnviz figures`: every lecture scene's figures as SVG, checked as a user would (files there,
# well-formed XML, the right number of cells, labels escaped) and bad input refused clearly.
set -u
app="$1"; src="$2"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

"$app" figures --scenes "$src/assets/scenes" --out "$tmp/figs" > "$tmp/log" 2>&1
check "figures exits 0" "[ $? -eq 0 ]"
# One pattern per head plus one shift plot per scene, counted from the scene files themselves.
expected=$(python3 -c "
import json,glob; print(sum(json.load(open(f))['n_heads'] + 1 for f in glob.glob('$src/assets/scenes/*.json')))")
check "one file per head + shift plot ($expected)" "[ \$(ls $tmp/figs/*.svg | wc -l) -eq $expected ]"
if command -v xmllint > /dev/null; then
  check "every SVG is well-formed XML" "xmllint --noout $tmp/figs/*.svg"
fi
# Scene 3 has 5 tokens: 25 cells, none masked; scene 4 (causal, 6 tokens): 15 masked of 36.
check "scene 3: 25 cells" "[ \$(grep -o 'class=\"cell' $tmp/figs/03_why_positions_head0_pattern.svg | wc -l) -eq 25 ]"
check "scene 4: 15 of 36 masked" "[ \$(grep -o 'class=\"cell masked' $tmp/figs/04_masking_next_token_head0_pattern.svg | wc -l) -eq 15 ]"
check "scene 6: '<s>' escaped" "grep -q '&lt;s&gt;' $tmp/figs/06_multi_head_head1_pattern.svg"

"$app" figures --scenes "$tmp/nothing-here" --out "$tmp/x" > "$tmp/err" 2>&1
check "missing scenes: exit 2 with a message" "[ $? -eq 2 ] && grep -q 'no scene files' $tmp/err"
echo '{"attnviz_scene": 1, "tokens": ["a"], "n_heads": 1, "d_model": 0}' > "$tmp/bad.json"
"$app" figures --scenes "$tmp/bad.json" --out "$tmp/y" > "$tmp/err2" 2>&1
check "bad scene: exit 2 naming the field" "[ $? -eq 2 ] && grep -q 'd_model' $tmp/err2"
exit $fail
