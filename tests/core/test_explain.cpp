// The step-by-step math of one query (core/explain) against core's forward pass and by hand.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "engine.hpp"
#include "explain.hpp"
#include "helpers.hpp"
#include "scene_io.hpp"

using namespace attnviz;
using attnviz::test::mat;

namespace {
Mat row(const RowVec& v) { return Mat(v); }

// The two-token scene of test_engine: E = I, W_Q = I, K = [[ln 3, 0], [0, 0]], V = diag(2, 4), W_O = I.
Scene red_dog() {
    Scene s = make_scene({"red", "dog"}, 2, 1, 2, 1);
    s.input.embeddings = Mat::Identity(2, 2);
    s.input.embeddings_given = true;
    set_weight_matrix(s, 0, kQuery, Mat::Identity(2, 2));
    set_weight_matrix(s, 0, kKey, mat({{std::log(3.0f), 0}, {0, 0}}));
    set_weight_matrix(s, 0, kValue, mat({{2, 0}, {0, 4}}));
    set_output_matrix(s, Mat::Identity(2, 2));
    set_scale(s, false);
    validate(s);
    return s;
}
}  // namespace

TEST_CASE("explain: a tiny case by hand, every step") {
    const Scene s = red_dog();
    const Forward f = forward(s);
    const QueryExplanation x = explain_query(s, f, 0, 0);
    // (1) q = [1, 0]; k_0 = [ln 3, 0], k_1 = [0, 0]; v_0 = [2, 0], v_1 = [0, 4].
    CHECK_MAT(row(x.q), mat({{1, 0}}), 0.0f);
    CHECK_MAT(x.K, mat({{std::log(3.0f), 0}, {0, 0}}), 1e-7f);
    CHECK_MAT(x.V, mat({{2, 0}, {0, 4}}), 0.0f);
    // (2) dots [ln 3, 0]; (3) scaling off: factor 1; (4) nothing masked.
    CHECK_MAT(row(x.dots), mat({{std::log(3.0f), 0}}), 1e-7f);
    CHECK(x.logit_factor == 1.0f);
    CHECK_MAT(row(x.logits), row(x.dots), 0.0f);
    CHECK(x.allowed == std::vector<std::uint8_t>{1, 1});
    // (5) softmax: max ln 3, Σ exp(l − max) = 1 + 1/3; weights [3/4, 1/4].
    CHECK(x.row_max == doctest::Approx(std::log(3.0)));
    CHECK(x.row_sum == doctest::Approx(4.0 / 3.0));
    CHECK_MAT(row(x.weights), mat({{0.75f, 0.25f}}), 1e-6f);
    // (6) z = ¾·[2, 0] + ¼·[0, 4] = [1.5, 1]; (7) W_O = I: ΔE = [1.5, 1]; (8) E' = [2.5, 1].
    CHECK_MAT(row(x.mixed), mat({{1.5f, 1.0f}}), 1e-6f);
    CHECK_MAT(row(x.delta_head), mat({{1.5f, 1.0f}}), 1e-6f);
    CHECK_MAT(row(x.output), mat({{2.5f, 1.0f}}), 1e-6f);
    // The text: 8 numbered steps with the real numbers.
    REQUIRE(x.steps.size() == 8);
    for (int k = 0; k < 8; ++k) CHECK(x.steps[static_cast<std::size_t>(k)].number == k + 1);
    CHECK(x.steps[1].lines.at(0) == "q·k_0 'red' = 1.099");  // ln 3 = 1.0986
    CHECK(x.steps[4].lines.at(1) == "w_0 'red' = 0.75");
    CHECK(x.steps[5].lines.at(0) == "z = [1.5, 1]");
    CHECK(x.steps[5].lines.at(1) == "  = 0.75·v_0 'red' + 0.25·v_1 'dog'");
    CHECK(x.steps[7].lines.at(2) == "E'_i = [2.5, 1]");
}

TEST_CASE("explain: scaling, temperature and the mask by hand") {
    Scene s = red_dog();
    set_scale(s, true);
    set_temperature(s, 2.0f);
    set_mask(s, Mask::causal());
    // Factor 1/(√2·2) = 0.35355. Query 1 ('dog'): q = [0, 1], dots [0, 0] → weights [½, ½].
    const Forward f = forward(s);
    const QueryExplanation x1 = explain_query(s, f, 0, 1);
    CHECK(x1.logit_factor == doctest::Approx(1.0 / (2.0 * std::sqrt(2.0))));
    CHECK_MAT(row(x1.weights), mat({{0.5f, 0.5f}}), 1e-6f);
    // Query 0 sees only key 0 (causal): weight 1, key 1 is −∞ after the mask.
    const QueryExplanation x0 = explain_query(s, f, 0, 0);
    CHECK(x0.allowed == std::vector<std::uint8_t>{1, 0});
    CHECK(std::isinf(x0.masked[1]));
    CHECK(x0.masked[1] < 0);
    CHECK(x0.logits[0] == doctest::Approx(std::log(3.0) / (2.0 * std::sqrt(2.0))));
    CHECK_MAT(row(x0.weights), mat({{1.0f, 0.0f}}), 0.0f);
    CHECK(x0.steps[3].lines.at(0) == "1 of 2 keys allowed");
    CHECK(x0.steps[3].lines.at(2) == "l_1 'dog' = −∞ (masked)");
    CHECK(x0.steps[2].formula.find("√2 = 1.414") != std::string::npos);
    CHECK(x0.steps[2].formula.find("T = 2") != std::string::npos);
}

TEST_CASE("explain: a query that may see no key has all-zero weights") {
    Scene s = red_dog();
    set_mask(s, Mask::matrix(2, 2, {0, 0, 1, 1}));
    const Forward f = forward(s);
    const QueryExplanation x = explain_query(s, f, 0, 0);
    CHECK(x.fully_masked);
    CHECK_MAT(row(x.weights), mat({{0, 0}}), 0.0f);
    CHECK_MAT(row(x.delta_head), mat({{0, 0}}), 0.0f);
    CHECK(x.steps[4].lines.at(0) == "no key is allowed: every weight is 0");
}

TEST_CASE("explain: the numbers equal core's forward for every head and query of every lecture scene") {
    for (const auto& entry : std::filesystem::directory_iterator(ATTNVIZ_SCENES)) {
        if (entry.path().extension() != ".json") continue;
        CAPTURE(entry.path().filename().string());
        const Scene s = load_scene(entry.path().string());
        const Forward f = forward(s);
        for (int h = 0; h < s.n_heads; ++h)
            for (int i = 0; i < s.n(); ++i) {
                CAPTURE(h);
                CAPTURE(i);
                const HeadResult& r = f.heads[static_cast<std::size_t>(h)];
                const QueryExplanation x = explain_query(s, f, h, i);
                const float scale = 1e-5f * (1.0f + r.scores.cwiseAbs().maxCoeff());
                CHECK_MAT(row(x.q), Mat(r.Q.row(i)), scale);
                CHECK_MAT(row(x.dots), Mat(r.scores.row(i)), scale);
                CHECK_MAT(row(x.weights), Mat(r.pattern.row(i)), 1e-5f);
                CHECK_MAT(row(x.mixed), Mat(r.mixed.row(i)), 1e-4f);
                CHECK_MAT(row(x.delta_head), Mat(r.delta.row(i)), 1e-4f);
                CHECK_MAT(row(x.output), Mat(f.output.row(i)), 0.0f);
                CHECK(x.key_tokens.size() == static_cast<std::size_t>(s.m()));
            }
    }
}

TEST_CASE("explain: out-of-range head or query names the field") {
    const Scene s = red_dog();
    const Forward f = forward(s);
    try {
        explain_query(s, f, 0, 2);
        FAIL("no error");
    } catch (const SceneError& e) {
        CHECK(e.path() == "query");
    }
    try {
        explain_query(s, f, 1, 0);
        FAIL("no error");
    } catch (const SceneError& e) {
        CHECK(e.path() == "head");
    }
}

TEST_CASE("parameter counts: sizes checked, overflow caught, numbers by hand") {
    const ParameterCounts c = parameter_counts(8, 2, 4);
    CHECK(c.W_Q_per_head == 32);
    CHECK(c.per_head == 128);
    CHECK(c.W_O == 64);  // 2·4 rows of 8
    CHECK(c.total == 256);
    CHECK(c.W_Q + c.W_K + c.W_V + c.W_O == c.total);
    for (auto [d, h, k, field] : {std::tuple{0, 1, 1, "d_model"}, {8, 0, 1, "n_heads"}, {8, 1, -3, "d_head"}}) {
        try {
            parameter_counts(d, h, k);
            FAIL("no error");
        } catch (const SceneError& e) {
            CHECK(e.path() == field);
        }
    }
    CHECK_THROWS_AS(parameter_counts(std::int64_t(1) << 40, 1 << 20, std::int64_t(1) << 10), SceneError);
}

TEST_CASE("mean largest weight: uniform rows 1/m, one-hot rows 1") {
    CHECK(mean_max_weight(mat({{0.25f, 0.25f, 0.25f, 0.25f}, {1, 0, 0, 0}})) == doctest::Approx((0.25 + 1.0) / 2));
    CHECK(mean_max_weight(mat({{0.5f, 0.5f}})) == doctest::Approx(0.5));
    CHECK(mean_max_weight(Mat(0, 3)) == 0.0);
}

TEST_CASE("formatting for the panel") {
    CHECK(format_count(1572864) == "1,572,864");
    CHECK(format_count(603979776) == "603,979,776");
    CHECK(format_count(999) == "999");
    CHECK(format_count(1000) == "1,000");
    CHECK(format_count(0) == "0");
    CHECK(format_count(-12345) == "-12,345");
    CHECK(format_number(-0.0) == "0");
    CHECK(format_number(0.123456) == "0.1235");
    CHECK(format_number(-INFINITY) == "−∞");
    RowVec v(10);
    v << 1, 2, 3, 4, 5, 6, 7, 8, 9, 10;
    CHECK(format_vector(v, 3) == "[1, 2, 3, … (7 more)]");
    CHECK(format_vector(RowVec(0)) == "[]");
}
