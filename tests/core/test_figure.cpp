// SVG figures (core/figure): well-formed XML, the right number of cells, escaped labels.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>
#include <unistd.h>
#include <vector>

#include "colormap.hpp"
#include "engine.hpp"
#include "explain.hpp"
#include "figure.hpp"
#include "scene_io.hpp"
#include "scene.hpp"
#include "helpers.hpp"

using namespace attnviz;
using attnviz::test::mat;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size())) ++n;
    return n;
}

// A small well-formedness check: tags balance and nest, attribute values are quoted, and every
// '&' starts one of the five XML entities. Returns "" or what is wrong.
std::string xml_problem(const std::string& s) {
    std::vector<std::string> stack;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '&') {
            bool ok = false;
            for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"})
                ok = ok || s.compare(i, std::char_traits<char>::length(e), e) == 0;
            if (!ok) return "bare & at " + std::to_string(i);
        }
        if (s[i] == '>' ) return "stray > at " + std::to_string(i);
        if (s[i] != '<') continue;
        if (s.compare(i, 5, "<?xml") == 0) {
            const auto e = s.find("?>", i);
            if (e == std::string::npos) return "unclosed <?xml";
            i = e + 1;
            continue;
        }
        // Find the end of the tag, skipping quoted attribute values.
        std::size_t j = i + 1;
        char quote = 0;
        for (; j < s.size(); ++j) {
            if (quote) {
                if (s[j] == quote) quote = 0;
                else if (s[j] == '<') return "< inside an attribute at " + std::to_string(j);
            } else if (s[j] == '"' || s[j] == '\'') {
                quote = s[j];
            } else if (s[j] == '>') {
                break;
            }
        }
        if (j >= s.size()) return "unclosed tag at " + std::to_string(i);
        std::string tag = s.substr(i + 1, j - i - 1);
        i = j;
        if (tag.empty()) return "empty tag";
        if (tag[0] == '/') {
            const std::string name = tag.substr(1);
            if (stack.empty() || stack.back() != name) return "</" + name + "> does not close <" + (stack.empty() ? "" : stack.back()) + ">";
            stack.pop_back();
            continue;
        }
        if (tag.back() == '/') continue;  // self-closing
        stack.push_back(tag.substr(0, tag.find_first_of(" \t\n")));
    }
    if (!stack.empty()) return "<" + stack.back() + "> never closed";
    return "";
}

// xmllint (libxml2-utils, listed in scripts/setup.sh) when it is installed: a real XML parser.
void check_with_xmllint(const std::string& svg) {
    if (std::system("command -v xmllint > /dev/null 2>&1") != 0) {
        MESSAGE("xmllint not installed: only the built-in well-formedness check ran");
        return;
    }
    const auto path = std::filesystem::temp_directory_path() / ("attnviz_figure_" + std::to_string(::getpid()) + ".svg");
    std::ofstream(path) << svg;
    const int rc = std::system(("xmllint --noout '" + path.string() + "'").c_str());
    std::filesystem::remove(path);
    CHECK(rc == 0);
}

}  // namespace

TEST_CASE("heatmap SVG: cells, masked cells hatched, escaped labels, well-formed") {
    HeatmapFigure fig;
    fig.values = mat({{0.1f, 0.9f, 0, 0}, {0.5f, 0.25f, 0.25f, 0}, {0.2f, 0.3f, 0.4f, 0.1f}});
    fig.row_labels = {"<b>&\"'", "dog", "naïve"};
    fig.col_labels = {"a", "b & c", "</svg>", "d"};
    fig.title = "Pattern <head 0>";
    fig.allowed = {1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1};  // a causal-like mask: 3 masked cells
    const std::string svg = heatmap_svg(fig);
    CHECK(count(svg, "class=\"cell") == 12);
    CHECK(count(svg, "class=\"cell masked\"") == 3);
    CHECK(count(svg, "fill=\"url(#hatch)\"") == 3);
    CHECK(count(svg, "class=\"row-label\"") == 3);
    CHECK(count(svg, "class=\"col-label\"") == 4);
    CHECK(svg.find("&lt;b&gt;&amp;&quot;&apos;") != std::string::npos);
    CHECK(svg.find("b &amp; c") != std::string::npos);
    CHECK(svg.find("&lt;/svg&gt;") != std::string::npos);
    CHECK(svg.find("Pattern &lt;head 0&gt;") != std::string::npos);
    CHECK(svg.find("naïve") != std::string::npos);
    CHECK(count(svg, "</svg>") == 1);
    CHECK(svg.find("nan") == std::string::npos);
    const std::string problem = xml_problem(svg);
    CHECK_MESSAGE(problem.empty(), problem);
    check_with_xmllint(svg);
    // Automatic range: the unmasked values span 0.1..0.9, so 0.9 is the top colour of viridis
    // and 0.1 the bottom one (the masked zeros do not count).
    CHECK(svg.find("fill=\"#fde725\"><title>0.9</title>") != std::string::npos);
    CHECK(count(svg, "fill=\"#440154\"><title>0.1</title>") == 2);
}

TEST_CASE("heatmap SVG: −∞ cells (the masked stage) are hatched; a constant matrix has one colour") {
    HeatmapFigure fig;
    const float inf = std::numeric_limits<float>::infinity();
    fig.values = mat({{1, -inf}, {1, 1}});
    const std::string svg = heatmap_svg(fig);
    CHECK(count(svg, "class=\"cell masked\"") == 1);
    CHECK(count(svg, "class=\"cell\"") == 3);
    CHECK(svg.find("inf") == std::string::npos);
    CHECK(svg.find("nan") == std::string::npos);
    // min == max: every cell the middle colour, no division by zero.
    CHECK(count(svg, "fill=\"" + std::string("#21918c") + "\"") == 3);
    CHECK(xml_problem(svg).empty());
}

TEST_CASE("heatmap SVG: mismatched labels or too many cells are refused by name") {
    HeatmapFigure fig;
    fig.values = Mat::Zero(2, 3);
    fig.row_labels = {"one"};
    try {
        heatmap_svg(fig);
        FAIL("no error");
    } catch (const SceneError& e) {
        CHECK(e.path() == "row_labels");
    }
    fig.row_labels.clear();
    fig.allowed = {1, 1};
    try {
        heatmap_svg(fig);
        FAIL("no error");
    } catch (const SceneError& e) {
        CHECK(e.path() == "allowed");
    }
    HeatmapFigure big;
    big.values = Mat::Zero(513, 512);
    try {
        heatmap_svg(big);
        FAIL("no error");
    } catch (const SceneError& e) {
        CHECK(e.path() == "figure");
    }
}

TEST_CASE("colour maps: key colours, interpolation, clamping") {
    using C = std::array<std::uint8_t, 3>;
    CHECK(colormap_rgb(Colormap::Viridis, 0.0f) == C{68, 1, 84});
    CHECK(colormap_rgb(Colormap::Viridis, 1.0f) == C{253, 231, 37});
    // 9 keys: t = 1/16 lies halfway between #440154 and #472d7b: (68+71)/2, (1+45)/2, (84+123)/2
    CHECK(colormap_rgb(Colormap::Viridis, 0.0625f) == C{70, 23, 104});
    CHECK(colormap_rgb(Colormap::Viridis, 0.125f) == C{0x47, 0x2d, 0x7b});  // the second key
    CHECK(colormap_rgb(Colormap::Gray, 0.5f) == C{128, 128, 128});
    CHECK(colormap_rgb(Colormap::Diverging, 0.5f) == C{0xf7, 0xf7, 0xf7});  // RdBu's white middle key
    CHECK(colormap_rgb(Colormap::Cividis, -3.0f) == colormap_rgb(Colormap::Cividis, 0.0f));
    CHECK(colormap_rgb(Colormap::Magma, 7.0f) == colormap_rgb(Colormap::Magma, 1.0f));
    CHECK(colormap_rgb(Colormap::Magma, NAN) == colormap_rgb(Colormap::Magma, 0.0f));
    Colormap c{};
    CHECK(colormap_from_name("cividis", c));
    CHECK(c == Colormap::Cividis);
    CHECK_FALSE(colormap_from_name("jet", c));
    for (int k = 0; k < static_cast<int>(Colormap::Count); ++k) {  // every map by its name, both ways
        CHECK(colormap_from_name(colormap_name(static_cast<Colormap>(k)), c));
        CHECK(static_cast<int>(c) == k);
    }
}

// ---------------------------------------------------------------------------------------------
// Colormaps: endpoints against matplotlib's published colours
// ---------------------------------------------------------------------------------------------
TEST_CASE("colormap LUT endpoints match the published maps (one table for SVG, PNG and the GL lookup textures)") {
    const ColormapLut viridis = colormap_lut(Colormap::Viridis);
    // matplotlib _viridis_data[0] = (0.267004, 0.004874, 0.329415), [255] = (0.993248, 0.906157, 0.143936)
    CHECK(viridis[0] == Rgba8{68, 1, 84, 255});
    CHECK(viridis[255] == Rgba8{253, 231, 37, 255});
    const ColormapLut magma = colormap_lut(Colormap::Magma);
    // _magma_data[0] = (0.001462, 0.000466, 0.013866), [255] = (0.987053, 0.991438, 0.749504)
    CHECK(magma[0] == Rgba8{0, 0, 4, 255});
    CHECK(magma[255] == Rgba8{252, 253, 191, 255});
    // the diverging map is near-white in the middle (zero) and blue below, red above
    const ColormapLut div = colormap_lut(Colormap::Diverging);
    for (int c = 0; c < 3; ++c) CHECK(std::abs(int(div[128][static_cast<std::size_t>(c)]) - 247) <= 4);
    CHECK(div[0][2] > div[0][0]);      // blue end
    CHECK(div[255][0] > div[255][2]);  // red end
    // viridis gets brighter monotonically (perceptually uniform maps do)
    for (int i = 1; i < 256; ++i) CHECK(luminance(viridis[static_cast<std::size_t>(i)]) >= luminance(viridis[static_cast<std::size_t>(i - 1)]) - 1e-3f);
}

TEST_CASE("cell numbers: at most ~4 characters, no leading zero, infinities by sign") {
    CHECK(format_cell(0.333) == ".33");
    CHECK(format_cell(0.5) == ".5");
    CHECK(format_cell(-0.25) == "-.25");
    CHECK(format_cell(-1.5) == "-1.5");
    CHECK(format_cell(1.0) == "1");
    CHECK(format_cell(12.3) == "12");
    CHECK(format_cell(123.4) == "123");
    CHECK(format_cell(0.0) == "0");
    CHECK(format_cell(-0.001) == "0");
    CHECK(format_cell(-std::numeric_limits<double>::infinity()) == "\xE2\x88\x92\xE2\x88\x9E");
    CHECK(format_cell(std::numeric_limits<double>::infinity()) == "\xE2\x88\x9E");
}

TEST_CASE("shift plot SVG: one arrow per moved point, escaped labels, well-formed") {
    ShiftFigure fig;
    fig.title = "E -> E' (dims 2 & 3)";
    fig.x_label = "Paris";
    fig.y_label = "water";
    fig.points = {{"tower <1>", 0, 0, 1, 0}, {"tower 2", 0, 0, 0, 1}, {"tower 3", 0, 0, 0, 0}};
    const std::string svg = shift_svg(fig);
    CHECK(count(svg, "class=\"shift\"") == 3);
    CHECK(count(svg, "class=\"arrow\"") == 2);  // the third did not move
    CHECK(svg.find("tower &lt;1&gt;") != std::string::npos);
    CHECK(svg.find("dims 2 &amp; 3") != std::string::npos);
    const std::string problem = xml_problem(svg);
    CHECK_MESSAGE(problem.empty(), problem);
    check_with_xmllint(svg);
    ShiftFigure bad;
    bad.points = {{"x", NAN, 0, 0, 0}};
    CHECK_THROWS_AS(shift_svg(bad), SceneError);
}

TEST_CASE("shift plot dimensions: the view's choice, else the two that move most") {
    // Two tokens, d_model 3; by hand ΔE = pattern·V·W_O moves dimension 2 most, then 0.
    Scene s = make_scene({"a", "b"}, 3, 1, 3, 1);
    s.input.embeddings = Mat::Identity(2, 3);
    s.input.embeddings_given = true;
    set_weight_matrix(s, 0, kQuery, Mat::Zero(3, 3));  // uniform: weights ½, ½
    set_weight_matrix(s, 0, kKey, Mat::Zero(3, 3));
    set_weight_matrix(s, 0, kValue, Mat::Identity(3, 3));
    set_output_matrix(s, mat({{0.5f, 0, 2}, {0.5f, 0, 2}, {0, 0, 0}}));
    // V = E·I = [[1,0,0],[0,1,0]] → z = [½, ½, 0] for both → ΔE = [½, 0, 2] per row.
    const Forward f = forward(s);
    CHECK_MAT(f.delta, mat({{0.5f, 0, 2}, {0.5f, 0, 2}}), 1e-6f);
    CHECK(shift_plot_dims(s, f) == std::array<int, 2>{2, 0});
    s.view_json = R"({"shift_dims": [1, 0]})";
    CHECK(shift_plot_dims(s, f) == std::array<int, 2>{1, 0});
    s.view_json = R"({"shift_dims": [1, 7]})";  // out of range: ignored
    CHECK(shift_plot_dims(s, f) == std::array<int, 2>{2, 0});
}

TEST_CASE("xml_escape: entities, control characters and invalid UTF-8") {
    CHECK(xml_escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&apos;");
    CHECK(xml_escape(std::string("x\x01y", 3)) == "x\xEF\xBF\xBDy");
    CHECK(xml_escape("\xFF") == "\xEF\xBF\xBD");
    CHECK(xml_escape("tab\there") == "tab\there");
}

// ---- every figure `attnviz figures` writes: every text's estimated box lies inside the canvas ----
namespace {
struct TextBox {
    std::string text;
    double corners[4][2];
    bool rotated = false;
};
// Attribute `name` of an element's attribute text ("" when absent).
std::string attr(const std::string& attrs, const std::string& name) {
    const std::regex re("(^|\\s)" + name + "=\"([^\"]*)\"");
    std::smatch m;
    return std::regex_search(attrs, m, re) ? m[2].str() : std::string();
}
std::string unescape(std::string s) {
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}}) {
        for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
    }
    return s;
}
// Width estimate written here on its own: 0.6 em a character, 1 em for CJK (from U+2E80) and
// emoji (above U+FFFF).
double width_of(const std::string& s, double px) {
    double em = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto b = static_cast<unsigned char>(s[i]);
        if ((b & 0xC0) == 0x80) continue;
        char32_t c = b;
        int len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        if (len > 1) c = b & (0xFF >> (len + 1));
        for (int k = 1; k < len && i + k < s.size(); ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        em += (c >= 0x2E80) ? 1.0 : 0.6;
    }
    return em * px;
}
std::vector<TextBox> text_boxes(const std::string& svg) {
    std::vector<TextBox> out;
    const std::regex re("<text([^>]*)>([^<]*)</text>");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator(); ++it) {
        const std::string a = (*it)[1].str();
        TextBox b;
        b.text = unescape((*it)[2].str());
        const std::string fs = attr(a, "font-size"), anchor = attr(a, "text-anchor"), tr = attr(a, "transform");
        REQUIRE_MESSAGE(!fs.empty(), "a text without its own font-size: " << b.text);
        REQUIRE_MESSAGE(!anchor.empty(), "a text without its own text-anchor: " << b.text);
        const double px = std::stod(fs), w = width_of(b.text, px);
        double x = 0, y = 0, angle = 0;
        if (!tr.empty()) {
            std::smatch m;
            REQUIRE(std::regex_search(tr, m, std::regex("translate\\(([-0-9.]+) ([-0-9.]+)\\)")));
            x = std::stod(m[1].str());
            y = std::stod(m[2].str());
            if (std::regex_search(tr, m, std::regex("rotate\\(([-0-9.]+)\\)"))) angle = std::stod(m[1].str());
        } else {
            x = std::stod(attr(a, "x"));
            y = std::stod(attr(a, "y"));
        }
        const double x0 = anchor == "middle" ? -w / 2 : anchor == "end" ? -w : 0.0;
        const double xs[2] = {x0, x0 + w}, ys[2] = {-0.8 * px, 0.25 * px};  // ascent and descent of a sans font
        const double r = angle * M_PI / 180.0;
        b.rotated = angle != 0;
        for (int k = 0; k < 4; ++k) {
            const double u = xs[k & 1], v = ys[k >> 1];
            b.corners[k][0] = x + u * std::cos(r) - v * std::sin(r);
            b.corners[k][1] = y + u * std::sin(r) + v * std::cos(r);
        }
        out.push_back(b);
    }
    return out;
}
// Every text inside the viewBox; unrotated texts do not overlap one another. "" or the problem.
std::string layout_problem(const std::string& svg) {
    std::smatch m;
    if (!std::regex_search(svg, m, std::regex("viewBox=\"0 0 ([0-9.]+) ([0-9.]+)\""))) return "no viewBox";
    const double W = std::stod(m[1].str()), H = std::stod(m[2].str());
    const auto boxes = text_boxes(svg);
    for (const auto& b : boxes)
        for (const auto& c : b.corners)
            if (c[0] < -0.01 || c[1] < -0.01 || c[0] > W + 0.01 || c[1] > H + 0.01)
                return "\"" + b.text + "\" reaches (" + std::to_string(c[0]) + ", " + std::to_string(c[1]) + ") outside 0 0 " +
                       std::to_string(W) + " " + std::to_string(H);
    for (std::size_t i = 0; i < boxes.size(); ++i)
        for (std::size_t j = i + 1; j < boxes.size(); ++j) {
            if (boxes[i].rotated || boxes[j].rotated) continue;
            const auto& p = boxes[i].corners;
            const auto& q = boxes[j].corners;
            // unrotated: corners 0 and 3 are the top-left and bottom-right
            if (p[0][0] < q[3][0] - 0.5 && q[0][0] < p[3][0] - 0.5 && p[0][1] < q[3][1] - 0.5 && q[0][1] < p[3][1] - 0.5)
                return "\"" + boxes[i].text + "\" overlaps \"" + boxes[j].text + "\"";
        }
    return "";
}
}  // namespace

TEST_CASE("figures of every lecture scene: every label inside the canvas, none over another, titles without a dangling dash") {
    std::vector<std::filesystem::path> scenes;
    for (const auto& e : std::filesystem::directory_iterator(ATTNVIZ_SCENES))
        if (e.path().extension() == ".json") scenes.push_back(e.path());
    REQUIRE(scenes.size() >= 10);
    int figures = 0;
    for (const auto& path : scenes) {
        Scene s = load_scene(path.string());
        // A scene that names a GPT-2 folder ("model": scene 10, the trained induction model) is a
        // way into that model's views; its own 64 stand-in tokens are not one of the slide figures.
        if (!s.model.empty()) continue;
        const Forward f = forward(s);
        for (bool dark : {false, true})
            for (const NamedFigure& fig : scene_figures(s, f, path.stem().string(), Colormap::Viridis, dark)) {
                INFO(fig.name << (dark ? " (dark)" : ""));
                CHECK(layout_problem(fig.svg) == "");
                CHECK(xml_problem(fig.svg) == "");
                ++figures;
            }
        // the same scene untitled: no title starts with a dash or a space
        s.title.clear();
        for (const NamedFigure& fig : scene_figures(s, f, "untitled", Colormap::Viridis, false)) {
            INFO(fig.name << " (untitled)");
            for (const auto& b : text_boxes(fig.svg)) {
                CHECK(b.text.rfind("\xE2\x80\x94", 0) == std::string::npos);
                CHECK(b.text.rfind(" ", 0) == std::string::npos);
            }
        }
    }
    MESSAGE(figures << " figures checked");
}

TEST_CASE("figures: a shift plot's labels stay inside at the edges (06_multi_head's 'a (6)', 'brave (7)', 'wizard (4)')") {
    // points at the corners of the data: labels would fall off the right and bottom edges
    ShiftFigure sf;
    sf.title = "edges";
    sf.points = {{"brave (7)", 1, 1, 1, 1}, {"a (6)", 1, 0, 1, 0}, {"wizard (4)", 0, 1, 0, 1}, {"wizard again (5)", 0, 1, 0.001f, 1}};
    CHECK(layout_problem(shift_svg(sf)) == "");
    // an untitled figure title
    CHECK(figure_title("", "head 0 pattern") == "Head 0 pattern");
    CHECK(figure_title("Cats", "head 0 pattern") == "Cats \xE2\x80\x94 head 0 pattern");
}

TEST_CASE("figures: a long CJK column label widens the canvas instead of being cut") {
    HeatmapFigure fig;
    fig.values = mat({{0.5f, 0.5f}, {0.25f, 0.75f}});
    fig.row_labels = {"a", "b"};
    fig.col_labels = {"a", "\xE7\x8C\xAB\xE7\x8C\xAB\xE7\x8C\xAB\xE7\x8C\xAB\xE7\x8C\xAB\xE7\x8C\xAB\xE7\x8C\xAB\xE7\x8C\xAB"};  // 猫 × 8
    CHECK(layout_problem(heatmap_svg(fig)) == "");
}
