// Words the user reads (core/text): counts with the right noun, masks in words, a word wrap that
// never splits a number, the ΔE sum with the real last head, and the value map's rank.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine.hpp"
#include "explain.hpp"
#include "helpers.hpp"
#include "text.hpp"

using namespace attnviz;
using attnviz::test::mat;

namespace {
// One unit per code point (UTF-8 continuation bytes do not count): "·" and "Δ" are one wide.
float code_points(std::string_view s) {
    float n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}
using Lines = std::vector<std::string>;
}  // namespace

TEST_CASE("text: counts take the singular for one") {
    CHECK(count_noun(1, "head") == "1 head");
    CHECK(count_noun(2, "head") == "2 heads");
    CHECK(count_noun(0, "token") == "0 tokens");
    CHECK(count_noun(1, "token") == "1 token");
    CHECK(count_noun(1572864, "parameter") == "1,572,864 parameters");
    CHECK(count_noun(1, "more key", "more keys") == "1 more key");
    CHECK(count_noun(3, "more key", "more keys") == "3 more keys");
}

TEST_CASE("text: masks in words") {
    CHECK(std::string(mask_words(MaskType::SlidingWindow)) == "sliding window");
    CHECK(std::string(mask_words(MaskType::Causal)) == "causal");
    CHECK(std::string(mask_words(MaskType::Matrix)) == "explicit");
}

TEST_CASE("text: the wrap breaks at spaces only, never inside a number") {
    // ImGui's wrap broke "0.3481" after "0." and "1,572,864" after "1,572,".
    CHECK(wrap_words("w_3 'cat' = 0.3481", 12, code_points) == Lines{"w_3 'cat' =", "0.3481"});
    CHECK(wrap_words("full value map 1,572,864", 16, code_points) == Lines{"full value map", "1,572,864"});
    CHECK(wrap_words("full value map 1,572,864", 24, code_points) == Lines{"full value map 1,572,864"});
    // a word wider than the line keeps a line of its own, whole
    CHECK(wrap_words("x = 123456789.25 y", 6, code_points) == Lines{"x =", "123456789.25", "y"});
    // the first line keeps its indent; code points, not bytes, are measured
    CHECK(wrap_words("  = 0.75·v_0 'red' + 0.25·v_1 'dog'", 18, code_points) ==
          Lines{"  = 0.75·v_0 'red'", "+ 0.25·v_1 'dog'"});
    // '\n' starts a new line; an empty text is one empty line
    CHECK(wrap_words("a b\nc", 80, code_points) == Lines{"a b", "c"});
    CHECK(wrap_words("", 10, code_points) == Lines{""});
    // every number of a long vector stays whole, whatever the width
    const std::string v = "[0.1235, -13.25, 1.2e+06, 0.3481, 1,572,864, -0.0001]";
    for (float w = 4; w <= 60; w += 1) {
        std::string joined;
        for (const std::string& line : wrap_words(v, w, code_points)) {
            CHECK((code_points(line) <= w || line.find(' ') == std::string::npos));
            joined += (joined.empty() ? "" : " ") + line;
        }
        CHECK(joined == v);
    }
}

TEST_CASE("text: E' sums the heads with their real indices") {
    CHECK(head_sum_formula(1) == "E'_i = E_i + ΔE_0");
    CHECK(head_sum_formula(2) == "E'_i = E_i + ΔE_0 + ΔE_1");
    CHECK(head_sum_formula(3) == "E'_i = E_i + ΔE_0 + ΔE_1 + ΔE_2");
    CHECK(head_sum_formula(8) == "E'_i = E_i + ΔE_0 + … + ΔE_7");
    // and the step-by-step math uses it
    for (int heads : {1, 2, 4}) {
        const Scene s = make_scene({"a", "b", "c"}, 8, heads, 2, 7);
        const Forward f = forward(s);
        CHECK(explain_query(s, f, 0, 2).steps[7].formula == head_sum_formula(heads));
        CHECK(explain_query(s, f, 0, 2).steps[3].formula == "mask: none");
    }
}

TEST_CASE("text: every key is listed, or the step says how many are left out") {
    std::vector<std::string> tokens;
    for (int k = 0; k < kExplainMaxLines + 5; ++k) tokens.push_back("t" + std::to_string(k));
    const Scene s = make_scene(tokens, 4, 1, 2, 3);
    const QueryExplanation x = explain_query(s, forward(s), 0, 0);
    const ExplainStep& dots = x.steps[1];
    REQUIRE(dots.lines.size() == static_cast<std::size_t>(kExplainMaxLines) + 1);
    CHECK(dots.lines.back() == "… 5 more keys (of " + std::to_string(kExplainMaxLines + 5) + ") not listed");
}

TEST_CASE("value map W_V·W_O[h]: the map and its rank, by hand") {
    // d_model 4, d_head 2. Head 0: W_V picks dims 0 and 1, W_O[0] = [[1,0,0,0],[0,2,0,0]]:
    // the map is diag(1, 2, 0, 0), rank 2. Head 1: W_V's two columns are parallel ([1,1,0,0]
    // and 3·that): rank 1 whatever W_O[1] is.
    Scene s = make_scene({"a", "b"}, 4, 2, 2, 5);
    set_weight_matrix(s, 0, kValue, mat({{1, 0}, {0, 1}, {0, 0}, {0, 0}}));
    set_weight_matrix(s, 1, kValue, mat({{1, 3}, {1, 3}, {0, 0}, {0, 0}}));
    set_output_matrix(s, mat({{1, 0, 0, 0}, {0, 2, 0, 0}, {0.5f, -1, 2, 0.25f}, {1, 1, -1, 3}}));
    const ValueMapRank r0 = value_map_rank(s, 0);
    CHECK_MAT(r0.map, mat({{1, 0, 0, 0}, {0, 2, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}}), 0.0f);
    CHECK(r0.rank == 2);
    CHECK(r0.largest == doctest::Approx(2.0));
    CHECK(r0.relative_tolerance == 1e-9);
    const ValueMapRank r1 = value_map_rank(s, 1);
    CHECK(r1.rank == 1);
    // a drawn head has full rank d_head (never more)
    const Scene d = make_scene({"a", "b"}, 16, 1, 3, 11);
    CHECK(value_map_rank(d, 0).rank == 3);
    CHECK_THROWS_AS(value_map_rank(d, 1), SceneError);
}

TEST_CASE("text: paragraphs fit their box — smaller first, then lines left out and counted, never below") {
    auto unit = [](std::string_view s) { return code_points(s) * 0.5f; };  // a glyph is half its size wide
    // Two paragraphs of 10 glyphs in a box 100 wide: at 20 px a glyph is 10 wide → 1 line each,
    // 24 px tall each (line height 1.2): 48 ≤ 60 fits at the largest size.
    std::vector<Paragraph> ps{{"abcde fghi"}, {"0123 56789"}};
    FittedParagraphs f = fit_paragraphs(ps, 100, 60, 20, 10, unit);
    CHECK(f.px == 20.0f);
    CHECK(f.lines[0] == Lines{"abcde fghi"});
    CHECK(f.height == doctest::Approx(48.0f));
    CHECK(f.dropped == 0);
    // A box 40 tall: 20 px needs 48, 19 → 45.6, 18.05 → 43.3, 17.15 → 41.2; 20·0.95⁴ = 16.29 → 39.1 fits.
    f = fit_paragraphs(ps, 100, 40, 20, 10, unit);
    CHECK(f.px == doctest::Approx(20.0f * 0.95f * 0.95f * 0.95f * 0.95f));
    CHECK(f.height <= 40.0f);
    // Twenty droppable lines in a box that holds 8 at the smallest size (12 px each at 10 px):
    // the title and 6 lines kept + the note's line = 96 ≤ 100; 14 counted as left out.
    std::vector<Paragraph> many{{"title", 1.0f, 0.0f, false}};
    for (int k = 0; k < 20; ++k) many.push_back({"w_" + std::to_string(k) + " = 0.3481", 1.0f, 0.0f, true});
    f = fit_paragraphs(many, 1000, 100, 20, 10, unit);
    CHECK(f.px == 10.0f);
    CHECK(f.dropped == 14);
    CHECK(f.height <= 100.0f);
    CHECK(f.lines[6] == Lines{"w_5 = 0.3481"});
    CHECK(f.lines[7].empty());
    int kept = 0;
    for (const auto& l : f.lines) kept += static_cast<int>(l.size());
    CHECK(kept + f.dropped == 21);
    // Ten paragraphs that may not be left out, in a box that holds 8 lines at the smallest size:
    // smaller than the smallest size, all kept, still inside (10 lines at 100/12 = 8.33 px).
    std::vector<Paragraph> fixed(10, Paragraph{"must stay"});
    f = fit_paragraphs(fixed, 1000, 100, 20, 10, unit);
    CHECK(f.dropped == 0);
    CHECK(f.px < 8.34f);
    CHECK(f.px > 8.33f * 0.95f);
    CHECK(f.height <= 100.0f);
    for (const auto& l : f.lines) CHECK(l == Lines{"must stay"});
}
