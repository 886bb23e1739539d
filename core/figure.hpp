// attnviz core — figures for slides and papers, as SVG text.
//
// A heatmap (a matrix with row and column token labels, a colour map, a colour bar, masked cells
// hatched) and the shift plot (labelled points with arrows from E to E'). The app rasterises to
// PNG itself; these are vector figures written by core so the command line can make them too.
// Token text is XML-escaped; the output is a standalone, well-formed SVG 1.1 document.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "types.hpp"

namespace attnviz {

enum class Colormap { Viridis, Cividis, Magma, Gray };
const char* colormap_name(Colormap c);                 // "viridis", …
bool colormap_from_name(const std::string& s, Colormap& out);
// The colour at t in [0, 1] (clamped), as 8-bit RGB: a few key colours, linearly interpolated.
std::array<std::uint8_t, 3> colormap_rgb(Colormap c, float t);

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
};

// The largest heatmap written as SVG (cells); larger ones throw SceneError("figure", …): use PNG.
inline constexpr std::int64_t kMaxSvgCells = 512 * 512;

// Throws SceneError naming the field when labels or `allowed` do not match the matrix.
std::string heatmap_svg(const HeatmapFigure& fig);
std::string shift_svg(const ShiftFigure& fig);

// &, <, >, ", ' escaped; invalid UTF-8 and control characters replaced (XML 1.0 forbids them).
std::string xml_escape(std::string_view text);

}  // namespace attnviz
