// attnviz core — helpers shared by engine.cpp, tiles.cpp and incremental.cpp (not part of the
// public API).
#pragma once

#include "softmax.hpp"
#include "tiles.hpp"

namespace attnviz {
// A sequence's embeddings plus the scene's positional encoding (seq.size(), d_model): the E (or X)
// of every path (defined in engine.cpp).
Mat with_positional(const Sequence& seq, const Scene& s);
}  // namespace attnviz

namespace attnviz::tiles_detail {

constexpr int kTileRows = 64;  // query rows per block of work

// Raw scores S of rows [row0, …) × columns [col0, …) of head r turned into pattern weights, in place.
void scores_to_pattern(const PatternTiles& t, const HeadStats& r, int row0, int col0, Mat& S);

}  // namespace attnviz::tiles_detail
