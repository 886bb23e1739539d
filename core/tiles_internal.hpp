// attnviz core — helpers shared by tiles.cpp and incremental.cpp (not part of the public API).
#pragma once

#include "tiles.hpp"

namespace attnviz::tiles_detail {

constexpr int kTileRows = 64;  // query rows per block of work

struct RowStats {
    float max = 0.0f;  // largest allowed logit (0 when none)
    float sum = 0.0f;  // Σ exp(logit − max) over allowed keys (0 when none)
    int argmax = -1;   // key of the largest logit (−1 when none)
};

// Softmax statistics of row i from its raw scores over keys [clo, chi] (scores[0] is key clo);
// writes the pattern weights of those keys to out[0 … chi−clo] (masked keys 0).
RowStats row_softmax(const Mask& mask, int i, int m, int clo, int chi, const float* scores, float factor, float* out);
// Embeddings + positional encoding; the positional part alone to *pos_out when given.
Mat with_positional(const Sequence& seq, const Scene& s, Mat* pos_out);
// Raw scores S of rows [row0, …) × columns [col0, …) of head r turned into pattern weights, in place.
void scores_to_pattern(const PatternTiles& t, const HeadStats& r, int row0, int col0, Mat& S);

}  // namespace attnviz::tiles_detail
