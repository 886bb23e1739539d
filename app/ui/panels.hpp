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
#include "figure.hpp"
#include "heatmap.hpp"
#include "plot_draw.hpp"  // same_line_if_fits, format_vector

namespace attnviz::app {

void DrawTokensPanel(AppState& s);
void DrawModelPanel(AppState& s);
void DrawHeatmapPanel(AppState& s);
void DrawGridPanel(AppState& s);
void DrawComparePanel(AppState& s);
void DrawFilesPanel(AppState& s);
// The Train workspace's three windows (app/ui/panel_train.cpp): controls, curves, heads.
void DrawTrainPanels(AppState& s);
// A GPT-2 model as the document (AppState::model; app/ui/panel_model_text.cpp, panel_model_view.cpp):
void DrawModelTokens(AppState& s);      // the tokens panel's contents while a model is open
void DrawModelInfo(AppState& s);        // the Model panel's contents while a model is open
void DrawNextTokenPanel(AppState& s);   // the next-token top 10 with probability bars
void DrawModelViewPanel(AppState& s);   // layers × heads grid of live patterns; click selects
std::string model_view_title(const AppState& s);   // "gpt2 · layer 3 · head 5" ("" without a model)
void ModelViewHeader(AppState& s, const char* view);  // that line at the top of a view (nothing without a model)
// While a model is open: a notice that `what` shows hand-made scenes only (returns true).
bool HandMadeOnlyNotice(AppState& s, const char* what);
// Sink-aware colour for weights (ViewOptions::log_scale, exclude_first), after configure_for_stage.
void ApplySinkColour(HeatmapView& v, const ViewOptions& o, Stage st);
void SinkColourControls(AppState& s, const char* id);
// The Open / Save as browser (app/ui/file_browser.cpp): OpenFileBrowser shows it from the next
// frame; DrawFileBrowser draws it (a modal: drawn after the panels).
// `suggested` (Save as): a path typed elsewhere; the browser starts in its folder with its file name.
void OpenFileBrowser(AppState& s, bool save_as, const std::string& suggested = {});
void OpenModelBrowser(AppState& s);  // the same browser choosing a GPT-2 folder (File → Open model…)
void DrawFileBrowser(AppState& s);
// "Unsaved changes: Save / Discard / Cancel" while a switch of document waits (panel_unsaved.cpp).
// Drawn last in the frame, after RecoveryFrame.
void DrawUnsavedDialog(AppState& s);
// File > Recover: crashed sessions not answered yet and the changes discarded at the last quit
// (panel_recovery.cpp; each opens through request_switch).
void RecoveryMenu(AppState& s);
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
    HeatmapView minimap;                 // long mode: the whole pattern's overview beside it (app/ui/long_view.cpp)
    std::vector<HeatmapView> grid;       // one per head
    HeatmapView grid_average;
    HeatmapView compare[3];              // masked, unmasked, difference
    std::vector<HeatmapView> presentation;  // the presentation view's heatmaps (app/ui/presentation.cpp)
    std::vector<HeatmapView> train_heads;   // the Train workspace: one per head (app/ui/panel_train.cpp)
    HeatmapView intervention_diff;       // the interventions panel: pattern after − before (panel_interventions.cpp)
    std::vector<std::string> intervention_labels;  // its axis labels (the tokens' pieces)
    std::vector<HeatmapView> model_cells;   // the model view's layers × heads (app/ui/panel_model_view.cpp)
    int layout_document = -1;            // the document kind the Model panel was placed for (0 scene, 1 model; -1 none yet)
    std::uint64_t labels_generation = ~std::uint64_t(0);
    std::vector<std::string> query_labels, key_labels;
    std::vector<std::string> indexed_query_labels, indexed_key_labels;  // "1000:word"
    ~Views();                            // frees GPU resources while the context is alive
};
AppState::Views& views(AppState& s);
void release_views(AppState& s);  // before the GL context goes

// The default window rectangles: fit 1280×720 and up, with no two panels of one workspace over
// each other. `name` is the panel's window title. `model_document`: the layout while a GPT-2
// model is open (the Model panel is shorter: the next-token panel takes the scene files' place).
struct PanelRect {
    float x, y, w, h;
};
PanelRect default_panel_rect(const std::string& name, ImVec2 display, float menu_h, bool model_document = false);
void SetNextPanelLayout(const char* name, bool model_document = false);  // SetNextWindowPos/Size (first use only)
// The workspaces (AppState::workspace): the menu bar's tabs. Model analysis (head labels,
// interventions, logit lens) is offered while a model is open.
enum Workspace : int { kAttentionWorkspace = 0, kEmbeddingsWorkspace = 1, kMathWorkspace = 2, kTrainWorkspace = 3, kModelAnalysisWorkspace = 4 };
// Large enough for the panel layout (smaller: the layout is neither recorded nor saved to imgui.ini).
bool display_is_usable(ImVec2 display);
// Each frame before the panels: after a resize, every panel goes back to its fractions of the
// window (AppState::panel_layout), below the menu and inside the window; otherwise, while the
// window is usable, the fractions follow where the user put the panels.
void KeepPanelsInWindow(AppState& s);

// Shared helpers for panels.
// Token texts as axis labels, rebuilt only when the scene changes: queries (rows) and keys
// (columns; the source tokens for cross-attention).
const std::vector<std::string>& query_labels(AppState& s);
const std::vector<std::string>& key_labels(AppState& s);
// The same with the token's index ("1000:word"): long texts' axes and every CSV.
const std::vector<std::string>& indexed_query_labels(AppState& s);
const std::vector<std::string>& indexed_key_labels(AppState& s);
// "Export PNG" and "Export CSV" (the matrix `matrix()` returns, computed only when clicked) into
// s.export_dir as <scene>_<what>.png/.csv. With `figure` (core's figure of this view: token
// labels, colour bar, title, no UI): the PNG is that figure rasterised (core/figure_raster.hpp),
// and "Export SVG" and its "dark" theme box follow; without: the PNG is the window captured after
// the frame.
void ExportButtons(AppState& s, const std::string& what, const std::function<Mat()>& matrix,
                   const std::function<FigureDrawing(const FigureOptions&)>& figure = {});
// "Export PNG" and "Export SVG" of a figure alone (views without a matrix: the shift and query–key
// plots): <scene>_<what>.png / .svg.
void FigureButton(AppState& s, const std::string& what, const std::function<FigureDrawing(const FigureOptions&)>& figure);
// <export_dir>/<scene file stem or "scene">_<what> (no extension): where exports of `what` go.
std::string export_base(const AppState& s, const std::string& what);
// Sets a diverging, zero-centred range for scores, the chosen colormap on 0..1 for weights.
// (auto_range: weights coloured over the data's own range, for long sequences.)
void configure_for_stage(HeatmapView& v, Stage st, int pattern_colormap, bool auto_range = false);
// The key a view's data comes from: changes whenever what it shows changes.
std::uint64_t view_data_key(const AppState& s, int head, int what);
// A text field for user text in any language: `display` holds the display form
// (WideChars::to_display: characters above U+FFFF as Private Use Area slots, which ImGui 1.86 can
// store and the font atlas draws); characters above U+FFFF typed while it is active (the window's
// GLFW callback queues them in s.wide_chars.typed) are inserted at the cursor. Returns true when
// the text changed; the real text is s.wide_chars.from_display(*display).
bool InputTextWide(AppState& s, const char* label, const char* hint, std::string* display, ImGuiInputTextFlags flags = 0);
// Remembers the last item's screen rectangle under `name` (see AppState::ui_rects).
void MarkItem(AppState& s, const std::string& name);
// Hover tooltip with the exact numbers of one cell of head `h` (query i, key j), from s.patterns().
void CellTooltip(const AppState& s, int head, int i, int j);
// For a view that needs every pattern at once (the mask comparison, the math, the plots): the
// full forward pass (AppState::patterns()->full()); when the scene keeps none (a long sequence)
// it says so in the current window, naming `what`, and returns null.
const Forward* FullForwardOrNotice(const AppState& s, const char* what);
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
extern const char* const kTrainWindow;
extern const char* const kTrainCurvesWindow;
extern const char* const kTrainHeadsWindow;
extern const char* const kNextTokenWindow;
extern const char* const kModelViewWindow;

}  // namespace attnviz::app
