// attnviz core — the attention engine.
//
// One forward pass of a multi-head attention layer, row-vector convention, float32, keeping every
// intermediate so the front end only displays:
//
//   E  = embeddings + positional                         (n, d_model)
//   X  = E, or the source's embeddings + positional      (m, d_model)
//   every head at once: [Q | K | V] = [E·W_Q | X·W_K | X·W_V]  one product (n, 3·H·d_head) when X = E
//   per head h:
//     Q_h, K_h, V_h = head h's d_head columns of it        (n|m, d_head)
//     scores_h  = Q_h·K_hᵀ                                (n, m)   raw, before scale and mask
//     logits    = scores_h · logit_factor                 (1/√d_head if scaled, / temperature)
//     pattern_h = softmax over allowed keys of each row   (n, m)   masked cells exactly 0
//     ΔE_h      = pattern_h·V_h·W_O[h·d_head … (h+1)·d_head−1]   (n, d_model)
//   ΔE = Σ_h ΔE_h,  E' = E + ΔE
//
// The passes are numbered as in llm.c: (1) projections, (2) scores, (3) row max over allowed
// keys, (4) exp(x − max) and sum, (5) normalise, (6) weighted sum of values, (7) output slice.
//
// Speed: pass (1) is one product for all heads — E·[W_Q | W_K | W_V] with the heads' weights side by
// side, GPT-2's c_attn layout — split by rows over the threads (gemm.hpp); passes (2)–(6) run per
// block of 128 query rows (64 under a banded mask), so a block's scores
// stay in cache for the softmax and pattern·V; a block computes only the key columns its rows may see
// (a causal forward does about half the score work), and heads run in parallel on `threads` threads.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "scene.hpp"

namespace attnviz {

struct HeadResult {
    Mat Q;        // (n, d_head)
    Mat K;        // (m, d_head)
    Mat V;        // (m, d_head)
    Mat scores;   // (n, m)  q_i·k_j for every cell, masked or not
    Mat pattern;  // (n, m)  softmax weights; masked cells 0; each row sums to 1 (or is all 0)
    Mat mixed;    // (n, d_head) pattern·V, before the output projection
    Mat delta;    // (n, d_model) ΔE_h
    std::vector<float> row_max;  // (n) largest allowed logit of each row (online-softmax statistic)
    std::vector<float> row_sum;  // (n) Σ exp(logit − row_max) over allowed keys
};

struct Forward {
    Mat E;        // (n, d_model) embeddings + positional encoding
    Mat X;        // (m, d_model) keys' and values' embeddings (== E for self-attention)
    std::vector<HeadResult> heads;
    Mat delta;    // (n, d_model) ΔE = Σ_h ΔE_h
    Mat output;   // (n, d_model) E' = E + ΔE
    std::vector<int> fully_masked_rows;  // queries that may see no key: all-zero pattern rows
    float logit_factor = 1.0f;           // what scores were multiplied by before softmax
    // true: `scores` holds q_i·k_j for every cell, masked or not. false (masked-out work skipped):
    // every masked cell of `scores` holds exactly 0 and only allowed cells hold q_i·k_j.
    bool masked_scores_computed = true;
    // Pass (1)'s fused product, kept so that the next forward into this Forward reuses the storage.
    // Read Q, K, V from `heads` (update_token keeps those current, not these).
    Mat W_qkv;  // (d_model, 3·H·d_head)  [W_Q of heads 0…H−1 | W_K … | W_V …]
    Mat qkv;    // (n, 3·H·d_head) E·W_qkv; cross-attention: (n, H·d_head) E·W_Q… only
    Mat kv;     // cross-attention: (m, 2·H·d_head) X·[W_K… | W_V…]; else empty
};

struct ForwardOptions {
    int threads = 0;  // 0 = every core, 1 = only the caller's thread (heads run in parallel)
    // Raw scores of masked cells. Auto computes them while n·m ≤ kAutoMaskedScoresCells (small
    // scenes, where the lecture shows the raw scores of masked cells greyed) and skips them above.
    enum class MaskedScores { Auto, Compute, Skip };
    MaskedScores masked_scores = MaskedScores::Auto;
    static constexpr std::int64_t kAutoMaskedScoresCells = std::int64_t(512) * 512;
};

// The whole forward pass. Every overload (and recompute_head, GemmBaseline) first checks that the
// n × m matrices fit Limits::kMaxForwardBytes and throws SceneError("tokens", "… MiB for the
// patterns …") before allocating; a longer scene is explored through PatternTiles (tiles.hpp).
// fits_full_forward(s, Limits::kLiveForwardBytes) (scene.hpp) says whether to keep one live.
Forward forward(const Scene& s);
Forward forward(const Scene& s, const ForwardOptions& opt);

// The same, into `f`, reusing its matrices when the sizes are unchanged (no page faults from
// fresh allocations: at n = 1024 and 12 heads a forward holds ~110 MB).
void forward(const Scene& s, Forward& f, const ForwardOptions& opt = {});

// The positional encoding (n, d_model) that the forward pass adds to the embeddings (the values of
// positional_encoding(), computed faster for sinusoidal encodings).
Mat positional_for(const Scene& s, int n);
// One row of it (1, d_model): what a token edit at position `pos` adds to the new embedding.
RowVec positional_row(const Scene& s, int pos);

// Recomputes head h's results and the sums (after an edit of one head's weights or of W_O). Pass (1)
// is redone for all heads (the fused product, ~⅓ of a forward's products), so that head h equals
// what forward() gives bit for bit; passes (2)–(7) for head h only.
void recompute_head(const Scene& s, Forward& f, int h);
void recompute_head(const Scene& s, Forward& f, int h, const ForwardOptions& opt);

// The matrix products of `forward` done by Eigen alone — no softmax, masking, scaling, copies or
// bookkeeping — for measuring what the rest costs. The fused product E·[W_Q | W_K | W_V] of all
// heads (rows over the threads, as `forward`); then per head, on views of its columns: Q·Kᵀ and
// (scores)·V as whole products — or, where `forward` skips masked-out blocks, the same blocks it
// computes — then mixed·W_O[h]. Heads run in parallel on the same threads as `forward`.
class GemmBaseline {
public:
    GemmBaseline(const Scene& s, const ForwardOptions& opt = {});
    void run();
    double flops() const;  // = forward_gemm_flops(s, opt)

private:
    const Scene* s_;
    ForwardOptions opt_;
    bool skip_;
    Mat E_, X_;
    Mat W_qkv_, qkv_, kv_;                      // as Forward's
    std::vector<std::array<Mat, 3>> scratch_;  // per head: scores, mixed, delta
};

// Floating-point operations of the matrix products of one forward pass as `forward` does them
// (projections, the score blocks it computes, pattern·V, output slices): for GFLOP/s figures.
double forward_gemm_flops(const Scene& s, const ForwardOptions& opt = {});

// The display stages of the score matrix, as the lecture walks through them.
enum class Stage { Raw, Scaled, Masked, Pattern };
const char* stage_name(Stage st);
// The (n, m) matrix of one head at a stage. Masked cells of the Masked stage are −∞;
// use `Mask::allows` to grey them.
Mat stage_matrix(const Scene& s, const HeadResult& h, Stage st);

// The average pattern over heads (n, m).
Mat average_pattern(const Forward& f);

// Softmax over the allowed entries of one row of logits; masked entries get 0.
// Returns false (and writes zeros) when no entry is allowed. Exposed for tests and the math panel.
bool masked_softmax_row(const float* logits, const std::uint8_t* allowed, int m, float* out, float* max_out,
                        float* sum_out);

}  // namespace attnviz
