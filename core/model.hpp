// attnviz core — a GPT-2-style multi-layer transformer: its configuration and weights.
//
// Row-vector convention, float32, as in the rest of core (y = x·W + b; a row is a token):
//
//   x_0 = wte[id_i] + wpe[i]                                   (n, d_model)
//   per layer l (pre-LayerNorm block):
//     a   = LN(x_l; ln1_g, ln1_b)                              (n, d_model)
//     qkv = a·W_qkv + b_qkv                                    (n, 3·d_model)  columns Q | K | V,
//           head h owns columns [h·d_head, (h+1)·d_head) of each third
//     per head: causal softmax(Q_h·K_hᵀ / √d_head)·V_h          (n, d_head)
//     attn = concat_h(mixed_h)·W_o + b_o                       (n, d_model)
//     x'  = x_l + attn
//     m   = GELU_tanh(LN(x'; ln2_g, ln2_b)·W_fc + b_fc)·W_proj + b_proj   (skipped when !cfg.mlp)
//     x_{l+1} = x' + m
//   logits = LN(x_L; lnf_g, lnf_b)·wteᵀ                         (n, vocab)  (tied unembedding)
//
// Hugging Face GPT-2 stores Conv1D weights in × out, exactly the layout above, so a checkpoint's
// c_attn.weight is W_qkv as it is. A hand-made scene is the one-layer case without LayerNorm and
// MLP (engine.hpp); this file is the trained-model case.
#pragma once

#include <string>
#include <vector>

#include "types.hpp"

namespace attnviz {

struct ModelConfig {
    int vocab_size = 50257;
    int n_ctx = 1024;        // learned positions (rows of wpe)
    int d_model = 768;
    int n_layers = 12;
    int n_heads = 12;
    bool mlp = true;         // false: attention-only blocks (no ln_2 / MLP)
    float ln_eps = 1e-5f;
    int d_head() const { return d_model / n_heads; }
    int d_mlp() const { return 4 * d_model; }
};

struct LayerWeights {
    RowVec ln1_g, ln1_b;     // (d_model)
    Mat W_qkv;               // (d_model, 3·d_model)
    RowVec b_qkv;            // (3·d_model)
    Mat W_o;                 // (d_model, d_model)   rows h·d_head … belong to head h
    RowVec b_o;              // (d_model)
    RowVec ln2_g, ln2_b;     // (d_model)             empty when !cfg.mlp
    Mat W_fc;                // (d_model, 4·d_model)  empty when !cfg.mlp
    RowVec b_fc;             // (4·d_model)
    Mat W_proj;              // (4·d_model, d_model)
    RowVec b_proj;           // (d_model)
};

struct Model {
    ModelConfig cfg;
    Mat wte;                 // (vocab_size, d_model)  token embeddings, also the unembedding
    Mat wpe;                 // (n_ctx, d_model)       learned positions
    std::vector<LayerWeights> layers;
    RowVec lnf_g, lnf_b;     // (d_model)
};

}  // namespace attnviz
