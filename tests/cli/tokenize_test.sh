#!/usr/bin/env bash
# `attnviz tokenize`: tokens, byte offsets and lengths checked against values counted by hand.
set -u
app="$1"; src="$2"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

# "Héllo, world 42!": é is 2 bytes, so "Héllo" is bytes 0..5; "," 6; "world" 8..12; "42" 14..15; "!" 16
"$app" tokenize --text 'Héllo, world 42!' > "$tmp/t.tsv"; rc=$?
printf 'index\toffset\tlength\ttext\n0\t0\t6\tHéllo\n1\t6\t1\t,\n2\t8\t5\tworld\n3\t14\t2\t42\n4\t16\t1\t!\n' > "$tmp/want.tsv"
check "tokenize --text: exit 0" "[ $rc -eq 0 ]"
check "tokenize --text: index, offset, length, text" "cmp -s $tmp/t.tsv $tmp/want.tsv || { diff $tmp/want.tsv $tmp/t.tsv; false; }"

"$app" tokenize --text $'a \xff b' --json > "$tmp/t.json"; rc=$?
check "tokenize --json: an invalid byte is its own token (U+FFFD) at its offset" "[ $rc -eq 0 ] && python3 -c \"
import json,sys; t=json.load(open('$tmp/t.json'))['tokens']
want=[(0,'a',0,1),(1,'\\ufffd',2,1),(2,'b',4,1)]
sys.exit(0 if [(x['index'],x['text'],x['offset'],x['length']) for x in t]==want else 1)\""

# the scene's tokens as stored: a token list has offsets as if joined by single spaces
"$app" tokenize --scene "$src/data/two_tokens.json" > "$tmp/s.tsv"; rc=$?
printf 'index\toffset\tlength\ttext\n0\t0\t3\tred\n1\t4\t3\tdog\n' > "$tmp/want_s.tsv"
check "tokenize --scene: the scene's tokens" "[ $rc -eq 0 ] && cmp -s $tmp/s.tsv $tmp/want_s.tsv"

"$app" tokenize > /dev/null 2> "$tmp/e1"; rc=$?
check "tokenize without input: exit 2, says what it needs" "[ $rc -eq 2 ] && grep -q -- '--text TEXT, --text-file FILE or --scene FILE' $tmp/e1"
"$app" tokenize --text a --scene "$src/data/two_tokens.json" > /dev/null 2>&1; rc=$?
check "tokenize --text with --scene: exit 2" "[ $rc -eq 2 ]"
echo '{"attnviz_scene":1,"tokens":"red"}' > "$tmp/bad.json"
"$app" tokenize --scene "$tmp/bad.json" > /dev/null 2> "$tmp/e2"; rc=$?
check "tokenize a malformed scene: exit 2, names the file" "[ $rc -eq 2 ] && grep -q 'bad.json' $tmp/e2"
printf 'a b' > "$tmp/t.txt"
"$app" tokenize --text-file "$tmp/t.txt" > "$tmp/f.tsv"; rc=$?
"$app" tokenize --text 'a b' > "$tmp/t.tsv"
check "tokenize --text-file: exit 0, the same tokens as --text" "[ $rc -eq 0 ] && cmp -s $tmp/f.tsv $tmp/t.tsv"
mkfifo "$tmp/fifo"
timeout 10 "$app" tokenize --text-file "$tmp/fifo" > /dev/null 2> "$tmp/e3"; rc=$?
check "tokenize --text-file a FIFO: exit 2 at once, says it is not a regular file" "[ $rc -eq 2 ] && grep -qi 'fifo' $tmp/e3"
"$app" tokenize --model "$tmp" --scene "$src/data/two_tokens.json" > /dev/null 2>&1; rc=$?
check "tokenize --model with --scene: exit 2" "[ $rc -eq 2 ]"
if [ -w /dev/full ]; then
    "$app" tokenize --text 'a b' > /dev/full 2> /dev/null; rc=$?
    check "tokenize > /dev/full: exit 1" "[ $rc -eq 1 ]"
fi
exit $fail
