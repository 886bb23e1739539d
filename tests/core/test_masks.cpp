// Each mask's allowed cells, written out by hand from the definitions.
#include <doctest/doctest.h>

#include <set>

#include "engine.hpp"

using namespace attnviz;

namespace {
// The set of keys query i may see, from the pattern (nonzero ⇔ allowed; W_Q = 0 makes every
// allowed weight equal and positive).
std::set<int> seen_keys(const Mask& mask, int n, int i) {
    Scene s = make_scene(std::vector<std::string>(static_cast<std::size_t>(n), "w"), 4, 1, 4, 3);
    set_weight_matrix(s, 0, kQuery, Mat::Zero(4, 4));
    set_mask(s, mask);
    const Forward f = forward(s);
    std::set<int> keys;
    for (int j = 0; j < n; ++j) {
        if (f.heads[0].pattern(i, j) > 0.0f) keys.insert(j);
        CHECK((f.heads[0].pattern(i, j) > 0.0f) == mask.allows(i, j));
    }
    return keys;
}
using S = std::set<int>;
}  // namespace

TEST_CASE("causal: query i sees keys j ≤ i") {
    CHECK(seen_keys(Mask::causal(), 4, 0) == S{0});
    CHECK(seen_keys(Mask::causal(), 4, 2) == S{0, 1, 2});
    CHECK(seen_keys(Mask::causal(), 4, 3) == S{0, 1, 2, 3});
    CHECK(Mask::causal().allowed_count(4, 4) == 10);
    CHECK(Mask::none().allowed_count(4, 4) == 16);
}

TEST_CASE("sliding window of width 2: i−2 < j ≤ i") {
    CHECK(seen_keys(Mask::sliding_window(2), 5, 0) == S{0});
    CHECK(seen_keys(Mask::sliding_window(2), 5, 1) == S{0, 1});
    CHECK(seen_keys(Mask::sliding_window(2), 5, 4) == S{3, 4});
    CHECK(Mask::sliding_window(2).allowed_count(5, 5) == 9);  // 1 + 2+2+2+2
}

TEST_CASE("strided, stride 3: the last 3 keys and every 3rd before them") {
    CHECK(seen_keys(Mask::strided(3), 8, 7) == S{1, 4, 5, 6, 7});
    CHECK(seen_keys(Mask::strided(3), 8, 6) == S{0, 3, 4, 5, 6});
    CHECK(seen_keys(Mask::strided(3), 8, 4) == S{1, 2, 3, 4});
    CHECK(seen_keys(Mask::strided(3), 8, 1) == S{0, 1});
}

TEST_CASE("fixed, block 3: own block, plus the last key of every earlier block") {
    CHECK(seen_keys(Mask::fixed(3), 8, 7) == S{2, 5, 6, 7});
    CHECK(seen_keys(Mask::fixed(3), 8, 4) == S{2, 3, 4});
    CHECK(seen_keys(Mask::fixed(3), 8, 2) == S{0, 1, 2});
    CHECK(seen_keys(Mask::fixed(3), 8, 0) == S{0});
}

TEST_CASE("explicit matrix mask") {
    // A "bidirectional within pairs" mask: {0,1} see each other, {2,3} see each other.
    std::vector<std::uint8_t> a = {1, 1, 0, 0,  1, 1, 0, 0,  0, 0, 1, 1,  0, 0, 1, 1};
    const Mask m = Mask::matrix(4, 4, a);
    CHECK(seen_keys(m, 4, 0) == S{0, 1});
    CHECK(seen_keys(m, 4, 3) == S{2, 3});
}

TEST_CASE("masked cells are exactly zero and allowed cells sum to one, for every mask") {
    Scene s = make_scene({"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}, 8, 2, 4, 17);
    for (const Mask& m : {Mask::causal(), Mask::sliding_window(3), Mask::strided(4), Mask::fixed(3)}) {
        set_mask(s, m);
        const Forward f = forward(s);
        for (const auto& h : f.heads)
            for (int i = 0; i < s.n(); ++i) {
                double sum = 0;
                for (int j = 0; j < s.m(); ++j) {
                    if (!m.allows(i, j)) CHECK(h.pattern(i, j) == 0.0f);
                    sum += h.pattern(i, j);
                }
                CHECK(sum == doctest::Approx(1.0));
            }
    }
}
