#!/usr/bin/env python3
"""Writes the hand-designed lecture scenes in assets/scenes/.

Random weights show nothing, so each lecture scene's embeddings and weights are designed by hand
here, with the reasoning next to the numbers. Run it after changing a design:
    python3 scripts/make_scenes.py
"""
import json
import math
import os
import random
import re

OUT = os.path.join(os.path.dirname(__file__), "..", "assets", "scenes")


def zeros(r, c):
    return [[0.0] * c for _ in range(r)]


def write(name, scene):
    path = os.path.join(OUT, name)
    text = json.dumps(scene, indent=1, ensure_ascii=False)
    # One matrix row (or list of numbers / short strings) per line, so files stay readable.
    text = re.sub(r"\[\s*([^\[\]{}]*?)\s*\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",\n")) + "]"
                  if "\n" in m.group(1) else m.group(0), text)
    assert json.loads(text) == scene, name  # the compaction changed nothing but whitespace
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    print("wrote", os.path.relpath(path))


def adjectives_update_nouns():
    # d_model = 12. Dimensions a lecturer can name:
    #   0 noun  1 adjective  2 determiner  3 verb  4 fluffy  5 blue  6 green  7 creature
    #   8, 9  slow position (cos, sin of p·π/8)   10, 11 fast position (cos, sin of p·π/3)
    words = ["a", "fluffy", "blue", "creature", "roamed", "the", "verdant", "forest"]
    meaning = {
        "a": {2: 1}, "the": {2: 1}, "fluffy": {1: 1, 4: 1}, "blue": {1: 1, 5: 1},
        "verdant": {1: 1, 6: 1}, "creature": {0: 1, 7: 1}, "forest": {0: 1}, "roamed": {3: 1},
    }
    d = 12
    E = []
    for p, w in enumerate(words):
        e = [0.0] * d
        for k, v in meaning[w].items():
            e[k] = float(v)
        e[8], e[9] = math.cos(p * math.pi / 8), math.sin(p * math.pi / 8)
        e[10], e[11] = math.cos(p * math.pi / 3), math.sin(p * math.pi / 3)
        E.append([round(x, 6) for x in e])

    # Head 0, "any adjectives before me?" (d_head = 3):
    #   q = [√12·noun, √5·cos, √5·sin], k = [√12·adjective, √5·cos, √5·sin]
    #   q_i·k_j = 12·noun_i·adj_j + 5·cos((i−j)π/8): nouns look at adjectives, the nearest most.
    h0 = {m: zeros(d, 3) for m in ("W_Q", "W_K", "W_V")}
    h0["W_Q"][0][0] = math.sqrt(12)
    h0["W_K"][1][0] = math.sqrt(12)
    for m in ("W_Q", "W_K"):
        h0[m][8][1] = math.sqrt(5)
        h0[m][9][2] = math.sqrt(5)
    # Values carry what an adjective says: fluffy, blue, green.
    h0["W_V"][4][0] = 1.0
    h0["W_V"][5][1] = 1.0
    h0["W_V"][6][2] = 1.0

    # Head 1, "previous token" (d_head = 3): k_j is position j+1's fast direction, so
    # q_i·k_j = 12·cos((i−j−1)π/3), largest at j = i−1.
    h1 = {m: zeros(d, 3) for m in ("W_Q", "W_K", "W_V")}
    c, s = math.cos(math.pi / 3), math.sin(math.pi / 3)
    r = math.sqrt(12)
    h1["W_Q"][10][0] = r
    h1["W_Q"][11][1] = r
    # [cos a, sin a]·R = [cos(a+π/3), sin(a+π/3)] with R = [[c, s], [−s, c]]
    h1["W_K"][10][0], h1["W_K"][10][1] = r * c, r * s
    h1["W_K"][11][0], h1["W_K"][11][1] = -r * s, r * c
    # Values: the previous word's part of speech (noun, adjective, determiner).
    h1["W_V"][0][0] = 1.0
    h1["W_V"][1][1] = 1.0
    h1["W_V"][2][2] = 1.0

    # W_O (6 × 12): head 0 writes fluffy/blue/green back into dims 4, 5, 6;
    # head 1 writes a faint "follows a noun/adjective/determiner" into dims 0, 1, 2.
    W_O = zeros(6, d)
    W_O[0][4] = W_O[1][5] = W_O[2][6] = 1.0
    W_O[3][0] = W_O[4][1] = W_O[5][2] = 0.25

    rnd = lambda m: [[round(x, 6) for x in row] for row in m]
    write("01_adjectives_update_nouns.json", {
        "attnviz_scene": 1,
        "title": "Adjectives update nouns",
        "description": (
            "Each noun asks \"any adjectives before me?\": in head 0 the query of a noun matches the "
            "keys of adjectives, nearest first, so 'creature' attends to 'fluffy' and 'blue', and "
            "'forest' to 'verdant'. The values carry what the adjective means; W_O writes it back "
            "into the noun, so E' of 'creature' moves towards 'fluffy blue creature'. Head 1 "
            "attends to the previous token. Dimensions: 0 noun, 1 adjective, 2 determiner, 3 verb, "
            "4 fluffy, 5 blue, 6 green, 7 creature, 8-11 position."),
        "tokens": words,
        "d_model": d, "n_heads": 2, "d_head": 3,
        "mask": "causal", "scale": True, "positional": "none", "seed": 1,
        "embeddings": E,
        "heads": [{k: rnd(v) for k, v in h0.items()}, {k: rnd(v) for k, v in h1.items()}],
        "W_O": W_O,
        "view": {"head": 0, "query": 3, "stage": "pattern", "shift_dims": [4, 5]},
    })


# ---------------------------------------------------------------------------------------------
# Small helpers for the scenes below (no numpy on purpose: the script runs anywhere).
# ---------------------------------------------------------------------------------------------
def rnd(m):
    return [[round(x, 6) for x in row] for row in m]


def one_hot_rows(words, meaning, d):
    """Embeddings (n, d) from a {word: {dim: value}} table."""
    E = []
    for w in words:
        e = [0.0] * d
        for k, v in meaning[w].items():
            e[k] = float(v)
        E.append(e)
    return E


def softmax(xs):
    mx = max(xs)
    ex = [math.exp(x - mx) for x in xs]
    s = sum(ex)
    return [x / s for x in ex]


def scene(title, description, tokens, d_model, n_heads, d_head, **rest):
    out = {"attnviz_scene": 1, "title": title, "description": description, "tokens": tokens,
           "d_model": d_model, "n_heads": n_heads, "d_head": d_head}
    out.update(rest)
    return out


# ---------------------------------------------------------------------------------------------
# 02 — context changes meaning
# ---------------------------------------------------------------------------------------------
def context_changes_meaning():
    # d_model = 7: 0 noun, 1 modifier, 2 Paris, 3 water, 4 tower, 5 function word, 6 constant 1.
    # The three 'tower' tokens have exactly the same embedding (no positional encoding).
    words = ["<s>", "Eiffel", "tower", "and", "water", "tower", "and", "a", "tower"]
    meaning = {"<s>": {5: 1}, "Eiffel": {1: 1, 2: 1}, "water": {1: 1, 3: 1}, "tower": {0: 1, 4: 1},
               "and": {5: 1}, "a": {5: 1}}
    d = 7
    E = one_hot_rows(words, meaning, d)
    for e in E:
        e[6] = 1.0
    # One head, d_head = 2. Column 0: q = 3·noun, k = 3·modifier: a noun's query meets a
    # modifier's key with score 9 (logit 9/sqrt 2 = 6.4) and every other key with 0.
    # Column 1: q = 3·(1 − noun), k = 3·function word: the other words look at a function word
    # (whose value is empty), so only the nouns move. A window of 2 (each word sees itself and
    # the word before it) keeps the example local.
    h = {m: zeros(d, 2) for m in ("W_Q", "W_K", "W_V")}
    h["W_Q"][0][0] = 3.0
    h["W_K"][1][0] = 3.0
    h["W_Q"][6][1], h["W_Q"][0][1] = 3.0, -3.0
    h["W_K"][5][1] = 3.0
    # Values: what a modifier says (Paris, water); W_O writes it back into those dimensions.
    h["W_V"][2][0] = 1.0
    h["W_V"][3][1] = 1.0
    W_O = zeros(2, d)
    W_O[0][2] = 1.0
    W_O[1][3] = 1.0
    write("02_context_changes_meaning.json", scene(
        "Context changes meaning",
        "The three 'tower' tokens start with exactly the same embedding. Attention moves each one "
        "according to its neighbour: after 'Eiffel' it moves along the Paris dimension, after "
        "'water' along the water dimension, and after 'a' it stays where it was. Same token, three "
        "different places in E'. (Each word sees itself and the word before it: a window of 2.) "
        "Dimensions: 0 noun, 1 modifier, 2 Paris, 3 water, 4 tower, 5 function word, 6 constant.",
        words, d, 1, 2, mask={"type": "sliding_window", "width": 2}, scale=True, positional="none",
        seed=2, embeddings=E, heads=[h], W_O=W_O,
        view={"head": 0, "stage": "pattern", "query": 2, "shift_dims": [2, 3],
              "highlight_tokens": [2, 5, 8]}))


# ---------------------------------------------------------------------------------------------
# 03 — why positions are needed
# ---------------------------------------------------------------------------------------------
def why_positions():
    # d_model = 8: 0 noun, 1 verb, 2 determiner, 3 dog, 4 man, 5 bite, 6-7 spare.
    words = ["the", "dog", "bit", "the", "man"]
    meaning = {"the": {2: 1}, "dog": {0: 1, 3: 1}, "bit": {1: 1, 5: 1}, "man": {0: 1, 4: 1}}
    d = 8
    E = one_hot_rows(words, meaning, d)
    # One head, d_head = 2: the verb and the determiners look for nouns.
    #   q(verb) = [2, 0], q(det) = [0, 2], k(noun) = [2, 2]  -> score 4 for verb/det -> noun.
    h = {m: zeros(d, 2) for m in ("W_Q", "W_K", "W_V")}
    h["W_Q"][1][0] = 2.0
    h["W_Q"][2][1] = 2.0
    h["W_K"][0][0] = 2.0
    h["W_K"][0][1] = 2.0
    # Values: which noun it is (dog, man), written back at half strength.
    h["W_V"][3][0] = 1.0
    h["W_V"][4][1] = 1.0
    W_O = zeros(2, d)
    W_O[0][3] = 0.5
    W_O[1][4] = 0.5
    write("03_why_positions.json", scene(
        "Why positions are needed",
        "Without positional encoding attention only sees a bag of tokens: 'the dog bit the man' "
        "and 'the man bit the dog' give 'bit' exactly the same update, and shuffling the tokens "
        "only shuffles the rows of the output (compare the two orders). Turn positional encoding "
        "on and the outputs depend on the order. (No causal mask here: a mask would itself leak "
        "the order, see scene 4.) Dimensions: 0 noun, 1 verb, 2 determiner, 3 dog, 4 man, 5 bite.",
        words, d, 1, 2, mask="none", scale=True, positional="none", seed=3, embeddings=E, heads=[h],
        W_O=W_O,
        view={"compare": "permuted", "permutation": [0, 4, 2, 3, 1], "positional_presets": ["none", "sinusoidal"],
              "head": 0, "stage": "pattern", "query": 2}))


# ---------------------------------------------------------------------------------------------
# 04 — masking and next-token training
# ---------------------------------------------------------------------------------------------
def masking():
    # d_model = 8: 0 noun, 1 verb, 2 determiner, 3 preposition, 4-5 position (cos, sin of p·π/3),
    # 6-7 what attention wrote ("after a noun/verb", "det/prep so far").
    words = ["the", "cat", "sat", "on", "the", "mat"]
    pos = {"the": 2, "cat": 0, "sat": 1, "on": 3, "mat": 0}
    d = 8
    E = []
    for p, w in enumerate(words):
        e = [0.0] * d
        e[pos[w]] = 1.0
        e[4], e[5] = math.cos(p * math.pi / 3), math.sin(p * math.pi / 3)
        E.append(e)
    # Head 0, previous token (d_head = 2): q_i·k_j = 12·cos((i−j−1)π/3), largest at j = i−1.
    r = math.sqrt(12)
    c, s = math.cos(math.pi / 3), math.sin(math.pi / 3)
    h0 = {m: zeros(d, 2) for m in ("W_Q", "W_K", "W_V")}
    h0["W_Q"][4][0] = r
    h0["W_Q"][5][1] = r
    h0["W_K"][4][0], h0["W_K"][4][1] = r * c, r * s
    h0["W_K"][5][0], h0["W_K"][5][1] = -r * s, r * c
    h0["W_V"][0][0] = 1.0  # the previous word was a noun
    h0["W_V"][1][1] = 1.0  # ... a verb
    # Head 1, average of the prefix: W_Q = 0, so every allowed key gets the same score and row i
    # of the pattern is 1/(i+1) on keys 0..i: exactly what the causal mask lets it see.
    h1 = {m: zeros(d, 2) for m in ("W_Q", "W_K", "W_V")}
    h1["W_K"][2][0] = 1.0
    h1["W_V"][2][0] = 1.0  # share of determiners so far
    h1["W_V"][3][1] = 1.0  # share of prepositions so far
    W_O = zeros(4, d)
    W_O[0][6] = W_O[1][7] = 0.5
    W_O[2][6] = W_O[3][7] = 0.5
    write("04_masking_next_token.json", scene(
        "Masking and next-token training",
        "A language model is trained to predict the next token at every position at once: row i "
        "of the pattern is the prefix 'tokens 0..i' predicting token i+1. So no token may look at "
        "a later one (that would give the answer away): the causal mask sets every cell above the "
        "diagonal to zero before the softmax. Change a later token and the earlier rows do not "
        "move. Head 0 looks at the previous token; head 1 spreads evenly over the prefix "
        "(1, 1/2, 1/3, ...). Compare with the unmasked pattern.",
        words, d, 2, 2, mask="causal", scale=True, positional="none", seed=4, embeddings=rnd(E),
        heads=[{k: rnd(v) for k, v in h0.items()}, {k: rnd(v) for k, v in h1.items()}], W_O=W_O,
        view={"compare": "unmasked", "head": 0, "stage": "pattern", "query": 5}))


# ---------------------------------------------------------------------------------------------
# 05 — scaling by sqrt(d_k), temperature
# ---------------------------------------------------------------------------------------------
def scaling_check(E, dk, scaled, temperature=1.0):
    """Mean over queries of the largest weight, q = E[:, :dk], k = E[:, 64:64+dk]."""
    f = (1 / math.sqrt(dk) if scaled else 1.0) / temperature
    total = 0.0
    for qi in E:
        logits = [f * sum(qi[c] * kj[64 + c] for c in range(dk)) for kj in E]
        total += max(softmax(logits))
    return total / len(E)


def scaling():
    # Queries and keys with random N(0, 1) entries, as the paper assumes: q·k is a sum of d_k
    # terms of variance 1, so its spread grows like sqrt(d_k). d_model = 128: dims 0-63 feed the
    # queries, dims 64-127 the keys (W_Q = [I; 0], W_K = [0; I]), so q and k are independent.
    # Shrinking d_head keeps the first columns, so d_k = 4, 16, 64 use prefixes of the same vectors.
    words = ["why", "does", "the", "paper", "divide", "by", "root", "dk"]
    d, dk = 128, 64
    rng = random.Random(5)
    E = [[round(rng.gauss(0, 1), 3) for _ in range(d)] for _ in words]
    # The point, checked on these very numbers: unscaled, the largest weight climbs towards 1 as
    # d_k grows; scaled, it stays about where it was.
    un = [scaling_check(E, k, False) for k in (4, 16, 64)]
    sc = [scaling_check(E, k, True) for k in (4, 16, 64)]
    assert un[0] < un[1] < un[2] and un[2] > 0.9, un
    assert max(sc) - min(sc) < 0.2 and sc[2] < un[2] - 0.2, sc
    W_Q, W_K = zeros(d, dk), zeros(d, dk)
    for c in range(dk):
        W_Q[c][c] = 1.0
        W_K[64 + c][c] = 1.0
    write("05_scaling_sqrt_dk.json", scene(
        "Scaling by the square root of d_k",
        "With random query and key entries of size about 1, a dot product over d_k dimensions "
        "spreads like sqrt(d_k). Without scaling, growing d_k pushes the softmax to one-hot: each "
        "row puts almost all its weight on one key and the gradients vanish. Dividing by sqrt(d_k) "
        "keeps the logits in the same range at every d_k; that is why the paper scales. The "
        "temperature divides the logits too: low temperature sharpens, high temperature flattens. "
        "Try d_k = 4, 16, 64 with scaling off and on.",
        words, d, 1, dk, mask="none", scale=True, temperature=1.0, positional="none", seed=5,
        embeddings=E, heads=[{"W_Q": W_Q, "W_K": W_K}],
        view={"compare": "scale", "d_head_presets": [4, 16, 64], "temperature_presets": [4, 1, 0.25],
              "head": 0, "stage": "pattern",
              "checked": {"mean_max_weight_unscaled": [round(x, 4) for x in un],
                          "mean_max_weight_scaled": [round(x, 4) for x in sc]}}))


# ---------------------------------------------------------------------------------------------
# 06 — multi-head
# ---------------------------------------------------------------------------------------------
def multi_head():
    # d_model = 16: 0 noun, 1 adjective, 2 determiner, 3 verb, 4 old, 5 grey, 6 brave, 7 wizard,
    # 8 knight, 9 start of text, 10-11 slow position (p·π/8), 12-13 fast position (p·π/5),
    # 14 constant 1, 15 "has seen the start" (written by head 1).
    words = ["<s>", "the", "old", "grey", "wizard", "met", "a", "brave", "knight"]
    meaning = {"<s>": {9: 1}, "the": {2: 1}, "a": {2: 1}, "old": {1: 1, 4: 1}, "grey": {1: 1, 5: 1},
               "brave": {1: 1, 6: 1}, "wizard": {0: 1, 7: 1}, "knight": {0: 1, 8: 1}, "met": {3: 1}}
    d, dh = 16, 3
    E = one_hot_rows(words, meaning, d)
    for p, e in enumerate(E):
        e[10], e[11] = math.cos(p * math.pi / 8), math.sin(p * math.pi / 8)
        e[12], e[13] = math.cos(p * math.pi / 5), math.sin(p * math.pi / 5)
        e[14] = 1.0
    # Head 0, previous token: q_i·k_j = 30·cos((i−j−1)π/5), largest at j = i−1.
    r = math.sqrt(30)
    c, s = math.cos(math.pi / 5), math.sin(math.pi / 5)
    h0 = {m: zeros(d, dh) for m in ("W_Q", "W_K", "W_V")}
    h0["W_Q"][12][0] = r
    h0["W_Q"][13][1] = r
    h0["W_K"][12][0], h0["W_K"][12][1] = r * c, r * s
    h0["W_K"][13][0], h0["W_K"][13][1] = -r * s, r * c
    for k in range(3):  # values: the previous word's part of speech (noun, adjective, determiner)
        h0["W_V"][k][k] = 1.0
    # Head 1, first token: every query is 4·(constant), only '<s>' has a key (4·start): score 16.
    h1 = {m: zeros(d, dh) for m in ("W_Q", "W_K", "W_V")}
    h1["W_Q"][14][0] = 4.0
    h1["W_K"][9][0] = 4.0
    h1["W_V"][9][0] = 1.0  # value: "this is the start"
    # Head 2, adjectives -> noun: q_i·k_j = 12·noun_i·adj_j + 5·cos((i−j)π/8) (as in scene 1).
    h2 = {m: zeros(d, dh) for m in ("W_Q", "W_K", "W_V")}
    h2["W_Q"][0][0] = h2["W_K"][1][0] = math.sqrt(12)
    for m in ("W_Q", "W_K"):
        h2[m][10][1] = h2[m][11][2] = math.sqrt(5)
    h2["W_V"][4][0] = h2["W_V"][5][1] = h2["W_V"][6][2] = 1.0  # old, grey, brave
    # W_O (9 × 16): head 0 writes 0.25·part of speech into dims 0-2, head 1 writes dim 15,
    # head 2 writes old/grey/brave into dims 4-6.
    W_O = zeros(3 * dh, d)
    W_O[0][0] = W_O[1][1] = W_O[2][2] = 0.25
    W_O[3][15] = 1.0
    W_O[6][4] = W_O[7][5] = W_O[8][6] = 1.0
    write("06_multi_head.json", scene(
        "Multi-head attention",
        "Three heads run side by side on the same tokens and each finds a different pattern: "
        "head 0 looks at the previous token, head 1 at the first token ('<s>'), head 2 lets each "
        "noun gather its adjectives (wizard <- old, grey; knight <- brave). Each head proposes its "
        "own change, and they add up: E' = E + ΔE_0 + ΔE_1 + ΔE_2. The original Transformer used "
        "h = 8 heads of d_k = 64 in d_model = 512 (scene 06b). Dimensions: 0 noun, 1 adjective, "
        "2 determiner, 3 verb, 4 old, 5 grey, 6 brave, 7 wizard, 8 knight, 9 start, 10-13 position, "
        "14 constant, 15 has seen the start.",
        words, d, 3, dh, mask="causal", scale=True, positional="none", seed=6, embeddings=rnd(E),
        heads=[{k: rnd(v) for k, v in h.items()} for h in (h0, h1, h2)], W_O=W_O,
        view={"compare": "heads", "head": 2, "stage": "pattern", "query": 4,
              "head_names": ["previous token", "first token", "adjectives -> noun"],
              "presets": [{"name": "Attention Is All You Need", "scene": "06b_original_paper_h8.json",
                           "n_heads": 8, "d_model": 512, "d_head": 64}]}))
    write("06b_original_paper_h8.json", scene(
        "Multi-head: the original paper's sizes",
        "The configuration of 'Attention Is All You Need': h = 8 heads, d_model = 512, "
        "d_k = d_v = d_model / h = 64. Eight heads of 64 cost about the same as one head of 512; the "
        "weights here are random (drawn from the seed), so look at the sizes and the parameter "
        "counts: W_Q, W_K, W_V each 512 x 64 per head, W_O 512 x 512, 4 x 512^2 = 1,048,576 in all.",
        ["the", "animal", "did", "not", "cross", "the", "street", "because", "it", "was", "too", "tired"],
        512, 8, 64, mask="none", scale=True, positional="sinusoidal", seed=68,
        view={"head": 0, "stage": "pattern", "compare": "heads"}))


# ---------------------------------------------------------------------------------------------
# 07 — cross-attention
# ---------------------------------------------------------------------------------------------
def cross_attention():
    # d_model = 8: 0-2 meaning (DET, BLACK, CAT) shared by both languages, 3 English, 4 French,
    # 5-7 the French surface word ('le', 'chat', 'noir').
    d = 8
    en = ["the", "black", "cat"]
    fr = ["le", "chat", "noir"]
    E_en = one_hot_rows(en, {"the": {0: 1, 3: 1}, "black": {1: 1, 3: 1}, "cat": {2: 1, 3: 1}}, d)
    E_fr = one_hot_rows(fr, {"le": {0: 1, 4: 1, 5: 1}, "chat": {2: 1, 4: 1, 6: 1},
                             "noir": {1: 1, 4: 1, 7: 1}}, d)
    # One head, d_head = 3: q = 3·meaning (English), k = 3·meaning (French): score 9 for the
    # translation, 0 otherwise (logit 5.2 after /sqrt 3, weight 0.989).
    h = {m: zeros(d, 3) for m in ("W_Q", "W_K", "W_V")}
    for k in range(3):
        h["W_Q"][k][k] = 3.0
        h["W_K"][k][k] = 3.0
        h["W_V"][5 + k][k] = 1.0  # the value is which French word it is
    W_O = zeros(3, d)
    for k in range(3):
        W_O[k][5 + k] = 1.0
    write("07_cross_attention.json", scene(
        "Cross-attention: translation",
        "The queries come from one sequence (English) and the keys and values from another "
        "(French). Each English word finds its translation: 'the' -> 'le', 'black' -> 'noir', "
        "'cat' -> 'chat'. French puts the adjective after the noun, so the pattern's bright cells "
        "cross: black looks at the last French word, cat at the middle one. The values carry the "
        "French word, which W_O writes into the English token. Dimensions: 0-2 meaning (article, "
        "black, cat), 3 English, 4 French, 5-7 the French words le, chat, noir.",
        en, d, 1, 3, mask="none", scale=True, positional="none", seed=7, embeddings=E_en,
        source={"tokens": fr, "embeddings": E_fr}, heads=[h], W_O=W_O,
        view={"head": 0, "stage": "pattern", "query": 1}))


# ---------------------------------------------------------------------------------------------
# 08 — sparse patterns
# ---------------------------------------------------------------------------------------------
SPARSE_MASKS = [
    ("08a_sparse_sliding_window.json", "sliding window", {"type": "sliding_window", "width": 4}),
    ("08b_sparse_strided.json", "strided", {"type": "strided", "stride": 4}),
    ("08c_sparse_fixed.json", "fixed", {"type": "fixed", "block": 4}),
]


def sparse_patterns():
    words = ("attention is quadratic in time and memory so long texts use sparse patterns to save "
             "work").split()
    assert len(words) == 16
    d, dh = 8, 4
    # W_Q = 0: every allowed key gets the same score, so each row spreads evenly over exactly the
    # keys its mask allows and the heatmap shows the mask's shape (row i: 1 / number allowed).
    heads = [{"W_Q": zeros(d, dh)}]
    what = {
        "sliding window": "each token sees the last 4 tokens (itself included)",
        "strided": "each token sees the last 4 tokens and every 4th token before them",
        "fixed": "each token sees its own block of 4 and the last token of every earlier block",
    }
    for name, label, mask in SPARSE_MASKS:
        write(name, scene(
            "Sparse attention: " + label,
            "Full attention computes a score for every pair of tokens: n^2 scores (256 here, "
            "about a million at n = 1024), so time and memory grow quadratically with the text. "
            "Sparse patterns compute only some of them. " + what[label][0].upper() + what[label][1:] +
            ". Compare the number of computed scores with n^2 (sliding window 58, strided 82, "
            "fixed 64, causal 136, full 256 for these 16 tokens).",
            words, d, 1, dh, mask=mask, scale=True, positional="none", seed=8, heads=heads,
            view={"compare": "masks", "head": 0, "stage": "pattern",
                  "masks": [m for _, _, m in SPARSE_MASKS] + ["causal", "none"],
                  "scenes": [n for n, _, _ in SPARSE_MASKS]}))


# ---------------------------------------------------------------------------------------------
# 09 — the value map as a low-rank product
# ---------------------------------------------------------------------------------------------
def value_low_rank():
    # d_model = 8: 0 noun, 1 adjective, 2 determiner, 3 red, 4 big, 5 dog, 6 cartoon, 7 constant.
    words = ["a", "big", "red", "dog"]
    meaning = {"a": {2: 1, 7: 1}, "big": {1: 1, 4: 1, 7: 1}, "red": {1: 1, 3: 1, 7: 1},
               "dog": {0: 1, 5: 1, 7: 1}}
    d = 8
    E = one_hot_rows(words, meaning, d)
    # The dog (noun) looks at the adjectives: q = 3·noun, k = 3·adjective (column 0). The other
    # words look at the determiner, whose value is empty: q = 3·(1 − noun), k = 3·determiner.
    h = {m: zeros(d, 2) for m in ("W_Q", "W_K", "W_V")}
    h["W_Q"][0][0] = 3.0
    h["W_K"][1][0] = 3.0
    h["W_Q"][7][1], h["W_Q"][0][1] = 3.0, -3.0
    h["W_K"][2][1] = 3.0
    # Value-down W_V (8 x 2): reads 'red' and 'big'.
    h["W_V"][3][0] = 1.0
    h["W_V"][4][1] = 1.0
    # Value-up, the head's slice of W_O (2 x 8): red -> red + half cartoon, big -> big + half
    # cartoon. Their product W_V·W_O is an 8 x 8 map of rank 2: "big red" -> towards Clifford.
    W_O = zeros(2, d)
    W_O[0][3], W_O[0][6] = 1.0, 0.5
    W_O[1][4], W_O[1][6] = 1.0, 0.5
    write("09_value_low_rank.json", scene(
        "The value map is low rank",
        "What a head adds is pattern x X x W_V x W_O_h. The value map W_V x W_O_h takes an "
        "embedding (d_model) to a change of embedding (d_model), but it is the product of a "
        "value-down map (d_model x d_k) and a value-up map (d_k x d_model): rank at most d_k. "
        "Here an 8 x 8 map of rank 2 sends 'big red' towards a big red cartoon dog. In GPT-3, "
        "d_model = 12288 and d_k = 128: a full 12288 x 12288 map would have 150,994,944 "
        "parameters; value-down plus value-up have 2 x 1,572,864. Dimensions: 0 noun, "
        "1 adjective, 2 determiner, 3 red, 4 big, 5 dog, 6 cartoon, 7 constant.",
        words, d, 1, 2, mask="causal", scale=True, positional="none", seed=9, embeddings=E, heads=[h],
        W_O=W_O,
        view={"head": 0, "stage": "pattern", "query": 3, "shift_dims": [3, 6],
              "param_presets": [{"name": "this scene"},
                                {"name": "GPT-3", "d_model": 12288, "d_head": 128, "n_heads": 96},
                                {"name": "Attention Is All You Need", "d_model": 512, "d_head": 64,
                                 "n_heads": 8}]}))


# ---------------------------------------------------------------------------------------------
# 10 — an induction head, trained here (the model: assets/models/induction, scripts/make_checkpoint.sh)
# ---------------------------------------------------------------------------------------------
# The tokens of the shipped model's vocabulary (attnviz train --task induction --vocab 64: one
# character per token, core/train_tasks.cpp's alphabet).
INDUCTION_VOCAB = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#"


# Checked on the shipped model with scripts/check_induction.py (its pattern on these tokens).
INDUCTION_DESCRIPTION = (
    "This model was trained on this computer by attnviz itself (scripts/make_checkpoint.sh: attnviz "
    "train --task induction, 4000 steps, lr 1e-3, warm-up 100, seed 0): two layers of four attention-only "
    "heads, d_model 64, shown sequences of random tokens in which a segment of 2 to 32 tokens is repeated "
    "right after itself at a random place. The repeat distance changes from sequence to sequence, so the "
    "model cannot just look a fixed number of positions back. The text here has that shape: 7 random "
    "tokens, a segment of 20 (q V u H ...), the same 20 again. Open the model's heads. Layer 0, head 2 is a "
    "PREVIOUS-TOKEN head: every query attends to the token just before it (previous-token score 0.89 on "
    "this text; head 0 does it half the time). Layer 1: all four heads are INDUCTION heads: on the second "
    "copy, each query attends to the token that FOLLOWED its earlier occurrence (the second 'V', position "
    "28, attends to 'u' at position 9; induction scores 0.94 to 0.97). Layer 1 can find that token only "
    "because layer 0's previous-token head wrote 'the token before me was V' into position 9: two heads in "
    "two layers form one circuit. On the first copy there is nothing to look back at. The model predicts "
    "9 in 10 or more of the tokens of a repeat of any length from 8 to 30 tokens. While it trained, the "
    "loss sat on a plateau near 3.7 for about 1300 steps, then fell to 1.5 by step 1650 as the layer-1 "
    "stripe appeared (train_log.jsonl next to the model); the Train workspace shows such a run live."
)


def induction_head_trained():
    # The shape of the trainer's probe (core/train_tasks.cpp): 7 random tokens, a segment of 20, the
    # segment again — 47 distinct tokens but for the copy. The repeat distance (20) is one of many
    # the model saw: training repeats are 2 … 32 tokens long and start anywhere.
    first = random.Random(10).sample(INDUCTION_VOCAB, 27)
    tokens = first + first[7:27]
    write("10_induction_head_trained.json", scene(
        "An induction head, trained here",
        INDUCTION_DESCRIPTION,
        tokens, 16, 2, 8, mask="causal", scale=True, positional="learned", seed=10,
        model="../models/induction"))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    adjectives_update_nouns()
    context_changes_meaning()
    why_positions()
    masking()
    scaling()
    multi_head()
    cross_attention()
    sparse_patterns()
    value_low_rank()
    induction_head_trained()
