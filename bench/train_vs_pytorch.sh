#!/usr/bin/env bash
# Training speed side by side, in one run, on the same threads: `attnviz train` against a
# straightforward PyTorch loop of the same model and task (bench/train_pytorch.py).
#
#   bash bench/train_vs_pytorch.sh build/attnviz [steps] [mlp: off|on]
#
# Model: 2 layers, 4 heads, d_model 64, context 64 (two copies of 32 random tokens, vocab 64),
# batch 32, AdamW lr 1e-3, clipping at 1.0 — attnviz train's induction defaults.
# PyTorch is for this benchmark only (not in scripts/setup.sh). On Debian 12:
#   sudo apt-get install -y python3-torch libopenblas0-pthread
# and run with /usr/bin/python3 (Debian's torch; a pyenv python will not see it). Without
# libopenblas0-pthread Debian's torch uses the reference BLAS and is many times slower.
set -euo pipefail
app="$1"; steps="${2:-300}"; mlp="${3:-off}"
threads=2
here="$(cd "$(dirname "$0")" && pwd)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads MKL_NUM_THREADS=$threads

if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
    echo "train_vs_pytorch: /usr/bin/python3 has no torch; install it with: sudo apt-get install -y python3-torch libopenblas0-pthread" >&2
    exit 2
fi

echo "model: 2 layers, 4 heads, d_model 64, context 64, batch 32, mlp $mlp, AdamW; $threads threads; $steps timed steps; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
# attnviz: one logging interval of 20 untimed steps first, then the timed steps in one interval.
"$app" train --task induction --layers 2 --heads 4 --d-model 64 --context 64 --vocab 64 --batch 32 --mlp "$mlp" \
    --lr 1e-3 --threads $threads --steps $((steps + 20)) --log-every 20 --out "$tmp/m" > "$tmp/attnviz.log"
ours=$(/usr/bin/python3 - "$tmp/attnviz.log" "$steps" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])][1:]   # after the first 20 steps
steps = sum(l["step"] - p["step"] for p, l in zip([{"step": 20}] + lines[:-1], lines))
secs = sum((l["step"] - p["step"]) / l["steps_per_s"] for p, l in zip([{"step": 20}] + lines[:-1], lines))
print(f"{steps / secs:.1f}")
PY
)
printf '%-34s %8s steps/s\n' "attnviz train" "$ours"
for variant in "" "--sdpa"; do
    line=$(/usr/bin/python3 "$here/train_pytorch.py" --steps "$steps" --threads $threads --mlp "$mlp" $variant)
    if echo "$line" | grep -q '"unavailable"'; then
        printf '%-34s %8s\n' "pytorch (sdpa)" "not in this PyTorch (needs 2.0)"; continue
    fi
    theirs=$(echo "$line" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['steps_per_s'])")
    name=$(echo "$line" | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(d['framework'] + ' (' + d['attention'] + ')')")
    ratio=$(/usr/bin/python3 -c "print(f'{$ours / $theirs:.2f}')")
    printf '%-34s %8s steps/s   attnviz: %sx\n' "$name" "$theirs" "$ratio"
done
