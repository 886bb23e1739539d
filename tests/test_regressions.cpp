// Regressions found by the soak test, the fuzzers and the sanitizers: each case is the smallest
// input that showed the bug, with the answer worked out by hand.
#include <doctest/doctest.h>

#include "engine.hpp"
#include "helpers.hpp"
#include "scene_io.hpp"

using namespace attnviz;

TEST_CASE("sliding window over a shorter source: queries past the window see nothing (heap overflow, soak)") {
    // 5 queries, 2 keys, window 2: query i sees key j when j ≤ i and i − j < 2.
    //   i=0: {0}   i=1: {0,1}   i=2: {1}   i=3: {} (3−1 = 2)   i=4: {}
    // ASan found the zero-fill before the window writing past the row when i − 1 ≥ m.
    Scene s = make_scene({"a", "b", "c", "d", "e"}, 4, 1, 4, 1);
    set_source_tokens(s, {"x", "y"});
    set_mask(s, Mask::sliding_window(2));
    const Forward f = forward(s);
    const Mat& p = f.heads[0].pattern;
    REQUIRE(p.rows() == 5);
    REQUIRE(p.cols() == 2);
    CHECK(p(0, 0) == 1.0f);
    CHECK(p(0, 1) == 0.0f);
    CHECK(p(1, 0) + p(1, 1) == doctest::Approx(1.0f));
    CHECK(p(2, 0) == 0.0f);
    CHECK(p(2, 1) == 1.0f);
    CHECK(p.row(3).isZero(0.0f));
    CHECK(p.row(4).isZero(0.0f));
    CHECK(f.fully_masked_rows == std::vector<int>{3, 4});
    // The same with a window of 1 over one key and many queries.
    Scene t = make_scene(std::vector<std::string>(40, "q"), 4, 1, 4, 1);
    set_source_tokens(t, {"k"});
    set_mask(t, Mask::sliding_window(1));
    const Forward g = forward(t);
    CHECK(g.heads[0].pattern(0, 0) == 1.0f);
    CHECK(g.fully_masked_rows.size() == 39);
}

TEST_CASE("text with invalid UTF-8 saves and loads (JSON writer threw in the autosave thread, soak)") {
    Scene s = make_scene({"a"}, 4, 1, 4, 1);
    set_text(s, "the \xff blue");
    const std::string json = scene_to_json(s);  // threw nlohmann type_error 316 before
    CHECK(token_texts(scene_from_json(json).input.tokens) == std::vector<std::string>{"the", "\xEF\xBF\xBD", "blue"});
}
