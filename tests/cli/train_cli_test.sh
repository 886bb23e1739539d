#!/usr/bin/env bash
# `attnviz train` as a user runs it: a tiny model trained a few steps (the JSON lines parse, the
# loss drops, the saved GPT-2 folder loads again as --model), one exact step from a saved model on
# given sequences, and bad arguments/files (exit 2 with the reason).
set -u
app="$1"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

"$app" train --task induction --layers 1 --heads 2 --d-model 16 --context 16 --vocab 8 --batch 16 \
    --steps 120 --log-every 40 --lr 1e-2 --seed 3 --out "$tmp/m" > "$tmp/log" 2> "$tmp/err"; rc=$?
check "train exits 0" "[ $rc -eq 0 ]"
cat "$tmp/err"
check "three JSON lines with the documented keys, loss drops" "python3 -c \"
import json,sys,math
L=[json.loads(l) for l in open('$tmp/log')]
keys={'step','loss','heldout_loss','steps_per_s','induction_score','prev_token_score'}
ok=len(L)==3 and all(keys<=set(l) for l in L) and [l['step'] for l in L]==[40,80,120]
ok=ok and L[-1]['loss']<L[0]['loss'] and L[-1]['heldout_loss']<math.log(8) and all(0<=l['induction_score']<=1 for l in L)
print(L[0]['loss'], L[-1]['loss'], L[-1]['heldout_loss']); sys.exit(0 if ok else 1)\""
check "the folder has the four files" "[ -s $tmp/m/config.json ] && [ -s $tmp/m/vocab.json ] && [ -s $tmp/m/merges.txt ] && [ -s $tmp/m/model.safetensors ]"
check "config.json says attention-only, 1 layer, 2 heads, d 16" "python3 -c \"
import json,sys; c=json.load(open('$tmp/m/config.json'))
sys.exit(0 if c['n_layer']==1 and c['n_head']==2 and c['n_embd']==16 and c['vocab_size']==8 and c.get('attnviz_attention_only') else 1)\""

# The saved folder loads (--model) and takes one exact SGD step on given sequences.
echo '{"sequences": [[1, 2, 3, 1, 2, 3], [4, 5, 6, 7]]}' > "$tmp/data.json"
"$app" train --model "$tmp/m" --data "$tmp/data.json" --optimizer sgd --lr 0.1 --steps 1 --out "$tmp/m2" > "$tmp/log2" 2> "$tmp/err2"; rc=$?
check "one step from the saved folder exits 0" "[ $rc -eq 0 ]"
cat "$tmp/err2"
check "one JSON line, step 1, no held-out set" "python3 -c \"
import json,sys; L=[json.loads(l) for l in open('$tmp/log2')]
sys.exit(0 if len(L)==1 and L[0]['step']==1 and L[0]['heldout_loss'] is None and L[0]['loss']>0 else 1)\""
check "the stepped model differs from the start" "! cmp -s $tmp/m/model.safetensors $tmp/m2/model.safetensors"

bad() {  # name, expected stderr text, arguments…
    local name="$1" text="$2"; shift 2
    "$app" train "$@" > /dev/null 2> "$tmp/e"; local rc=$?
    check "$name: exit 2 naming the problem" "[ $rc -eq 2 ] && grep -q -- '$text' $tmp/e"
}
bad "d_model not divisible by heads" "divisible by n_heads" --heads 3 --d-model 16 --steps 1 --out "$tmp/x"
bad "missing data file" "cannot open" --data "$tmp/none.json" --out "$tmp/x"
echo '{"sequences": [[1, "a"]]}' > "$tmp/bad.json"
bad "a token id that is not a number" "sequences\[0\]\[1\]" --data "$tmp/bad.json" --out "$tmp/x"
bad "a sequence longer than the model's context" "context" --model "$tmp/m" --data <(echo '{"sequences": [[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]]}') --out "$tmp/x"
bad "an id outside the model's vocabulary" "outside the vocabulary" --model "$tmp/m" --data <(echo '{"sequences": [[1, 9]]}') --out "$tmp/x"
bad "missing model folder" "model" --model "$tmp/nothing" --data "$tmp/data.json" --out "$tmp/x"
bad "a bad mask" "mask" --mask "window:3" --out "$tmp/x"
bad "odd induction context" "context" --context 15 --out "$tmp/x"
bad "unknown task" "task" --task poetry --out "$tmp/x"
check "nothing written for refused runs" "[ ! -e $tmp/x ]"
exit $fail
