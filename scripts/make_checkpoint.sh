#!/usr/bin/env bash
# Makes the shipped trained checkpoint assets/models/induction/ (config.json, vocab.json,
# merges.txt, model.safetensors): a 2-layer, 4-head, d_model 64 attention-only GPT-2-style model
# trained here on the induction task (random tokens of a 64-token vocabulary in which a segment of
# 2 … 32 tokens is repeated right after itself, at a random place: the repeat distance varies, so
# position alone cannot predict the copy) until past the moment its induction head forms (a head's
# induction score on the probe — 7 random tokens, a segment of 20, the segment again — passes 0.5
# near step 1450; see train_log.jsonl for the final score).
#
# What it learned (checked with scripts/check_induction.py, a plain double-precision forward pass):
# a previous-token head in layer 0 and an induction head in layer 1 that attends to the token after
# the current token's earlier occurrence; it predicts repeats of any length it was trained on.
# assets/scenes/10_induction_head_trained.json says which heads for the lecturer.
#
#   bash scripts/make_checkpoint.sh [build/attnviz] [out folder]
#
# Deterministic: a fixed seed and one thread (core's training is bit-for-bit repeatable for a given
# thread count), a fixed number of steps (not "stop when the score is reached", which depends on
# the logging interval). The training log (one JSON line per 50 steps) is written next to the
# model as train_log.jsonl; the script fails unless a head's induction score on the probe is ≥ 0.8.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
app="${1:-$here/build/attnviz}"
out="${2:-$here/assets/models/induction}"
steps=4000
[ -x "$app" ] || { echo "make_checkpoint: no attnviz at $app (build it first)" >&2; exit 2; }

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$app" train --task induction --layers 2 --heads 4 --d-model 64 --context 64 --vocab 64 --mlp off \
    --batch 32 --lr 1e-3 --warmup 100 --optimizer adamw --seed 0 --threads 1 --steps "$steps" --log-every 50 \
    --out "$tmp/model" > "$tmp/train_log.jsonl"
cat "$tmp/train_log.jsonl"
python3 - "$tmp/train_log.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
last = lines[-1]
formed = next((l["step"] for l in lines if l["induction_score"] >= 0.5), None)
print(f"final step {last['step']}: loss {last['loss']:.4f}, held-out {last['heldout_loss']:.4f}, "
      f"induction score {last['induction_score']:.3f} (first >= 0.5 at step {formed})")
sys.exit(0 if last["induction_score"] >= 0.8 else 1)
PY
mkdir -p "$out"
cp "$tmp/model/"* "$out/"
cp "$tmp/train_log.jsonl" "$out/"
echo "wrote $(du -sh "$out" | cut -f1) to $out"
