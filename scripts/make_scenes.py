#!/usr/bin/env python3
"""Writes the hand-designed lecture scenes in assets/scenes/.

Random weights show nothing, so each lecture scene's embeddings and weights are designed by hand
here, with the reasoning next to the numbers. Run it after changing a design:
    python3 scripts/make_scenes.py
"""
import json
import math
import os

OUT = os.path.join(os.path.dirname(__file__), "..", "assets", "scenes")


def zeros(r, c):
    return [[0.0] * c for _ in range(r)]


def write(name, scene):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(scene, f, indent=1, ensure_ascii=False)
        f.write("\n")
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
    })


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    adjectives_update_nouns()
