// Pass (1) of forward() is one product E·[W_Q | W_K | W_V] of all heads (core/engine.hpp), split by
// rows over the threads. Each head's Q, K and V must still be that head's own E·W_Q, X·W_K, X·W_V:
// checked here against products written out in double, for several head counts and widths (d_model
// not a multiple of 8, d_head odd), sizes that run on one thread and on several, and cross-attention.
// The scores, ΔE = Σ_h ΔE_h and E' are checked from the same double projections. (Scenes have no
// Q/K/V biases; GPT-2's are tested in test_gpt2_model.cpp.)
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine.hpp"
#include "helpers.hpp"

using namespace attnviz;

namespace {

using Grid = Eigen::MatrixXd;

Grid to_double(const Mat& m) { return m.cast<double>(); }

// a (r, d) · w (d, c), written out as loops in double.
Grid times(const Grid& a, const Mat& w) {
    Grid out = Grid::Zero(a.rows(), w.cols());
    for (Eigen::Index i = 0; i < a.rows(); ++i)
        for (Eigen::Index j = 0; j < w.cols(); ++j) {
            double acc = 0.0;
            for (Eigen::Index k = 0; k < a.cols(); ++k) acc += a(i, k) * static_cast<double>(w(k, j));
            out(i, j) = acc;
        }
    return out;
}

// Largest |a − b| relative to the largest |b| (at least 1); prints where it is when over `tol`.
void check_close(const Mat& got, const Grid& want, double tol, const std::string& what) {
    REQUIRE(got.rows() == want.rows());
    REQUIRE(got.cols() == want.cols());
    const double scale = std::max(1.0, want.cwiseAbs().maxCoeff());
    double worst = 0;
    Eigen::Index wr = 0, wc = 0;
    for (Eigen::Index r = 0; r < want.rows(); ++r)
        for (Eigen::Index c = 0; c < want.cols(); ++c) {
            const double d = std::fabs(static_cast<double>(got(r, c)) - want(r, c));
            if (!(d <= worst)) worst = d, wr = r, wc = c;
        }
    CHECK_MESSAGE(worst <= tol * scale, what << ": largest difference " << worst << " at [" << wr << "][" << wc
                                              << "]: " << got(wr, wc) << " vs " << want(wr, wc) << " (scale " << scale << ")");
}

std::vector<std::string> words(int n, const char* prefix) {
    std::vector<std::string> w;
    for (int i = 0; i < n; ++i) w.push_back(test::word(prefix, i));
    return w;
}

// Every head's Q, K, V, raw scores and ΔE_h, and ΔE and E', against the double-precision products.
void check_projections(const Scene& s) {
    ForwardOptions opt;
    opt.masked_scores = ForwardOptions::MaskedScores::Compute;  // every cell's raw score
    const Forward f = forward(s, opt);
    REQUIRE(f.heads.size() == static_cast<std::size_t>(s.n_heads));
    // E and X as forward() made them (positional encoding is tested elsewhere), in double.
    const Grid E = to_double(f.E), X = to_double(f.X);
    Grid delta = Grid::Zero(s.n(), s.d_model);
    for (int h = 0; h < s.n_heads; ++h) {
        const auto& W = s.heads[static_cast<std::size_t>(h)].W;
        const HeadResult& r = f.heads[static_cast<std::size_t>(h)];
        const Grid Q = times(E, W[kQuery]), K = times(X, W[kKey]), V = times(X, W[kValue]);
        const std::string head = "head " + std::to_string(h) + " of " + std::to_string(s.n_heads);
        check_close(r.Q, Q, 1e-6, head + " Q");
        check_close(r.K, K, 1e-6, head + " K");
        check_close(r.V, V, 1e-6, head + " V");
        check_close(r.scores, Q * K.transpose(), 1e-5, head + " scores");
        // ΔE_h = pattern_h · V_h · W_O[rows of h] (the pattern itself: test_oracle.cpp)
        const Grid dh = times(to_double(r.pattern) * V, s.W_O.middleRows(static_cast<Eigen::Index>(h) * s.d_head, s.d_head));
        check_close(r.delta, dh, 1e-5, head + " ΔE_h");
        delta += dh;
    }
    check_close(f.delta, delta, 1e-5, "ΔE");
    check_close(f.output, E + delta, 1e-5, "E'");
}

}  // namespace

TEST_CASE("the fused Q/K/V product gives every head its own E·W_Q, X·W_K, X·W_V (double reference)") {
    struct Size {
        int n, d_model, heads, d_head;
    };
    // d_model 36, 20, 13 and 100 are not multiples of 8; the last two sizes split the product
    // (and ΔE's sum) over the threads, the first ones stay on one thread.
    for (const Size z : {Size{9, 13, 1, 7}, Size{40, 36, 3, 12}, Size{70, 20, 5, 4}, Size{150, 100, 12, 9},
                         Size{300, 200, 20, 10}}) {
        CAPTURE(z.n);
        CAPTURE(z.d_model);
        CAPTURE(z.heads);
        Scene s = make_scene(words(z.n, "w"), z.d_model, z.heads, z.d_head, 5 + z.heads);
        set_positional(s, Positional::Sinusoidal);
        set_mask(s, Mask::causal());
        check_projections(s);
    }
}

TEST_CASE("the fused Q/K/V product for cross-attention: Q from the queries, K and V from the source") {
    for (int heads : {1, 6}) {
        CAPTURE(heads);
        Scene s = make_scene(words(50, "q"), 30, heads, 5, 3);
        set_source_tokens(s, words(77, "k"));
        set_positional(s, Positional::Sinusoidal);
        check_projections(s);
        Scene big = make_scene(words(160, "q"), 60, heads, 7, 4);  // large enough for the threads
        set_source_tokens(big, words(210, "k"));
        check_projections(big);
    }
}

TEST_CASE("recompute_head after a weight edit equals a full forward bit for bit, on a threaded size") {
    // 12 heads of 9 over d_model 100, 150 tokens: the fused product and ΔE's sum run on the threads.
    Scene s = make_scene(words(150, "w"), 100, 12, 9, 21);
    set_mask(s, Mask::causal());
    Forward f = forward(s);
    set_weight(s, 5, kKey, 7, 3, 0.75f);
    set_weight(s, 5, kQuery, 99, 8, -1.25f);
    recompute_head(s, f, 5);
    const Forward g = forward(s);
    for (int h = 0; h < 12; ++h) {
        CAPTURE(h);
        const HeadResult &a = f.heads[static_cast<std::size_t>(h)], &b = g.heads[static_cast<std::size_t>(h)];
        CHECK_MAT(a.Q, b.Q, 0.0f);
        CHECK_MAT(a.K, b.K, 0.0f);
        CHECK_MAT(a.V, b.V, 0.0f);
        CHECK_MAT(a.pattern, b.pattern, 0.0f);
        CHECK_MAT(a.delta, b.delta, 0.0f);
    }
    CHECK_MAT(f.delta, g.delta, 0.0f);
    CHECK_MAT(f.output, g.output, 0.0f);
}
