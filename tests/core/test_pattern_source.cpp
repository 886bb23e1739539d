// PatternSource: the full-Forward and the PatternTiles implementations answer the same numbers
// (cells, row statistics, stage tiles, pooled overviews) on every mask, and a cell's weight is
// exp(logit − row max) / row sum — the softmax written out from the row statistics.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine.hpp"
#include "helpers.hpp"
#include "pattern_source.hpp"

using namespace attnviz;

namespace {
std::vector<std::string> tokens(int n) {
    std::vector<std::string> t;
    const char* w[] = {"the", "owl", "saw", "a", "blue", "mouse", "in", "verdant", "grass"};
    for (int i = 0; i < n; ++i) t.push_back(std::string(w[(i * 5 + i / 4) % 9]) + std::to_string(i % 7));
    return t;
}

bool same(float a, float b, float tol) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    if (std::isinf(a) || std::isinf(b)) return a == b;
    return std::abs(a - b) <= tol * (1.0f + std::abs(b));
}

void check_sources_agree(const Scene& s) {
    const Forward f = forward(s);
    auto tiles = std::make_shared<PatternTiles>();
    REQUIRE(tiles->build(s));
    const ForwardSource full(s, f);
    const TilesSource lazy(tiles);
    const std::vector<const PatternSource*> both = {&full, &lazy};
    CHECK(full.n() == lazy.n());
    CHECK(full.m() == lazy.m());
    CHECK(full.n_heads() == lazy.n_heads());
    int bad = 0;
    for (int h = 0; h < s.n_heads; ++h)
        for (int i = 0; i < s.n(); ++i) {
            const RowStats a = full.row_stats(h, i), b = lazy.row_stats(h, i);
            if (a.argmax != b.argmax || !same(a.max, b.max, 1e-5f) || !same(a.sum, b.sum, 1e-4f)) ++bad;
            for (int j = 0; j < s.m(); ++j) {
                const PatternCell x = full.cell(h, i, j), y = lazy.cell(h, i, j);
                if (x.allowed != y.allowed || !same(x.raw, y.raw, 1e-5f) || !same(x.logit, y.logit, 1e-5f) ||
                    !same(x.weight, y.weight, 2e-5f))
                    ++bad;
                // the softmax from the row statistics, for both sources
                for (const PatternSource* p : both) {
                    const PatternCell c = p->cell(h, i, j);
                    const RowStats r = p->row_stats(h, i);
                    const double expect = c.allowed && r.sum > 0 ? std::exp(static_cast<double>(c.logit) - r.max) / r.sum : 0.0;
                    if (std::abs(c.weight - expect) > 2e-5) ++bad;
                }
            }
        }
    CHECK(bad == 0);
    for (const Stage st : {Stage::Raw, Stage::Scaled, Stage::Masked, Stage::Pattern}) {
        const Mat a = full.stage_tile(1, st, 5, 3, 20, 30), b = lazy.stage_tile(1, st, 5, 3, 20, 30);
        REQUIRE(a.rows() == 20);
        REQUIRE(b.cols() == 30);
        int diff = 0;
        for (int r = 0; r < 20; ++r)
            for (int c = 0; c < 30; ++c) diff += !same(a(r, c), b(r, c), 2e-5f);
        INFO("stage " << std::string(stage_name(st)));
        CHECK(diff == 0);
    }
    for (const int head : {1, -1})
        for (const Pool pool : {Pool::Max, Pool::Mean}) {
            Mat a, b;
            REQUIRE(full.overview(head, 2, 4, 33, 31, 9, 7, pool, a));
            REQUIRE(lazy.overview(head, 2, 4, 33, 31, 9, 7, pool, b));
            REQUIRE(a.rows() == 7);
            REQUIRE(a.cols() == 9);
            REQUIRE(b.rows() == 7);
            REQUIRE(b.cols() == 9);
            int diff = 0;
            for (int r = 0; r < 7; ++r)
                for (int c = 0; c < 9; ++c) diff += !same(a(r, c), b(r, c), 2e-5f);
            INFO("head " << head << std::string(pool == Pool::Max ? " max" : " mean"));
            CHECK(diff == 0);
        }
}
}  // namespace

TEST_CASE("PatternSource: a full forward and PatternTiles answer the same, for every mask") {
    const int n = 40;
    Scene s = make_scene(tokens(n), 16, 3, 8, 99);
    set_positional(s, Positional::Sinusoidal);  // repeated words get different keys: no ties for argmax
    set_temperature(s, 0.5f);
    std::vector<std::uint8_t> allowed(static_cast<std::size_t>(n) * n);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) allowed[static_cast<std::size_t>(i) * n + j] = (i * 3 + j * 7) % 4 != 0 && i != 11;
    for (const Mask& mask : {Mask::none(), Mask::causal(), Mask::sliding_window(5), Mask::strided(4), Mask::fixed(6),
                             Mask::matrix(n, n, allowed)}) {
        set_mask(s, mask);
        INFO("mask " << std::string(mask_type_name(mask.type)));
        check_sources_agree(s);
    }
}

TEST_CASE("PatternSource: cross-attention, and a bad cell is refused by name") {
    Scene s = make_scene(tokens(40), 16, 3, 8, 5);
    set_source_tokens(s, tokens(36));
    set_positional(s, Positional::Sinusoidal);
    check_sources_agree(s);
    const Forward f = forward(s);
    const ForwardSource full(s, f);
    CHECK_THROWS_AS(full.cell(3, 0, 0), std::out_of_range);
    CHECK_THROWS_AS(full.cell(0, 0, 36), std::out_of_range);
}

TEST_CASE("PatternSource: only the full-Forward source answers full() (the views that need every pattern ask it)") {
    Scene s = make_scene(tokens(12), 8, 2, 4, 3);
    const Forward f = forward(s);
    const ForwardSource full(s, f);
    CHECK(full.full() == &f);
    auto tiles = std::make_shared<PatternTiles>();
    REQUIRE(tiles->build(s));
    const TilesSource lazy(tiles);
    CHECK(lazy.full() == nullptr);
}
