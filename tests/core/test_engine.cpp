// The engine against numbers worked out by hand and against the math's properties.
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>

#include "engine.hpp"
#include "helpers.hpp"

using namespace attnviz;
using attnviz::test::mat;

namespace {
// A one-head scene with explicit embeddings and weights.
Scene one_head(const std::vector<std::string>& tokens, const Mat& E, const Mat& WQ, const Mat& WK, const Mat& WV,
               const Mat& WO) {
    Scene s = make_scene(tokens, static_cast<int>(E.cols()), 1, static_cast<int>(WQ.cols()), 1);
    s.input.embeddings = E;
    s.input.embeddings_given = true;
    set_weight_matrix(s, 0, kQuery, WQ);
    set_weight_matrix(s, 0, kKey, WK);
    set_weight_matrix(s, 0, kValue, WV);
    set_output_matrix(s, WO);
    validate(s);
    return s;
}
Mat eye(int n) { return Mat::Identity(n, n); }
}  // namespace

TEST_CASE("textbook example: q·k = 31, d_k = 3, scaled score 31/√3") {
    // q = [1,2,3]·I, k = [1,2,3]·diag(1,3,2) = [1,6,6]: q·k = 1 + 12 + 18 = 31.
    Mat WK = Mat::Zero(3, 3);
    WK(0, 0) = 1; WK(1, 1) = 3; WK(2, 2) = 2;
    Scene s = one_head({"Thinking", "Machines"}, mat({{1, 2, 3}, {1, 0, 0}}), eye(3), WK, eye(3), eye(3));
    const Forward f = forward(s);
    const HeadResult& h = f.heads[0];
    CHECK(h.scores(0, 0) == doctest::Approx(31.0));
    CHECK(h.scores(0, 1) == doctest::Approx(1.0));   // q0·k1 = [1,2,3]·[1,0,0]
    CHECK(h.scores(1, 0) == doctest::Approx(1.0));   // q1·k0 = [1,0,0]·[1,6,6]
    const Mat scaled = stage_matrix(s, h, Stage::Scaled);
    CHECK(scaled(0, 0) == doctest::Approx(31.0 / std::sqrt(3.0)).epsilon(1e-6));  // 17.8979
    CHECK(scaled(0, 0) == doctest::Approx(17.897858).epsilon(1e-6));
    // softmax(31/√3, 1/√3): the second weight is 1/(1 + e^{30/√3})
    CHECK(h.pattern(0, 1) == doctest::Approx(1.0 / (1.0 + std::exp(30.0 / std::sqrt(3.0)))).epsilon(1e-3));
    CHECK(f.logit_factor == doctest::Approx(1.0 / std::sqrt(3.0)));
}

TEST_CASE("two tokens by hand: pattern, ΔE and E'") {
    // E = I, W_Q = I, K = E·W_K = [[ln 3, 0], [0, 0]], no scaling:
    // scores = [[ln 3, 0], [0, 0]] → pattern = [[3/4, 1/4], [1/2, 1/2]].
    // V = diag(2, 4) → pattern·V = [[1.5, 1], [1, 2]]; W_O = I → ΔE; E' = E + ΔE = [[2.5, 1], [1, 3]].
    const float ln3 = std::log(3.0f);
    Scene s = one_head({"red", "dog"}, eye(2), eye(2), mat({{ln3, 0}, {0, 0}}), mat({{2, 0}, {0, 4}}), eye(2));
    set_scale(s, false);
    const Forward f = forward(s);
    CHECK_MAT(f.heads[0].scores, mat({{ln3, 0}, {0, 0}}), 1e-6f);
    CHECK_MAT(f.heads[0].pattern, mat({{0.75f, 0.25f}, {0.5f, 0.5f}}), 1e-6f);
    CHECK_MAT(f.heads[0].delta, mat({{1.5f, 1}, {1, 2}}), 1e-5f);
    CHECK_MAT(f.delta, mat({{1.5f, 1}, {1, 2}}), 1e-5f);
    CHECK_MAT(f.output, mat({{2.5f, 1}, {1, 3}}), 1e-5f);
    CHECK(f.heads[0].row_max[0] == doctest::Approx(ln3));
    CHECK(f.heads[0].row_sum[0] == doctest::Approx(1.0f + 1.0f / 3.0f));  // e^0 + e^{-ln 3}

    SUBCASE("causal mask: the first token sees only itself") {
        set_mask(s, Mask::causal());
        const Forward g = forward(s);
        CHECK_MAT(g.heads[0].pattern, mat({{1, 0}, {0.5f, 0.5f}}), 1e-6f);
        // ΔE row 0 = 1·v0·W_O = [2, 0]
        CHECK_MAT(g.output, mat({{3, 0}, {1, 3}}), 1e-5f);
    }
    SUBCASE("temperature 2 halves the logits") {
        set_temperature(s, 2.0f);
        const Forward g = forward(s);
        // softmax(ln3 / 2, 0) = [√3/(√3+1), 1/(√3+1)]
        CHECK(g.heads[0].pattern(0, 0) == doctest::Approx(std::sqrt(3.0) / (std::sqrt(3.0) + 1.0)));
    }
}

TEST_CASE("cross-attention: queries from the input, keys and values from the source") {
    // Two English queries over three French keys; W = I so scores = E·Xᵀ.
    Scene s = make_scene({"the", "cat"}, 2, 1, 2, 3);
    s.input.embeddings = mat({{1, 0}, {0, 1}});
    s.input.embeddings_given = true;
    set_source_tokens(s, {"le", "chat", "noir"});
    s.source->embeddings = mat({{2, 0}, {0, 2}, {0, 0}});
    s.source->embeddings_given = true;
    for (auto p : {kQuery, kKey, kValue}) set_weight_matrix(s, 0, p, eye(2));
    set_output_matrix(s, eye(2));
    set_scale(s, false);
    validate(s);
    const Forward f = forward(s);
    REQUIRE(f.heads[0].pattern.rows() == 2);
    REQUIRE(f.heads[0].pattern.cols() == 3);
    CHECK_MAT(f.heads[0].scores, mat({{2, 0, 0}, {0, 2, 0}}), 1e-6f);
    const double e2 = std::exp(2.0), z = e2 + 2.0;
    CHECK(f.heads[0].pattern(0, 0) == doctest::Approx(e2 / z));
    CHECK(f.heads[0].pattern(0, 2) == doctest::Approx(1.0 / z));
    // ΔE row 0 = (e²/z)·[2,0] + (1/z)·[0,2]
    CHECK(f.delta(0, 0) == doctest::Approx(2 * e2 / z));
    CHECK(f.delta(0, 1) == doctest::Approx(2 / z));
}

TEST_CASE("rows of an unmasked pattern sum to 1; ΔE = Σ ΔE_h; E' = E + ΔE") {
    Scene s = make_scene({"the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"}, 16, 4, 4, 42);
    const Forward f = forward(s);
    Mat sum = Mat::Zero(s.n(), s.d_model);
    for (const auto& h : f.heads) {
        for (Eigen::Index i = 0; i < h.pattern.rows(); ++i) CHECK(h.pattern.row(i).sum() == doctest::Approx(1.0));
        CHECK(h.pattern.minCoeff() > 0.0f);
        sum += h.delta;
    }
    CHECK_MAT(f.delta, sum, 1e-5f);
    CHECK_MAT(f.output, Mat(f.E + sum), 1e-5f);
    // ΔE_h equals the textbook formula softmax(QKᵀ/√d)·V·W_O[h] computed independently here.
    for (int h = 0; h < s.n_heads; ++h) {
        const Mat Q = f.E * s.heads[h].W[kQuery], K = f.E * s.heads[h].W[kKey], V = f.E * s.heads[h].W[kValue];
        Mat A = (Q * K.transpose()) / std::sqrt(4.0f);
        for (Eigen::Index i = 0; i < A.rows(); ++i) {
            A.row(i) = (A.row(i).array() - A.row(i).maxCoeff()).exp();
            A.row(i) /= A.row(i).sum();
        }
        const Mat dE = A * V * s.W_O.middleRows(h * 4, 4);
        CHECK_MAT(f.heads[h].delta, dE, 1e-5f);
    }
}

TEST_CASE("a head with W_Q = 0 attends uniformly") {
    Scene s = make_scene({"a", "b", "c", "d", "e"}, 8, 2, 4, 1);
    set_weight_matrix(s, 1, kQuery, Mat::Zero(8, 4));
    const Forward f = forward(s);
    CHECK_MAT(f.heads[1].pattern, Mat::Constant(5, 5, 0.2f), 1e-6f);
    SUBCASE("and uniformly over the allowed keys under a causal mask") {
        set_mask(s, Mask::causal());
        const Forward g = forward(s);
        for (int i = 0; i < 5; ++i)
            for (int j = 0; j < 5; ++j) CHECK(g.heads[1].pattern(i, j) == doctest::Approx(j <= i ? 1.0 / (i + 1) : 0.0));
    }
}

TEST_CASE("without positional encoding, permuting the tokens permutes the rows of E'") {
    const std::vector<std::string> words = {"eiffel", "tower", "in", "paris", "at", "night"};
    const std::vector<int> perm = {3, 0, 5, 1, 4, 2};  // new row r holds old token perm[r]
    std::vector<std::string> shuffled;
    for (int p : perm) shuffled.push_back(words[static_cast<std::size_t>(p)]);
    Scene a = make_scene(words, 12, 3, 4, 9);
    Scene b = make_scene(shuffled, 12, 3, 4, 9);
    const Forward fa = forward(a), fb = forward(b);
    Mat permuted(fa.output.rows(), fa.output.cols());
    for (int r = 0; r < 6; ++r) permuted.row(r) = fa.output.row(perm[static_cast<std::size_t>(r)]);
    CHECK_MAT(fb.output, permuted, 1e-5f);

    SUBCASE("with sinusoidal positions the outputs are no longer a permutation") {
        set_positional(a, Positional::Sinusoidal);
        set_positional(b, Positional::Sinusoidal);
        const Forward pa = forward(a), pb = forward(b);
        Mat pp(pa.output.rows(), pa.output.cols());
        for (int r = 0; r < 6; ++r) pp.row(r) = pa.output.row(perm[static_cast<std::size_t>(r)]);
        CHECK((pb.output - pp).cwiseAbs().maxCoeff() > 1e-2f);
    }
}

TEST_CASE("sinusoidal positional encoding by the formula") {
    const Mat pe = positional_encoding(Positional::Sinusoidal, 3, 4, 0);
    CHECK(pe(0, 0) == doctest::Approx(0.0));          // sin 0
    CHECK(pe(0, 1) == doctest::Approx(1.0));          // cos 0
    CHECK(pe(1, 0) == doctest::Approx(0.841470985));  // sin 1
    CHECK(pe(1, 1) == doctest::Approx(0.540302306));  // cos 1
    CHECK(pe(2, 2) == doctest::Approx(0.019998667));  // sin(2 / 10000^(2/4)) = sin 0.02
    CHECK(pe(2, 3) == doctest::Approx(0.999800007));  // cos 0.02
}

TEST_CASE("numerical stability: logits of ±1e4 give no NaN or infinity") {
    Scene s = one_head({"x", "y", "z"}, mat({{100, 0}, {-100, 0}, {0, 100}}), eye(2), eye(2), eye(2), eye(2));
    set_scale(s, false);  // scores reach ±1e4
    const Forward f = forward(s);
    CHECK(f.heads[0].scores(0, 0) == doctest::Approx(1e4));
    CHECK(f.heads[0].scores(0, 1) == doctest::Approx(-1e4));
    CHECK(f.heads[0].pattern.allFinite());
    CHECK(f.output.allFinite());
    CHECK(f.heads[0].pattern(0, 0) == doctest::Approx(1.0));
    CHECK(f.heads[0].pattern(0, 1) == 0.0f);
    // Row 2: q = [0,100], scores = [0, 0, 1e4] → one-hot on key 2.
    CHECK(f.heads[0].pattern(2, 2) == doctest::Approx(1.0));
}

TEST_CASE("a row that may see no key is all zero and reported, never NaN") {
    Scene s = make_scene({"a", "b", "c"}, 4, 1, 4, 5);
    std::vector<std::uint8_t> allowed = {1, 0, 0,  0, 0, 0,  1, 1, 1};  // row 1 sees nothing
    set_mask(s, Mask::matrix(3, 3, allowed));
    const Forward f = forward(s);
    CHECK(f.heads[0].pattern.row(1).cwiseAbs().sum() == 0.0f);
    CHECK(f.heads[0].delta.row(1).cwiseAbs().sum() == 0.0f);
    CHECK(f.output.allFinite());
    CHECK(f.fully_masked_rows == std::vector<int>{1});
    CHECK(f.heads[0].pattern(0, 0) == doctest::Approx(1.0));
    CHECK(f.heads[0].pattern.row(2).sum() == doctest::Approx(1.0));
}

TEST_CASE("recompute_head after a weight edit equals a full forward") {
    Scene s = make_scene({"one", "two", "three", "four"}, 8, 3, 4, 11);
    Forward f = forward(s);
    set_weight(s, 2, kKey, 3, 1, 2.5f);
    recompute_head(s, f, 2);
    const Forward g = forward(s);
    CHECK_MAT(f.heads[2].pattern, g.heads[2].pattern, 0.0f);
    CHECK_MAT(f.output, g.output, 1e-6f);
}

TEST_CASE("empty input gives empty results, not a crash") {
    Scene s = make_scene({}, 8, 2, 4, 1);
    const Forward f = forward(s);
    CHECK(f.output.rows() == 0);
    CHECK(f.heads.size() == 2);
    CHECK(f.heads[0].pattern.size() == 0);
}
