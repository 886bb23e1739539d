// attnviz core — figures for slides and papers.
//
// A heatmap (a matrix with row and column token labels, a colour map, a colour bar, masked cells
// hatched), several heatmaps side by side, the shift plot (labelled points with arrows from E to
// E') and the query–key plot. Each figure is laid out once as a FigureDrawing — a list of
// rectangles, lines, circles and texts in figure units — which two writers consume, so the two
// formats cannot disagree: drawing_svg (here: a standalone, well-formed SVG 1.1 document, token
// text XML-escaped) and rasterize_drawing / drawing_png (core/figure_raster.hpp: PNG).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "colormap.hpp"
#include "engine.hpp"
#include "projection.hpp"
#include "types.hpp"

namespace attnviz {

// ---- a laid-out figure: drawing primitives in figure units (SVG user units; y grows down) ----
enum class FillKind { None, Solid, Hatch, Gradient };
enum class TextAnchor { Start, Middle, End };
struct FigureShape {
    enum Kind { Rect, Line, Circle, Text } kind = Rect;
    double x = 0, y = 0;                 // Rect: top-left; Line: start; Circle: centre; Text: anchor on the baseline
    double w = 0, h = 0;                 // Rect: size
    double x2 = 0, y2 = 0;               // Line: end
    double r = 0;                        // Circle: radius
    FillKind fill = FillKind::None;      // Rect and Circle (Text and Line use `color`)
    Rgba8 color{0, 0, 0, 255};           // fill (Solid), text colour, or line colour
    Colormap gradient = Colormap::Viridis;  // FillKind::Gradient: the colour map from bottom (0) to top (1)
    Rgba8 stroke{0, 0, 0, 0};            // outline of a Rect or Circle (alpha 0: none)
    double stroke_width = 1;             // outline or line width
    bool arrow = false;                  // Line: an arrow head at (x2, y2)
    bool crisp = false;                  // Rect: pixel-aligned edges (heatmap cells)
    std::string text;                    // Text (UTF-8)
    double font_size = 12;               // Text: em size
    TextAnchor anchor = TextAnchor::Start;
    double rotate = 0;                   // Text: degrees, clockwise, about (x, y)
    std::string css_class, tooltip;      // SVG only: class attribute and <title>
};
struct FigureDrawing {
    double width = 0, height = 0;
    Rgba8 background{255, 255, 255, 255};
    Rgba8 hatch_bg{217, 217, 217, 255}, hatch_fg{140, 140, 140, 255};  // masked cells
    std::vector<FigureShape> shapes;     // painted in order
};
// The SVG document of a drawing.
std::string drawing_svg(const FigureDrawing& d);

struct HeatmapFigure {
    Mat values;                          // (rows, cols) row-major; row = query, column = key
    std::vector<std::string> row_labels; // (rows) or empty
    std::vector<std::string> col_labels; // (cols) or empty
    std::string title;
    std::string row_axis = "query", col_axis = "key";
    Colormap colormap = Colormap::Viridis;
    float vmin = 0.0f, vmax = 0.0f;      // 0..0: automatic (the finite values' range)
    std::vector<std::uint8_t> allowed;   // (rows·cols) or empty; 0 = masked (hatched)
    bool show_values = true;             // numbers in cells (when cells are large enough)
    int cell_px = 36;                    // cell size in SVG units
    bool dark = false;                   // dark theme (light text on a dark background)
};

// Several heatmaps side by side (all heads; masked, unmasked and their difference), each with its
// own subtitle (its HeatmapFigure::title) and colour bar, under one title.
struct HeatmapsFigure {
    std::vector<HeatmapFigure> panels;
    std::string title;
    int columns = 0;                     // panels per row (0: all in one row up to 4, then rows of 4)
    bool dark = false;
};

struct ShiftPoint {
    std::string label;
    float x0 = 0, y0 = 0;                // E   (2-D coordinates, e.g. two chosen dimensions)
    float x1 = 0, y1 = 0;                // E'  (arrow head)
};

struct ShiftFigure {
    std::vector<ShiftPoint> points;
    std::string title, x_label, y_label;
    int width = 640, height = 480;
    bool dark = false;
};

// The two embedding dimensions a shift plot shows: the scene's view "shift_dims" when it names
// two valid dimensions, else the two along which attention moves the tokens most (largest
// Σ_i |ΔE_i,d|; ties: the lower dimension first).
std::array<int, 2> shift_plot_dims(const Scene& s, const Forward& f);

// The largest heatmap written as SVG (cells); larger ones throw SceneError("figure", …): use PNG.
inline constexpr std::int64_t kMaxSvgCells = 512 * 512;

// Throws SceneError naming the field when labels or `allowed` do not match the matrix.
FigureDrawing heatmap_drawing(const HeatmapFigure& fig);
FigureDrawing shift_drawing(const ShiftFigure& fig);
FigureDrawing heatmaps_drawing(const HeatmapsFigure& fig);
std::string heatmap_svg(const HeatmapFigure& fig);   // drawing_svg(heatmap_drawing(fig)), …
std::string shift_svg(const ShiftFigure& fig);

// Queries and keys of one head in one plane (core/projection.hpp qk_plot: the query–key panel's
// projection): queries as circles, keys as squares, token labels, axes with the share of the
// spread each shows. Labels only up to 128 points.
struct QKFigure {
    Mat queries;                         // (n, 2)
    Mat keys;                            // (m, 2)
    std::vector<std::string> query_labels, key_labels;  // (n), (m) or empty
    std::string title, x_label, y_label;
    int width = 640, height = 520;
    bool dark = false;
};
FigureDrawing qk_drawing(const QKFigure& fig);

// "<scene title> — <what>", or "<what>" alone for an untitled scene (no dangling dash).
std::string figure_title(const std::string& scene_title, const std::string& what);
// Every figure of a scene for slides and papers, named "<stem>_<what>.svg": one pattern per head
// (<stem>_head<h>_pattern), all heads together (<stem>_heads), masked vs unmasked with their
// difference (<stem>_compare; scenes with a mask) and the shift plot (<stem>_shift).
// (and the query–key plot of every head, <stem>_head<h>_qk).
struct NamedFigure {
    std::string name;   // file name ("….svg")
    std::string svg;    // drawing_svg(drawing)
    FigureDrawing drawing;
};
std::vector<NamedFigure> scene_figures(const Scene& s, const Forward& f, const std::string& stem,
                                       Colormap cmap = Colormap::Viridis, bool dark = false);
// One figure each (what the window's "Export SVG" buttons write; token labels, colour bar,
// title, no UI): head `head`'s pattern; all heads; masked vs unmasked and the difference (the
// scene's forward pass and the same scene without its mask); E → E' in two dimensions.
struct FigureOptions {
    Colormap colormap = Colormap::Viridis;
    bool dark = false;
};
FigureDrawing figure_pattern(const Scene& s, const Forward& f, int head, const FigureOptions& opt = {});
FigureDrawing figure_heads(const Scene& s, const Forward& f, const FigureOptions& opt = {});
FigureDrawing figure_compare(const Scene& s, const Forward& masked, const Forward& unmasked, int head, const FigureOptions& opt = {});
FigureDrawing figure_shift(const Scene& s, const Forward& f, const FigureOptions& opt = {});
// Head `head` at a display stage (the heatmap view's figure): the pattern as figure_pattern; the
// raw, scaled and masked scores on the diverging map centred on zero (masked cells hatched).
FigureDrawing figure_stage(const Scene& s, const Forward& f, int head, Stage st, const FigureOptions& opt = {});
// The query–key plot of head `head` (projection: qk_plot(f.heads[head], qk), as the panel shows it).
FigureDrawing figure_qk(const Scene& s, const Forward& f, int head, const QKOptions& qk = {}, const FigureOptions& opt = {});
// Estimated width of `text` at font size `px`: 0.6 em per character, 1 em for CJK and emoji
// (what the figures lay out with; DejaVu Sans averages a little less).
double estimated_text_width(std::string_view text, double px);

// &, <, >, ", ' escaped; invalid UTF-8 and control characters replaced (XML 1.0 forbids them).
std::string xml_escape(std::string_view text);

}  // namespace attnviz
