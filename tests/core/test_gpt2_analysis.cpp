// Interventions, head labels and the logit lens (core/gpt2_analysis.hpp) against references written
// here: an ablated head's logits from the plain forward with that head's ΔE taken out of the
// residual stream (double precision), KL and softmax by the formula, a masked layer's pattern from
// its Q and K by a double loop, head labels of a head whose pattern is uniform by hand, the logit
// lens by ln_f and the unembedding in double.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "gpt2_analysis.hpp"
#include "gpt2_io.hpp"
#include "safetensors.hpp"
#include "helpers.hpp"

using namespace attnviz;

namespace {
ModelConfig tiny(bool mlp) { return test::model_config(50, 24, 32, 2, 4, mlp); }

std::vector<int> some_ids(int n) {
    std::vector<int> ids;
    for (int i = 0; i < n; ++i) ids.push_back((i * 17 + 3) % 50);
    return ids;
}

// ln_f(x)·wteᵀ in double for one residual row x.
std::vector<double> ref_read_out(const Model& m, const std::vector<double>& x) {
    const int d = m.cfg.d_model;
    double mean = 0, var = 0;
    for (int k = 0; k < d; ++k) mean += x[k];
    mean /= d;
    for (int k = 0; k < d; ++k) var += (x[k] - mean) * (x[k] - mean);
    var /= d;
    std::vector<double> h(d), logits(m.cfg.vocab_size, 0.0);
    for (int k = 0; k < d; ++k) h[k] = (x[k] - mean) / std::sqrt(var + m.cfg.ln_eps) * m.lnf_g(k) + m.lnf_b(k);
    for (int t = 0; t < m.cfg.vocab_size; ++t)
        for (int k = 0; k < d; ++k) logits[t] += h[k] * m.wte(t, k);
    return logits;
}

std::vector<double> ref_softmax(const std::vector<double>& z) {
    const double mx = *std::max_element(z.begin(), z.end());
    std::vector<double> p(z.size());
    double s = 0;
    for (std::size_t j = 0; j < z.size(); ++j) s += p[j] = std::exp(z[j] - mx);
    for (double& v : p) v /= s;
    return p;
}

// Ids sorted by probability, most probable first.
std::vector<int> ref_order(const std::vector<double>& p) {
    std::vector<int> idx(p.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return p[a] > p[b]; });
    return idx;
}
}  // namespace

TEST_CASE("gpt2 interventions: ablating a last-layer head equals the forward with its ΔE taken out") {
    const Model m = random_gpt2_model(tiny(false), 21, true, 0.3f);  // attention-only: nothing reads x_L but ln_f
    const std::vector<int> ids = some_ids(11);
    const int n = 11, d = 32, L = 2, h = 2, token = 7;
    const Gpt2Forward before(m, ids);
    Intervention iv;
    iv.ablate = {{L - 1, h}};
    const Gpt2Options after_opt = apply_intervention({}, iv, m.cfg);
    const InterventionComparison c = compare_intervention(m, ids, {}, after_opt, 5, token, L - 1);

    // Reference: x_L − ΔE_h of the plain forward at the last position, read out in double.
    std::vector<double> xb(d), xa(d);
    const Mat delta = before.delta(L - 1, h);  // (n, d)
    for (int k = 0; k < d; ++k) {
        xb[k] = before.resid(L)(n - 1, k);
        xa[k] = xb[k] - delta(n - 1, k);
    }
    const std::vector<double> zb = ref_read_out(m, xb), za = ref_read_out(m, xa);
    const std::vector<double> pb = ref_softmax(zb), pa = ref_softmax(za);
    double kl = 0;
    for (int t = 0; t < m.cfg.vocab_size; ++t) kl += pb[t] * std::log(pb[t] / pa[t]);
    CHECK(kl > 1e-4);  // the head matters (so the comparison means something)
    CHECK(c.kl == doctest::Approx(kl).epsilon(1e-3));
    CHECK(c.token == token);
    CHECK(c.logit_before == doctest::Approx(zb[token]).epsilon(1e-4));
    CHECK(c.logit_after == doctest::Approx(za[token]).epsilon(1e-4));
    CHECK(c.logit_diff() == doctest::Approx(za[token] - zb[token]).epsilon(1e-3));
    CHECK(c.prob_before == doctest::Approx(pb[token]).epsilon(1e-4));
    CHECK(c.prob_after == doctest::Approx(pa[token]).epsilon(1e-4));
    const std::vector<int> ob = ref_order(pb), oa = ref_order(pa);
    REQUIRE(c.before_top.size() == 5);
    REQUIRE(c.after_top.size() == 5);
    for (int r = 0; r < 5; ++r) {
        CHECK(c.before_top[r].id == ob[r]);
        CHECK(c.before_top[r].prob == doctest::Approx(pb[ob[r]]).epsilon(1e-4));
        CHECK(c.after_top[r].id == oa[r]);
        CHECK(c.after_top[r].prob == doctest::Approx(pa[oa[r]]).epsilon(1e-4));
    }
    // Ablating a head does not change the patterns of its own layer.
    REQUIRE(c.pattern_diff.size() == 4);
    for (const Mat& dp : c.pattern_diff) CHECK(dp.cwiseAbs().maxCoeff() == 0.0f);
    // It does change the patterns of a later layer when it sits in an earlier one.
    Intervention early;
    early.ablate = {{0, 1}};
    const auto c0 = compare_intervention(m, ids, {}, apply_intervention({}, early, m.cfg), 3, -1, 1);
    CHECK(c0.token == -1);
    CHECK(c0.pattern_diff[0].cwiseAbs().maxCoeff() > 1e-4f);
}

TEST_CASE("gpt2 interventions: identical options give KL 0, no logit change, no pattern difference") {
    const Model m = random_gpt2_model(tiny(true), 22, true, 0.3f);
    const std::vector<int> ids = some_ids(9);
    Gpt2Options base;
    base.ablate = {{0, 0}};
    base.layer_masks[1] = Mask::sliding_window(3);
    const InterventionComparison c = compare_intervention(m, ids, base, apply_intervention(base, {}, m.cfg), 4, 3, 1);
    CHECK(c.kl == 0.0);
    CHECK(c.logit_diff() == 0.0f);
    CHECK(c.prob_before == c.prob_after);
    for (int r = 0; r < 4; ++r) CHECK(c.before_top[r].id == c.after_top[r].id);
    for (const Mat& dp : c.pattern_diff) CHECK(dp.isZero(0));
}

TEST_CASE("gpt2 interventions: a mask on one layer, pattern difference against a double loop") {
    const Model m = random_gpt2_model(tiny(true), 23, true, 0.3f);
    const std::vector<int> ids = some_ids(12);
    const int n = 12, dh = 8;
    Intervention iv;
    iv.mask = Mask::sliding_window(2);
    iv.mask_layer = 0;
    const Gpt2Options o = apply_intervention({}, iv, m.cfg);
    CHECK(o.mask_of(0) == Mask::sliding_window(2));
    CHECK(o.mask_of(1) == Mask::causal());
    const Gpt2Forward before(m, ids);
    const Gpt2Forward after(m, ids, o);
    const InterventionComparison c = compare_forwards(before, after, 3, 0, 0);
    CHECK(c.kl > 0);
    // Layer 0's Q and K do not depend on its mask: the windowed pattern from the plain forward's Q, K.
    for (int h = 0; h < 4; ++h) {
        const auto Q = before.Q(0, h), K = before.K(0, h);
        const Mat P0 = before.pattern(0, h);
        double worst = 0;
        for (int i = 0; i < n; ++i) {
            std::vector<double> p(n, 0.0);
            double mx = -1e300, s = 0;
            for (int j = std::max(0, i - 1); j <= i; ++j) {
                double dot = 0;
                for (int e = 0; e < dh; ++e) dot += double(Q(i, e)) * K(j, e);
                p[j] = dot / std::sqrt(double(dh));
                mx = std::max(mx, p[j]);
            }
            for (int j = std::max(0, i - 1); j <= i; ++j) s += p[j] = std::exp(p[j] - mx);
            for (int j = 0; j < n; ++j) {
                const double want = (j >= i - 1 && j <= i ? p[j] / s : 0.0) - P0(i, j);
                worst = std::max(worst, std::fabs(c.pattern_diff[h](i, j) - want));
            }
        }
        CHECK_MESSAGE(worst < 1e-5, "head " << h << " largest difference " << worst);
    }
    // A mask on every layer replaces per-layer masks of the base options.
    Gpt2Options base;
    base.layer_masks[1] = Mask::fixed(3);
    Intervention all;
    all.mask = Mask::strided(4);
    const Gpt2Options oa = apply_intervention(base, all, m.cfg);
    CHECK(oa.mask_of(0) == Mask::strided(4));
    CHECK(oa.mask_of(1) == Mask::strided(4));
    // Heads are added once; bad layers and heads are refused with the field named.
    Gpt2Options ab;
    ab.ablate = {{1, 2}};
    Intervention twice;
    twice.ablate = {{1, 2}, {0, 3}};
    CHECK(apply_intervention(ab, twice, m.cfg).ablate.size() == 2);
    Intervention bad;
    bad.ablate = {{0, 4}};
    CHECK_THROWS_WITH_AS(apply_intervention({}, bad, m.cfg), doctest::Contains("head 4"), ModelError);
    bad.ablate = {{2, 0}};
    CHECK_THROWS_AS(apply_intervention({}, bad, m.cfg), ModelError);
    Intervention bad_layer;
    bad_layer.mask = Mask::causal();
    bad_layer.mask_layer = 2;
    CHECK_THROWS_AS(apply_intervention({}, bad_layer, m.cfg), ModelError);
    CHECK_THROWS_AS(compare_forwards(before, after, 3, 50, 0), ModelError);
    CHECK_THROWS_AS(compare_forwards(before, after, 3, 0, 2), ModelError);
    const Gpt2Forward other(m, some_ids(5));
    CHECK_THROWS_AS(compare_forwards(before, other, 3, 0, 0), ModelError);
}

TEST_CASE("gpt2 head labels on the text: a head with uniform attention scores as worked out by hand") {
    // Layer 0: W_qkv's Q and K columns and biases zero → every score 0 → pattern row i is 1/(i+1)
    // on keys 0..i. Layer 1 stays random.
    Model m = random_gpt2_model(tiny(true), 24, true, 0.3f);
    m.layers[0].W_qkv.leftCols(64).setZero();
    m.layers[0].b_qkv.head(64).setZero();
    const int n = 10, T = 6;
    const Gpt2Forward f(m, some_ids(n));
    const std::vector<HeadLabelScores> s = label_heads_on_text(f, T, 5, 1, 3);
    REQUIRE(s.size() == 8);
    double prev = 0, first = 0, local = 0, ent = 0;
    for (int i = 0; i < n; ++i) {
        if (i >= 1) prev += 1.0 / (i + 1);
        first += 1.0 / (i + 1);
        local += std::min(i + 1, 3) / double(i + 1);
        ent += std::log(double(i + 1));
    }
    prev /= n - 1;
    first /= n;
    local /= n;
    ent /= n;
    // On the repeated sequence (length 2T, no repeats in its first half) rows T..2T−1 have exactly one
    // earlier occurrence (i − T): induction reads P[i][i−T+1], duplicate-token P[i][i−T], both 1/(i+1).
    double rep = 0;
    for (int i = T; i < 2 * T; ++i) rep += 1.0 / (i + 1);
    rep /= T;
    for (int h = 0; h < 4; ++h) {
        const HeadLabelScores& x = s[h];
        CHECK(x.layer == 0);
        CHECK(x.head == h);
        CHECK(x.previous_token == doctest::Approx(prev).epsilon(1e-5));
        CHECK(x.first_token == doctest::Approx(first).epsilon(1e-5));
        CHECK(x.local_window == doctest::Approx(local).epsilon(1e-5));
        CHECK(x.entropy == doctest::Approx(ent).epsilon(1e-5));
        CHECK(x.induction == doctest::Approx(rep).epsilon(1e-5));
        CHECK(x.duplicate_token == doctest::Approx(rep).epsilon(1e-5));
        CHECK(head_score(x, HeadScore::Entropy) == x.entropy);
        CHECK(head_score(x, HeadScore::Induction) == x.induction);
    }
    CHECK(s[7].layer == 1);
    CHECK(s[7].head == 3);
    // Layer 1 is not uniform: its first-token share differs from the hand value.
    CHECK(std::fabs(s[5].first_token - first) > 1e-4);
    CHECK(std::string(head_score_name(HeadScore::FirstToken)) == "first-token");
}

TEST_CASE("gpt2 logit lens rows: every stage read out through ln_f and the unembedding in double") {
    const Model m = random_gpt2_model(tiny(true), 25, true, 0.3f);
    const Gpt2Forward f(m, some_ids(8));
    for (int pos : {3, 7}) {
        const std::vector<LensRow> rows = logit_lens_rows(f, pos, 5);
        REQUIRE(rows.size() == 3);
        std::vector<double> last_p;
        for (int r = 0; r < 3; ++r) {
            CHECK(rows[r].layer == r - 1);
            std::vector<double> x(32);
            for (int k = 0; k < 32; ++k) x[k] = f.resid(r)(pos, k);
            const std::vector<double> p = ref_softmax(ref_read_out(m, x));
            const std::vector<int> o = ref_order(p);
            REQUIRE(rows[r].top.size() == 5);
            for (int k = 0; k < 5; ++k) {
                CHECK(rows[r].top[k].id == o[k]);
                CHECK(rows[r].top[k].prob == doctest::Approx(p[o[k]]).epsilon(1e-4));
            }
            if (r == 2) last_p = p;
        }
        const int final_id = ref_order(last_p)[0];
        CHECK(rows[2].final_prob == doctest::Approx(last_p[final_id]).epsilon(1e-4));
        for (int r = 0; r < 3; ++r) {
            std::vector<double> x(32);
            for (int k = 0; k < 32; ++k) x[k] = f.resid(r)(pos, k);
            CHECK(rows[r].final_prob == doctest::Approx(ref_softmax(ref_read_out(m, x))[final_id]).epsilon(1e-4));
        }
    }
    // The last row is the model's own prediction at the last position.
    const auto own = top_k(f.last_logits(), 5);
    const auto rows = logit_lens_rows(f, 7, 5, false);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].layer == 0);
    for (int k = 0; k < 5; ++k) CHECK(rows[1].top[k].id == own[k].id);
    CHECK_THROWS_AS(logit_lens_rows(f, 8, 5), ModelError);
    CHECK_THROWS_AS(logit_lens_rows(f, -1, 5), ModelError);
}
