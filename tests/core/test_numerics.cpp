// Huge logits under the release flags (-O3 -march=native, the default build): every path's pattern
// against a double-precision softmax written here, rows summing to 1, nothing NaN (issue 9).
//
// The reference takes the engine's float scores (themselves checked against a double product),
// rounds each logit score·factor to float once — what the engine promises — and does the rest of
// the softmax in double.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine.hpp"
#include "explain.hpp"
#include "helpers.hpp"
#include "incremental.hpp"
#include "scene_io.hpp"
#include "tiles.hpp"

using namespace attnviz;

namespace {

// The issue's scene: logits ±1e12 · factor.
const char* const kIssueScene =
    R"({"attnviz_scene":1,"d_model":1,"n_heads":1,"tokens":["a","b"],"embeddings":[[1000],[-1000]],)"
    R"("heads":[{"W_Q":[[1000]],"W_K":[[1000]],"W_V":[[1]]}],"W_O":[[1]],"temperature":3})";

std::vector<Mask> every_mask(int n) {
    std::vector<std::uint8_t> allowed(static_cast<std::size_t>(n) * n);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) allowed[static_cast<std::size_t>(i) * n + j] = (i + j) % 3 != 1 || i == j;
    allowed[0] = 0;  // row 0 of the matrix mask sees only what (i + j) % 3 allows: maybe nothing
    return {Mask::none(), Mask::causal(), Mask::sliding_window(1), Mask::sliding_window(2), Mask::strided(2),
            Mask::fixed(2), Mask::matrix(n, n, allowed)};
}

// Scores q_i·k_j in double from the scene itself (embeddings + positional, the weights).
Eigen::MatrixXd reference_scores(const Scene& s, int h) {
    const Sequence& keys = s.source ? *s.source : s.input;
    Eigen::MatrixXd E = s.input.embeddings.cast<double>(), X = keys.embeddings.cast<double>();
    if (s.positional != Positional::None) {
        E += positional_for(s, s.n()).cast<double>();
        X += positional_for(s, s.m()).cast<double>();
    }
    const auto& W = s.heads[static_cast<std::size_t>(h)].W;
    return (E * W[kQuery].cast<double>()) * (X * W[kKey].cast<double>()).transpose();
}

// Σ_c |q_ic|·|k_jc| in double: the size of the terms a float score is rounded against.
Eigen::MatrixXd score_magnitudes(const Scene& s, int h) {
    const Sequence& keys = s.source ? *s.source : s.input;
    Eigen::MatrixXd E = s.input.embeddings.cast<double>(), X = keys.embeddings.cast<double>();
    if (s.positional != Positional::None) {
        E += positional_for(s, s.n()).cast<double>();
        X += positional_for(s, s.m()).cast<double>();
    }
    const auto& W = s.heads[static_cast<std::size_t>(h)].W;
    const Eigen::MatrixXd Q = (E.cwiseAbs() * W[kQuery].cast<double>().cwiseAbs());
    const Eigen::MatrixXd K = (X.cwiseAbs() * W[kKey].cast<double>().cwiseAbs());
    return Q * K.transpose();
}

// Row i of the pattern: softmax in double of the float logits fl(score·factor) over allowed keys.
std::vector<double> reference_row(const Scene& s, const Mat& scores, int i) {
    const int m = static_cast<int>(scores.cols());
    std::vector<double> l(static_cast<std::size_t>(m)), w(static_cast<std::size_t>(m), 0.0);
    double mx = -std::numeric_limits<double>::infinity();
    bool any = false;
    for (int j = 0; j < m; ++j) {
        // The exact product fits a double; rounding it to float is the float product's rounding.
        l[static_cast<std::size_t>(j)] =
            static_cast<float>(static_cast<double>(scores(i, j)) * static_cast<double>(s.logit_factor()));
        if (s.mask.allows(i, j)) {
            any = true;
            mx = std::max(mx, l[static_cast<std::size_t>(j)]);
        }
    }
    if (!any) return w;
    double sum = 0;
    for (int j = 0; j < m; ++j)
        if (s.mask.allows(i, j)) sum += w[static_cast<std::size_t>(j)] = std::exp(l[static_cast<std::size_t>(j)] - mx);
    for (double& x : w) x /= sum;
    return w;
}

// The pattern of head h (rows of the reference), and a check that every row sums to 1 (or 0).
Mat reference_pattern(const Scene& s, const Mat& scores) {
    Mat p(scores.rows(), scores.cols());
    for (int i = 0; i < static_cast<int>(scores.rows()); ++i) {
        const auto w = reference_row(s, scores, i);
        for (int j = 0; j < static_cast<int>(scores.cols()); ++j) p(i, j) = static_cast<float>(w[static_cast<std::size_t>(j)]);
    }
    return p;
}

void check_rows(const Scene& s, const Mat& pattern) {
    for (int i = 0; i < static_cast<int>(pattern.rows()); ++i) {
        CAPTURE(i);
        bool any = false;
        double sum = 0;
        for (int j = 0; j < static_cast<int>(pattern.cols()); ++j) {
            CAPTURE(j);
            REQUIRE(std::isfinite(pattern(i, j)));
            CHECK(pattern(i, j) >= 0.0f);
            CHECK(pattern(i, j) <= 1.0f);
            any = any || s.mask.allows(i, j);
            sum += pattern(i, j);
        }
        CHECK(sum == doctest::Approx(any ? 1.0 : 0.0).epsilon(1e-5));
    }
}

bool all_finite(const Mat& m) { return m.allFinite(); }

// Every path on one scene: forward, PatternTiles (build, cell, tile, overview), the explanation.
void check_every_path(const Scene& s) {
    const Forward f = forward(s);
    for (int h = 0; h < s.n_heads; ++h) {
        CAPTURE(h);
        const HeadResult& r = f.heads[static_cast<std::size_t>(h)];
        const Eigen::MatrixXd ref_scores = reference_scores(s, h), size = score_magnitudes(s, h);
        for (int i = 0; i < s.n(); ++i)
            for (int j = 0; j < s.m(); ++j)
                CHECK(std::fabs(r.scores(i, j) - ref_scores(i, j)) <= 1e-5 * size(i, j) + 1e-6);
        const Mat ref = reference_pattern(s, r.scores);
        check_rows(s, r.pattern);
        CHECK_MAT(r.pattern, ref, 1e-5f);
        CHECK(all_finite(r.mixed));
        CHECK(all_finite(r.delta));

        for (int i = 0; i < s.n(); ++i) {
            const QueryExplanation x = explain_query(s, f, h, i);
            double sum = 0;
            for (int j = 0; j < s.m(); ++j) {
                REQUIRE(std::isfinite(x.weights[j]));
                sum += x.weights[j];
            }
            CHECK(sum == doctest::Approx(x.fully_masked ? 0.0 : 1.0).epsilon(1e-5));
            CHECK(all_finite(Mat(x.mixed)));
        }
    }
    CHECK(all_finite(f.output));

    PatternTiles t;
    REQUIRE(t.build(s, nullptr, 1));
    for (int h = 0; h < s.n_heads; ++h) {
        CAPTURE(h);
        const Mat ref = reference_pattern(s, f.heads[static_cast<std::size_t>(h)].scores);
        const Mat tile = t.tile(h, 0, 0, s.n(), s.m());
        check_rows(s, tile);
        CHECK_MAT(tile, ref, 1e-5f);
        Mat cells(s.n(), s.m());
        for (int i = 0; i < s.n(); ++i)
            for (int j = 0; j < s.m(); ++j) cells(i, j) = t.cell(h, i, j);
        check_rows(s, cells);
        CHECK_MAT(cells, ref, 1e-5f);
        // One cell's block on its own (another product than the whole tile).
        if (s.n() > 1 && s.m() > 1) CHECK_MAT(t.tile(h, 1, 1, s.n() - 1, s.m() - 1), Mat(ref.bottomRightCorner(s.n() - 1, s.m() - 1)), 1e-5f);
        Mat over;
        REQUIRE(t.overview(h, s.m(), s.n(), Pool::Max, over, nullptr, 1));
        for (int i = 0; i < s.n(); ++i)
            for (int j = 0; j < s.m(); ++j)
                if (!std::isnan(over(i, j))) CHECK(over(i, j) == doctest::Approx(ref(i, j)).epsilon(1e-5));
    }
    CHECK(all_finite(t.delta(1)));
}

// A scene at the value limit: embeddings and weights up to ±1e6, default scale (1/√3).
Scene huge_scene(int n, std::uint32_t seed) {
    Scene s = make_scene(std::vector<std::string>(static_cast<std::size_t>(n), "t"), 3, 2, 3, seed);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1e6f, 1e6f);
    Mat E(n, 3);
    for (int i = 0; i < E.size(); ++i) E.data()[i] = u(rng);
    s.input.embeddings = E;
    s.input.embeddings_given = true;
    for (int h = 0; h < 2; ++h)
        for (int p = 0; p < 3; ++p) {
            Mat W(3, 3);
            for (int i = 0; i < W.size(); ++i) W.data()[i] = u(rng);
            set_weight_matrix(s, h, static_cast<Projection>(p), W);
        }
    validate(s);
    return s;
}

}  // namespace

TEST_CASE("numerics: the issue's scene (logits ±1e12/T) gives one-hot rows at every temperature and mask") {
    for (float temperature : {0.3f, 0.7f, 3.0f, 1.0f}) {
        for (const Mask& mask : every_mask(2)) {
            CAPTURE(temperature);
            const std::string mask_name = mask_type_name(mask.type);
        CAPTURE(mask_name);
            CAPTURE(mask.size);
            Scene s = scene_from_json(kIssueScene);
            set_temperature(s, temperature);
            set_mask(s, mask);
            check_every_path(s);
            const Forward f = forward(s);
            // By hand: q_i·k_j = ±1e12, so each query puts all its weight on the key of its own sign.
            if (mask.type == MaskType::None) {
                CHECK_MAT(f.heads[0].pattern, attnviz::test::mat({{1, 0}, {0, 1}}), 0.0f);
                CHECK_MAT(f.output, attnviz::test::mat({{2000}, {-2000}}), 0.0f);  // E + pattern·V·W_O, V = E
            }
        }
    }
}

TEST_CASE("numerics: values at ±1e6 with the default scale, every mask, several temperatures") {
    for (std::uint32_t seed : {1u, 2u, 3u}) {
        for (float temperature : {1e-6f, 0.3f, 1.0f, 3.0f}) {
            for (const Mask& mask : every_mask(6)) {
                CAPTURE(seed);
                CAPTURE(temperature);
                const std::string mask_name = mask_type_name(mask.type);
        CAPTURE(mask_name);
                CAPTURE(mask.size);
                Scene s = huge_scene(6, seed);
                set_temperature(s, temperature);
                set_mask(s, mask);
                check_every_path(s);
            }
        }
    }
}

TEST_CASE("numerics: incremental token edits at huge logits equal the reference") {
    for (const Mask& mask : every_mask(6)) {
        const std::string mask_name = mask_type_name(mask.type);
        CAPTURE(mask_name);
        CAPTURE(mask.size);
        Scene s = huge_scene(6, 7);
        set_temperature(s, 0.7f);
        set_mask(s, mask);
        Forward f = forward(s);
        PatternTiles t;
        REQUIRE(t.build(s, nullptr, 1));
        for (int tok : {0, 3, 5}) {
            CAPTURE(tok);
            set_embedding(s, tok, 0, tok % 2 ? -9.9e5f : 9.9e5f);
            set_embedding(s, tok, 2, 5e5f);
            update_token(s, f, tok, 1);
            t.update_token(s, tok, 1);
            for (int h = 0; h < s.n_heads; ++h) {
                CAPTURE(h);
                const Forward full = forward(s);
                const Mat ref = reference_pattern(s, full.heads[static_cast<std::size_t>(h)].scores);
                check_rows(s, f.heads[static_cast<std::size_t>(h)].pattern);
                CHECK_MAT(f.heads[static_cast<std::size_t>(h)].pattern, ref, 1e-5f);
                CHECK(all_finite(f.heads[static_cast<std::size_t>(h)].mixed));
                const Mat tile = t.tile(h, 0, 0, s.n(), s.m());
                check_rows(s, tile);
                CHECK_MAT(tile, ref, 1e-5f);
                CHECK(all_finite(t.head(h).mixed));
            }
            CHECK(all_finite(f.output));
            CHECK(all_finite(t.delta(1)));
        }
    }
}

TEST_CASE("numerics: logits that overflow float share the row among the keys tied at the max") {
    const float inf = std::numeric_limits<float>::infinity();
    const float logits[4] = {inf, 1.0f, inf, -inf};
    const std::uint8_t allowed[4] = {1, 1, 1, 1};
    float out[4], mx = 0, sum = 0;
    REQUIRE(masked_softmax_row(logits, allowed, 4, out, &mx, &sum));
    CHECK(out[0] == 0.5f);
    CHECK(out[1] == 0.0f);
    CHECK(out[2] == 0.5f);
    CHECK(out[3] == 0.0f);
    // Every allowed logit −∞ (scores far below zero over a tiny temperature): an equal share.
    const float low[3] = {-inf, -inf, 5.0f};
    const std::uint8_t some[3] = {1, 1, 0};
    REQUIRE(masked_softmax_row(low, some, 3, out, &mx, &sum));
    CHECK(out[0] == 0.5f);
    CHECK(out[1] == 0.5f);
    CHECK(out[2] == 0.0f);
}
