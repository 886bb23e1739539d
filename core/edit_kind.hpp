// attnviz core — what an edit changed, so that the front end can update instead of recomputing.
//
//   SceneChange c = classify_change(before, after);
//   None         nothing the forward pass depends on differs (title, description, view, the
//                given/drawn flags and the raw text's spacing may differ)  → keep everything
//   Token t      only input token t differs (its text and/or its embedding row), every size and
//                setting identical  → update_token(after, f, t) / PatternTiles::update_token
//   HeadWeights h  only W_Q/W_K/W_V of head h differ  → recompute_head / PatternTiles::update_head
//   Output       only W_O differs  → update_output(after, f) / PatternTiles::update_output
//   Other        anything else (sizes, mask, scaling, temperature, positional encoding, the
//                source of cross-attention, two tokens, a token and a weight, two heads, …)
//                → a full forward / PatternTiles::build
//
// Cost: sizes and settings first (O(1); an explicit mask O(n·m) bytes), then the token texts
// (O(n) short strings), the weights (memcmp, O(H·d_model·d_head)) and the embedding rows — those
// only where a row may differ while its text does not: when the embeddings were given (or
// edited) on either side, or the seed changed. Drawn embeddings are a function of (text, seed,
// d_model), so with both sides drawn from the same seed a row differs only where its text does
// (code that writes embedding rows directly must keep that or set embeddings_given).
#pragma once

#include "scene.hpp"

namespace attnviz {

struct SceneChange {
    enum class Kind { None, Token, HeadWeights, Output, Other };
    Kind kind = Kind::Other;
    int index = -1;  // the token (Token) or the head (HeadWeights); −1 otherwise
};

SceneChange classify_change(const Scene& before, const Scene& after);

const char* change_kind_name(SceneChange::Kind k);  // "none", "token", "head_weights", "output", "other"

}  // namespace attnviz
