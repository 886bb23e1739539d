// Incremental edits of PatternTiles against a full forward pass of the edited scene.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "engine.hpp"
#include "helpers.hpp"
#include "incremental.hpp"

using namespace attnviz;
using attnviz::test::word;

namespace {

std::vector<std::string> token_list(int n) {
    std::vector<std::string> tokens;
    for (int i = 0; i < n; ++i) tokens.push_back(word("w", (i * 31) % (n / 3 + 1)));
    return tokens;
}

Scene inc_scene(int n, const Mask& mask, float temperature = 1.0f) {
    Scene s = make_scene(token_list(n), 24, 3, 8, 17);
    set_positional(s, Positional::Learned);
    set_mask(s, mask);
    set_temperature(s, temperature);
    return s;
}

Mat col(const std::vector<float>& v) { return Eigen::Map<const Mat>(v.data(), static_cast<Eigen::Index>(v.size()), 1); }

// The statistics and on-demand results of `t` against a full forward pass of `s`.
void check_equals_full(const PatternTiles& t, const Scene& s, float tol) {
    const Forward f = forward(s);
    for (int h = 0; h < s.n_heads; ++h) {
        CAPTURE(h);
        const HeadResult& r = f.heads[static_cast<std::size_t>(h)];
        const HeadStats& st = t.head(h);
        CHECK_MAT(st.Q, r.Q, 1e-5f);
        CHECK_MAT(st.K, r.K, 1e-5f);
        CHECK_MAT(st.V, r.V, 1e-5f);
        // Maxima compared relative to their size (logits reach hundreds at low temperature).
        CHECK_MAT(Mat(col(st.row_max).array() / (col(r.row_max).array().abs() + 1.0f)),
                  Mat(col(r.row_max).array() / (col(r.row_max).array().abs() + 1.0f)), tol);
        // Sums compared relative to their size (a row sum is between 1 and n).
        Mat rel = col(st.row_sum);
        for (Eigen::Index i = 0; i < rel.rows(); ++i) rel(i) = r.row_sum[i] > 0 ? rel(i) / r.row_sum[i] : rel(i);
        Mat ones = col(r.row_sum);
        for (Eigen::Index i = 0; i < ones.rows(); ++i) ones(i) = r.row_sum[i] > 0 ? 1.0f : 0.0f;
        CHECK_MAT(rel, ones, tol);
        CHECK_MAT(st.mixed, r.mixed, tol);
        CHECK_MAT(t.tile(h, 0, 0, s.n(), s.m()), r.pattern, tol);
    }
    CHECK_MAT(t.delta(), f.delta, tol);
    CHECK_MAT(Mat(t.output_row(s.n() / 2)), Mat(f.output.row(s.n() / 2)), tol);
}

}  // namespace

TEST_CASE("a one-token edit updates the statistics to what a full recompute gives") {
    const int n = 120;
    std::vector<std::uint8_t> allowed(static_cast<std::size_t>(n) * n);
    std::mt19937 rng(5);
    for (auto& a : allowed) a = rng() % 4 != 0;
    for (const Mask& mask : {Mask::none(), Mask::causal(), Mask::sliding_window(10), Mask::strided(7), Mask::fixed(9),
                             Mask::matrix(n, n, allowed)}) {
        const std::string mask_name = mask_type_name(mask.type);
        CAPTURE(mask_name);
        Scene s = inc_scene(n, mask);
        PatternTiles t;
        REQUIRE(t.build(s));
        auto tokens = token_list(n);
        for (int pos : {0, n / 2, n - 1, 7}) {
            CAPTURE(pos);
            tokens[static_cast<std::size_t>(pos)] = word("edited", pos);
            set_tokens(s, tokens);
            t.update_token(s, pos);
            check_equals_full(t, s, 2e-5f);
        }
    }
}

TEST_CASE("token edits with sharp patterns: the max moves, one key dominates, rows are rescanned") {
    // Temperature 0.02 makes most rows nearly one-hot: removing the dominant key's term from the
    // sum would cancel, and the row max often sits on the edited key.
    for (const Mask& mask : {Mask::none(), Mask::causal()}) {
        const std::string mask_name = mask_type_name(mask.type);
        CAPTURE(mask_name);
        Scene s = inc_scene(90, mask, 0.02f);
        PatternTiles t;
        REQUIRE(t.build(s));
        auto tokens = token_list(90);
        std::mt19937 rng(3);
        for (int k = 0; k < 40; ++k) {  // many edits in a row: no drift
            const int pos = static_cast<int>(rng() % 90);
            tokens[static_cast<std::size_t>(pos)] = word("x", rng() % 12);
            set_tokens(s, tokens);
            t.update_token(s, pos);
        }
        check_equals_full(t, s, 5e-5f);
    }
}

TEST_CASE("a causal token edit leaves the rows before it untouched") {
    Scene s = inc_scene(100, Mask::causal());
    PatternTiles t;
    REQUIRE(t.build(s));
    const PatternTiles before = t;
    auto tokens = token_list(100);
    tokens[60] = "changed";
    set_tokens(s, tokens);
    t.update_token(s, 60);
    for (int h = 0; h < 3; ++h) {
        const HeadStats &a = before.head(h), &b = t.head(h);
        CHECK(Mat(a.mixed.topRows(60)) == Mat(b.mixed.topRows(60)));  // bit for bit
        CHECK(std::equal(a.row_sum.begin(), a.row_sum.begin() + 60, b.row_sum.begin()));
        CHECK(Mat(a.Q.topRows(60)) == Mat(b.Q.topRows(60)));
    }
    check_equals_full(t, s, 2e-5f);
}

TEST_CASE("cross-attention: editing a query token changes only its row") {
    Scene s = inc_scene(30, Mask::none());
    std::vector<std::string> src;
    for (int i = 0; i < 45; ++i) src.push_back(word("src", i % 20));
    set_source_tokens(s, src);
    PatternTiles t;
    REQUIRE(t.build(s));
    auto tokens = token_list(30);
    tokens[4] = "other";
    set_tokens(s, tokens);
    t.update_token(s, 4);
    check_equals_full(t, s, 2e-5f);
}

TEST_CASE("a W_Q/W_K/W_V edit rebuilds that head only; a W_O edit rebuilds nothing") {
    Scene s = inc_scene(80, Mask::causal());
    PatternTiles t;
    REQUIRE(t.build(s));
    const PatternTiles before = t;
    set_weight(s, 1, kKey, 3, 2, 2.5f);
    set_weight(s, 1, kQuery, 0, 0, -1.0f);
    t.update_head(s, 1);
    CHECK(Mat(t.head(0).mixed) == Mat(before.head(0).mixed));
    CHECK(Mat(t.head(2).mixed) == Mat(before.head(2).mixed));
    CHECK_FALSE(Mat(t.head(1).mixed) == Mat(before.head(1).mixed));
    check_equals_full(t, s, 2e-5f);
    set_output_weight(s, 5, 7, 3.0f);
    t.update_output(s);
    check_equals_full(t, s, 2e-5f);
}

TEST_CASE("an update with a scene of other sizes is refused") {
    Scene s = inc_scene(50, Mask::causal());
    PatternTiles t;
    REQUIRE(t.build(s));
    Scene longer = inc_scene(51, Mask::causal());
    CHECK_THROWS_AS(t.update_token(longer, 3), std::invalid_argument);
    Scene other_mask = s;
    set_mask(other_mask, Mask::none());
    CHECK_THROWS_AS(t.update_token(other_mask, 3), std::invalid_argument);
    CHECK_THROWS_AS(t.update_token(s, 50), std::out_of_range);
    CHECK_THROWS_AS(t.update_head(s, 3), std::out_of_range);
}

namespace {

// Every field of an updated Forward against a fresh forward pass of the edited scene.
void check_forward_equal(const Forward& got, const Forward& want, float tol) {
    REQUIRE(got.heads.size() == want.heads.size());
    CHECK_MAT(got.E, want.E, 1e-6f);
    CHECK_MAT(got.X, want.X, 1e-6f);
    for (std::size_t h = 0; h < want.heads.size(); ++h) {
        CAPTURE(h);
        const HeadResult &g = got.heads[h], &w = want.heads[h];
        CHECK_MAT(g.Q, w.Q, 1e-5f);
        CHECK_MAT(g.K, w.K, 1e-5f);
        CHECK_MAT(g.V, w.V, 1e-5f);
        CHECK_MAT(g.scores, w.scores, 1e-4f);
        CHECK_MAT(g.pattern, w.pattern, tol);
        CHECK_MAT(g.mixed, w.mixed, tol);
        CHECK_MAT(g.delta, w.delta, tol);
        Mat rel(static_cast<Eigen::Index>(w.row_sum.size()), 1), one(rel.rows(), 1);
        for (Eigen::Index i = 0; i < rel.rows(); ++i) {
            rel(i) = w.row_sum[i] > 0 ? g.row_sum[i] / w.row_sum[i] : g.row_sum[i];
            one(i) = w.row_sum[i] > 0 ? 1.0f : 0.0f;
        }
        CHECK_MAT(rel, one, tol);
    }
    CHECK_MAT(got.delta, want.delta, tol);
    CHECK_MAT(got.output, want.output, tol);
    CHECK(got.fully_masked_rows == want.fully_masked_rows);
}

}  // namespace

TEST_CASE("update_token on a full Forward equals a fresh forward pass (scores, pattern, ΔE, E')") {
    const int n = 110;
    std::vector<std::uint8_t> allowed(static_cast<std::size_t>(n) * n);
    std::mt19937 rng(8);
    for (auto& a : allowed) a = rng() % 4 != 0;
    for (auto masked_scores : {ForwardOptions::MaskedScores::Compute, ForwardOptions::MaskedScores::Skip}) {
        ForwardOptions opt;
        opt.masked_scores = masked_scores;
        for (const Mask& mask : {Mask::none(), Mask::causal(), Mask::sliding_window(12), Mask::strided(5),
                                 Mask::fixed(10), Mask::matrix(n, n, allowed)}) {
            const std::string mask_name = mask_type_name(mask.type);
            CAPTURE(mask_name);
            CAPTURE(opt.masked_scores == ForwardOptions::MaskedScores::Skip);
            for (float temperature : {1.0f, 0.02f}) {  // 0.02: sharp rows, the max moves, rows are refreshed
                CAPTURE(temperature);
                Scene s = inc_scene(n, mask, temperature);
                Forward f = forward(s, opt);
                auto tokens = token_list(n);
                std::mt19937 pick(4);
                for (int k = 0; k < 12; ++k) {
                    const int pos = k < 3 ? std::vector<int>{0, n - 1, n / 2}[k] : static_cast<int>(pick() % n);
                    tokens[static_cast<std::size_t>(pos)] = word("e", pick() % 9);
                    set_tokens(s, tokens);
                    update_token(s, f, pos);
                }
                check_forward_equal(f, forward(s, opt), 5e-5f);
            }
        }
    }
}

TEST_CASE("update_token on a Forward: cross-attention, and refusing other sizes") {
    Scene s = inc_scene(25, Mask::none());
    std::vector<std::string> src;
    for (int i = 0; i < 33; ++i) src.push_back(word("src", i % 11));
    set_source_tokens(s, src);
    Forward f = forward(s);
    auto tokens = token_list(25);
    tokens[9] = "new";
    set_tokens(s, tokens);
    update_token(s, f, 9);
    check_forward_equal(f, forward(s), 2e-5f);
    CHECK_THROWS_AS(update_token(s, f, 25), std::out_of_range);
    CHECK_THROWS_AS(update_token(inc_scene(26, Mask::none()), f, 1), std::invalid_argument);
}
