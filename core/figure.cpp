#include "figure.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "tokenizer.hpp"

namespace attnviz {
namespace {

// Key colours at t = 0, 0.25, 0.5, 0.75, 1 (sampled from the matplotlib maps).
using Rgb = std::array<std::uint8_t, 3>;
constexpr std::array<Rgb, 5> kViridis{{{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}}};
constexpr std::array<Rgb, 5> kCividis{{{0, 34, 78}, {61, 77, 110}, {125, 124, 120}, {187, 175, 113}, {254, 232, 56}}};
constexpr std::array<Rgb, 5> kMagma{{{0, 0, 4}, {81, 18, 124}, {183, 55, 121}, {252, 137, 97}, {252, 253, 191}}};
constexpr std::array<Rgb, 5> kGray{{{0, 0, 0}, {64, 64, 64}, {128, 128, 128}, {191, 191, 191}, {255, 255, 255}}};

const std::array<Rgb, 5>& keys_of(Colormap c) {
    switch (c) {
        case Colormap::Viridis: return kViridis;
        case Colormap::Cividis: return kCividis;
        case Colormap::Magma: return kMagma;
        case Colormap::Gray: return kGray;
    }
    return kViridis;
}

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

// Rough width of a label in SVG units at font size `px` (UTF-8 code points × 0.6 em).
double text_width(const std::string& s, double px) {
    std::size_t cps = 0;
    for (unsigned char ch : s)
        if ((ch & 0xC0) != 0x80) ++cps;
    return static_cast<double>(cps) * px * 0.6;
}

// A cell's number in at most ~4 characters: 2 decimals, no leading zero (".33", "-1.5", "12").
std::string cell_number(double x) {
    char buf[32];
    const double a = std::fabs(x);
    if (a >= 99.5) std::snprintf(buf, sizeof buf, "%.3g", x);
    else if (a >= 9.95) std::snprintf(buf, sizeof buf, "%.0f", x);
    else if (a >= 0.995) std::snprintf(buf, sizeof buf, "%.1f", x);
    else std::snprintf(buf, sizeof buf, "%.2f", x);
    // Trim trailing zeros of a plain decimal ("1.0" → "1", "0.50" → "0.5").
    std::size_t len = std::strlen(buf);
    if (std::strchr(buf, '.') && !std::strchr(buf, 'e')) {
        while (len > 0 && buf[len - 1] == '0') buf[--len] = 0;
        if (len > 0 && buf[len - 1] == '.') buf[--len] = 0;
    }
    // Drop the leading zero ("0.33" → ".33", "-0.33" → "-.33").
    const bool neg = buf[0] == '-';
    const char* digits = buf + (neg ? 1 : 0);
    char out[34];
    if (digits[0] == '0' && digits[1] == '.') std::snprintf(out, sizeof out, "%s%s", neg ? "-" : "", digits + 1);
    else std::snprintf(out, sizeof out, "%s", buf);
    if (std::strcmp(out, "-0") == 0 || out[0] == 0 || std::strcmp(out, "-") == 0) return "0";
    return out;
}

const char* kFont = "font-family=\"DejaVu Sans, Arial, sans-serif\"";

}  // namespace

const char* colormap_name(Colormap c) {
    switch (c) {
        case Colormap::Viridis: return "viridis";
        case Colormap::Cividis: return "cividis";
        case Colormap::Magma: return "magma";
        case Colormap::Gray: return "gray";
    }
    return "viridis";
}

bool colormap_from_name(const std::string& s, Colormap& out) {
    for (Colormap c : {Colormap::Viridis, Colormap::Cividis, Colormap::Magma, Colormap::Gray})
        if (s == colormap_name(c)) {
            out = c;
            return true;
        }
    return false;
}

std::array<std::uint8_t, 3> colormap_rgb(Colormap c, float t) {
    if (!(t >= 0.0f)) t = 0.0f;  // NaN → 0
    if (t > 1.0f) t = 1.0f;
    const auto& k = keys_of(c);
    const float x = t * 4.0f;
    const int i = std::min(static_cast<int>(x), 3);
    const float u = x - static_cast<float>(i);
    Rgb out{};
    for (int ch = 0; ch < 3; ++ch)
        out[static_cast<std::size_t>(ch)] = static_cast<std::uint8_t>(std::lround(
            (1.0f - u) * k[static_cast<std::size_t>(i)][static_cast<std::size_t>(ch)] +
            u * k[static_cast<std::size_t>(i + 1)][static_cast<std::size_t>(ch)]));
    return out;
}

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

std::string heatmap_svg(const HeatmapFigure& fig) {
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

    const double cell = fig.cell_px;
    const double font = std::clamp(cell * 0.4, 8.0, 18.0);
    const double label_font = 14.0;
    double row_label_w = 0, col_label_w = 0;
    for (const auto& l : fig.row_labels) row_label_w = std::max(row_label_w, text_width(l, label_font));
    for (const auto& l : fig.col_labels) col_label_w = std::max(col_label_w, text_width(l, label_font));
    const double title_h = fig.title.empty() ? 10.0 : 34.0;
    const double left = 30.0 + row_label_w + 8.0;           // axis name, labels, gap
    const double top = title_h + 22.0 + col_label_w * 0.87 + 8.0;  // axis name, labels at −60°
    const double grid_w = cell * static_cast<double>(cols), grid_h = cell * static_cast<double>(rows);
    const double bar_x = left + grid_w + 20.0, bar_w = 18.0;
    const double width = std::max(bar_x + bar_w + 70.0, text_width(fig.title, 18.0) + 30.0);
    const double height = top + grid_h + 20.0;

    std::ostringstream o;
    o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << num(width) << "\" height=\""
      << num(height) << "\" viewBox=\"0 0 " << num(width) << " " << num(height) << "\">\n";
    o << "<defs>\n"
      << "<pattern id=\"hatch\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" patternTransform=\"rotate(45)\">"
      << "<rect width=\"6\" height=\"6\" fill=\"#d9d9d9\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#8c8c8c\" stroke-width=\"2\"/>"
      << "</pattern>\n"
      << "<linearGradient id=\"bar\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">";
    for (int k = 0; k <= 10; ++k)
        o << "<stop offset=\"" << num(k / 10.0) << "\" stop-color=\"" << hex(colormap_rgb(fig.colormap, k / 10.0f)) << "\"/>";
    o << "</linearGradient>\n</defs>\n";
    o << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
    if (!fig.title.empty())
        o << "<text x=\"" << num(width / 2) << "\" y=\"24\" text-anchor=\"middle\" font-size=\"18\" " << kFont << ">"
          << xml_escape(fig.title) << "</text>\n";
    // Axis names.
    o << "<text x=\"" << num(left + grid_w / 2) << "\" y=\"" << num(title_h + 12) << "\" text-anchor=\"middle\" font-size=\"13\" fill=\"#444\" "
      << kFont << ">" << xml_escape(fig.col_axis) << "</text>\n";
    o << "<text transform=\"translate(16 " << num(top + grid_h / 2) << ") rotate(-90)\" text-anchor=\"middle\" font-size=\"13\" fill=\"#444\" "
      << kFont << ">" << xml_escape(fig.row_axis) << "</text>\n";
    // Labels.
    o << "<g font-size=\"" << num(label_font) << "\" " << kFont << ">\n";
    for (Eigen::Index i = 0; i < static_cast<Eigen::Index>(fig.row_labels.size()); ++i)
        o << "<text class=\"row-label\" x=\"" << num(left - 6) << "\" y=\"" << num(top + cell * (i + 0.5) + label_font * 0.35)
          << "\" text-anchor=\"end\">" << xml_escape(fig.row_labels[static_cast<std::size_t>(i)]) << "</text>\n";
    for (Eigen::Index j = 0; j < static_cast<Eigen::Index>(fig.col_labels.size()); ++j) {
        const double x = left + cell * (j + 0.5), y = top - 6;
        o << "<text class=\"col-label\" transform=\"translate(" << num(x) << " " << num(y) << ") rotate(-60)\">"
          << xml_escape(fig.col_labels[static_cast<std::size_t>(j)]) << "</text>\n";
    }
    o << "</g>\n";
    // Cells.
    const bool values_fit = fig.show_values && cell >= 28;
    o << "<g shape-rendering=\"crispEdges\">\n";
    for (Eigen::Index i = 0; i < rows; ++i)
        for (Eigen::Index j = 0; j < cols; ++j) {
            const double x = left + cell * j, y = top + cell * i;
            o << "<rect class=\"cell" << (masked(i, j) ? " masked" : "") << "\" x=\"" << num(x) << "\" y=\"" << num(y)
              << "\" width=\"" << num(cell) << "\" height=\"" << num(cell) << "\" fill=\"";
            if (masked(i, j)) {
                o << "url(#hatch)\"/>\n";
                continue;
            }
            const double v = fig.values(i, j);
            const float t = span > 0 ? static_cast<float>((v - lo) / span) : 0.5f;
            const Rgb c = colormap_rgb(fig.colormap, t);
            o << hex(c) << "\"><title>" << label_number(v) << "</title></rect>\n";
            if (values_fit) {
                const double lum = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
                const std::string text = cell_number(v);
                const double fs = std::min(font, 1.6 * cell / static_cast<double>(std::max<std::size_t>(text.size(), 1)));
                o << "<text x=\"" << num(x + cell / 2) << "\" y=\"" << num(y + cell / 2 + fs * 0.35)
                  << "\" text-anchor=\"middle\" font-size=\"" << num(fs) << "\" fill=\"" << (lum > 128 ? "#000000" : "#ffffff")
                  << "\" " << kFont << ">" << text << "</text>\n";
            }
        }
    o << "</g>\n";
    o << "<rect x=\"" << num(left) << "\" y=\"" << num(top) << "\" width=\"" << num(grid_w) << "\" height=\"" << num(grid_h)
      << "\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"/>\n";
    // Colour bar with its range.
    o << "<rect class=\"colorbar\" x=\"" << num(bar_x) << "\" y=\"" << num(top) << "\" width=\"" << num(bar_w) << "\" height=\""
      << num(grid_h) << "\" fill=\"url(#bar)\" stroke=\"#333333\"/>\n";
    o << "<g font-size=\"12\" " << kFont << ">\n";
    o << "<text x=\"" << num(bar_x + bar_w + 4) << "\" y=\"" << num(top + 10) << "\">" << label_number(hi) << "</text>\n";
    o << "<text x=\"" << num(bar_x + bar_w + 4) << "\" y=\"" << num(top + grid_h) << "\">" << label_number(lo) << "</text>\n";
    o << "</g>\n</svg>\n";
    return o.str();
}

std::string shift_svg(const ShiftFigure& fig) {
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
    auto pad = [](double& lo, double& hi) {
        const double span = hi - lo;
        const double p = span > 0 ? span * 0.12 : 0.5;
        lo -= p;
        hi += p;
    };
    pad(x_lo, x_hi);
    pad(y_lo, y_hi);
    const double W = fig.width, H = fig.height;
    const double left = 60, right = 20, top = fig.title.empty() ? 20 : 44, bottom = 50;
    const double pw = W - left - right, ph = H - top - bottom;
    auto X = [&](double x) { return left + (x - x_lo) / (x_hi - x_lo) * pw; };
    auto Y = [&](double y) { return top + ph - (y - y_lo) / (y_hi - y_lo) * ph; };

    std::ostringstream o;
    o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << fig.width << "\" height=\"" << fig.height
      << "\" viewBox=\"0 0 " << fig.width << " " << fig.height << "\">\n"
      << "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\">"
      << "<path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#d62728\"/></marker></defs>\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
    if (!fig.title.empty())
        o << "<text x=\"" << num(W / 2) << "\" y=\"28\" text-anchor=\"middle\" font-size=\"18\" " << kFont << ">"
          << xml_escape(fig.title) << "</text>\n";
    o << "<rect x=\"" << num(left) << "\" y=\"" << num(top) << "\" width=\"" << num(pw) << "\" height=\"" << num(ph)
      << "\" fill=\"none\" stroke=\"#333333\"/>\n";
    if (x_lo < 0 && x_hi > 0)
        o << "<line x1=\"" << num(X(0)) << "\" y1=\"" << num(top) << "\" x2=\"" << num(X(0)) << "\" y2=\"" << num(top + ph)
          << "\" stroke=\"#cccccc\"/>\n";
    if (y_lo < 0 && y_hi > 0)
        o << "<line x1=\"" << num(left) << "\" y1=\"" << num(Y(0)) << "\" x2=\"" << num(left + pw) << "\" y2=\"" << num(Y(0))
          << "\" stroke=\"#cccccc\"/>\n";
    o << "<g font-size=\"12\" fill=\"#444444\" " << kFont << ">\n"
      << "<text x=\"" << num(left) << "\" y=\"" << num(top + ph + 16) << "\">" << label_number(x_lo) << "</text>\n"
      << "<text x=\"" << num(left + pw) << "\" y=\"" << num(top + ph + 16) << "\" text-anchor=\"end\">" << label_number(x_hi) << "</text>\n"
      << "<text x=\"" << num(left - 4) << "\" y=\"" << num(top + ph) << "\" text-anchor=\"end\">" << label_number(y_lo) << "</text>\n"
      << "<text x=\"" << num(left - 4) << "\" y=\"" << num(top + 10) << "\" text-anchor=\"end\">" << label_number(y_hi) << "</text>\n"
      << "<text x=\"" << num(left + pw / 2) << "\" y=\"" << num(H - 12) << "\" text-anchor=\"middle\" font-size=\"14\">"
      << xml_escape(fig.x_label) << "</text>\n"
      << "<text transform=\"translate(18 " << num(top + ph / 2) << ") rotate(-90)\" text-anchor=\"middle\" font-size=\"14\">"
      << xml_escape(fig.y_label) << "</text>\n</g>\n";
    o << "<g " << kFont << " font-size=\"14\">\n";
    std::vector<std::pair<double, double>> placed;  // end points labelled so far
    for (const auto& p : fig.points) {
        const double ax = X(p.x0), ay = Y(p.y0), bx = X(p.x1), by = Y(p.y1);
        // Points that end (almost) on the same spot get their labels stacked, not overprinted.
        int same = 0;
        for (const auto& [px, py] : placed) same += std::hypot(px - bx, py - by) < 6.0;
        placed.emplace_back(bx, by);
        o << "<g class=\"shift\">";
        o << "<circle cx=\"" << num(ax) << "\" cy=\"" << num(ay) << "\" r=\"4\" fill=\"#ffffff\" stroke=\"#1f77b4\" stroke-width=\"2\"/>";
        if (std::hypot(bx - ax, by - ay) > 6.0)  // a visible move: an arrow
            o << "<line class=\"arrow\" x1=\"" << num(ax) << "\" y1=\"" << num(ay) << "\" x2=\"" << num(bx) << "\" y2=\"" << num(by)
              << "\" stroke=\"#d62728\" stroke-width=\"2\" marker-end=\"url(#arrow)\"/>";
        o << "<circle cx=\"" << num(bx) << "\" cy=\"" << num(by) << "\" r=\"4\" fill=\"#1f77b4\"/>";
        o << "<text x=\"" << num(bx + 7) << "\" y=\"" << num(by - 7 + 16.0 * same) << "\">" << xml_escape(p.label) << "</text>";
        o << "</g>\n";
    }
    o << "</g>\n</svg>\n";
    return o.str();
}

}  // namespace attnviz
