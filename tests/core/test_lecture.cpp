// The lecture scenes (assets/scenes/, written by scripts/make_scenes.py): each one loads and
// shows its point, checked through core against numbers worked out by hand from the design.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <set>

#include "engine.hpp"
#include "explain.hpp"
#include "helpers.hpp"
#include "scene_io.hpp"

using namespace attnviz;

namespace {

Scene scene(const std::string& file) { return load_scene(std::string(ATTNVIZ_SCENES) + "/" + file); }

int argmax(const Mat& m, int row) {
    Eigen::Index j = 0;
    m.row(row).maxCoeff(&j);
    return static_cast<int>(j);
}

// Mean over the rows of the largest weight of head 0's pattern.
double mean_max_weight(const Scene& s) {
    const Forward f = forward(s);
    double total = 0;
    for (int i = 0; i < s.n(); ++i) total += f.heads[0].pattern.row(i).maxCoeff();
    return total / s.n();
}

double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace

TEST_CASE("every lecture scene loads, has a title and an explanation, and computes") {
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(ATTNVIZ_SCENES)) {
        if (entry.path().extension() != ".json") continue;
        CAPTURE(entry.path().filename().string());
        const Scene s = load_scene(entry.path().string());
        CHECK_FALSE(s.title.empty());
        CHECK(s.description.size() > 80);
        const Forward f = forward(s);
        CHECK(f.output.allFinite());
        CHECK(f.fully_masked_rows.empty());
        ++count;
    }
    CHECK(count >= 12);  // 01–09, with 06b and 08a/b/c
}

TEST_CASE("scene 1: nouns attend to their adjectives and 'creature' moves towards fluffy and blue") {
    const Scene s = scene("01_adjectives_update_nouns.json");
    const Forward f = forward(s);
    const Mat& P = f.heads[0].pattern;
    // creature (3): its two largest weights are on fluffy (1) and blue (2).
    // Logits (12 + 5·cos(dπ/8))/√3: blue 9.59, fluffy 8.97, the rest ≤ 2.9.
    std::vector<int> order(8);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return P(3, a) > P(3, b); });
    CHECK(std::set<int>{order[0], order[1]} == std::set<int>{1, 2});
    CHECK(P(3, 1) + P(3, 2) > 0.99f);
    CHECK(argmax(P, 7) == 6);  // forest → verdant
    // E' of creature gains the fluffy (4) and blue (5) dimensions: head 0's weights times W_O = 1
    // (head 1 writes only dims 0-2). By hand, q_3·k_j = 12·adjective_j + 5·cos((3−j)π/8) for
    // j = 0..3 (the causal mask hides the rest), logits divided by √3.
    double l[4], z = 0;
    for (int j = 0; j < 4; ++j) {
        l[j] = ((j == 1 || j == 2 ? 12.0 : 0.0) + 5.0 * std::cos((3 - j) * M_PI / 8)) / std::sqrt(3.0);
        z += std::exp(l[j]);
    }
    CHECK(f.output(3, 4) - f.E(3, 4) == doctest::Approx(std::exp(l[1]) / z).epsilon(1e-4));  // ≈ 0.35
    CHECK(f.output(3, 5) - f.E(3, 5) == doctest::Approx(std::exp(l[2]) / z).epsilon(1e-4));  // ≈ 0.65
    CHECK(f.output(3, 4) - f.E(3, 4) > 0.3f);
    CHECK(std::fabs(f.output(3, 6) - f.E(3, 6)) < 0.01f);  // not green
}

TEST_CASE("scene 2: the same token ends in different places depending on its neighbour") {
    const Scene s = scene("02_context_changes_meaning.json");
    const Forward f = forward(s);
    const int t1 = 2, t2 = 5, t3 = 8;  // the three 'tower' tokens
    for (int t : {t1, t2, t3}) REQUIRE(s.input.tokens[static_cast<std::size_t>(t)].text == "tower");
    CHECK_MAT(Mat(f.E.row(t1)), Mat(f.E.row(t2)), 0.0f);  // identical embeddings
    CHECK_MAT(Mat(f.E.row(t1)), Mat(f.E.row(t3)), 0.0f);
    // By hand: a noun's query [3, 0] meets a modifier's key [3, 0] with score 9, logit 9/√2; the
    // other key in the window (itself, [0, 0]) scores 0. Weight on the modifier:
    // logistic(9/√2) = 0.99828.
    const double w = logistic(9.0 / std::sqrt(2.0));
    CHECK(f.output(t1, 2) == doctest::Approx(w).epsilon(1e-4));  // after 'Eiffel': Paris
    CHECK(f.output(t1, 3) == doctest::Approx(0.0));
    CHECK(f.output(t2, 3) == doctest::Approx(w).epsilon(1e-4));  // after 'water': water
    CHECK(f.output(t2, 2) == doctest::Approx(0.0));
    CHECK_MAT(Mat(f.output.row(t3)), Mat(f.E.row(t3)), 1e-6f);  // after 'a': stays put
    CHECK((f.output.row(t1) - f.output.row(t2)).norm() > 1.3f);
    // Only the nouns move: the other words' queries [0, 3] find the function word before them
    // (key [0, 3], score 9), whose value is empty; 'Eiffel' moves by (1 − 0.99828)·1 at most.
    for (int i : {0, 1, 3, 4, 6, 7}) CHECK((f.output.row(i) - f.E.row(i)).norm() < 2e-3f);
    CHECK((f.output.row(t1) - f.output.row(t3)).norm() > 0.9f);
}

TEST_CASE("scene 3: without positions a permutation only permutes the output rows; with them, not") {
    const Scene s = scene("03_why_positions.json");
    const std::vector<int> perm{0, 4, 2, 3, 1};  // "the man bit the dog"
    auto permuted = [&](const Scene& base) {
        Scene p = base;
        for (std::size_t i = 0; i < perm.size(); ++i) {
            p.input.tokens[i].text = base.input.tokens[static_cast<std::size_t>(perm[i])].text;
            p.input.embeddings.row(static_cast<Eigen::Index>(i)) = base.input.embeddings.row(perm[i]);
        }
        validate(p);
        return p;
    };
    auto rows = [&](const Mat& m) {
        Mat r(m.rows(), m.cols());
        for (std::size_t i = 0; i < perm.size(); ++i) r.row(static_cast<Eigen::Index>(i)) = m.row(perm[i]);
        return r;
    };
    const Scene p = permuted(s);
    REQUIRE(token_texts(p.input.tokens) == std::vector<std::string>{"the", "man", "bit", "the", "dog"});
    const Forward f = forward(s), fp = forward(p);
    CHECK_MAT(fp.output, rows(f.output), 1e-6f);
    // By hand, 'bit' (2): q = [2, 0] meets the nouns' keys [2, 2] with 4, everything else 0;
    // logits 4/√2; weight on each noun e^2.83/(2e^2.83 + 3) = 0.4593; ΔE = 0.5·w on dog and man.
    const double e = std::exp(4 / std::sqrt(2.0)), w = e / (2 * e + 3);
    CHECK(f.delta(2, 3) == doctest::Approx(0.5 * w).epsilon(1e-4));
    CHECK(f.delta(2, 4) == doctest::Approx(0.5 * w).epsilon(1e-4));
    CHECK(fp.delta(2, 3) == doctest::Approx(0.5 * w).epsilon(1e-4));  // the same in either order

    Scene sp = s;
    set_positional(sp, Positional::Sinusoidal);
    const Scene pp = permuted(sp);
    const Mat diff = forward(pp).output - rows(forward(sp).output);
    CHECK(diff.cwiseAbs().maxCoeff() > 0.05f);
}

TEST_CASE("scene 4: with the causal mask, earlier outputs do not change when later tokens change") {
    const Scene s = scene("04_masking_next_token.json");
    REQUIRE(s.mask.type == MaskType::Causal);
    const Forward f = forward(s);
    const int n = s.n();
    for (int h = 0; h < s.n_heads; ++h)
        for (int i = 0; i < n; ++i)
            for (int j = i + 1; j < n; ++j) CHECK(f.heads[static_cast<std::size_t>(h)].pattern(i, j) == 0.0f);
    // Head 1 (W_Q = 0): every allowed key scores 0, so row i is 1/(i+1) on keys 0..i.
    for (int i = 0; i < n; ++i)
        for (int j = 0; j <= i; ++j) CHECK(f.heads[1].pattern(i, j) == doctest::Approx(1.0 / (i + 1)).epsilon(1e-6));
    // Head 0 looks at the previous token.
    for (int i = 1; i < n; ++i) CHECK(argmax(f.heads[0].pattern, i) == i - 1);

    for (int k = 1; k < n; ++k) {
        CAPTURE(k);
        auto change_from = [&](Scene c) {  // change every token from k on
            for (int r = k; r < n; ++r)
                for (int d = 0; d < c.d_model; ++d) set_embedding(c, r, d, c.input.embeddings(r, d) + 1.5f);
            return c;
        };
        const Forward g = forward(change_from(s));
        CHECK_MAT(Mat(g.output.topRows(k)), Mat(f.output.topRows(k)), 0.0f);
        CHECK((g.output.bottomRows(n - k) - f.output.bottomRows(n - k)).cwiseAbs().maxCoeff() > 1e-3f);
        // Without the mask the later tokens leak into the earlier rows.
        Scene u = s;
        set_mask(u, Mask::none());
        const Forward fu = forward(u), gu = forward(change_from(u));
        CHECK((gu.output.topRows(k) - fu.output.topRows(k)).cwiseAbs().maxCoeff() > 1e-3f);
    }
}

TEST_CASE("scene 5: the largest weight grows towards 1 without scaling, as d_k grows, as T drops") {
    const Scene s = scene("05_scaling_sqrt_dk.json");
    std::vector<double> unscaled, scaled;
    for (int dk : {4, 16, 64}) {
        Scene c = s;
        set_d_head(c, dk);
        set_scale(c, false);
        unscaled.push_back(mean_max_weight(c));
        set_scale(c, true);
        scaled.push_back(mean_max_weight(c));
        // Row by row: turning scaling off multiplies the logits by √d_k > 1, which sharpens.
        Scene off = c;
        set_scale(off, false);
        const Forward a = forward(c), b = forward(off);
        for (int i = 0; i < c.n(); ++i) CHECK(b.heads[0].pattern.row(i).maxCoeff() >= a.heads[0].pattern.row(i).maxCoeff() - 1e-6f);
    }
    CAPTURE(unscaled[0]); CAPTURE(unscaled[1]); CAPTURE(unscaled[2]);
    CAPTURE(scaled[0]); CAPTURE(scaled[1]); CAPTURE(scaled[2]);
    CHECK(unscaled[0] < unscaled[1]);
    CHECK(unscaled[1] < unscaled[2]);
    CHECK(unscaled[2] > 0.9);  // at the paper's d_k = 64, unscaled is nearly one-hot
    // Scaled, the rows look alike at every d_k.
    CHECK(*std::max_element(scaled.begin(), scaled.end()) - *std::min_element(scaled.begin(), scaled.end()) < 0.2);
    CHECK(scaled[2] < unscaled[2] - 0.2);
    // Temperature: lower T, sharper rows (at d_k = 64, scaled).
    double previous = 0;
    for (float t : {4.0f, 1.0f, 0.25f, 0.0625f, 1.0f / 256}) {
        Scene c = s;
        set_temperature(c, t);
        const double mm = mean_max_weight(c);
        CAPTURE(t);
        CHECK(mm > previous);
        previous = mm;
    }
    CHECK(previous > 0.99);  // T → 0: argmax (one-hot)
}

TEST_CASE("scene 6: three heads with distinct patterns, and E' = E + ΔE_1 + ΔE_2 + ΔE_3") {
    const Scene s = scene("06_multi_head.json");
    REQUIRE(s.n_heads == 3);
    const Forward f = forward(s);
    const Mat &P0 = f.heads[0].pattern, &P1 = f.heads[1].pattern, &P2 = f.heads[2].pattern;
    for (int i = 1; i < s.n(); ++i) CHECK(argmax(P0, i) == i - 1);  // previous token
    for (int i = 0; i < s.n(); ++i) {                                // first token, score 16/√3
        CHECK(argmax(P1, i) == 0);
        CHECK(P1(i, 0) > 0.99f);
    }
    // Adjectives → noun: wizard (4) ← old (2), grey (3); knight (8) ← brave (7).
    CHECK(P2(4, 2) + P2(4, 3) > 0.99f);
    CHECK(P2(4, 2) > 0.2f);
    CHECK(argmax(P2, 8) == 7);
    // Distinct: each pair of heads differs by more than half a weight somewhere.
    CHECK((P0 - P1).cwiseAbs().maxCoeff() > 0.5f);
    CHECK((P0 - P2).cwiseAbs().maxCoeff() > 0.5f);
    CHECK((P1 - P2).cwiseAbs().maxCoeff() > 0.5f);
    // The sum, term by term; every head contributes.
    const Mat sum = f.E + f.heads[0].delta + f.heads[1].delta + f.heads[2].delta;
    CHECK_MAT(f.output, sum, 1e-6f);
    for (const auto& h : f.heads) CHECK(h.delta.norm() > 0.1f);
    // Head 1 writes "has seen the start" (dim 15) into every token: the weight on '<s>'.
    for (int i = 0; i < s.n(); ++i) CHECK(f.heads[1].delta(i, 15) == doctest::Approx(P1(i, 0)).epsilon(1e-5));
}

TEST_CASE("scene 6b: the original paper's h = 8, d_model = 512, d_k = 64") {
    const Scene s = scene("06b_original_paper_h8.json");
    CHECK(s.n_heads == 8);
    CHECK(s.d_model == 512);
    CHECK(s.d_head == 64);
    const ParameterCounts c = parameter_counts(s);
    CHECK(c.W_Q_per_head == 512 * 64);   // 32,768
    CHECK(c.W_O == 512 * 512);           // the 8·64 = 512 rows of W_O
    CHECK(c.total == 1048576);           // 4 · 512² by hand
    const Forward f = forward(s);
    CHECK(f.heads.size() == 8);
    CHECK(f.output.cols() == 512);
}

TEST_CASE("scene 7: each English query's largest weight is on its French translation") {
    const Scene s = scene("07_cross_attention.json");
    REQUIRE(s.cross());
    REQUIRE(token_texts(s.input.tokens) == std::vector<std::string>{"the", "black", "cat"});
    REQUIRE(token_texts(s.source->tokens) == std::vector<std::string>{"le", "chat", "noir"});
    const Forward f = forward(s);
    const Mat& P = f.heads[0].pattern;
    CHECK(argmax(P, 0) == 0);  // the → le
    CHECK(argmax(P, 1) == 2);  // black → noir
    CHECK(argmax(P, 2) == 1);  // cat → chat
    CHECK(argmax(P, 1) > argmax(P, 2));  // the word order crosses
    // By hand: score 3·3 = 9 for the translation, 0 otherwise; logit 9/√3 = 5.196.
    const double w = 1.0 / (1.0 + 2.0 * std::exp(-9.0 / std::sqrt(3.0)));  // 0.98909
    for (int i = 0; i < 3; ++i) CHECK(P(i, argmax(P, i)) == doctest::Approx(w).epsilon(1e-5));
    // The value is the French word: E' of 'black' gains 'noir' (dim 7) with that weight.
    CHECK(f.output(1, 7) == doctest::Approx(w).epsilon(1e-5));
}

TEST_CASE("scene 8: computed scores of the sparse masks against n² (counted by hand)") {
    // n = 16, size 4. By hand, row i may see (keys ≤ i):
    //   sliding window: min(i+1, 4)                  → 1+2+3 + 13·4          = 58
    //   strided:        min(i+1, 4) + ⌊i/4⌋           → 58 + 4·(0+1+2+3)      = 82
    //   fixed (block b = ⌊i/4⌋): i−4b+1 + b           → Σ_b (10 + 4b)         = 64
    //   causal: 16·17/2 = 136, full: 16² = 256.
    struct Case {
        const char* file;
        MaskType type;
        std::int64_t count;
        std::int64_t count_1024;  // the same mask at n = 1024
    };
    // At n = 1024: window 4·1024 − (3+2+1) = 4090; strided 4090 + 4·(0+…+255) = 134650;
    // fixed Σ_{b<256} (10 + 4b) = 2560 + 4·32640 = 133120; full 1,048,576.
    const Case cases[] = {{"08a_sparse_sliding_window.json", MaskType::SlidingWindow, 58, 4090},
                          {"08b_sparse_strided.json", MaskType::Strided, 82, 134650},
                          {"08c_sparse_fixed.json", MaskType::Fixed, 64, 133120}};
    for (const Case& c : cases) {
        CAPTURE(c.file);
        const Scene s = scene(c.file);
        REQUIRE(s.n() == 16);
        CHECK(s.mask.type == c.type);
        CHECK(s.mask.size == 4);
        const Forward f = forward(s);
        // Count the computed (allowed) cells two ways: the mask's count and the pattern's
        // non-zero cells (W_Q = 0 spreads every row evenly over exactly its allowed keys).
        std::int64_t nonzero = 0;
        for (int i = 0; i < 16; ++i) {
            int row = 0;
            for (int j = 0; j < 16; ++j) row += f.heads[0].pattern(i, j) > 0.0f;
            for (int j = 0; j < 16; ++j)
                if (f.heads[0].pattern(i, j) > 0.0f) CHECK(f.heads[0].pattern(i, j) == doctest::Approx(1.0 / row).epsilon(1e-6));
            nonzero += row;
        }
        CHECK(nonzero == c.count);
        CHECK(s.mask.allowed_count(16, 16) == c.count);
        CHECK(s.mask.allowed_count(1024, 1024) == c.count_1024);
        CHECK(c.count < 16 * 16);
    }
    CHECK(Mask::causal().allowed_count(16, 16) == 136);
    CHECK(Mask::none().allowed_count(16, 16) == 256);
    CHECK(Mask::none().allowed_count(1024, 1024) == 1048576);
}

TEST_CASE("scene 9: the value map is value-down · value-up, rank d_k; GPT-3's counts") {
    const Scene s = scene("09_value_low_rank.json");
    const Mat M = value_map(s, 0);  // (8, 8)
    REQUIRE(M.rows() == 8);
    REQUIRE(M.cols() == 8);
    // By hand: W_V reads red (3) and big (4); W_O writes red + ½ cartoon (6), big + ½ cartoon.
    Mat expected = Mat::Zero(8, 8);
    expected(3, 3) = 1; expected(3, 6) = 0.5f;
    expected(4, 4) = 1; expected(4, 6) = 0.5f;
    CHECK_MAT(M, expected, 0.0f);
    CHECK(Eigen::FullPivLU<Eigen::MatrixXf>(M).rank() == s.d_head);
    const Forward f = forward(s);
    // ΔE_h = pattern · X · (W_V·W_O[h]): the factorised map gives the head's output.
    CHECK_MAT(f.heads[0].delta, Mat(f.heads[0].pattern * f.X * M), 1e-6f);
    // 'dog' (3) attends to big and red (score 9, logit 9/√2) and not to 'a' or itself (0):
    // w = e^6.364 / (2e^6.364 + 2) = 0.49828 each; ΔE = w·red + w·big + w·cartoon.
    const double e = std::exp(9.0 / std::sqrt(2.0)), w = e / (2 * e + 2);
    CHECK(f.delta(3, 3) == doctest::Approx(w).epsilon(1e-5));
    CHECK(f.delta(3, 4) == doctest::Approx(w).epsilon(1e-5));
    CHECK(f.delta(3, 6) == doctest::Approx(w).epsilon(1e-5));

    // Parameter counts: this scene (8, 1 head, 2) and GPT-3 (12288, 96 heads, 128).
    const ParameterCounts small = parameter_counts(s);
    CHECK(small.W_Q_per_head == 16);
    CHECK(small.total == 64);
    CHECK(small.full_value_map == 64);
    const ParameterCounts g = parameter_counts(12288, 96, 128);
    CHECK(g.W_Q_per_head == 1572864);          // 12288 · 128
    CHECK(g.W_K_per_head == 1572864);
    CHECK(g.value_down_per_head == 1572864);
    CHECK(g.value_up_per_head == 1572864);
    CHECK(g.per_head == 6291456);              // 4 · 1,572,864
    CHECK(g.W_O == 150994944);                 // 96·128 = 12288 rows of 12288
    CHECK(g.total == 603979776);               // 96 · 6,291,456 per layer
    CHECK(g.full_value_map == 150994944);      // 12288²: 48× value-down + value-up
    CHECK(g.full_value_map / (g.value_down_per_head + g.value_up_per_head) == 48);
}
