// attnviz app — the panels. One panel, one `Draw…Panel(AppState&)` in its own file; each opens
// its own ImGui window (shown while its `show_…` flag is set) and edits the scene only through
// AppState::edit. (The plot panels — shift, Q/K, weights, inspector — are in panels_plots.hpp.)
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <imgui.h>

#include "app_state.hpp"
#include "heatmap.hpp"

namespace attnviz::app {

void DrawTokensPanel(AppState& s);
void DrawModelPanel(AppState& s);
void DrawHeatmapPanel(AppState& s);
void DrawGridPanel(AppState& s);
void DrawComparePanel(AppState& s);
void DrawFilesPanel(AppState& s);
// The main menu bar (File, Edit, View) and the status line at the bottom.
void DrawMainMenu(AppState& s);
void DrawStatusLine(AppState& s);
// Every panel of this file, in order (what the window draws each frame).
void DrawAllPanels(AppState& s);
// One panel alone, filling the whole display (for `attnviz render --view …`).
enum class SoloView { Heatmap, Grid, Compare, Shift, QK };
void DrawSoloPanel(AppState& s, SoloView v);

// The GPU-backed widgets the panels keep between frames.
struct AppState::Views {
    HeatmapView heatmap;                 // the heatmap panel
    std::vector<HeatmapView> grid;       // one per head
    HeatmapView grid_average;
    HeatmapView compare[3];              // masked, unmasked, difference
    std::uint64_t labels_generation = ~std::uint64_t(0);
    std::vector<std::string> query_labels, key_labels;
    ~Views();                            // frees GPU resources while the context is alive
};
AppState::Views& views(AppState& s);
void release_views(AppState& s);  // before the GL context goes

// The default window rectangles: fit 1280×720 and up. `name` is the panel's window title.
struct PanelRect {
    float x, y, w, h;
};
PanelRect default_panel_rect(const std::string& name, ImVec2 display, float menu_h);
void SetNextPanelLayout(const char* name);  // SetNextWindowPos/Size (first use only)

// Shared helpers for panels.
// Token texts as axis labels, rebuilt only when the scene changes: queries (rows) and keys
// (columns; the source tokens for cross-attention).
const std::vector<std::string>& query_labels(AppState& s);
const std::vector<std::string>& key_labels(AppState& s);
// "Export PNG" (the current window, captured after the frame) and "Export CSV" (the matrix
// `matrix()` returns, computed only when clicked) into s.export_dir as <scene>_<what>.png/.csv.
void ExportButtons(AppState& s, const std::string& what, const std::function<Mat()>& matrix);
// <export_dir>/<scene file stem or "scene">_<what> (no extension): where exports of `what` go.
std::string export_base(const AppState& s, const std::string& what);
// Sets a diverging, zero-centred range for scores, the chosen colormap on 0..1 for weights.
// (auto_range: weights coloured over the data's own range, for long sequences.)
void configure_for_stage(HeatmapView& v, Stage st, int pattern_colormap, bool auto_range = false);
// The key a view's data comes from: changes whenever what it shows changes.
std::uint64_t view_data_key(const AppState& s, int head, int what);
// SameLine() when an item `next_width` wide still fits on the current line.
void SameLineIfFits(float next_width);
// Remembers the last item's screen rectangle under `name` (see AppState::ui_rects).
void MarkItem(AppState& s, const std::string& name);
// Hover tooltip with the exact numbers of one cell of head `h` (query i, key j), from s.fwd.
void CellTooltip(const AppState& s, int head, int i, int j);
// The numbers such a tooltip shows, however they were computed (long sequences: PatternTiles).
struct CellNumbers {
    int head = 0, i = 0, j = 0;
    float raw = 0, logit = 0, weight = 0;
    bool allowed = true;
    bool has_row_stats = false;  // row max (and its key) and Σ exp(logit − max): long sequences
    float row_max = 0, row_sum = 0;
    int row_argmax = -1;
};
void CellTooltip(const AppState& s, const CellNumbers& c);
// Window names (titles) of the panels, also used by the View menu and the layout.
extern const char* const kTokensWindow;
extern const char* const kModelWindow;
extern const char* const kHeatmapWindow;
extern const char* const kGridWindow;
extern const char* const kCompareWindow;
extern const char* const kFilesWindow;
extern const char* const kShiftWindow;
extern const char* const kQKWindow;
extern const char* const kWeightsWindow;
extern const char* const kInspectorWindow;
extern const char* const kMathWindow;

}  // namespace attnviz::app
