"""A straightforward PyTorch training loop of the model `attnviz train` trains (bench only).

GPT-2 layout: token + position embeddings, pre-LayerNorm blocks (causal multi-head attention with
biases, optional GELU-tanh MLP), final LayerNorm, tied unembedding. Task: induction — random
sequences of `half` tokens repeated twice, inputs seq[:, :-1], loss on the predictions of the
repeat (positions half … 2·half − 2), as attnviz's induction task. AdamW, clipping at 1.0.

Prints one JSON line: {"framework", "attention", "threads", "steps", "steps_per_s", "final_loss"}.
Needs /usr/bin/python3 with Debian's python3-torch (apt-get install -y python3-torch).
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, heads, mlp, sdpa):
        super().__init__()
        self.heads, self.sdpa = heads, sdpa
        self.ln_1 = nn.LayerNorm(d, eps=1e-5)
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.mlp = mlp
        if mlp:
            self.ln_2 = nn.LayerNorm(d, eps=1e-5)
            self.c_fc = nn.Linear(d, 4 * d)
            self.mlp_proj = nn.Linear(4 * d, d)

    def forward(self, x, causal):
        B, T, d = x.shape
        H = self.heads
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
        q = q.view(B, T, H, d // H).transpose(1, 2)  # (B, H, T, dh)
        k = k.view(B, T, H, d // H).transpose(1, 2)
        v = v.view(B, T, H, d // H).transpose(1, 2)
        if self.sdpa:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) / math.sqrt(d // H)  # (B, H, T, T)
            att = att.masked_fill(~causal[:T, :T], float("-inf"))
            y = F.softmax(att, dim=-1) @ v
        x = x + self.c_proj(y.transpose(1, 2).reshape(B, T, d))
        if self.mlp:
            x = x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))
        return x


class GPT(nn.Module):
    def __init__(self, vocab, ctx, d, layers, heads, mlp, sdpa):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(ctx, d)
        self.h = nn.ModuleList([Block(d, heads, mlp, sdpa) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d, eps=1e-5)
        self.register_buffer("causal", torch.tril(torch.ones(ctx, ctx, dtype=torch.bool)))
        for name, p in self.named_parameters():  # GPT-2 init
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif "ln_" in name:
                nn.init.ones_(p)
            else:
                std = 0.02 / math.sqrt(2 * layers) if ("c_proj" in name or "mlp_proj" in name) else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.h:
            x = b(x, self.causal)
        return self.ln_f(x) @ self.wte.weight.T  # (B, T, vocab)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--context", type=int, default=64)
    ap.add_argument("--vocab", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--mlp", choices=["on", "off"], default="off")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--warmup-steps", type=int, default=20, help="untimed steps first")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sdpa", action="store_true", help="F.scaled_dot_product_attention instead of the written-out softmax")
    a = ap.parse_args()

    if a.sdpa and not hasattr(F, "scaled_dot_product_attention"):  # PyTorch < 2.0 (Debian 12 ships 1.13)
        print(json.dumps({"framework": "pytorch " + torch.__version__, "attention": "sdpa", "unavailable": True}))
        return
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    half = a.context // 2
    model = GPT(a.vocab, a.context, a.d_model, a.layers, a.heads, a.mlp == "on", a.sdpa)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)

    def step():
        r = torch.randint(0, a.vocab, (a.batch, half))
        seq = torch.cat([r, r], dim=1)
        logits = model(seq[:, :-1])
        loss = F.cross_entropy(logits[:, half:].reshape(-1, a.vocab), seq[:, half + 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    for _ in range(a.warmup_steps):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    dt = time.perf_counter() - t0
    print(json.dumps({"framework": "pytorch " + torch.__version__, "attention": "sdpa" if a.sdpa else "written out",
                      "threads": torch.get_num_threads(), "steps": a.steps, "steps_per_s": round(a.steps / dt, 2),
                      "final_loss": round(loss, 4)}))


if __name__ == "__main__":
    main()
