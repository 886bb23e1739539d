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
ok=all(abs(a-b)<1e-5 for a,b in zip(sum(p,[]),[0.75,0.25,0.5,0.5])) and all(abs(a-b)<1e-5 for a,b in zip(sum(o,[]),[2.5,1,1,3]))
sys.exit(0 if ok and d['tokens']==['red','dog'] else 1)\""

"$app" export --scene "$src/data/two_tokens.json" --format csv --matrix pattern > "$tmp/p.csv"
check "export csv" "python3 -c \"
import csv,sys; r=list(csv.reader(open('$tmp/p.csv')))
ok=r[0]==['query\\\\key','red','dog'] and r[1][0]=='red' and abs(float(r[1][1])-0.75)<1e-6 and abs(float(r[2][2])-0.5)<1e-6
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

exit $fail
