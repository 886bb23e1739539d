// attnviz app — the plot and editor panels: embedding shift, query–key plot, weight editor and
// the Q/K/V inspector. Like every panel, each Draw… function opens its own window (placed at its
// default rectangle unless the caller placed it) and draws into it; they need the full forward
// pass, and say so in their window when the scene has none (a long sequence). Numbers come from
// core (app.fwd, core/projection.hpp); edits go through AppState::edit with core's editing API.
#pragma once

#include <cstdint>

#include "app_state.hpp"

namespace attnviz::app {

void DrawShiftPanel(AppState& app);      // E, E' = E + ΔE, per-head chain, ‖ΔE_h‖ bars
void DrawQKPanel(AppState& app);         // q and k vectors of the selected head in one plane
void DrawWeightsPanel(AppState& app);    // W_Q, W_K, W_V of the selected head, and W_O
void DrawInspectorPanel(AppState& app);  // the selected query's q, every k_j, and q·k_j

// ---- the plot data the panels draw (cached in app.plots; recomputed when the inputs change) ----
const ShiftPlot& shift_plot_data(AppState& app);
const QKPlot& qk_plot_data(AppState& app);

// ---- the weight editor's operations: the widgets call exactly these ----
const char* weight_matrix_name(WeightMatrix w);  // "W_Q", "W_K", "W_V", "W_O"
// The matrix shown: W_Q/W_K/W_V of `head` (d_model, d_head), or W_O (n_heads·d_head, d_model).
const Mat& weight_matrix(const AppState& app, WeightMatrix w, int head);
// One cell. Refuses NaN and ±infinity (status message, nothing changes). Returns whether applied.
// `continuing`: a later step of the same drag — applied live, but it adds no undo step of its own,
// so one undo returns to before the drag.
bool edit_weight_cell(AppState& app, WeightMatrix w, int head, int row, int col, float value, bool continuing = false);
enum class WeightAction { Randomize, Zero, IdentityLike, Scale };
// Randomize draws from `seed` as a new scene would (core's drawn_projection / drawn_output);
// IdentityLike puts 1 on the diagonal of the (possibly rectangular) matrix; Scale multiplies by k
// (k and the result must be finite). Returns whether applied.
bool apply_weight_action(AppState& app, WeightMatrix w, int head, WeightAction a, float k = 1.0f,
                         std::uint64_t seed = 0);

}  // namespace attnviz::app
