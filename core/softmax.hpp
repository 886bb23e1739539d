// attnviz core — the one row softmax every path uses (full forward, PatternTiles, incremental
// edits, the step-by-step explanation).
//
// Passes (3)–(5) of one query row, as in llm.c: each logit = score · factor is computed ONCE,
// rounded to float and stored; the row max and every exp(logit − max) read those stored values.
// Computing the max from one rounding of score · factor and the exponent from another (GCC with
// -O3 -march=native fuses `score * factor - max` into one FMA, which skips the rounding) leaves a
// positive remainder in exp(): at logits of 1e11 that is exp(16384) = ∞ and the row becomes NaN.
// softmax.cpp is also built with -ffp-contract=off (CMakeLists.txt), so neither the compiler nor
// a later edit can fuse them again.
//
// Weights recomputed later from the statistics (PatternTiles' cells and tiles, the incremental
// updates) go through softmax_weight(s): the same rounding of the logit, and exp(min(l − max, 0)),
// because a score computed again by another product (a dot product instead of a GEMM block) may
// round a hair above the stored max.
//
// Limits of float32: a logit may overflow to ±∞ (scores near 1e36 over a temperature of 1e-6).
// Then the softmax's limit is taken: keys tied at the largest logit share the row equally, the
// others get 0 — `max` is that ±∞ and `sum` the number of tied keys.
#pragma once

#include <cstdint>

#include "scene.hpp"

namespace attnviz {

// What one row's softmax leaves behind: enough to recompute any weight of the row later.
struct SoftmaxStats {
    float max = 0.0f;  // largest allowed logit (0 when no key is allowed; ±∞ when logits overflowed)
    float sum = 0.0f;  // Σ exp(logit − max) over allowed keys (the number of tied keys when max is ±∞; 0 when none)
    int argmax = -1;   // the first key holding max, counted from the row's first key (−1 when none allowed)
};

// score · factor rounded to float on its own (never fused into a following subtraction).
float logit(float score, float factor);

// Softmax of row i over keys [first, last] (clamped by the caller to the row's keys of interest):
// scores[k] is the raw score of key first + k; writes the weights of those keys to out[k]
// (masked keys 0). `argmax` in the result is the key index (first + k), −1 when none is allowed.
SoftmaxStats softmax_row(const Mask& mask, int i, int first, int last, const float* scores, float factor, float* out);

// Softmax of `count` entries; allowed[k] != 0 marks the keys that take part (nullptr: all of them).
// `argmax` is the entry index. `scores` and `out` may be the same array.
SoftmaxStats softmax_row(int count, const float* scores, float factor, const std::uint8_t* allowed, float* out);

// The same in double precision (the step-by-step explanation): logits dot · factor in double.
struct SoftmaxStatsD {
    double max = 0.0, sum = 0.0;
    int argmax = -1;
};
SoftmaxStatsD softmax_row(int count, const double* scores, double factor, const std::uint8_t* allowed, double* out);

// The weight of one allowed key from its raw score and its row's statistics (as softmax_row left
// them): exp(min(logit − max, 0)) / sum; 0 when the row allows no key (sum 0). The row's argmax
// key gets exactly 1 / sum: a score computed again by another product may round differently, and
// at logits of 1e20 a difference of one rounding is e^(−1e13) = 0 instead of 1.
float softmax_weight(float score, float factor, float row_max, float row_sum, bool is_argmax);
// exp(min(logit − max, 0)) for a logit already rounded (logit()): a term of the row's sum.
float softmax_term(float logit, float row_max);

// `count` raw scores of one row turned into weights in place with the row's statistics (every
// entry treated as allowed; the caller zeroes masked ones). `argmax`: the index in `scores` of the
// row's argmax key, or −1 when it lies outside; when given, logits are measured from that key's
// logit as computed here (the same product as the others), so it gets exactly 1 / sum.
void softmax_weights(float* scores, int count, float factor, float row_max, float row_sum, int argmax);

}  // namespace attnviz
