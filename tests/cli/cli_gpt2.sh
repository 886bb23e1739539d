#!/usr/bin/env bash
# attnviz export --model / tokenize / bench --gpt2-shape on tiny GPT-2 folders written by
# tests/cli/make_tiny_gpt2.py (an independent writer: Python's struct + json), and the refusals of
# malformed folders (exit 2, the message naming the file and the tensor or field).
#   cli_gpt2.sh ATTNVIZ SOURCE_DIR
set -uo pipefail
bin="$1"
src="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
mk() { python3 "$src/tests/cli/make_tiny_gpt2.py" "$@" || { echo "FAIL: make_tiny_gpt2.py $*"; exit 1; }; }

mk "$tmp/m"
mk "$tmp/m16" --dtype F16 --prefixed --lm-head same

# --- tokenize: ids worked out by hand from the tiny vocabulary (see make_tiny_gpt2.py) ---
out=$("$bin" tokenize --model "$tmp/m" --text "the cat the" --json); rc=$?
[ $rc -eq 0 ] || bad "tokenize exit $rc"
[ "$out" = '{"token_ids": [116, 257, 32, 260, 258], "tokens": ["t", "he", "Ġ", "cat", "Ġthe"]}' ] && ok tokenize json || bad "tokenize json: $out"
out=$("$bin" tokenize --model "$tmp/m" --text "the cat"); rc=$?
[ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | head -1)" = "ids: 116 257 32 260" ] && ok tokenize text || bad "tokenize text: $out"
printf 'a\xffb' > "$tmp/invalid.txt"
out=$("$bin" tokenize --model "$tmp/m" --text-file "$tmp/invalid.txt" --json); rc=$?
[ $rc -eq 0 ] && [ "$(printf '%s' "$out" | head -c 27)" = '{"token_ids": [97, 255, 98]' ] && ok "tokenize invalid UTF-8 (bytes)" || bad "tokenize invalid: rc=$rc $out"
# a full standard output is an error (exit 1 naming it), not a silent success
if [ -w /dev/full ]; then
  "$bin" export --model "$tmp/m" --text "the cat" > /dev/full 2> "$tmp/full.err"; rc=$?
  [ $rc -eq 1 ] && grep -q "standard output" "$tmp/full.err" && ok "export --model > /dev/full: exit 1" || bad "export --model > /dev/full: rc=$rc $(cat "$tmp/full.err")"
fi

# --- export json: shapes, and the numbers' relations checked in Python from the exported Q, K, V ---
"$bin" export --model "$tmp/m" --text "the cat the cat" --top-k 5 --out "$tmp/e.json"; rc=$?
[ $rc -eq 0 ] || bad "export exit $rc"
python3 - "$tmp/e.json" <<'EOF' && ok "export json (scores = Q·Kᵀ, pattern = causal softmax(scores/√4), top-k)" || { echo "FAIL: export json"; fail=1; }
import json, math, sys
e = json.load(open(sys.argv[1]))
assert e["token_ids"] == [116, 257, 32, 260, 258, 32, 260], e["token_ids"]   # "the" " cat" " the" " cat"
assert e["tokens"] == ["t", "he", "Ġ", "cat", "Ġthe", "Ġ", "cat"]
n = 7
assert len(e["layers"]) == 2 and [l["layer"] for l in e["layers"]] == [0, 1]
for layer in e["layers"]:
    assert len(layer["heads"]) == 4
    for h in layer["heads"]:
        Q, K, V, S, P, D = (h[k] for k in ("Q", "K", "V", "scores", "pattern", "delta"))
        assert len(Q) == n and len(Q[0]) == 4 and len(K) == n and len(V[0]) == 4
        assert len(S) == n and len(S[0]) == n and len(D) == n and len(D[0]) == 16
        for i in range(n):
            for j in range(n):
                s = sum(Q[i][k] * K[j][k] for k in range(4))
                assert abs(S[i][j] - s) <= 1e-4 * (1 + abs(s)), (i, j, S[i][j], s)
            m = max(S[i][j] / 2.0 for j in range(i + 1))        # 1/√d_head = 1/2
            z = sum(math.exp(S[i][j] / 2.0 - m) for j in range(i + 1))
            for j in range(n):
                want = math.exp(S[i][j] / 2.0 - m) / z if j <= i else 0.0
                assert abs(P[i][j] - want) <= 1e-5, (i, j, P[i][j], want)
nt = e["next_token"]
assert len(nt) == 5
assert all(nt[k]["prob"] >= nt[k + 1]["prob"] for k in range(4))
assert 0 < sum(t["prob"] for t in nt) <= 1.0001
assert all(set(t) == {"id", "token", "prob"} for t in nt)
EOF

# --layer: only that layer; csv and npy of one matrix
"$bin" export --model "$tmp/m" --text "the cat" --layer 1 --top-k 3 > "$tmp/l1.json"; rc=$?
python3 -c "
import json,sys; e=json.load(open('$tmp/l1.json'))
assert [l['layer'] for l in e['layers']] == [1] and len(e['next_token']) == 3" && [ $rc -eq 0 ] && ok "export --layer" || bad "export --layer"
out=$("$bin" export --model "$tmp/m" --text "the cat" --layer 1 --head 2 --format csv --matrix pattern); rc=$?
[ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | head -1)" = 'query\key,0:t,1:he,2:Ġ,3:cat' ] && [ "$(printf '%s\n' "$out" | wc -l)" = 5 ] \
  && [ "$(printf '%s\n' "$out" | sed -n 2p)" = '0:t,1,0,0,0' ] && ok "export csv" || bad "export csv: $out"
"$bin" export --model "$tmp/m" --text "the cat" --layer 0 --head 1 --format npy --matrix scores --out "$tmp/s.npy"; rc=$?
[ $rc -eq 0 ] && [ "$(stat -c %s "$tmp/s.npy")" = $((128 + 4 * 4 * 4)) ] && ok "export npy" || bad "export npy rc=$rc"

# F16 weights, "transformer." names, lm_head equal to wte: loads; predictions close to F32's
"$bin" export --model "$tmp/m16" --text "the cat the cat" --top-k 5 --layer 0 --out "$tmp/e16.json"; rc=$?
python3 - "$tmp/e.json" "$tmp/e16.json" <<'EOF' && [ $rc -eq 0 ] && ok "F16 + prefixed names" || { echo "FAIL: F16 rc=$rc"; fail=1; }
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert [t["id"] for t in a["next_token"]][:2] == [t["id"] for t in b["next_token"]][:2]
assert all(abs(x["prob"] - y["prob"]) < 0.01 for x, y in zip(a["next_token"], b["next_token"]))
EOF

# --- refusals: exit 2, the message naming the file and the tensor/field ---
refuse() {  # refuse NAME DIR EXPECTED...
  local name="$1" dir="$2"; shift 2
  local err; err=$("$bin" export --model "$dir" --text "the cat" 2>&1 >/dev/null); local rc=$?
  [ $rc -eq 2 ] || { bad "$name: exit $rc (want 2): $err"; return; }
  for part in "$@"; do
    case "$err" in *"$part"*) ;; *) bad "$name: message lacks '$part': $err"; return;; esac
  done
  ok "refuses $name"
}
mk "$tmp/drop" --drop h.1.mlp.c_fc.bias
refuse "missing tensor" "$tmp/drop" "$tmp/drop/model.safetensors" "tensor h.1.mlp.c_fc.bias: missing"
mk "$tmp/nan" --nan h.0.attn.c_proj.weight
refuse "non-finite weight" "$tmp/nan" "$tmp/nan/model.safetensors" "tensor h.0.attn.c_proj.weight: non-finite value nan at flat index 3"
mk "$tmp/heads" --n-head 5
refuse "n_head not dividing n_embd" "$tmp/heads" "$tmp/heads/config.json" "n_head: 5 does not divide n_embd 16"
mk "$tmp/lm" --lm-head different
refuse "untied lm_head" "$tmp/lm" "tensor lm_head.weight: differs from wte.weight"
mk "$tmp/trunc"; truncate -s -64 "$tmp/trunc/model.safetensors"
refuse "truncated file" "$tmp/trunc" "$tmp/trunc/model.safetensors" "run past the end of the data"
mk "$tmp/hdr"; printf '\x00\x00\x10\x00\x00\x00\x00\x00' | dd of="$tmp/hdr/model.safetensors" conv=notrunc status=none
refuse "header length past the end" "$tmp/hdr" "$tmp/hdr/model.safetensors" "header length 1048576 bytes runs past the end"
mk "$tmp/huge"; printf '\xff\xff\xff\xff\x00\x00\x00\x00' | dd of="$tmp/huge/model.safetensors" conv=notrunc status=none
refuse "header over 100 MB" "$tmp/huge" "$tmp/huge/model.safetensors" "header length 4294967295 bytes is over the limit"
mk "$tmp/shape"; python3 -c "
import json; p='$tmp/shape/config.json'; c=json.load(open(p)); c['n_positions']=64; json.dump(c, open(p,'w'))"
refuse "shape against config.json" "$tmp/shape" "tensor wpe.weight: shape [32, 16], expected [64, 16]"
refuse "missing folder" "$tmp/nowhere" "$tmp/nowhere: not a folder"
err=$("$bin" export --model "$tmp/m" --text "$(printf 'the %.0s' $(seq 40))" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && case "$err" in *"more than the model's 32 positions"*) true;; *) false;; esac && ok "refuses too long a text" || bad "long text: $rc $err"
err=$("$bin" tokenize --model "$tmp/nowhere" --text x 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && ok "tokenize refuses a missing folder" || bad "tokenize missing: $rc"
# The output file is not replaced when the model is refused.
echo keep > "$tmp/keep.json"
"$bin" export --model "$tmp/drop" --text "the" --out "$tmp/keep.json" 2>/dev/null
[ "$(cat "$tmp/keep.json")" = keep ] && ok "output kept on refusal" || bad "output replaced"

# --- bench --gpt2-shape tiny (a smoke test of the keys, not a timing) ---
out=$("$bin" bench --gpt2-shape tiny --n 64 --repeat 1 --json); rc=$?
python3 -c "
import json,sys; b=json.loads(sys.argv[1])
for k in ('gemm_gflops','forward_64_ms','forward_share_of_gemm','append_ms','kept_mb','peak_rss_mb'): assert k in b, k" "$out" \
  && [ $rc -eq 0 ] && ok "bench --gpt2-shape tiny" || bad "bench: $rc $out"
# the text output: each forward's share of the GEMM rate, the median of the pairs and their spread
out=$("$bin" bench --gpt2-shape tiny --n 64 --repeat 3); rc=$?
echo "$out" | grep -Eq "forward n=64 +[0-9.]+ ms +\([0-9.]+ GFLOP, [0-9.]+ GFLOP/s = [0-9]+ % of the GEMM rate\)  pairs [0-9]+-[0-9]+ %" \
  && [ $rc -eq 0 ] && ok "bench --gpt2-shape tiny (text): share and its spread" || bad "bench text: $rc $out"

exit $fail
