#!/usr/bin/env python3
"""Writes a tiny GPT-2 folder in Hugging Face's layout with the standard library only (an
independent safetensors writer: struct + json), for the command-line tests.

  make_tiny_gpt2.py OUT_DIR [--dtype F32|F16] [--prefixed] [--seed S] [--drop NAME] [--nan NAME]
                            [--n-head H] [--lm-head same|different] [--layers L] [--ctx N] [--d-model D]

Vocabulary: ids 0..255 are the 256 single bytes (id = byte value, in GPT-2's byte→unicode
spelling), then the merges "Ġ t", "h e", "Ġt he", "c a", "ca t" give ids 256..260. So "the cat"
is t|he Ġ|cat = [116, 257, 32, 260] and " the" is [258].
"""
import json
import os
import random
import struct
import sys


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def main():
    args = sys.argv[1:]
    out = args.pop(0)
    opts = {"--dtype": "F32", "--seed": "1", "--drop": "", "--nan": "", "--n-head": "4", "--lm-head": "", "--layers": "2", "--ctx": "32",
            "--d-model": "16"}
    prefixed = False
    while args:
        a = args.pop(0)
        if a == "--prefixed":
            prefixed = True
        else:
            opts[a] = args.pop(0)
    rnd = random.Random(int(opts["--seed"]))
    vocab, ctx, d, layers = 261, int(opts["--ctx"]), int(opts["--d-model"]), int(opts["--layers"])
    os.makedirs(out, exist_ok=True)

    b2u = bytes_to_unicode()
    pieces = [b2u[b] for b in range(256)]
    merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("c", "a"), ("ca", "t")]
    pieces += [a + b for a, b in merges]
    with open(os.path.join(out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({p: i for i, p in enumerate(pieces)}, f, ensure_ascii=False)
    with open(os.path.join(out, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(a + " " + b + "\n" for a, b in merges))
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": vocab, "n_positions": ctx,
                   "n_embd": d, "n_layer": layers, "n_head": int(opts["--n-head"]), "layer_norm_epsilon": 1e-5,
                   "activation_function": "gelu_new"}, f)

    def normal(n, s):
        return [rnd.gauss(0.0, s) for _ in range(n)]

    tensors = [("wte.weight", [vocab, d], normal(vocab * d, 0.3)), ("wpe.weight", [ctx, d], normal(ctx * d, 0.1))]
    for l in range(layers):
        p = "h.%d." % l
        tensors += [
            (p + "ln_1.weight", [d], [1 + x for x in normal(d, 0.1)]),
            (p + "ln_1.bias", [d], normal(d, 0.1)),
            (p + "attn.bias", [1, 1, ctx, ctx], [1.0] * (ctx * ctx)),  # an old checkpoint's mask buffer: ignored
            (p + "attn.c_attn.weight", [d, 3 * d], normal(d * 3 * d, 0.4)),
            (p + "attn.c_attn.bias", [3 * d], normal(3 * d, 0.1)),
            (p + "attn.c_proj.weight", [d, d], normal(d * d, 0.2)),
            (p + "attn.c_proj.bias", [d], normal(d, 0.05)),
            (p + "ln_2.weight", [d], [1 + x for x in normal(d, 0.1)]),
            (p + "ln_2.bias", [d], normal(d, 0.1)),
            (p + "mlp.c_fc.weight", [d, 4 * d], normal(d * 4 * d, 0.2)),
            (p + "mlp.c_fc.bias", [4 * d], normal(4 * d, 0.05)),
            (p + "mlp.c_proj.weight", [4 * d, d], normal(4 * d * d, 0.1)),
            (p + "mlp.c_proj.bias", [d], normal(d, 0.05)),
        ]
    tensors += [("ln_f.weight", [d], [1 + x for x in normal(d, 0.1)]), ("ln_f.bias", [d], normal(d, 0.1))]
    if opts["--lm-head"]:
        w = list(tensors[0][2])
        if opts["--lm-head"] == "different":
            w[5] += 1.0
        tensors.append(("lm_head.weight", [vocab, d], w))
    prefix = "transformer." if prefixed else ""
    tensors = [((prefix + n) if n != "lm_head.weight" else n, s, v) for n, s, v in tensors if n != opts["--drop"]]
    for i, (n, s, v) in enumerate(tensors):
        if n.endswith(opts["--nan"]) and opts["--nan"]:
            v[3] = float("nan")

    fmt, size = ("e", 2) if opts["--dtype"] == "F16" else ("f", 4)
    header, data, off = {"__metadata__": {"format": "pt"}}, b"", 0
    for n, s, v in tensors:
        raw = struct.pack("<%d%s" % (len(v), fmt), *v)
        header[n] = {"dtype": opts["--dtype"], "shape": s, "data_offsets": [off, off + len(raw)]}
        data += raw
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    with open(os.path.join(out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


if __name__ == "__main__":
    main()
