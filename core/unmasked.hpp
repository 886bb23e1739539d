// attnviz core — one head's pattern without the scene's mask, from long mode's statistics.
//
// The masked-vs-unmasked comparison of a long sequence (app/ui/panel_compare.cpp) needs head h's
// pattern twice: with the mask (PatternTiles::tile) and without it — softmax(q_i·k_j · factor)
// over every key — computed here from the same Q and K, one row at a time (core's
// masked_softmax_row with every key allowed). Memory: the (rows, m) result only.
#pragma once

#include <cstddef>

#include "tiles.hpp"

namespace attnviz {

// Rows [row0, row0 + rows) of head `head`'s pattern with no mask: (rows, m). Throws
// std::out_of_range naming the bad argument.
Mat unmasked_pattern_rows(const PatternTiles& t, int head, int row0, int rows);

// Bytes the comparison of one head holds: three (n, m) float matrices (masked, unmasked, their
// difference).
inline std::size_t compare_bytes(int n, int m) { return std::size_t(3) * std::size_t(n) * std::size_t(m) * sizeof(float); }

}  // namespace attnviz
