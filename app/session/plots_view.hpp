// attnviz app — what the plot and editor panels remember between frames (shift plot, query–key
// plot, weight editor, inspector): their options, the cached projections and the last plot
// rectangles. A member of AppState (`app.plots`); plain data, no ImGui types.
#pragma once

#include <cstdint>
#include <vector>

#include "projection.hpp"

namespace attnviz::app {

// Where a plot was last drawn and how data coordinates map onto it (equal scale on both axes).
// Kept so hover → point mapping is the same function in the panel and in tests.
struct PlotFrame {
    bool valid = false;
    float x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // screen rectangle of the plot area
    float cx = 0, cy = 0;                  // data point shown at the rectangle's centre
    float scale = 1;                       // pixels per data unit
    float to_x(float x) const { return 0.5f * (x0 + x1) + (x - cx) * scale; }
    float to_y(float y) const { return 0.5f * (y0 + y1) - (y - cy) * scale; }  // data y grows upward
};

// Which weight matrix the editor shows.
enum class WeightMatrix { Query = 0, Key = 1, Value = 2, Output = 3 };

struct PlotsView {
    // -- embedding-shift plot --
    PlaneMode shift_mode = PlaneMode::ShiftPca;  // the plane where the shifts show best
    int shift_dims[2] = {0, 1};          // "pick two dimensions"
    std::vector<bool> heads_on;          // per head: its ΔE_h link in the chain (resized to n_heads)
    bool shift_chain = true;             // per-head arrows E → E+ΔE_h1 → …
    bool shift_total = true;             // the arrow E → E'
    bool shift_labels = true;
    float shift_magnify = 1.0f;          // shifts drawn k times longer (display only)
    // -- query–key plot --
    QKOptions qk;
    bool qk_lines = true;                // lines from the highlighted query to keys, alpha = weight
    bool qk_labels = true;
    // -- weight editor --
    WeightMatrix weight_matrix = WeightMatrix::Query;
    float weight_scale = 2.0f;           // the "scale ×k" factor
    int weight_seed = 1;                 // the "randomize" seed
    int weight_cell_row = -1, weight_cell_col = -1;  // selected cell in the large-matrix view
    bool weight_drag_edited = false;     // the drag in progress has already made one undo step

    // -- caches: recomputed only when their inputs change --
    ShiftPlot shift;
    Mat shift_key_E, shift_key_out;      // the E and E' the cached plot was made from
    std::vector<bool> shift_key_heads;
    PlaneMode shift_key_mode = PlaneMode::Pca;
    int shift_key_dims[2] = {-1, -1};
    float shift_key_magnify = 1.0f;
    bool shift_valid = false;
    QKPlot qkplot;
    Mat qk_key_Q, qk_key_K;
    bool qk_key_center = false, qk_key_balance = false;
    bool qk_valid = false;

    // -- last frame --
    PlotFrame shift_frame, qk_frame;
};

}  // namespace attnviz::app
