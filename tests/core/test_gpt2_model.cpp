// GPT-2 forward pass against an independent double-precision loop implementation written here, on
// random GPT-2-shaped weights: logits, residual stream, every head's Q/K/V, raw scores, pattern and
// ΔE; ablation, masks, attention-only models, appends with cached keys/values. Head-label scores
// and KL on hand-built numbers.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <set>

#include "gpt2_io.hpp"
#include "gpt2_model.hpp"
#include "helpers.hpp"

using namespace attnviz;

namespace {
using MatD = std::vector<std::vector<double>>;

MatD zeros(int r, int c) { return MatD(static_cast<std::size_t>(r), std::vector<double>(static_cast<std::size_t>(c), 0.0)); }

struct Reference {
    std::vector<MatD> resid;                      // L + 1 of (n, d)
    std::vector<MatD> attn_out, mlp_out;          // L of (n, d)
    std::vector<std::vector<MatD>> Q, K, V;       // [l][h] (n, dh)
    std::vector<std::vector<MatD>> scores, pattern, delta;  // [l][h] (n, n), (n, n), (n, d)
    MatD logits;                                  // (n, vocab)
};

// The model, written as plainly as possible in double precision.
Reference reference(const Model& m, const std::vector<int>& ids, const std::set<std::pair<int, int>>& ablate,
                    const std::function<const Mask&(int)>& mask_of) {
    const ModelConfig& c = m.cfg;
    const int n = static_cast<int>(ids.size()), d = c.d_model, H = c.n_heads, dh = d / H, V = c.vocab_size;
    const auto ln = [&](const MatD& x, const RowVec& g, const RowVec& b) {
        MatD y = zeros(n, d);
        for (int i = 0; i < n; ++i) {
            double mean = 0, var = 0;
            for (int k = 0; k < d; ++k) mean += x[i][k];
            mean /= d;
            for (int k = 0; k < d; ++k) var += (x[i][k] - mean) * (x[i][k] - mean);
            var /= d;
            for (int k = 0; k < d; ++k) y[i][k] = (x[i][k] - mean) / std::sqrt(var + c.ln_eps) * g(k) + b(k);
        }
        return y;
    };
    const auto linear = [&](const MatD& x, const Mat& W, const RowVec& b) {
        MatD y = zeros(n, static_cast<int>(W.cols()));
        for (int i = 0; i < n; ++i)
            for (int o = 0; o < W.cols(); ++o) {
                double s = b(o);
                for (int k = 0; k < W.rows(); ++k) s += x[i][k] * W(k, o);
                y[i][o] = s;
            }
        return y;
    };
    Reference r;
    MatD x = zeros(n, d);
    for (int i = 0; i < n; ++i)
        for (int k = 0; k < d; ++k) x[i][k] = static_cast<double>(m.wte(ids[i], k)) + m.wpe(i, k);
    r.resid.push_back(x);
    for (int l = 0; l < c.n_layers; ++l) {
        const LayerWeights& w = m.layers[l];
        const MatD qkv = linear(ln(x, w.ln1_g, w.ln1_b), w.W_qkv, w.b_qkv);
        r.Q.emplace_back();
        r.K.emplace_back();
        r.V.emplace_back();
        r.scores.emplace_back();
        r.pattern.emplace_back();
        r.delta.emplace_back();
        MatD attn = zeros(n, d);
        for (int i = 0; i < n; ++i)
            for (int k = 0; k < d; ++k) attn[i][k] = w.b_o(k);
        for (int h = 0; h < H; ++h) {
            MatD q = zeros(n, dh), kk = zeros(n, dh), v = zeros(n, dh);
            for (int i = 0; i < n; ++i)
                for (int e = 0; e < dh; ++e) {
                    q[i][e] = qkv[i][h * dh + e];
                    kk[i][e] = qkv[i][d + h * dh + e];
                    v[i][e] = qkv[i][2 * d + h * dh + e];
                }
            MatD s = zeros(n, n), p = zeros(n, n);
            for (int i = 0; i < n; ++i) {
                for (int j = 0; j < n; ++j)
                    for (int e = 0; e < dh; ++e) s[i][j] += q[i][e] * kk[j][e];
                double mx = -1e300, sum = 0;
                for (int j = 0; j < n; ++j)
                    if (mask_of(l).allows(i, j)) mx = std::max(mx, s[i][j] / std::sqrt(double(dh)));
                for (int j = 0; j < n; ++j)
                    if (mask_of(l).allows(i, j)) sum += p[i][j] = std::exp(s[i][j] / std::sqrt(double(dh)) - mx);
                for (int j = 0; j < n; ++j) p[i][j] = sum > 0 ? p[i][j] / sum : 0;
            }
            MatD delta = zeros(n, d);
            if (!ablate.count({l, h})) {
                for (int i = 0; i < n; ++i)
                    for (int e = 0; e < dh; ++e) {
                        double mixed = 0;
                        for (int j = 0; j < n; ++j) mixed += p[i][j] * v[j][e];
                        for (int k = 0; k < d; ++k) delta[i][k] += mixed * w.W_o(h * dh + e, k);
                    }
            }
            for (int i = 0; i < n; ++i)
                for (int k = 0; k < d; ++k) attn[i][k] += delta[i][k];
            r.Q[l].push_back(q);
            r.K[l].push_back(kk);
            r.V[l].push_back(v);
            r.scores[l].push_back(s);
            r.pattern[l].push_back(p);
            r.delta[l].push_back(delta);
        }
        for (int i = 0; i < n; ++i)
            for (int k = 0; k < d; ++k) x[i][k] += attn[i][k];
        r.attn_out.push_back(attn);
        MatD mlp = zeros(n, d);
        if (c.mlp) {
            MatD hidden = linear(ln(x, w.ln2_g, w.ln2_b), w.W_fc, w.b_fc);
            for (auto& row : hidden)
                for (double& u : row) u = 0.5 * u * (1 + std::tanh(std::sqrt(2 / M_PI) * (u + 0.044715 * u * u * u)));
            mlp = linear(hidden, w.W_proj, w.b_proj);
            for (int i = 0; i < n; ++i)
                for (int k = 0; k < d; ++k) x[i][k] += mlp[i][k];
        }
        r.mlp_out.push_back(mlp);
        r.resid.push_back(x);
    }
    const MatD xf = ln(x, m.lnf_g, m.lnf_b);
    r.logits = zeros(n, V);
    for (int i = 0; i < n; ++i)
        for (int t = 0; t < V; ++t)
            for (int k = 0; k < d; ++k) r.logits[i][t] += xf[i][k] * m.wte(t, k);
    return r;
}

// Largest |a − b| / (1 + |b|) and where; "" when under tol.
std::string compare(const Eigen::Ref<const Mat, 0, Eigen::OuterStride<>>& a, const MatD& b, double tol, const std::string& what) {
    if (a.rows() != static_cast<Eigen::Index>(b.size()) || (a.rows() && a.cols() != static_cast<Eigen::Index>(b[0].size())))
        return what + ": shape " + std::to_string(a.rows()) + "x" + std::to_string(a.cols());
    double worst = 0;
    int wi = 0, wj = 0;
    for (int i = 0; i < a.rows(); ++i)
        for (int j = 0; j < a.cols(); ++j) {
            const double e = std::fabs(a(i, j) - b[i][j]) / (1 + std::fabs(b[i][j]));
            if (!(e <= worst)) {
                worst = e;
                wi = i;
                wj = j;
            }
        }
    if (worst <= tol) return "";
    return what + ": largest difference " + std::to_string(worst) + " at [" + std::to_string(wi) + "][" + std::to_string(wj) +
           "]: " + std::to_string(a(wi, wj)) + " vs " + std::to_string(b[wi][wj]);
}

ModelConfig tiny(bool mlp = true) { return test::model_config(50, 16, 32, 2, 4, mlp); }

std::vector<int> some_ids(int n) {
    std::vector<int> ids;
    for (int i = 0; i < n; ++i) ids.push_back((i * 17 + 3) % 50);
    ids[static_cast<std::size_t>(n - 1)] = ids[2];  // a repeated token
    return ids;
}

constexpr double kTol = 2e-5;

// Every kept intermediate of f against the reference.
void check_against(const Gpt2Forward& f, const Reference& r, bool all_logits) {
    const int L = f.n_layers(), H = f.n_heads();
    for (int l = 0; l <= L; ++l) CHECK_MESSAGE(compare(f.resid(l), r.resid[l], kTol, "resid " + std::to_string(l)) == "", "");
    for (int l = 0; l < L; ++l) {
        CHECK_MESSAGE(compare(f.attn_out(l), r.attn_out[l], kTol, "attn_out") == "", l);
        if (f.model().cfg.mlp) CHECK_MESSAGE(compare(f.mlp_out(l), r.mlp_out[l], kTol, "mlp_out") == "", l);
        for (int h = 0; h < H; ++h) {
            const std::string at = " l" + std::to_string(l) + " h" + std::to_string(h);
            CHECK_MESSAGE(compare(f.Q(l, h), r.Q[l][h], kTol, "Q" + at) == "", "");
            CHECK_MESSAGE(compare(f.K(l, h), r.K[l][h], kTol, "K" + at) == "", "");
            CHECK_MESSAGE(compare(f.V(l, h), r.V[l][h], kTol, "V" + at) == "", "");
            CHECK_MESSAGE(compare(f.scores(l, h), r.scores[l][h], kTol, "scores" + at) == "", "");
            CHECK_MESSAGE(compare(f.pattern(l, h), r.pattern[l][h], kTol, "pattern" + at) == "", "");
            CHECK_MESSAGE(compare(f.delta(l, h), r.delta[l][h], kTol, "delta" + at) == "", "");
        }
    }
    const int n = f.n();
    if (all_logits) {
        CHECK_MESSAGE(compare(f.logits(), r.logits, kTol, "logits") == "", "");
    } else {
        CHECK_MESSAGE(compare(f.logits(), MatD{r.logits[n - 1]}, kTol, "last logits") == "", "");
    }
}

const Mask& causal() {
    static const Mask m = Mask::causal();
    return m;
}
}  // namespace

TEST_CASE("gpt2 forward: equals a double-precision loop implementation (every intermediate, kept and on-demand patterns)") {
    const Model m = random_gpt2_model(tiny(), 11, true, 0.25f);
    const std::vector<int> ids = some_ids(12);
    const Reference r = reference(m, ids, {}, [](int) -> const Mask& { return causal(); });
    Gpt2Options o;
    o.all_logits = true;
    o.pattern_budget_bytes = 3 * 12 * 12 * 4;  // three patterns kept, the other five computed on demand
    const Gpt2Forward f(m, ids, o);
    CHECK(f.pattern_kept(0, 2));
    CHECK(!f.pattern_kept(0, 3));
    check_against(f, r, true);
    // The patterns are not trivial (so the comparison means something): some row is far from uniform.
    const Mat p = f.pattern(1, 1);
    CHECK(p.row(11).maxCoeff() > 0.2f);
    CHECK(p(3, 4) == 0.0f);  // causal: exactly 0 above the diagonal
    // Kept and on-demand patterns are the same numbers.
    Gpt2Options none = o;
    none.pattern_budget_bytes = 0;
    const Gpt2Forward g(m, ids, none);
    CHECK(g.pattern(0, 1) == f.pattern(0, 1));
    // ΔE_h summed over heads + b_o is attn_out; the last logits row equals last_logits().
    Mat sum = Mat::Zero(12, 32);
    for (int h = 0; h < 4; ++h) sum += f.delta(1, h);
    sum.rowwise() += m.layers[1].b_o;
    CHECK(test::compare(sum, f.attn_out(1), 1e-5f) == "");
    CHECK(f.last_logits() == RowVec(f.logits().row(11)));
}

TEST_CASE("gpt2 forward: ablating heads equals the reference with those heads zeroed") {
    const Model m = random_gpt2_model(tiny(), 12, true, 0.25f);
    const std::vector<int> ids = some_ids(10);
    Gpt2Options o;
    o.ablate = {{0, 1}, {1, 3}};
    const Gpt2Forward f(m, ids, o);
    check_against(f, reference(m, ids, {{0, 1}, {1, 3}}, [](int) -> const Mask& { return causal(); }), false);
    CHECK(f.delta(1, 3).isZero(0));
    const Gpt2Forward plain(m, ids);
    CHECK(kl_divergence(plain.last_logits(), f.last_logits()) > 1e-6);
    Gpt2Options bad;
    bad.ablate = {{2, 0}};
    CHECK_THROWS_AS(Gpt2Forward(m, ids, bad), ModelError);
}

TEST_CASE("gpt2 forward: masks per layer and for the whole model equal the reference") {
    const Model m = random_gpt2_model(tiny(), 13, true, 0.25f);
    const std::vector<int> ids = some_ids(12);
    const Mask window = Mask::sliding_window(3), strided = Mask::strided(4), fixed = Mask::fixed(3);
    {
        Gpt2Options o;
        o.layer_masks[0] = window;  // layer 1 stays causal
        const Gpt2Forward f(m, ids, o);
        check_against(f, reference(m, ids, {}, [&](int l) -> const Mask& { return l == 0 ? window : causal(); }), false);
        CHECK(f.pattern(0, 0)(9, 6) == 0.0f);
        CHECK(f.pattern(1, 0)(9, 6) > 0.0f);
    }
    {
        Gpt2Options o;
        o.mask = strided;
        o.layer_masks[1] = fixed;
        o.pattern_budget_bytes = 0;
        const Gpt2Forward f(m, ids, o);
        check_against(f, reference(m, ids, {}, [&](int l) -> const Mask& { return l == 0 ? strided : fixed; }), false);
    }
}

TEST_CASE("gpt2 forward: attention-only model (no ln_2 / MLP) equals the reference") {
    const Model m = random_gpt2_model(tiny(false), 14, true, 0.25f);
    const std::vector<int> ids = some_ids(9);
    Gpt2Options o;
    o.all_logits = true;
    const Gpt2Forward f(m, ids, o);
    check_against(f, reference(m, ids, {}, [](int) -> const Mask& { return causal(); }), true);
    CHECK(f.mlp_out(0).size() == 0);
}

TEST_CASE("gpt2 forward: appending tokens with cached keys and values equals a full forward") {
    const Model m = random_gpt2_model(tiny(), 15, true, 0.25f);
    const std::vector<int> ids = some_ids(14);
    for (int reserve : {0, 16}) {  // growing the storage, and appending into spare rows
        for (bool all : {false, true}) {
            Gpt2Options o;
            o.reserve = reserve;
            o.all_logits = all;
            o.layer_masks[1] = Mask::sliding_window(4);
            o.ablate = {{0, 2}};
            Gpt2Forward f(m, std::vector<int>(ids.begin(), ids.begin() + 9), o);
            for (int i = 9; i < 14; ++i) f.append(ids[static_cast<std::size_t>(i)]);
            CHECK(f.n() == 14);
            CHECK(f.ids() == ids);
            check_against(f, reference(m, ids, {{0, 2}}, [](int l) -> const Mask& {
                              static const Mask w = Mask::sliding_window(4);
                              return l == 1 ? w : causal();
                          }),
                          all);
            CHECK(!f.pattern_kept(0, 0));
        }
    }
    Gpt2Forward full(m, std::vector<int>(16, 1));
    CHECK_THROWS_AS(full.append(2), ModelError);  // n_ctx reached
    CHECK_THROWS_AS(Gpt2Forward(m, std::vector<int>(17, 1)), ModelError);
    CHECK_THROWS_AS(Gpt2Forward(m, std::vector<int>{1, 50}), ModelError);
}

TEST_CASE("gpt2 head labels: scores of hand-built patterns") {
    const Mat p = test::mat({{1, 0, 0}, {0.25f, 0.75f, 0}, {0.5f, 0.25f, 0.25f}});
    CHECK(previous_token_score(p) == doctest::Approx(0.25));           // (P10 + P21) / 2
    CHECK(first_token_score(p) == doctest::Approx(1.75 / 3));          // (1 + .25 + .5) / 3
    CHECK(local_window_score(p, 2) == doctest::Approx(2.5 / 3));       // (1 + 1 + .5) / 3
    CHECK(local_window_score(p, 1) == doctest::Approx(2.0 / 3));       // diagonal: (1 + .75 + .25) / 3
    // row 1: −(.25 ln .25 + .75 ln .75) = 0.5623351; row 2: −(.5 ln .5 + 2 · .25 ln .25) = 1.0397208
    CHECK(entropy_score(p) == doctest::Approx((0.5623351446 + 1.0397207708) / 3).epsilon(1e-7));
    // ids 5 7 5 7: rows 2 and 3 have earlier occurrences (positions 0 and 1).
    const Mat q = test::mat({{1, 0, 0, 0}, {0.5f, 0.5f, 0, 0}, {0.6f, 0.3f, 0.1f, 0}, {0.1f, 0.2f, 0.3f, 0.4f}});
    const std::vector<int> ids = {5, 7, 5, 7};
    CHECK(induction_score(q, ids) == doctest::Approx((0.3 + 0.3) / 2));   // P[2][1], P[3][2]
    CHECK(duplicate_token_score(q, ids) == doctest::Approx((0.6 + 0.2) / 2));  // P[2][0], P[3][1]
    CHECK(induction_score(q, {1, 2, 3, 4}) == 0.0);
    const std::vector<int> rep = repeated_random_sequence(20, 50, 3);
    REQUIRE(rep.size() == 40);
    CHECK(std::set<int>(rep.begin(), rep.begin() + 20).size() == 20);
    for (int i = 0; i < 20; ++i) CHECK(rep[static_cast<std::size_t>(i)] == rep[static_cast<std::size_t>(i) + 20]);
    // On a repeated random sequence, a pattern that looks at i − T + 1 scores induction 1.
    Mat ind = Mat::Zero(40, 40);
    for (int i = 0; i < 40; ++i) ind(i, i >= 20 ? i - 19 : 0) = 1;
    CHECK(induction_score(ind, rep) == doctest::Approx(1.0));
    CHECK(previous_token_score(ind) == doctest::Approx(1.0 / 39));  // only row 1 looks at its predecessor (0)
}

TEST_CASE("gpt2 next token: top-k, KL divergence and the logit lens") {
    RowVec a(3);
    a << 1, 3, 2;
    const auto t = top_k(a, 2);
    REQUIRE(t.size() == 2);
    const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
    CHECK(t[0].id == 1);
    CHECK(t[0].prob == doctest::Approx(std::exp(3.0) / z));
    CHECK(t[1].id == 2);
    CHECK(t[1].prob == doctest::Approx(std::exp(2.0) / z));
    RowVec p(2), q(2);
    p << 0, std::log(3.0f);  // (1/4, 3/4)
    q << 5, 5;               // (1/2, 1/2)
    CHECK(kl_divergence(p, q) == doctest::Approx(0.25 * std::log(0.5) + 0.75 * std::log(1.5)).epsilon(1e-6));
    CHECK(kl_divergence(q, q) == 0.0);
    const Model m = random_gpt2_model(tiny(), 16, true, 0.25f);
    const Gpt2Forward f(m, some_ids(8));
    // the last layer's residual stream read out at the last position is the model's own prediction
    const auto lens = top_k(read_out_logits(m, f.resid(f.n_layers()).row(7)), 5);
    const auto own = top_k(f.last_logits(), 5);
    for (int k = 0; k < 5; ++k) {
        CHECK(lens[static_cast<std::size_t>(k)].id == own[static_cast<std::size_t>(k)].id);
        CHECK(lens[static_cast<std::size_t>(k)].prob == doctest::Approx(own[static_cast<std::size_t>(k)].prob));
    }
    const auto labels = label_heads(m, 6, 2);
    CHECK(labels.size() == 8);
    for (const auto& s : labels) {
        CHECK(s.first_token >= 0);
        CHECK(s.first_token <= 1.0 + 1e-6);
        CHECK(s.entropy >= 0);
    }
}

TEST_CASE("gpt2 attention: logits that overflow float give the softmax's limit, never NaN (dense and strided masks)") {
    // Row 2 sees keys 0, 1, 2 with raw scores inf, inf, 1e20 (1e20 · 1e20 overflows): the limit of the
    // softmax is an equal share between the two infinite logits, 0 elsewhere (worked out by hand).
    Mat Q(3, 2), K(3, 2);
    Q << 1, 0, 1, 0, 1e20f, 0;
    K << 1e20f, 0, 1e20f, 0, 1, 0;
    for (const Mask& mask : {Mask::causal(), Mask::strided(1)}) {
        Mat P;
        head_pattern_rows(Q, K, mask, 1.0f, 0, 3, P);
        REQUIRE(P.rows() == 3);
        REQUIRE(P.cols() == 3);
        CHECK(P.allFinite());
        if (mask.allows(2, 0) && mask.allows(2, 1) && mask.allows(2, 2)) {
            CHECK(P(2, 0) == 0.5f);
            CHECK(P(2, 1) == 0.5f);
            CHECK(P(2, 2) == 0.0f);
        }
        CHECK(P(0, 0) == 1.0f);  // row 0 sees only key 0
    }
}
