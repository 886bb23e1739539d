#!/usr/bin/env bash
# The command line as a user runs it: exit codes, messages, outputs checked with numbers worked
# out by hand (the two-token scene of tests/data/two_tokens.json).
set -u
app="$1"; src="$2"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

"$app" --help > "$tmp/help" 2>&1;                check "--help exits 0" "[ $? -eq 0 ] && grep -q export $tmp/help"
"$app" export --help > "$tmp/h2" 2>&1;           check "export --help" "[ $? -eq 0 ] && grep -q -- --scene $tmp/h2"

"$app" export --scene "$src/data/two_tokens.json" --out "$tmp/out.json"
check "export exits 0" "[ $? -eq 0 ]"
# pattern = [[3/4, 1/4], [1/2, 1/2]], E' = [[2.5, 1], [1, 3]] (worked out in the file's description)
check "export pattern" "python3 -c \"
import json,sys; d=json.load(open('$tmp/out.json'))
p=d['heads'][0]['pattern']; o=d['output']
ok=len(sum(p,[]))==4 and len(sum(o,[]))==4 and all(abs(a-b)<1e-5 for a,b in zip(sum(p,[]),[0.75,0.25,0.5,0.5])) and all(abs(a-b)<1e-5 for a,b in zip(sum(o,[]),[2.5,1,1,3]))
sys.exit(0 if ok and d['tokens']==['red','dog'] else 1)\""

"$app" export --scene "$src/data/two_tokens.json" --format csv --matrix pattern > "$tmp/p.csv"
check "export csv" "python3 -c \"
import csv,sys; r=list(csv.reader(open('$tmp/p.csv')))
ok=r[0]==['query\\\\key','0:red','1:dog'] and r[1][0]=='0:red' and abs(float(r[1][1])-0.75)<1e-6 and abs(float(r[2][2])-0.5)<1e-6
sys.exit(0 if ok else 1)\""

"$app" export --scene "$src/data/two_tokens.json" --format npy --matrix output --out "$tmp/o.npy"
check "export npy" "[ \$(stat -c %s $tmp/o.npy) -eq $((128 + 16)) ]"

echo '{"attnviz_scene":1,"tokens":["a","b"],"d_model":8,"n_heads":2,"d_head":4,"heads":[null,{"W_K":[[1,2,3,4]]}]}' > "$tmp/bad.json"
"$app" export --scene "$tmp/bad.json" > /dev/null 2> "$tmp/err"; rc=$?
check "malformed scene: exit 2" "[ $rc -eq 2 ]"
check "malformed scene: message names the field" "grep -q 'heads\[1\].W_K: expected 8 rows of 4 numbers, got 1 rows' $tmp/err"

"$app" export --scene "$tmp/missing.json" > /dev/null 2> "$tmp/err2"; rc=$?
check "missing file: exit 2 and says so" "[ $rc -eq 2 ] && grep -q 'cannot open' $tmp/err2"

"$app" --no-such-flag > /dev/null 2>&1; rc=$?
check "unknown flag: exit 2" "[ $rc -eq 2 ]"

(unset DISPLAY WAYLAND_DISPLAY; "$app" --frames 1 > /dev/null 2> "$tmp/err3"); rc=$?
check "no display: a clear hint, no crash" "[ $rc -eq 1 ] && grep -q 'xvfb-run' $tmp/err3"

# Issue 9: a valid scene with logits of ±1e12/T exported NaN (written as null) with exit 0 under
# the release flags. Each query puts all its weight on the key of its own sign (by hand):
# pattern [[1, 0], [0, 1]], E' = E + pattern·V·W_O = [[2000], [-2000]] (V = E).
for t in 0.3 0.7 3 1; do
  for mask in '"none"' '"causal"' '{"type":"sliding_window","width":1}' '{"type":"strided","stride":1}' '{"type":"fixed","block":1}' '{"type":"matrix","allowed":[[true,false],[true,true]]}'; do
    echo '{"attnviz_scene":1,"d_model":1,"n_heads":1,"tokens":["a","b"],"embeddings":[[1000],[-1000]],"heads":[{"W_Q":[[1000]],"W_K":[[1000]],"W_V":[[1]]}],"W_O":[[1]],"temperature":'"$t"',"mask":'"$mask"'}' > "$tmp/huge.json"
    "$app" export --scene "$tmp/huge.json" --out "$tmp/huge_out.json" 2> "$tmp/err4"; rc=$?
    check "huge logits, T=$t, mask $mask: exit 0, one-hot pattern, no null" "[ $rc -eq 0 ] && ! grep -q null $tmp/huge_out.json && python3 -c \"
import json,sys; d=json.load(open('$tmp/huge_out.json'))
p=d['heads'][0]['pattern']; o=d['output']
sys.exit(0 if p==[[1,0],[0,1]] and o==[[2000],[-2000]] else 1)\""
  done
done

"$app" export --scene "$tmp" > /dev/null 2> "$tmp/err5"; rc=$?
check "a directory as the scene: exit 2, says it is a directory" "[ $rc -eq 2 ] && grep -q 'is a directory' $tmp/err5 && ! grep -q MiB $tmp/err5"

printf '{"attnviz_scene":1,"d_model":2,"n_heads":1,"tokens":["a"]}\0{garbage' > "$tmp/nul.json"
"$app" export --scene "$tmp/nul.json" > /dev/null 2> "$tmp/err6"; rc=$?
check "bytes after a NUL: exit 2 naming the offset" "[ $rc -eq 2 ] && grep -q 'NUL byte at offset 58' $tmp/err6"

# bench --mask sliding_window:W takes a whole number 1..32768 and nothing else.
for bad in 'sliding_window:abc' 'sliding_window:0' 'sliding_window:' 'sliding_window:99999999999' 'sliding_window:5x' 'sliding_window:-3'; do
  "$app" bench --n 8 --d-model 4 --heads 1 --repeat 1 --mask "$bad" > /dev/null 2> "$tmp/err7"; rc=$?
  check "bench --mask $bad: exit 2 with a message" "[ $rc -eq 2 ] && grep -q 'sliding_window:W needs a width' $tmp/err7"
done
"$app" bench --n 8 --d-model 4 --heads 1 --repeat 1 --json --mask sliding_window:3 > "$tmp/b.json"; rc=$?
check "bench --mask sliding_window:3: exit 0" "[ $rc -eq 0 ] && grep -q 'sliding_window:3' $tmp/b.json"

# --ui-scale: NaN, infinities, 0 and negatives are refused before anything starts (ImGui asserted).
for bad in nan NaN inf -inf 0 -1 1e9 abc; do
  "$app" render --out "$tmp/x.png" --ui-scale "$bad" > /dev/null 2> "$tmp/err8"; rc=$?
  check "render --ui-scale $bad: exit 2" "[ $rc -eq 2 ] && grep -q 'ui-scale' $tmp/err8 && [ ! -e $tmp/x.png ]"
  (unset DISPLAY WAYLAND_DISPLAY; "$app" --frames 1 --ui-scale "$bad" > /dev/null 2> "$tmp/err9"); rc=$?
  check "--ui-scale $bad (window): exit 2" "[ $rc -eq 2 ] && grep -q 'ui-scale' $tmp/err9"
done

exit $fail
