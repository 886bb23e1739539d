// attnviz core — incremental edits: recompute only what an edit changes.
//
// A token edit at position t (self-attention) changes row t of E, hence row t of Q, K and V of
// every head, hence row t and column t of every score matrix. Row t is recomputed (O(m·d_head)).
// Every other row i that may see key t keeps its softmax statistics up to date in O(d_head):
//
//   S_i  ← S_i − exp(l_old − M_i) + exp(l_new − M_i)        (rescaled when l_new > M_i)
//   U_i  ← U_i − exp(l_old − M_i)·v_old + exp(l_new − M_i)·v_new,   mixed_i = U_i / S_i
//
// with U_i = mixed_i·S_i the unnormalised pattern·V. A row is recomputed from Q, K, V
// (O(m·d_head)) when key t held its max and the new logit is smaller (the new max is unknown).
// If key t's term was most of the sum, key t held the max; it then keeps it (or the row is
// rescanned), so S ≥ 1 and the subtraction loses no precision that matters. Patterns, tiles and ΔE rows are
// then computed on demand from the statistics (tiles.hpp), so no O(n·m) work is done.
//
// An edit of W_Q, W_K or W_V of head h rebuilds head h only (PatternTiles::update_head); an edit of
// W_O touches no statistics (update_output). Other edits (mask, sizes, scaling) need a new build.
// For a full Forward (small scenes), recompute_head (engine.hpp) rebuilds one head.
#pragma once

#include "tiles.hpp"
