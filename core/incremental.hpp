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
//
// A full Forward (every score and pattern kept; the UI's view of small and medium scenes) is
// updated the same way by `update_token` below: row t and column t of every score matrix, row t of
// every pattern, and each other row i that sees key t rescaled in O(m) — its weights all change by
// one factor c_i = S_i·g/S_i' except key t's — with mixed and ΔE_h rows updated as rank-1 changes:
//   mixed_i ← c_i·(mixed_i − p_it·v_t) + p_it'·v_t',   ΔE_h,i ← c_i·(ΔE_h,i − p_it·v_t·W_O[h]) + p_it'·v_t'·W_O[h].
// For a weight edit of one head, recompute_head (engine.hpp) rebuilds that head only.
#pragma once

#include "edit_kind.hpp"
#include "engine.hpp"
#include "tiles.hpp"

namespace attnviz {

// Updates `f` (the forward pass of the scene before the edit) to the forward pass of `after`,
// which differs from that scene only in input token t (its text or embedding). Throws
// std::invalid_argument when the sizes differ, std::out_of_range when t is not a token.
// threads: 0 = every core (used only for big scenes).
void update_token(const Scene& after, Forward& f, int t, int threads = 0);

// Updates `f` to the forward pass of `after`, which differs from the scene of `f` only in W_O:
// no pattern changes; each head's ΔE_h = mixed_h · W_O[h·d_head … (h+1)·d_head − 1] is recomputed
// (O(n·H·d_head·d_model), the output projection alone), then ΔE and E'. Throws
// std::invalid_argument when the sizes differ.
void update_output(const Scene& after, Forward& f, int threads = 0);

}  // namespace attnviz
