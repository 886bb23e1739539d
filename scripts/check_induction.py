#!/usr/bin/env python3
"""Checks what a model trained by `attnviz train --task induction` learned, with a plain
double-precision forward pass of its GPT-2 folder (pure Python: no NumPy needed).

    python3 scripts/check_induction.py MODEL_DIR [--tokens "a b c …"] [--json]

Prints, for every head, its previous-token score (mean of P[i][i-1]) and its induction score
(mean over rows whose token occurred before of the weight on the token after that earlier
occurrence) on a probe-style sequence (7 random tokens, a segment of 20, the segment again; or
--tokens, ids separated by spaces), and the model's accuracy at predicting the determined tokens of
repeats of several lengths (8, 12, 16, 20, 24, 30) placed after random prefixes, among random tokens.
Attention-only models (config "attnviz_attention_only") and models with an MLP both work.
"""
import json
import math
import os
import random
import struct
import sys


def load(folder):
    cfg = json.load(open(os.path.join(folder, "config.json")))
    raw = open(os.path.join(folder, "model.safetensors"), "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    t = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit(f"{folder}: {name}: dtype {info['dtype']} (expected F32)")
        a, b = info["data_offsets"]
        vals = list(struct.unpack(f"<{(b - a) // 4}f", raw[base + a:base + b]))
        shape = info["shape"]
        if len(shape) == 2:
            vals = [vals[r * shape[1]:(r + 1) * shape[1]] for r in range(shape[0])]
        t[name.removeprefix("transformer.")] = vals
    return cfg, t


def matmul(A, B):  # A: n×k, B: k×m (lists of rows)
    cols = list(zip(*B))
    return [[sum(x * y for x, y in zip(row, c)) for c in cols] for row in A]


def layer_norm(X, g, b, eps):
    out = []
    for row in X:
        mu = sum(row) / len(row)
        var = sum((v - mu) ** 2 for v in row) / len(row)
        r = 1.0 / math.sqrt(var + eps)
        out.append([(v - mu) * r * gg + bb for v, gg, bb in zip(row, g, b)])
    return out


def gelu(v):
    return 0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3)))


def forward(cfg, t, ids):
    """Logits (n × vocab) and patterns[layer][head] (n × n)."""
    d, H, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    dh = d // H
    n = len(ids)
    x = [[a + b for a, b in zip(t["wte.weight"][i], t["wpe.weight"][p])] for p, i in enumerate(ids)]
    patterns = []
    for l in range(cfg["n_layer"]):
        p = f"h.{l}."
        a = layer_norm(x, t[p + "ln_1.weight"], t[p + "ln_1.bias"], eps)
        qkv = [[v + bb for v, bb in zip(row, t[p + "attn.c_attn.bias"])] for row in matmul(a, t[p + "attn.c_attn.weight"])]
        mixed = [[0.0] * d for _ in range(n)]
        heads = []
        for h in range(H):
            q = [row[h * dh:(h + 1) * dh] for row in qkv]
            k = [row[d + h * dh:d + (h + 1) * dh] for row in qkv]
            v = [row[2 * d + h * dh:2 * d + (h + 1) * dh] for row in qkv]
            P = []
            for i in range(n):
                s = [sum(x1 * y1 for x1, y1 in zip(q[i], k[j])) / math.sqrt(dh) for j in range(i + 1)]
                m = max(s)
                e = [math.exp(z - m) for z in s]
                z = sum(e)
                row = [w / z for w in e] + [0.0] * (n - i - 1)
                P.append(row)
                for c in range(dh):
                    mixed[i][h * dh + c] = sum(row[j] * v[j][c] for j in range(i + 1))
            heads.append(P)
        patterns.append(heads)
        out = matmul(mixed, t[p + "attn.c_proj.weight"])
        x = [[xv + ov + bb for xv, ov, bb in zip(xr, orow, t[p + "attn.c_proj.bias"])] for xr, orow in zip(x, out)]
        if not cfg.get("attnviz_attention_only", False) and p + "mlp.c_fc.weight" in t:
            a = layer_norm(x, t[p + "ln_2.weight"], t[p + "ln_2.bias"], eps)
            f = [[gelu(v + bb) for v, bb in zip(row, t[p + "mlp.c_fc.bias"])] for row in matmul(a, t[p + "mlp.c_fc.weight"])]
            o = matmul(f, t[p + "mlp.c_proj.weight"])
            x = [[xv + ov + bb for xv, ov, bb in zip(xr, orow, t[p + "mlp.c_proj.bias"])] for xr, orow in zip(x, o)]
    x = layer_norm(x, t["ln_f.weight"], t["ln_f.bias"], eps)
    return matmul(x, list(map(list, zip(*t["wte.weight"])))), patterns


def prev_score(P):
    return sum(P[i][i - 1] for i in range(1, len(P))) / (len(P) - 1)


def induction_score(P, ids):
    total, rows = 0.0, 0
    for i in range(len(ids)):
        ks = [k for k in range(i) if ids[k] == ids[i]]
        if ks:
            total += sum(P[i][k + 1] for k in ks)
            rows += 1
    return total / rows if rows else 0.0


def main():
    args = sys.argv[1:]
    as_json = "--json" in args
    args = [a for a in args if a != "--json"]
    tokens = None
    if "--tokens" in args:
        i = args.index("--tokens")
        tokens = [int(v) for v in args[i + 1].split()]
        del args[i:i + 2]
    if len(args) != 1:
        raise SystemExit(__doc__)
    cfg, t = load(args[0])
    V, ctx = cfg["vocab_size"], cfg["n_ctx"]
    rng = random.Random(12345)
    if tokens is None:
        distinct = rng.sample(range(V), 27)
        tokens = distinct + distinct[7:27]
    _, pats = forward(cfg, t, tokens)
    scores = [[{"prev": prev_score(P), "induction": induction_score(P, tokens)} for P in layer] for layer in pats]
    acc = {}
    for L in (8, 12, 16, 20, 24, 30):
        if 2 * L > ctx:
            continue
        right = total = 0
        for _ in range(6):
            s = [rng.randrange(V) for _ in range(ctx)]
            p = rng.randrange(ctx - 2 * L + 1)
            s[p + L:p + 2 * L] = s[p:p + L]
            logits, _ = forward(cfg, t, s)
            for i in range(p + L, p + 2 * L - 1):  # input i predicts token i + 1 (the copy's 2nd … last)
                row = logits[i]
                right += int(max(range(V), key=row.__getitem__) == s[i + 1])
                total += 1
        acc[L] = right / total
    if as_json:
        print(json.dumps({"probe": tokens, "heads": scores, "accuracy": acc}))
        return
    print("probe:", " ".join(map(str, tokens)))
    for l, layer in enumerate(scores):
        for h, s in enumerate(layer):
            print(f"L{l} H{h}: previous-token {s['prev']:.3f}  induction {s['induction']:.3f}")
    for L, a in acc.items():
        print(f"repeat of {L:2d} tokens (distance {L}): {100 * a:.0f} % of the copy's determined tokens predicted")


if __name__ == "__main__":
    main()
