// attnviz core — the forward pass of the GPT-2-style model of model.hpp, keeping what the views need.
//
//   x_0 = wte[ids] + wpe[0..n)                                         (n, d)
//   per layer l:  a = LN_1(x_l);  qkv = a·W_qkv + b_qkv                 (n, 3d)  Q | K | V, biases in
//     per head h: scores_h = Q_h·K_hᵀ (raw)  → · 1/√d_head → mask → softmax = pattern_h   (n, n)
//                 mixed_h  = pattern_h·V_h                              (n, d_head)  (0 when ablated)
//                 ΔE_h     = mixed_h·W_o[rows h·d_head …]               (n, d)       (b_o not in any ΔE_h)
//     attn_out = Σ_h ΔE_h + b_o = mixed·W_o + b_o;  x_mid = x_l + attn_out
//     mlp_out  = GELU_tanh(LN_2(x_mid)·W_fc + b_fc)·W_proj + b_proj;  x_{l+1} = x_mid + mlp_out
//   logits = LN_f(x_L)·wteᵀ                                             (1 or n, vocab)
//
// Kept per layer: the residual stream x_l (x_L too), attn_out, mlp_out, qkv and mixed. Patterns are
// kept while they fit `pattern_budget_bytes` (layer by layer, head by head) and otherwise computed
// on demand from Q and K by the same code (bit-identical). ΔE_h is mixed_h·W_o[rows of h], on demand.
// At n = 1024 for gpt2-small that is ~250 MB plus the kept patterns (4 MB per head).
//
// Appending a token reuses every cached row (keys and values included): only the new row of each
// matrix is computed. Storage keeps spare rows (`reserve`) so an append copies nothing; kept
// patterns are dropped by an append (computed on demand afterwards).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "model.hpp"
#include "scene.hpp"  // Mask
#include "tiles.hpp"  // Progress

namespace attnviz {

struct Gpt2Options {
    int threads = 0;                                   // 0 = every core
    std::vector<std::pair<int, int>> ablate;           // (layer, head): that head's output zeroed
    std::optional<Mask> mask;                          // every layer's mask (default: causal)
    std::map<int, Mask> layer_masks;                   // one layer's mask (overrides `mask`)
    std::int64_t pattern_budget_bytes = std::int64_t(256) << 20;  // kept patterns; the rest on demand
    bool all_logits = false;                           // logits of every position (else the last only)
    int reserve = 0;                                   // rows kept for appends (total capacity; ≤ n_ctx)

    const Mask& mask_of(int layer) const;              // the mask layer `layer` uses
    bool ablated(int layer, int head) const;
};

// Thrown by a forward pass whose Progress was cancelled (between layers).
struct Gpt2Cancelled : std::runtime_error {
    Gpt2Cancelled() : std::runtime_error("cancelled") {}
};

class Gpt2Forward {
public:
    Gpt2Forward() = default;
    // Runs the model on `ids` (1 ≤ n ≤ n_ctx, each id < vocab_size; throws ModelError otherwise).
    // The model must outlive this object (it is referenced, not copied).
    Gpt2Forward(const Model& m, std::vector<int> ids, Gpt2Options opt = {});
    // The same, reporting layers done (total = n_layers) and stopping when progress->cancel is set
    // (throws Gpt2Cancelled between layers). progress may be null.
    Gpt2Forward(const Model& m, std::vector<int> ids, Gpt2Options opt, Progress* progress);

    // One more token at the end, with cached keys and values (equal to a full forward on ids + id).
    void append(int id);

    const Model& model() const { return *model_; }
    const Gpt2Options& options() const { return opt_; }
    const std::vector<int>& ids() const { return ids_; }
    int n() const { return n_; }
    int n_layers() const { return model_->cfg.n_layers; }
    int n_heads() const { return model_->cfg.n_heads; }
    int d_head() const { return model_->cfg.d_head(); }

    using Rows = Eigen::Ref<const Mat>;                                          // rows [0, n) of a stored matrix
    using Cols = Eigen::Ref<const Mat, 0, Eigen::OuterStride<>>;                // a column block of one
    Rows resid(int l) const;          // (n, d)  x_l: l = 0 the embeddings, l = L after the last block
    Rows attn_out(int l) const;       // (n, d)  Σ_h ΔE_h + b_o
    Rows mlp_out(int l) const;        // (n, d)  zero-size when the model has no MLP
    Rows qkv(int l) const;            // (n, 3d)
    Cols Q(int l, int h) const;       // (n, d_head) with the bias
    Cols K(int l, int h) const;       // (n, d_head)
    Cols V(int l, int h) const;       // (n, d_head)
    Rows mixed(int l) const;          // (n, d) concat_h pattern_h·V_h (0 for an ablated head)
    Mat scores(int l, int h) const;   // (n, n) raw Q_h·K_hᵀ (biases in, before scaling), every cell
    Mat pattern(int l, int h) const;  // (n, n) kept or computed; masked cells exactly 0
    bool pattern_kept(int l, int h) const;
    const Mat& kept_pattern(int l, int h) const;  // (n, n) without a copy; only when pattern_kept(l, h)
    Mat delta(int l, int h) const;    // (n, d) ΔE_h = mixed_h·W_o[rows of h] (b_o not included)
    Rows logits() const;              // (1, vocab) the last position, or (n, vocab) with all_logits
    RowVec last_logits() const;       // (vocab)
    float logit_factor() const;       // 1/√d_head
    std::int64_t kept_bytes() const;  // bytes of every kept matrix (patterns included)

private:
    struct Layer {
        Mat attn_out, mlp_out, qkv, mixed;  // (capacity, ·)
        std::vector<Mat> patterns;          // per head: (n, n) or empty
    };
    const Model* model_ = nullptr;
    Gpt2Options opt_;
    std::vector<int> ids_;
    int n_ = 0, capacity_ = 0;
    std::vector<Mat> resid_;                // L + 1 of (capacity, d)
    std::vector<Layer> layers_;
    Mat logits_;                            // (1 or capacity, vocab)
    void grow(int capacity);
    void run_layer(int l, int threads);
};

// Rows [i0, i1) of one head's pattern from its Q (n, d_head) and K (m, d_head): the attention
// stages as the forward pass does them (raw scores → · factor → mask → softmax; masked cells 0).
// `out` is (i1 − i0, m). Rows with no allowed key are all 0.
void head_pattern_rows(const Eigen::Ref<const Mat, 0, Eigen::OuterStride<>>& Q,
                       const Eigen::Ref<const Mat, 0, Eigen::OuterStride<>>& K, const Mask& mask, float factor,
                       int i0, int i1, Mat& out);

// ---------------------------------------------------------------------------------------------
// Next-token distributions
// ---------------------------------------------------------------------------------------------
struct TokenProb {
    int id = 0;
    float prob = 0;   // softmax over the whole vocabulary
    float logit = 0;
};
// The k most probable tokens, most probable first (ties: lower id first).
std::vector<TokenProb> top_k(const RowVec& logits, int k);
// KL(p ‖ q) in nats between softmax(logits_p) and softmax(logits_q), computed in double.
double kl_divergence(const RowVec& logits_p, const RowVec& logits_q);
// ln_f(x)·wteᵀ: the next-token logits (vocab) read from one residual-stream row x (d), as the
// forward pass reads its last position (the logit lens, gpt2_analysis.hpp, reads every layer so).
RowVec read_out_logits(const Model& m, const Eigen::Ref<const RowVec>& x);

// ---------------------------------------------------------------------------------------------
// Head labels: pure functions of a pattern (n, n) (rows = queries), means over the rows they name.
// ---------------------------------------------------------------------------------------------
double previous_token_score(const Mat& pattern);                        // mean_{i≥1} P[i][i−1]
// Mean over rows i that have an earlier occurrence k < i of ids[i] of Σ_k P[i][k+1] (the token
// after each earlier occurrence); on a random sequence repeated twice (length 2T) that is
// mean_{i ≥ T} P[i][i−T+1]. 0 when no row has an earlier occurrence.
double induction_score(const Mat& pattern, const std::vector<int>& ids);
// Mean over rows i with an earlier k < i, ids[k] == ids[i], of Σ_k P[i][k].
double duplicate_token_score(const Mat& pattern, const std::vector<int>& ids);
double first_token_score(const Mat& pattern);                           // mean_i P[i][0]  (the "sink")
double local_window_score(const Mat& pattern, int window);              // mean_i Σ_{i−w < j ≤ i} P[i][j]
double entropy_score(const Mat& pattern);                               // mean_i −Σ_j P log P (nats)

struct HeadLabelScores {
    int layer = 0, head = 0;
    double previous_token = 0, induction = 0, duplicate_token = 0, first_token = 0, local_window = 0, entropy = 0;
};
// A random sequence of T tokens (ids in [0, vocab), no repeats inside it when vocab ≥ T) twice.
std::vector<int> repeated_random_sequence(int T, int vocab, std::uint64_t seed);
// Every head scored on the model's patterns of repeated_random_sequence(T, …) (local window 3).
std::vector<HeadLabelScores> label_heads(const Model& m, int T = 50, std::uint64_t seed = 1, int threads = 0);

}  // namespace attnviz
