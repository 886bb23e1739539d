#include "figure.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include <nlohmann/json.hpp>
#include <numeric>

#include "explain.hpp"  // format_cell
#include "tokenizer.hpp"

namespace attnviz {
namespace {

using Rgb = std::array<std::uint8_t, 3>;

std::string hex(Rgb c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c[0], c[1], c[2]);
    return buf;
}

std::string num(double x) {  // SVG coordinates: short and locale-free
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", x);
    std::string s = buf;
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s == "-0" ? "0" : s;
}

std::string label_number(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", x);
    return std::string(buf) == "-0" ? "0" : buf;
}

double text_width(const std::string& s, double px) { return estimated_text_width(s, px); }

// Colours of a theme.
struct Palette {
    Rgba8 bg;       // background
    Rgba8 fg;       // title, labels
    Rgba8 muted;    // axis names, ticks
    Rgba8 frame;    // outlines
    Rgba8 hatch_bg; // masked cells
    Rgba8 hatch_fg;
    Rgba8 grid;     // zero lines
};
constexpr Palette kLight{{255, 255, 255, 255}, {0, 0, 0, 255}, {0x44, 0x44, 0x44, 255}, {0x33, 0x33, 0x33, 255},
                         {0xd9, 0xd9, 0xd9, 255}, {0x8c, 0x8c, 0x8c, 255}, {0xcc, 0xcc, 0xcc, 255}};
constexpr Palette kDark{{0x1b, 0x1b, 0x1f, 255}, {0xec, 0xec, 0xec, 255}, {0xb4, 0xb4, 0xb4, 255}, {0xc8, 0xc8, 0xc8, 255},
                        {0x3a, 0x3a, 0x3f, 255}, {0x6e, 0x6e, 0x74, 255}, {0x48, 0x48, 0x4e, 255}};
const Palette& palette(bool dark) { return dark ? kDark : kLight; }

const char* kFont = "font-family=\"DejaVu Sans, Arial, sans-serif\"";

std::string hex(Rgba8 c) { return hex(Rgb{c[0], c[1], c[2]}); }

// Building a drawing.
struct Painter {
    FigureDrawing& d;
    double ox = 0, oy = 0;  // offset of the part being drawn
    FigureShape& rect(double x, double y, double w, double h, Rgba8 fill, const std::string& cls = {}) {
        FigureShape s;
        s.kind = FigureShape::Rect;
        s.x = ox + x; s.y = oy + y; s.w = w; s.h = h;
        s.fill = FillKind::Solid;
        s.color = fill;
        s.css_class = cls;
        d.shapes.push_back(std::move(s));
        return d.shapes.back();
    }
    FigureShape& frame(double x, double y, double w, double h, Rgba8 stroke, double width = 1) {
        FigureShape& s = rect(x, y, w, h, Rgba8{0, 0, 0, 0});
        s.fill = FillKind::None;
        s.stroke = stroke;
        s.stroke_width = width;
        return s;
    }
    FigureShape& line(double x1, double y1, double x2, double y2, Rgba8 color, double width = 1, const std::string& cls = {}) {
        FigureShape s;
        s.kind = FigureShape::Line;
        s.x = ox + x1; s.y = oy + y1; s.x2 = ox + x2; s.y2 = oy + y2;
        s.color = color;
        s.stroke_width = width;
        s.css_class = cls;
        d.shapes.push_back(std::move(s));
        return d.shapes.back();
    }
    FigureShape& circle(double cx, double cy, double r, Rgba8 fill, const std::string& cls = {}) {
        FigureShape s;
        s.kind = FigureShape::Circle;
        s.x = ox + cx; s.y = oy + cy; s.r = r;
        s.fill = FillKind::Solid;
        s.color = fill;
        s.css_class = cls;
        d.shapes.push_back(std::move(s));
        return d.shapes.back();
    }
    FigureShape& text(double x, double y, const std::string& t, double size, Rgba8 color, TextAnchor anchor = TextAnchor::Start,
                      double rotate = 0, const std::string& cls = {}) {
        FigureShape s;
        s.kind = FigureShape::Text;
        s.x = ox + x; s.y = oy + y;
        s.text = t;
        s.font_size = size;
        s.color = color;
        s.anchor = anchor;
        s.rotate = rotate;
        s.css_class = cls;
        d.shapes.push_back(std::move(s));
        return d.shapes.back();
    }
};

// Whole units: the SVG's size and the PNG's (× scale) agree exactly.
FigureDrawing new_drawing(double width, double height, const Palette& pal) {
    FigureDrawing d;
    d.width = std::ceil(width);
    d.height = std::ceil(height);
    d.background = pal.bg;
    d.hatch_bg = pal.hatch_bg;
    d.hatch_fg = pal.hatch_fg;
    return d;
}

std::string fill_attr(Rgba8 c) {
    std::string s = "fill=\"" + hex(c) + "\"";
    if (c[3] < 255) s += " fill-opacity=\"" + num(c[3] / 255.0) + "\"";
    return s;
}
std::string stroke_attr(Rgba8 c, double width) {
    std::string s = " stroke=\"" + hex(c) + "\" stroke-width=\"" + num(width) + "\"";
    if (c[3] < 255) s += " stroke-opacity=\"" + num(c[3] / 255.0) + "\"";
    return s;
}

}  // namespace

std::string xml_escape(std::string_view text) {
    const std::string clean = sanitize_utf8(text);
    std::string out;
    out.reserve(clean.size() + 8);
    for (char ch : clean) {
        switch (ch) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default:
                if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
                    out += "\xEF\xBF\xBD";  // U+FFFD: XML 1.0 has no control characters
                else
                    out += ch;
        }
    }
    return out;
}

std::array<int, 2> shift_plot_dims(const Scene& s, const Forward& f) {
    if (!s.view_json.empty()) {
        const auto view = nlohmann::json::parse(s.view_json, nullptr, false);
        if (view.is_object() && view.contains("shift_dims")) {
            const auto& d = view["shift_dims"];
            if (d.is_array() && d.size() == 2 && d[0].is_number_integer() && d[1].is_number_integer()) {
                const int a = d[0].get<int>(), b = d[1].get<int>();
                if (a >= 0 && a < s.d_model && b >= 0 && b < s.d_model) return {a, b};
            }
        }
    }
    std::vector<int> order(static_cast<std::size_t>(s.d_model));
    std::iota(order.begin(), order.end(), 0);
    if (f.delta.rows() == 0 || f.delta.cols() != s.d_model) return {0, s.d_model > 1 ? 1 : 0};
    const Eigen::RowVectorXf moved = f.delta.cwiseAbs().colwise().sum();
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return moved[a] > moved[b]; });
    return {order[0], s.d_model > 1 ? order[1] : order[0]};
}

namespace {

void check_heatmap(const HeatmapFigure& fig) {
    const Eigen::Index rows = fig.values.rows(), cols = fig.values.cols();
    if (rows * cols > kMaxSvgCells)
        throw SceneError("figure", std::to_string(rows) + " x " + std::to_string(cols) +
                                       " cells is too many for an SVG heatmap (at most " +
                                       std::to_string(kMaxSvgCells) + "); export PNG instead");
    if (!fig.row_labels.empty() && static_cast<Eigen::Index>(fig.row_labels.size()) != rows)
        throw SceneError("row_labels", "expected " + std::to_string(rows) + " labels, got " + std::to_string(fig.row_labels.size()));
    if (!fig.col_labels.empty() && static_cast<Eigen::Index>(fig.col_labels.size()) != cols)
        throw SceneError("col_labels", "expected " + std::to_string(cols) + " labels, got " + std::to_string(fig.col_labels.size()));
    if (!fig.allowed.empty() && static_cast<Eigen::Index>(fig.allowed.size()) != rows * cols)
        throw SceneError("allowed", "expected " + std::to_string(rows * cols) + " entries, got " + std::to_string(fig.allowed.size()));
    if (fig.cell_px < 2 || fig.cell_px > 400) throw SceneError("cell_px", "expected 2..400, got " + std::to_string(fig.cell_px));
    // A NaN or +∞ in a cell the mask allows is a wrong number, never drawn as if masked; −∞ is
    // the masked stage's value (hatched).
    for (Eigen::Index i = 0; i < rows; ++i)
        for (Eigen::Index j = 0; j < cols; ++j) {
            const float v = fig.values(i, j);
            const bool cell_masked = !fig.allowed.empty() && fig.allowed[static_cast<std::size_t>(i * cols + j)] == 0;
            if (!cell_masked && (std::isnan(v) || v == INFINITY))
                throw SceneError("values[" + std::to_string(i) + "][" + std::to_string(j) + "]",
                                 std::string("is ") + (std::isnan(v) ? "NaN" : "+infinity") +
                                     ": refusing to draw a number that is not finite");
        }
}

// Where one heatmap's parts go, relative to its own top-left corner.
struct HeatLayout {
    double cell = 0, font = 0, label_font = 14;
    double title_h = 0, left = 0, top = 0, grid_w = 0, grid_h = 0, bar_x = 0, bar_w = 18, width = 0, height = 0;
    double title_size = 18;
};

HeatLayout heat_layout(const HeatmapFigure& fig, double title_size) {
    HeatLayout L;
    const Eigen::Index rows = fig.values.rows(), cols = fig.values.cols();
    L.cell = fig.cell_px;
    L.font = std::clamp(L.cell * 0.4, 8.0, 18.0);
    L.title_size = title_size;
    double row_label_w = 0, col_label_w = 0;
    for (const auto& l : fig.row_labels) row_label_w = std::max(row_label_w, text_width(l, L.label_font));
    for (const auto& l : fig.col_labels) col_label_w = std::max(col_label_w, text_width(l, L.label_font));
    L.title_h = fig.title.empty() ? 10.0 : title_size + 16.0;
    L.left = 30.0 + row_label_w + 8.0;                            // axis name, labels, gap
    L.top = L.title_h + 22.0 + col_label_w * 0.87 + L.label_font * 0.5 + 8.0;  // axis name, labels at −60°
    L.grid_w = L.cell * static_cast<double>(cols);
    L.grid_h = L.cell * static_cast<double>(rows);
    L.bar_x = L.left + L.grid_w + 20.0;
    L.width = std::max(L.bar_x + L.bar_w + 70.0, text_width(fig.title, title_size) + 30.0);
    // a column label at −60° reaches right by half its length (and its height's share)
    for (Eigen::Index j = 0; j < static_cast<Eigen::Index>(fig.col_labels.size()); ++j)
        L.width = std::max(L.width, L.left + L.cell * (static_cast<double>(j) + 0.5) +
                                        text_width(fig.col_labels[static_cast<std::size_t>(j)], L.label_font) * 0.5 + L.label_font + 4.0);
    L.height = L.top + L.grid_h + 20.0;
    return L;
}

// One heatmap with its top-left corner at (ox, oy).
void heat_emit(FigureDrawing& d, const HeatmapFigure& fig, const HeatLayout& L, double ox, double oy, const Palette& pal) {
    Painter p{d, ox, oy};
    const Eigen::Index rows = fig.values.rows(), cols = fig.values.cols();
    auto masked = [&](Eigen::Index i, Eigen::Index j) {
        return (!fig.allowed.empty() && fig.allowed[static_cast<std::size_t>(i * cols + j)] == 0) ||
               !std::isfinite(fig.values(i, j));
    };
    // Colour range: given, or the finite unmasked values' range (ImPlot's 0..0 = automatic).
    double lo = fig.vmin, hi = fig.vmax;
    if (lo == 0.0 && hi == 0.0) {
        lo = INFINITY;
        hi = -INFINITY;
        for (Eigen::Index i = 0; i < rows; ++i)
            for (Eigen::Index j = 0; j < cols; ++j)
                if (!masked(i, j)) {
                    lo = std::min(lo, static_cast<double>(fig.values(i, j)));
                    hi = std::max(hi, static_cast<double>(fig.values(i, j)));
                }
        if (!(lo <= hi)) lo = hi = 0.0;
    }
    const double span = hi - lo;  // 0: one colour (the middle), no division by zero
    const double cell = L.cell, left = L.left, top = L.top, grid_w = L.grid_w, grid_h = L.grid_h;
    const double label_font = L.label_font;
    if (!fig.title.empty()) p.text(L.width / 2, L.title_size + 6, fig.title, L.title_size, pal.fg, TextAnchor::Middle, 0, "title");
    // Axis names.
    p.text(left + grid_w / 2, L.title_h + 12, fig.col_axis, 13, pal.muted, TextAnchor::Middle);
    p.text(16, top + grid_h / 2, fig.row_axis, 13, pal.muted, TextAnchor::Middle, -90);
    // Labels.
    for (Eigen::Index i = 0; i < static_cast<Eigen::Index>(fig.row_labels.size()); ++i)
        p.text(left - 6, top + cell * (i + 0.5) + label_font * 0.35, fig.row_labels[static_cast<std::size_t>(i)], label_font, pal.fg,
               TextAnchor::End, 0, "row-label");
    for (Eigen::Index j = 0; j < static_cast<Eigen::Index>(fig.col_labels.size()); ++j)
        p.text(left + cell * (j + 0.5), top - 6, fig.col_labels[static_cast<std::size_t>(j)], label_font, pal.fg, TextAnchor::Start, -60,
               "col-label");
    // Cells.
    const bool values_fit = fig.show_values && cell >= 28;
    for (Eigen::Index i = 0; i < rows; ++i)
        for (Eigen::Index j = 0; j < cols; ++j) {
            const double x = left + cell * j, y = top + cell * i;
            if (masked(i, j)) {
                FigureShape& r = p.rect(x, y, cell, cell, pal.hatch_bg, "cell masked");
                r.fill = FillKind::Hatch;
                r.crisp = true;
                continue;
            }
            const double v = fig.values(i, j);
            const float t = span > 0 ? static_cast<float>((v - lo) / span) : 0.5f;
            const Rgb c = colormap_rgb(fig.colormap, t);
            FigureShape& r = p.rect(x, y, cell, cell, Rgba8{c[0], c[1], c[2], 255}, "cell");
            r.crisp = true;
            r.tooltip = label_number(v);
            if (values_fit) {
                const bool dark_text = dark_text_on(Rgba8{c[0], c[1], c[2], 255});
                const std::string text = format_cell(v);
                const double fs = std::min(L.font, 1.6 * cell / static_cast<double>(std::max<std::size_t>(text.size(), 1)));
                p.text(x + cell / 2, y + cell / 2 + fs * 0.35, text, fs, dark_text ? Rgba8{0, 0, 0, 255} : Rgba8{255, 255, 255, 255},
                       TextAnchor::Middle);
            }
        }
    p.frame(left, top, grid_w, grid_h, pal.frame);
    // Colour bar with its range.
    FigureShape& bar = p.frame(L.bar_x, top, L.bar_w, grid_h, pal.frame);
    bar.fill = FillKind::Gradient;
    bar.gradient = fig.colormap;
    bar.css_class = "colorbar";
    p.text(L.bar_x + L.bar_w + 4, top + 10, label_number(hi), 12, pal.fg);
    p.text(L.bar_x + L.bar_w + 4, top + grid_h, label_number(lo), 12, pal.fg);
}

}  // namespace

std::string drawing_svg(const FigureDrawing& d) {
    std::ostringstream o;
    o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << num(d.width) << "\" height=\"" << num(d.height)
      << "\" viewBox=\"0 0 " << num(d.width) << " " << num(d.height) << "\">\n";
    // Definitions the shapes use: the hatch, one gradient per colour map, the arrow head.
    bool hatch = false;
    std::vector<Colormap> maps;
    const FigureShape* arrow = nullptr;
    for (const FigureShape& s : d.shapes) {
        hatch = hatch || s.fill == FillKind::Hatch;
        if (s.fill == FillKind::Gradient && std::find(maps.begin(), maps.end(), s.gradient) == maps.end()) maps.push_back(s.gradient);
        if (s.kind == FigureShape::Line && s.arrow && !arrow) arrow = &s;
    }
    o << "<defs>\n";
    if (hatch)
        o << "<pattern id=\"hatch\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" patternTransform=\"rotate(45)\">"
          << "<rect width=\"6\" height=\"6\" fill=\"" << hex(d.hatch_bg) << "\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\""
          << hex(d.hatch_fg) << "\" stroke-width=\"2\"/></pattern>\n";
    for (Colormap c : maps) {
        o << "<linearGradient id=\"bar-" << colormap_name(c) << "\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">";
        for (int k = 0; k <= 10; ++k)
            o << "<stop offset=\"" << num(k / 10.0) << "\" stop-color=\"" << hex(colormap_rgb(c, k / 10.0f)) << "\"/>";
        o << "</linearGradient>\n";
    }
    if (arrow)  // the head: 8 × stroke width long (markerUnits = strokeWidth), its tip at the line's end
        o << "<marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\">"
          << "<path d=\"M 0 0 L 10 5 L 0 10 z\" " << fill_attr(arrow->color) << "/></marker>\n";
    o << "</defs>\n";
    o << "<rect width=\"100%\" height=\"100%\" " << fill_attr(d.background) << "/>\n";
    auto cls = [](const FigureShape& s) { return s.css_class.empty() ? std::string() : " class=\"" + s.css_class + "\""; };
    for (const FigureShape& s : d.shapes) {
        switch (s.kind) {
            case FigureShape::Rect: {
                o << "<rect" << cls(s) << " x=\"" << num(s.x) << "\" y=\"" << num(s.y) << "\" width=\"" << num(s.w) << "\" height=\""
                  << num(s.h) << "\"";
                if (s.crisp) o << " shape-rendering=\"crispEdges\"";
                if (s.stroke[3] > 0) o << stroke_attr(s.stroke, s.stroke_width);
                switch (s.fill) {
                    case FillKind::None: o << " fill=\"none\""; break;
                    case FillKind::Solid: o << " " << fill_attr(s.color); break;
                    case FillKind::Hatch: o << " fill=\"url(#hatch)\""; break;
                    case FillKind::Gradient: o << " fill=\"url(#bar-" << colormap_name(s.gradient) << ")\""; break;
                }
                if (s.tooltip.empty()) o << "/>\n";
                else o << "><title>" << xml_escape(s.tooltip) << "</title></rect>\n";
                break;
            }
            case FigureShape::Line:
                o << "<line" << cls(s) << " x1=\"" << num(s.x) << "\" y1=\"" << num(s.y) << "\" x2=\"" << num(s.x2) << "\" y2=\""
                  << num(s.y2) << "\"" << stroke_attr(s.color, s.stroke_width) << (s.arrow ? " marker-end=\"url(#arrow)\"" : "") << "/>\n";
                break;
            case FigureShape::Circle:
                o << "<circle" << cls(s) << " cx=\"" << num(s.x) << "\" cy=\"" << num(s.y) << "\" r=\"" << num(s.r) << "\" "
                  << (s.fill == FillKind::Solid ? fill_attr(s.color) : std::string("fill=\"none\""))
                  << (s.stroke[3] > 0 ? stroke_attr(s.stroke, s.stroke_width) : std::string()) << "/>\n";
                break;
            case FigureShape::Text: {
                // Every <text> carries its font-size and text-anchor, so its box can be estimated
                // from the element alone.
                const char* anchor = s.anchor == TextAnchor::Middle ? "middle" : s.anchor == TextAnchor::End ? "end" : "start";
                o << "<text" << cls(s);
                if (s.rotate != 0)
                    o << " transform=\"translate(" << num(s.x) << " " << num(s.y) << ") rotate(" << num(s.rotate) << ")\"";
                else
                    o << " x=\"" << num(s.x) << "\" y=\"" << num(s.y) << "\"";
                o << " text-anchor=\"" << anchor << "\" font-size=\"" << num(s.font_size) << "\" " << fill_attr(s.color) << " " << kFont
                  << ">" << xml_escape(s.text) << "</text>\n";
                break;
            }
        }
    }
    o << "</svg>\n";
    return o.str();
}

FigureDrawing heatmap_drawing(const HeatmapFigure& fig) {
    check_heatmap(fig);
    const HeatLayout L = heat_layout(fig, 18.0);
    FigureDrawing d = new_drawing(L.width, L.height, palette(fig.dark));
    heat_emit(d, fig, L, 0, 0, palette(fig.dark));
    return d;
}

FigureDrawing heatmaps_drawing(const HeatmapsFigure& fig) {
    if (fig.panels.empty()) throw SceneError("panels", "a figure of several heatmaps needs at least one");
    std::vector<HeatLayout> layouts;
    for (const auto& p : fig.panels) {
        check_heatmap(p);
        layouts.push_back(heat_layout(p, 15.0));
    }
    const int n = static_cast<int>(fig.panels.size());
    const int per_row = fig.columns > 0 ? fig.columns : std::min(n, 4);
    const double title_h = fig.title.empty() ? 0.0 : 40.0;
    // rows of panels: each row as tall as its tallest panel, each column as wide as its widest
    std::vector<double> col_w(static_cast<std::size_t>(per_row), 0.0), row_h(static_cast<std::size_t>((n + per_row - 1) / per_row), 0.0);
    for (int k = 0; k < n; ++k) {
        col_w[static_cast<std::size_t>(k % per_row)] = std::max(col_w[static_cast<std::size_t>(k % per_row)], layouts[static_cast<std::size_t>(k)].width);
        row_h[static_cast<std::size_t>(k / per_row)] = std::max(row_h[static_cast<std::size_t>(k / per_row)], layouts[static_cast<std::size_t>(k)].height);
    }
    double width = 0, height = title_h;
    for (double w : col_w) width += w;
    for (double h : row_h) height += h;
    width = std::max(width, text_width(fig.title, 20.0) + 30.0);
    const Palette& pal = palette(fig.dark);
    FigureDrawing d = new_drawing(width, height, pal);
    if (!fig.title.empty()) Painter{d}.text(width / 2, 28, fig.title, 20, pal.fg, TextAnchor::Middle, 0, "title");
    double y = title_h;
    for (std::size_t r = 0; r < row_h.size(); ++r) {
        double x = 0;
        for (int c = 0; c < per_row; ++c) {
            const int k = static_cast<int>(r) * per_row + c;
            if (k >= n) break;
            heat_emit(d, fig.panels[static_cast<std::size_t>(k)], layouts[static_cast<std::size_t>(k)], x, y, pal);
            x += col_w[static_cast<std::size_t>(c)];
        }
        y += row_h[r];
    }
    return d;
}

std::string heatmap_svg(const HeatmapFigure& fig) { return drawing_svg(heatmap_drawing(fig)); }

namespace {

// A scatter plot's frame, zero lines, range ticks and axis names; maps data to figure units.
struct PlotArea {
    double left = 60, right = 20, top = 44, bottom = 50;
    double x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
    double pw = 0, ph = 0;
    double X(double x) const { return left + (x - x_lo) / (x_hi - x_lo) * pw; }
    double Y(double y) const { return top + ph - (y - y_lo) / (y_hi - y_lo) * ph; }
};

// Data ranges padded by 12 % (a point set without spread: ±0.5).
PlotArea plot_area(double W, double H, bool titled, double x_lo, double x_hi, double y_lo, double y_hi, double extra_top = 0) {
    auto pad = [](double& lo, double& hi) {
        const double span = hi - lo;
        const double p = span > 0 ? span * 0.12 : 0.5;
        lo -= p;
        hi += p;
    };
    pad(x_lo, x_hi);
    pad(y_lo, y_hi);
    PlotArea a;
    a.top = (titled ? 44 : 20) + extra_top;
    a.x_lo = x_lo; a.x_hi = x_hi; a.y_lo = y_lo; a.y_hi = y_hi;
    a.pw = W - a.left - a.right;
    a.ph = H - a.top - a.bottom;
    return a;
}

void plot_axes(Painter& p, const PlotArea& a, double H, const std::string& x_label, const std::string& y_label, const Palette& pal) {
    p.frame(a.left, a.top, a.pw, a.ph, pal.frame);
    if (a.x_lo < 0 && a.x_hi > 0) p.line(a.X(0), a.top, a.X(0), a.top + a.ph, pal.grid);
    if (a.y_lo < 0 && a.y_hi > 0) p.line(a.left, a.Y(0), a.left + a.pw, a.Y(0), pal.grid);
    // Ticks outside the plot frame (below it, left of it): point labels stay inside the frame.
    p.text(a.left, a.top + a.ph + 16, label_number(a.x_lo), 12, pal.muted);
    p.text(a.left + a.pw, a.top + a.ph + 16, label_number(a.x_hi), 12, pal.muted, TextAnchor::End);
    p.text(a.left - 4, a.top + a.ph, label_number(a.y_lo), 12, pal.muted, TextAnchor::End);
    p.text(a.left - 4, a.top + 10, label_number(a.y_hi), 12, pal.muted, TextAnchor::End);
    p.text(a.left + a.pw / 2, H - 12, x_label, 14, pal.muted, TextAnchor::Middle);
    p.text(18, a.top + a.ph / 2, y_label, 14, pal.muted, TextAnchor::Middle, -90);
}

// Point labels: right of the point, or left of it when it would leave the frame; inside the frame
// vertically; moved down (then up) past labels already placed.
struct LabelPlacer {
    std::vector<std::array<double, 4>> boxes;  // labels placed so far (x0, y0, x1, y1)
    bool overlaps(const std::array<double, 4>& b) const {
        for (const auto& q : boxes)
            if (b[0] < q[2] && q[0] < b[2] && b[1] < q[3] && q[1] < b[3]) return true;
        return false;
    }
    void place(Painter& p, const PlotArea& a, double bx, double by, const std::string& label, double px, Rgba8 color) {
        const double left = a.left, pw = a.pw, top = a.top, ph = a.ph;
        const double w = text_width(label, px);
        const bool to_left = bx + 7 + w > left + pw - 2;
        double x0 = to_left ? std::max(left + 2, bx - 7 - w) : bx + 7;
        x0 = std::min(x0, left + pw - 2 - w);
        x0 = std::max(x0, left + 2);
        double base = std::clamp(by - 7, top + px, top + ph - 4);
        auto box_at = [&](double b) { return std::array<double, 4>{x0, b - px * 0.8, x0 + w, b + px * 0.25}; };
        for (int step = 1; step <= 40 && overlaps(box_at(base)); ++step)
            base = std::clamp(by - 7 + px * 1.1 * ((step + 1) / 2) * (step % 2 ? 1 : -1), top + px, top + ph - 4);
        boxes.push_back(box_at(base));
        p.text(x0, base, label, px, color);
    }
};

constexpr Rgba8 kArrowRed{0xd6, 0x27, 0x28, 255};
constexpr Rgba8 kPointBlue{0x1f, 0x77, 0xb4, 255};

}  // namespace

FigureDrawing shift_drawing(const ShiftFigure& fig) {
    if (fig.width < 100 || fig.height < 100 || fig.width > 10000 || fig.height > 10000)
        throw SceneError("figure", "width and height must be 100..10000");
    for (std::size_t k = 0; k < fig.points.size(); ++k) {
        const auto& p = fig.points[k];
        if (!std::isfinite(p.x0) || !std::isfinite(p.y0) || !std::isfinite(p.x1) || !std::isfinite(p.y1))
            throw SceneError("points[" + std::to_string(k) + "]", "coordinates must be finite numbers");
    }
    double x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
    if (!fig.points.empty()) {
        x_lo = y_lo = INFINITY;
        x_hi = y_hi = -INFINITY;
        for (const auto& p : fig.points) {
            x_lo = std::min({x_lo, double(p.x0), double(p.x1)});
            x_hi = std::max({x_hi, double(p.x0), double(p.x1)});
            y_lo = std::min({y_lo, double(p.y0), double(p.y1)});
            y_hi = std::max({y_hi, double(p.y0), double(p.y1)});
        }
    }
    const Palette& pal = palette(fig.dark);
    const double W = fig.width, H = fig.height;
    const PlotArea a = plot_area(W, H, !fig.title.empty(), x_lo, x_hi, y_lo, y_hi);
    FigureDrawing d = new_drawing(W, H, pal);
    Painter p{d};
    if (!fig.title.empty()) p.text(W / 2, 28, fig.title, 18, pal.fg, TextAnchor::Middle, 0, "title");
    plot_axes(p, a, H, fig.x_label, fig.y_label, pal);
    LabelPlacer labels;
    for (const auto& q : fig.points) {
        const double ax = a.X(q.x0), ay = a.Y(q.y0), bx = a.X(q.x1), by = a.Y(q.y1);
        FigureShape& start = p.circle(ax, ay, 4, pal.bg, "shift");
        start.stroke = kPointBlue;
        start.stroke_width = 2;
        if (std::hypot(bx - ax, by - ay) > 6.0) p.line(ax, ay, bx, by, kArrowRed, 2, "arrow").arrow = true;  // a visible move
        p.circle(bx, by, 4, kPointBlue);
        labels.place(p, a, bx, by, q.label, 14.0, pal.fg);
    }
    return d;
}

std::string shift_svg(const ShiftFigure& fig) { return drawing_svg(shift_drawing(fig)); }

FigureDrawing qk_drawing(const QKFigure& fig) {
    if (fig.width < 100 || fig.height < 100 || fig.width > 10000 || fig.height > 10000)
        throw SceneError("figure", "width and height must be 100..10000");
    if (fig.queries.cols() != 2 || fig.keys.cols() != 2) throw SceneError("figure", "queries and keys must be (n, 2) plot coordinates");
    if (!fig.query_labels.empty() && static_cast<Eigen::Index>(fig.query_labels.size()) != fig.queries.rows())
        throw SceneError("query_labels", "expected " + std::to_string(fig.queries.rows()) + " labels, got " + std::to_string(fig.query_labels.size()));
    if (!fig.key_labels.empty() && static_cast<Eigen::Index>(fig.key_labels.size()) != fig.keys.rows())
        throw SceneError("key_labels", "expected " + std::to_string(fig.keys.rows()) + " labels, got " + std::to_string(fig.key_labels.size()));
    if (!fig.queries.allFinite() || !fig.keys.allFinite()) throw SceneError("figure", "query and key coordinates must be finite numbers");
    double x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
    if (fig.queries.rows() + fig.keys.rows() > 0) {
        x_lo = y_lo = INFINITY;
        x_hi = y_hi = -INFINITY;
        for (const Mat* m : {&fig.queries, &fig.keys})
            for (Eigen::Index i = 0; i < m->rows(); ++i) {
                x_lo = std::min(x_lo, double((*m)(i, 0)));
                x_hi = std::max(x_hi, double((*m)(i, 0)));
                y_lo = std::min(y_lo, double((*m)(i, 1)));
                y_hi = std::max(y_hi, double((*m)(i, 1)));
            }
    }
    const Palette& pal = palette(fig.dark);
    const Rgba8 query_color = fig.dark ? Rgba8{255, 150, 60, 255} : Rgba8{0xe0, 0x6c, 0x10, 255};
    const Rgba8 key_color = fig.dark ? Rgba8{70, 190, 255, 255} : Rgba8{0x1f, 0x77, 0xb4, 255};
    const double W = std::max<double>(fig.width, text_width(fig.title, 18) + 30), H = fig.height;  // the title fits
    const double legend_h = 22;
    const PlotArea a = plot_area(W, H, !fig.title.empty(), x_lo, x_hi, y_lo, y_hi, legend_h);
    FigureDrawing d = new_drawing(W, H, pal);
    Painter p{d};
    if (!fig.title.empty()) p.text(W / 2, 28, fig.title, 18, pal.fg, TextAnchor::Middle, 0, "title");
    // Legend above the frame: ● query q_i   ■ key k_j
    const double ly = a.top - legend_h + 6;
    p.circle(a.left + 6, ly, 5, query_color);
    p.text(a.left + 16, ly + 5, "query q_i", 14, pal.fg);
    const double kx = a.left + 16 + text_width("query q_i", 14) + 20;
    p.rect(kx, ly - 5, 10, 10, key_color);
    p.text(kx + 16, ly + 5, "key k_j", 14, pal.fg);
    plot_axes(p, a, H, fig.x_label, fig.y_label, pal);
    const Eigen::Index n = fig.queries.rows(), m = fig.keys.rows();
    const double r = n + m > 400 ? 2.5 : 5.0;
    for (Eigen::Index j = 0; j < m; ++j) p.rect(a.X(fig.keys(j, 0)) - r, a.Y(fig.keys(j, 1)) - r, 2 * r, 2 * r, key_color, "key");
    for (Eigen::Index i = 0; i < n; ++i) p.circle(a.X(fig.queries(i, 0)), a.Y(fig.queries(i, 1)), r + 0.5, query_color, "query");
    if (n + m <= 128) {
        LabelPlacer labels;
        for (Eigen::Index i = 0; i < static_cast<Eigen::Index>(fig.query_labels.size()); ++i)
            labels.place(p, a, a.X(fig.queries(i, 0)), a.Y(fig.queries(i, 1)), fig.query_labels[static_cast<std::size_t>(i)], 13, query_color);
        for (Eigen::Index j = 0; j < static_cast<Eigen::Index>(fig.key_labels.size()); ++j)
            labels.place(p, a, a.X(fig.keys(j, 0)), a.Y(fig.keys(j, 1)), fig.key_labels[static_cast<std::size_t>(j)], 13, key_color);
    }
    return d;
}

double estimated_text_width(std::string_view text, double px) {
    double em = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto b = static_cast<unsigned char>(text[i]);
        if ((b & 0xC0) == 0x80) continue;  // continuation byte
        // 4-byte sequences (emoji, rare CJK) and 3-byte ones from U+2E80 (CJK, kana, Hangul, full width): 1 em
        const bool wide = b >= 0xF0 || (b >= 0xE2 && b <= 0xEF && (b > 0xE2 || (i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0xBA)));
        em += wide ? 1.0 : 0.6;
    }
    return em * px;
}

std::string figure_title(const std::string& scene_title, const std::string& what) {
    if (scene_title.empty()) {
        std::string t = what;
        if (!t.empty() && t[0] >= 'a' && t[0] <= 'z') t[0] = static_cast<char>(t[0] - 'a' + 'A');
        return t;
    }
    return scene_title + " \xE2\x80\x94 " + what;
}

namespace {

struct SceneLabels {
    std::vector<std::string> rows, cols;
    std::vector<std::uint8_t> allowed;  // (n·m)
    int cell = 36;
};

SceneLabels scene_labels(const Scene& s) {
    SceneLabels L;
    L.rows = token_texts(s.input.tokens);
    L.cols = token_texts(s.source ? s.source->tokens : s.input.tokens);
    L.allowed.resize(static_cast<std::size_t>(s.n()) * static_cast<std::size_t>(s.m()));
    for (int i = 0; i < s.n(); ++i)
        for (int j = 0; j < s.m(); ++j) L.allowed[static_cast<std::size_t>(i) * s.m() + j] = s.mask.allows(i, j) ? 1 : 0;
    L.cell = s.n() > 24 || s.m() > 24 ? 16 : 36;
    return L;
}

HeatmapFigure pattern_panel(const SceneLabels& L, const Mat& values, const std::string& title, const FigureOptions& opt) {
    HeatmapFigure fig;
    fig.values = values;
    fig.row_labels = L.rows;
    fig.col_labels = L.cols;
    fig.allowed = L.allowed;
    fig.colormap = opt.colormap;
    fig.vmin = 0.0f;  // a pattern is a probability: fixed 0..1 scale across figures
    fig.vmax = 1.0f;
    fig.title = title;
    fig.cell_px = L.cell;
    fig.dark = opt.dark;
    return fig;
}

void check_head(const Scene& s, const Forward& f, int head) {
    if (head < 0 || head >= s.n_heads || static_cast<std::size_t>(head) >= f.heads.size())
        throw SceneError("head", std::to_string(head) + " is out of range 0.." + std::to_string(s.n_heads - 1));
}

}  // namespace

FigureDrawing figure_pattern(const Scene& s, const Forward& f, int head, const FigureOptions& opt) {
    check_head(s, f, head);
    const SceneLabels L = scene_labels(s);
    return heatmap_drawing(pattern_panel(L, f.heads[static_cast<std::size_t>(head)].pattern,
                                         figure_title(s.title, "head " + std::to_string(head) + " pattern"), opt));
}

FigureDrawing figure_stage(const Scene& s, const Forward& f, int head, Stage st, const FigureOptions& opt) {
    if (st == Stage::Pattern) return figure_pattern(s, f, head, opt);
    check_head(s, f, head);
    const SceneLabels L = scene_labels(s);
    const char* what = st == Stage::Raw ? "raw scores q\xC2\xB7k" : st == Stage::Scaled ? "scaled scores" : "masked scores";
    HeatmapFigure fig = pattern_panel(L, stage_matrix(s, f.heads[static_cast<std::size_t>(head)], st),
                                      figure_title(s.title, "head " + std::to_string(head) + " " + what), opt);
    if (st != Stage::Masked) fig.allowed.clear();
    fig.colormap = Colormap::Diverging;
    float reach = 0;
    for (Eigen::Index i = 0; i < fig.values.rows(); ++i)
        for (Eigen::Index j = 0; j < fig.values.cols(); ++j)
            if (std::isfinite(fig.values(i, j))) reach = std::max(reach, std::abs(fig.values(i, j)));
    reach = std::max(reach, 1e-6f);
    fig.vmin = -reach;  // zero in the middle
    fig.vmax = reach;
    return heatmap_drawing(fig);
}

FigureDrawing figure_heads(const Scene& s, const Forward& f, const FigureOptions& opt) {
    const SceneLabels L = scene_labels(s);
    HeatmapsFigure heads;
    heads.title = figure_title(s.title, "all " + std::to_string(s.n_heads) + (s.n_heads == 1 ? " head" : " heads"));
    heads.dark = opt.dark;
    for (int h = 0; h < s.n_heads; ++h) {
        check_head(s, f, h);
        heads.panels.push_back(pattern_panel(L, f.heads[static_cast<std::size_t>(h)].pattern, "head " + std::to_string(h), opt));
    }
    return heatmaps_drawing(heads);
}

FigureDrawing figure_compare(const Scene& s, const Forward& masked, const Forward& unmasked, int head, const FigureOptions& opt) {
    check_head(s, masked, head);
    check_head(s, unmasked, head);
    const SceneLabels L = scene_labels(s);
    const Mat& pm = masked.heads[static_cast<std::size_t>(head)].pattern;
    const Mat& pu = unmasked.heads[static_cast<std::size_t>(head)].pattern;
    HeatmapsFigure cmp;
    cmp.title = figure_title(s.title, "head " + std::to_string(head) + " masked vs unmasked");
    cmp.dark = opt.dark;
    cmp.columns = 3;
    std::string mask_words = mask_type_name(s.mask.type);  // "sliding window", not sliding_window
    std::replace(mask_words.begin(), mask_words.end(), '_', ' ');
    cmp.panels.push_back(pattern_panel(L, pm, "masked (" + mask_words + ")", opt));
    HeatmapFigure un = pattern_panel(L, pu, "unmasked", opt);
    un.allowed.clear();
    cmp.panels.push_back(un);
    HeatmapFigure diff = pattern_panel(L, pm - pu, "masked \xE2\x88\x92 unmasked", opt);
    diff.allowed.clear();
    diff.colormap = Colormap::Diverging;
    const float reach = std::max(1e-6f, diff.values.size() ? diff.values.cwiseAbs().maxCoeff() : 0.0f);
    diff.vmin = -reach;  // zero in the middle (light grey)
    diff.vmax = reach;
    cmp.panels.push_back(diff);
    return heatmaps_drawing(cmp);
}

FigureDrawing figure_shift(const Scene& s, const Forward& f, const FigureOptions& opt) {
    const auto rows = token_texts(s.input.tokens);
    const auto [dx, dy] = shift_plot_dims(s, f);
    ShiftFigure sf;
    sf.title = figure_title(s.title, "E to E'");
    sf.x_label = "dimension " + std::to_string(dx);
    sf.y_label = "dimension " + std::to_string(dy);
    sf.dark = opt.dark;
    for (int i = 0; i < s.n(); ++i)
        sf.points.push_back({rows[static_cast<std::size_t>(i)] + " (" + std::to_string(i) + ")", f.E(i, dx), f.E(i, dy), f.output(i, dx),
                             f.output(i, dy)});
    return shift_drawing(sf);
}

FigureDrawing figure_qk(const Scene& s, const Forward& f, int head, const QKOptions& qk, const FigureOptions& opt) {
    check_head(s, f, head);
    const HeadResult& hr = f.heads[static_cast<std::size_t>(head)];
    const QKPlot plot = qk_plot(hr, qk);  // the query–key panel's projection
    QKFigure fig;
    fig.queries = plot.queries;
    fig.keys = plot.keys;
    fig.query_labels = token_texts(s.input.tokens);
    fig.key_labels = token_texts(s.source ? s.source->tokens : s.input.tokens);
    for (std::size_t i = 0; i < fig.query_labels.size(); ++i) fig.query_labels[i] += " (" + std::to_string(i) + ")";
    for (std::size_t j = 0; j < fig.key_labels.size(); ++j) fig.key_labels[j] += " (" + std::to_string(j) + ")";
    fig.title = figure_title(s.title, "head " + std::to_string(head) + " queries and keys");
    const double total = plot.plane.total_variance > 0 ? plot.plane.total_variance : 1.0;
    char buf[64];
    std::snprintf(buf, sizeof buf, "PCA axis 1 (%.0f%% of the spread)", 100.0 * plot.plane.variance[0] / total);
    fig.x_label = buf;
    std::snprintf(buf, sizeof buf, "PCA axis 2 (%.0f%%)", 100.0 * plot.plane.variance[1] / total);
    fig.y_label = buf;
    fig.dark = opt.dark;
    return qk_drawing(fig);
}

std::vector<NamedFigure> scene_figures(const Scene& s, const Forward& f, const std::string& stem, Colormap cmap, bool dark) {
    const FigureOptions opt{cmap, dark};
    std::vector<NamedFigure> out;
    auto add = [&](const std::string& name, FigureDrawing d) {
        std::string svg = drawing_svg(d);
        out.push_back({name, std::move(svg), std::move(d)});
    };
    for (int h = 0; h < s.n_heads; ++h) add(stem + "_head" + std::to_string(h) + "_pattern.svg", figure_pattern(s, f, h, opt));
    add(stem + "_heads.svg", figure_heads(s, f, opt));
    if (s.mask.type != MaskType::None) {
        Scene u = s;
        u.mask = Mask::none();
        add(stem + "_compare.svg", figure_compare(s, f, forward(u), 0, opt));
    }
    add(stem + "_shift.svg", figure_shift(s, f, opt));
    for (int h = 0; h < s.n_heads; ++h) add(stem + "_head" + std::to_string(h) + "_qk.svg", figure_qk(s, f, h, QKOptions{}, opt));
    return out;
}

}  // namespace attnviz
