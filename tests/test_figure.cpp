// SVG figures (core/figure): well-formed XML, the right number of cells, escaped labels.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <unistd.h>
#include <vector>

#include "figure.hpp"
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
    CHECK(colormap_rgb(Colormap::Viridis, 0.125f) == C{64, 42, 112});  // halfway between the first two keys
    CHECK(colormap_rgb(Colormap::Gray, 0.5f) == C{128, 128, 128});
    CHECK(colormap_rgb(Colormap::Cividis, -3.0f) == colormap_rgb(Colormap::Cividis, 0.0f));
    CHECK(colormap_rgb(Colormap::Magma, 7.0f) == colormap_rgb(Colormap::Magma, 1.0f));
    CHECK(colormap_rgb(Colormap::Magma, NAN) == colormap_rgb(Colormap::Magma, 0.0f));
    Colormap c{};
    CHECK(colormap_from_name("cividis", c));
    CHECK(c == Colormap::Cividis);
    CHECK_FALSE(colormap_from_name("jet", c));
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

TEST_CASE("xml_escape: entities, control characters and invalid UTF-8") {
    CHECK(xml_escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&apos;");
    CHECK(xml_escape(std::string("x\x01y", 3)) == "x\xEF\xBF\xBDy");
    CHECK(xml_escape("\xFF") == "\xEF\xBF\xBD");
    CHECK(xml_escape("tab\there") == "tab\there");
}
