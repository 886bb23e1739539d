// attnviz app — the reusable heatmap widget: options, then internal state, then Draw().
//
// Values are a row-major matrix (row = query, column = key). They go to the GPU once per change as
// a GL_R32F texture and are coloured by the colormap shader (shaders/heatmap.frag.glsl) into a
// framebuffer the size of the plot, shown with ImGui::Image. Around it: token labels on both axes
// (horizontal, rotated or thinned, whatever fits), a colour bar with values, selection and hover
// highlights, and numbers in the cells when they fit. Interaction follows the canvas pattern: an
// InvisibleButton over the plot; wheel zooms around the mouse, right/middle drag pans,
// double-click resets, left click selects a cell.
//
// The pure layout and zoom math is exposed below so tests can check it without a GL context.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <imgui.h>

#include "colormap.hpp"
#include "gl.hpp"
#include "scene.hpp"

namespace attnviz::app {

// ---------------------------------------------------------------------------------------------
// [SECTION] Pure math (tested without GL)
// ---------------------------------------------------------------------------------------------
// The visible part of the matrix in cell units: columns [x0, x1), rows [y0, y1).
struct CellView {
    float x0 = 0, y0 = 0, x1 = 1, y1 = 1;
    float width() const { return x1 - x0; }
    float height() const { return y1 - y0; }
};
CellView full_view(int rows, int cols);
// Zooms by `factor` (> 1 zooms in) keeping the cell point (cx, cy) under the mouse where it is;
// at most `max_cells` wide/high, at least `min_cells` (clamped to the matrix), never outside it.
CellView zoom_view(const CellView& v, float cx, float cy, float factor, int rows, int cols, float min_cells = 2.0f);
// Moves the view by (dx, dy) cells, kept inside the matrix.
CellView pan_view(const CellView& v, float dx, float dy, int rows, int cols);
// The cell under a screen point for a plot drawn in [plot_min, plot_max) showing `v`; false when
// the point is outside the plot or the matrix.
bool cell_at(ImVec2 plot_min, ImVec2 plot_max, const CellView& v, int rows, int cols, ImVec2 p, int& row, int& col);
// Every how many labels to draw so that labels `label_px` tall (or wide) do not overlap on cells
// `cell_px` apart: 1 when they fit, else the smallest step that leaves room.
int label_step(float cell_px, float label_px);

enum class ColumnLabels { Horizontal, Rotated };
struct HeatmapLayout {
    ImVec2 plot_min, plot_max;   // the coloured cells
    ImVec2 bar_min, bar_max;     // the colour bar (empty when hidden)
    float cell_w = 0, cell_h = 0;
    float row_label_w = 0;       // space left of the plot for row labels
    float col_label_h = 0;       // space above the plot for column labels
    ColumnLabels col_mode = ColumnLabels::Horizontal;
    int row_step = 1, col_step = 1;
};
// Lays the widget out in the rectangle [origin, origin + size). `max_row_label_w` and
// `max_col_label_w` are the widest labels' text widths, `font_h` the text height.
HeatmapLayout layout_heatmap(ImVec2 origin, ImVec2 size, float visible_rows, float visible_cols, float max_row_label_w,
                             float max_col_label_w, float font_h, bool colorbar, bool square_cells,
                             float bar_label_w = 0.0f);  // width of the colour bar's tick labels (0: guess)
// How many columns a grid of `count` tiles (each with a title `title_h` tall) should have to make
// the tiles as large as possible in width × height, for matrices `aspect` = columns / rows.
int grid_columns(int count, float width, float height, float title_h, float aspect = 1.0f);
// Auto range over finite values (masked / NaN / ±inf ignored): [lo, hi]. Returns false when
// there is no finite value.
bool finite_range(const float* values, std::size_t count, float& lo, float& hi);

// ---------------------------------------------------------------------------------------------
// [SECTION] The widget
// ---------------------------------------------------------------------------------------------
struct HeatmapOptions {
    Colormap colormap = Colormap::Viridis;
    float vmin = 0, vmax = 0;        // 0..0 = auto from the data; vmin == vmax = one colour
    bool transpose = false;          // queries as columns
    bool show_labels = true;
    bool show_colorbar = true;
    bool show_values = true;         // numbers in cells when they fit
    bool square_cells = true;
    bool interactive = true;         // zoom, pan, click
    const char* value_format = "%.2f";
    const char* row_axis = "query";  // axis names in data orientation (before transpose)
    const char* col_axis = "key";
    // Sink-aware colour (real models put most weight on the first key): colour by log10 of the
    // value over [vmax·10^-log_decades, vmax] (weights only; vmin is ignored then).
    bool log_scale = false;
    float log_decades = 3.0f;
};

struct HeatmapResult {
    bool hovered = false;
    int hover_row = -1, hover_col = -1;  // data coordinates (query, key), not display
    bool clicked = false;                // left click on a cell (hover_row/col say which), even when not interactive
    ImVec2 plot_min, plot_max;
};

// A block of the matrix kept as one texture: display cells [r0, r0 + rows) × [c0, c0 + cols),
// held as tex_rows × tex_cols values — one per cell (exact), or one per pooled bucket (long
// sequences zoomed out; bucket (y, x) covers rows [y·rows/tex_rows, (y+1)·rows/tex_rows) as in
// PatternTiles::overview).
struct HeatmapBlock {
    int r0 = 0, c0 = 0, rows = 0, cols = 0;  // display orientation (after transpose)
    int tex_rows = 0, tex_cols = 0;
    std::vector<float> values;               // tex_rows × tex_cols; masked = HeatmapView::kMaskedValue
    std::uint64_t key = ~std::uint64_t(0);   // what it was made from (the caller's key)
    // -- GPU --
    unsigned texture = 0;
    int texture_rows = 0, texture_cols = 0;
    bool dirty = true;

    bool empty() const { return values.empty(); }
    bool exact() const { return !empty() && tex_rows == rows && tex_cols == cols; }
    bool covers(int r, int c) const { return !empty() && r >= r0 && c >= c0 && r < r0 + rows && c < c0 + cols; }
    // The value shown for display cell (r, c) (covers() must hold).
    float at(int r, int c) const;
    void clear();  // no values (the texture is kept for reuse)
};

struct HeatmapView {
    HeatmapOptions opt;

    // -- internal state --
    std::uint64_t data_key = ~std::uint64_t(0);
    bool data_transposed = false;
    int rows = 0, cols = 0;              // display orientation (after transpose)
    // What is drawn: the base block (all of the matrix for set_data; a pooled overview for long
    // sequences), and over it a detail block (an exact or finer part of a long sequence's matrix).
    HeatmapBlock base, detail;
    float data_lo = 0, data_hi = 0;      // finite range of the data
    float data_hi_after_first = 0;       // set_data: largest finite value outside the first key (column 0 of the data)
    bool has_masked = false;
    gl::Framebuffer fb;
    std::uint64_t texture_version = 0;   // +1 per upload
    std::uint64_t render_passes = 0;     // +1 per colour pass into the framebuffer (--frame-stats --animate-view)
    std::array<float, 9> rendered{};     // what the framebuffer holds: skip the pass when unchanged
    CellView view;
    HeatmapLayout last_layout;

    static constexpr float kMaskedValue = 3.0e38f;

    // True when set_data must be called for this key (or after a transpose toggle).
    bool wants_data(std::uint64_t key) const { return key != data_key || opt.transpose != data_transposed; }
    // Copies the values (n, m) in; cells the mask forbids (when `mask` is given) are hatched.
    void set_data(const Mat& m, const Mask* mask, std::uint64_t key);
    // Long sequences: a matrix of n rows (queries) × m columns (keys), data orientation, known in
    // blocks. `values` covers data rows [row0, row0 + rows) × columns [col0, col0 + cols): exact
    // when it is rows × cols, else pooled buckets. Cells the mask forbids are hatched in exact
    // blocks. Changing n or m (or the transpose) resets the view and drops both blocks.
    void set_shape(int n, int m);
    void set_block(HeatmapBlock& into, const Mat& values, int row0, int col0, int rows, int cols, const Mask* mask,
                   std::uint64_t key);
    // The value of data cell (query i, key j) when an exact block holds it.
    bool exact_value(int i, int j, float& v) const;
    // The range of the values held (both blocks), recomputed after set_block.
    void update_range();
    // The visible data cells (rows = queries, columns = keys, before transpose), rounded out.
    void visible_data_block(int& row0, int& col0, int& nrows, int& ncols) const;
    // The value below which a fraction `q` of the finite values held lies (of the detail block
    // when there is one, else of the base; cached until the values change): a colour range that a
    // few large weights do not wash out.
    float upper_quantile(double q);
    std::uint64_t quantile_version = ~std::uint64_t(0);
    double quantile_q = -1.0;
    float quantile_value = 0.0f;
    // The value range in use (options, else the data's).
    void range(float& lo, float& hi) const;
    // Draws into a `size` rectangle at the cursor (size <= 0: fill the available region).
    // `sel_row/col` and `hover_row/col` (data coordinates) are highlighted.
    HeatmapResult Draw(const char* id, ImVec2 size, const std::vector<std::string>& row_labels,
                       const std::vector<std::string>& col_labels, int sel_row = -1, int sel_col = -1,
                       int other_hover_row = -1, int other_hover_col = -1);
    void release_gpu();
};

// Frees the shared shader program and colormap textures (before the GL context goes).
void heatmap_release_shared();
// A short text that fits in `width` pixels ("…" at the end when cut).
std::string ellipsize(const std::string& text, float width);
// Text drawn rotated 90° counter-clockwise (reading upwards) with its start at `bottom_left`.
void add_text_vertical(ImDrawList* dl, ImVec2 bottom_left, ImU32 col, const char* text);

}  // namespace attnviz::app
