// Training: gradients against central finite differences (double), the loss against a
// straightforward loop written here, SGD/AdamW against their formulas, determinism, tasks and
// head scores.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>

#include "gpt2_io.hpp"
#include "gpt2_model.hpp"
#include "random.hpp"
#include "helpers.hpp"
#include "train.hpp"
#include "train_tasks.hpp"

using namespace attnviz;

namespace {

ModelConfig tiny_config(bool mlp) { return test::model_config(11, 8, 8, 2, 2, mlp); }

// Parameters far from GPT-2's tiny init, so attention is far from uniform and every path matters.
Params<double> spread_params(const ModelConfig& cfg, std::uint64_t seed) {
    Params<double> p = to_double(init_params<float>(cfg, seed));
    for (std::size_t i = 0; i < p.w.size(); ++i) p.w[i] = 0.5 * double(rng::normal(seed, 99, i, 0, 0));
    for (const auto& t : p.slots)  // LayerNorm gains near 1
        if (t.name.find("ln_") != std::string::npos && t.name.find(".weight") != std::string::npos)
            for (std::size_t i = 0; i < t.size(); ++i) p.w[t.offset + i] += 1.0;
    return p;
}

Batch tiny_batch() {
    Batch b;
    b.sequences = {{1, 5, 3, 9, 0, 10, 2}, {4, 4, 7, 1, 8, 6, 3}};  // 7 tokens: 6 inputs
    return b;
}

// ---- The loss, written out with plain loops over the named tensors (independent of train.cpp).
using Vec = std::vector<double>;
using Rows = std::vector<Vec>;

struct Ref {
    const Params<double>& p;
    Mask mask;
    const double* t(const std::string& name) const { return p.w.data() + p.slot(name).offset; }
    Rows layernorm(const Rows& x, const std::string& pre) const {
        const double* g = t(pre + ".weight");
        const double* b = t(pre + ".bias");
        Rows y = x;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const std::size_t d = x[i].size();
            double mean = 0, var = 0;
            for (double v : x[i]) mean += v;
            mean /= double(d);
            for (double v : x[i]) var += (v - mean) * (v - mean);
            var /= double(d);
            for (std::size_t k = 0; k < d; ++k) y[i][k] = (x[i][k] - mean) / std::sqrt(var + double(p.cfg.ln_eps)) * g[k] + b[k];
        }
        return y;
    }
    Rows linear(const Rows& x, const std::string& pre, int in, int out) const {
        const double* W = t(pre + ".weight");
        const double* b = t(pre + ".bias");
        Rows y(x.size(), Vec(std::size_t(out)));
        for (std::size_t i = 0; i < x.size(); ++i)
            for (int o = 0; o < out; ++o) {
                double s = b[o];
                for (int k = 0; k < in; ++k) s += x[i][std::size_t(k)] * W[std::size_t(k) * out + o];
                y[i][std::size_t(o)] = s;
            }
        return y;
    }
    // Σ −log p(next token) over the positions [lo, hi) of one sequence's inputs, and their count.
    std::pair<double, int> sequence_loss(const std::vector<int>& seq, int lo, int hi) const {
        const ModelConfig& c = p.cfg;
        const int d = c.d_model, T = int(seq.size()) - 1, dh = c.d_head();
        Rows x(static_cast<std::size_t>(T), Vec(static_cast<std::size_t>(d), 0.0));
        for (int i = 0; i < T; ++i)
            for (int k = 0; k < d; ++k) x[i][k] = t("wte.weight")[seq[i] * d + k] + t("wpe.weight")[i * d + k];
        for (int l = 0; l < c.n_layers; ++l) {
            const std::string h = "h." + std::to_string(l) + ".";
            const Rows qkv = linear(layernorm(x, h + "ln_1"), h + "attn.c_attn", d, 3 * d);
            Rows mixed(std::size_t(T), Vec(std::size_t(d), 0.0));
            for (int hd = 0; hd < c.n_heads; ++hd)
                for (int i = 0; i < T; ++i) {
                    Vec w(std::size_t(T), 0.0);
                    double mx = -1e300, sum = 0;
                    for (int j = 0; j < T; ++j) {
                        if (!mask.allows(i, j)) continue;
                        double s = 0;
                        for (int k = 0; k < dh; ++k) s += qkv[i][hd * dh + k] * qkv[j][d + hd * dh + k];
                        w[j] = s / std::sqrt(double(dh));
                        mx = std::max(mx, w[j]);
                    }
                    for (int j = 0; j < T; ++j) {
                        w[j] = mask.allows(i, j) ? std::exp(w[j] - mx) : 0.0;
                        sum += w[j];
                    }
                    for (int j = 0; j < T; ++j)
                        for (int k = 0; k < dh; ++k) mixed[i][hd * dh + k] += w[j] / sum * qkv[j][2 * d + hd * dh + k];
                }
            const Rows attn = linear(mixed, h + "attn.c_proj", d, d);
            for (int i = 0; i < T; ++i)
                for (int k = 0; k < d; ++k) x[i][k] += attn[i][k];
            if (c.mlp) {
                Rows f = linear(layernorm(x, h + "ln_2"), h + "mlp.c_fc", d, 4 * d);
                for (auto& row : f)
                    for (double& v : row) v = 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
                const Rows m = linear(f, h + "mlp.c_proj", 4 * d, d);
                for (int i = 0; i < T; ++i)
                    for (int k = 0; k < d; ++k) x[i][k] += m[i][k];
            }
        }
        const Rows a = layernorm(x, "ln_f");
        double total = 0;
        int count = 0;
        for (int i = std::max(0, lo); i < std::min(T, hi); ++i) {
            Vec logit(std::size_t(c.vocab_size));
            double mx = -1e300, sum = 0;
            for (int v = 0; v < c.vocab_size; ++v) {
                double s = 0;
                for (int k = 0; k < d; ++k) s += a[i][k] * t("wte.weight")[v * d + k];
                logit[v] = s;
                mx = std::max(mx, s);
            }
            for (double s : logit) sum += std::exp(s - mx);
            total += -(logit[seq[i + 1]] - mx - std::log(sum));
            ++count;
        }
        return {total, count};
    }
    double loss(const Batch& b) const {
        double total = 0;
        int count = 0;
        for (std::size_t i = 0; i < b.sequences.size(); ++i) {
            const int lo = b.counted.empty() ? b.loss_begin : b.counted[i].first;
            const int hi = b.counted.empty() ? b.loss_end : b.counted[i].second;
            const auto [l, n] = sequence_loss(b.sequences[i], lo, hi);
            total += l;
            count += n;
        }
        return total / count;
    }
};

void check_gradients(bool mlp, const Mask& mask, const Batch& b) {
    const ModelConfig cfg = tiny_config(mlp);
    Params<double> p = spread_params(cfg, 7);
    Backprop<double> bp(mask, 2);
    AlignedVec<double> grad;
    const double loss = bp.loss_and_grad(p, b, grad);
    CHECK(loss == doctest::Approx(Ref{p, mask}.loss(b)).epsilon(1e-12));
    const double h = 1e-5;
    double worst = 0, worst_fd = 0, worst_g = 0;
    std::string worst_at;
    int nonzero = 0;
    for (const auto& t : p.slots)
        for (std::size_t i = 0; i < t.size(); ++i) {
            const std::size_t k = t.offset + i;
            const double keep = p.w[k];
            p.w[k] = keep + h;
            const double up = bp.loss(p, b);
            p.w[k] = keep - h;
            const double down = bp.loss(p, b);
            p.w[k] = keep;
            const double fd = (up - down) / (2 * h);
            // Central differences are good to ~1e-10 here (rounding): allow that, relative 1e-5 beyond it.
            const double err = std::fabs(fd - grad[k]) / (1e-5 + std::fabs(fd));
            if (std::fabs(fd) > 1e-6) ++nonzero;
            if (err > worst) worst = err, worst_fd = fd, worst_g = grad[k], worst_at = t.name + "[" + std::to_string(i) + "]";
        }
    INFO("largest difference / (1e-5 + |finite difference|): " << worst << " at " << worst_at << ": finite difference " << worst_fd
                                         << ", backprop " << worst_g);
    CHECK(worst < 1e-5);
    CHECK(nonzero > int(p.size()) / 2);  // the check is not vacuous
}

}  // namespace

TEST_CASE("train: every gradient equals central finite differences (double; MLP on/off; causal and sparse masks)") {
    SUBCASE("MLP, causal") { check_gradients(true, Mask::causal(), tiny_batch()); }
    SUBCASE("attention only, causal") { check_gradients(false, Mask::causal(), tiny_batch()); }
    SUBCASE("MLP, strided 2") { check_gradients(true, Mask::strided(2), tiny_batch()); }
    SUBCASE("attention only, sliding window 3, loss on positions 2 … 4, sequences of two lengths") {
        Batch b = tiny_batch();
        b.sequences.push_back({3, 1, 4, 1, 5});
        b.loss_begin = 2;
        b.loss_end = 5;
        check_gradients(false, Mask::sliding_window(3), b);
    }
    SUBCASE("MLP, fixed 3") { check_gradients(true, Mask::fixed(3), tiny_batch()); }
    SUBCASE("attention only, causal, a counted range per sequence (the induction task's loss)") {
        Batch b = tiny_batch();
        b.sequences.push_back({3, 1, 4, 1, 5});
        b.counted = {{3, 6}, {0, 2}, {1, 3}};
        check_gradients(false, Mask::causal(), b);
    }
}

TEST_CASE("train: the float path agrees with the double path (loss and every gradient)") {
    for (bool mlp : {true, false}) {
        const ModelConfig cfg = tiny_config(mlp);
        const Params<double> pd = spread_params(cfg, 3);
        const Params<float> pf = to_float(pd);
        Backprop<double> bd(Mask::causal(), 1);
        Backprop<float> bf(Mask::causal(), 2);
        AlignedVec<double> gd;
        AlignedVec<float> gf;
        const double ld = bd.loss_and_grad(to_double(pf), tiny_batch(), gd);
        const float lf = bf.loss_and_grad(pf, tiny_batch(), gf);
        CHECK(lf == doctest::Approx(ld).epsilon(1e-5));
        double scale = 0, worst = 0;
        std::size_t at = 0;
        for (double g : gd) scale = std::max(scale, std::fabs(g));
        for (std::size_t i = 0; i < gd.size(); ++i)
            if (std::fabs(gd[i] - gf[i]) > worst) worst = std::fabs(gd[i] - gf[i]), at = i;
        INFO("largest difference " << worst << " at parameter " << at << " (largest gradient " << scale << ")");
        CHECK(worst < 1e-4 * scale);
    }
}

TEST_CASE("train: the loss of GPT-2's initialisation is near log(vocab), and the init follows GPT-2") {
    ModelConfig cfg = tiny_config(true);
    const Params<double> p = to_double(init_params<float>(cfg, 1));
    const double loss = Ref{p, Mask::causal()}.loss(tiny_batch());
    CHECK(loss == doctest::Approx(std::log(11.0)).epsilon(0.02));
    Backprop<double> bp;
    CHECK(bp.loss(p, tiny_batch()) == doctest::Approx(loss).epsilon(1e-12));
    // Residual projections: std 0.02/√(2·2) = 0.01; others 0.02; biases 0, gains 1.
    ModelConfig big = cfg;
    big.d_model = 64;
    big.n_heads = 4;
    const Params<float> q = init_params<float>(big, 5);
    auto sd = [&](const std::string& name) {
        const auto& t = q.slot(name);
        double s = 0;
        for (std::size_t i = 0; i < t.size(); ++i) s += double(q.w[t.offset + i]) * q.w[t.offset + i];
        return std::sqrt(s / double(t.size()));
    };
    CHECK(sd("h.0.attn.c_attn.weight") == doctest::Approx(0.02).epsilon(0.05));
    CHECK(sd("h.1.mlp.c_fc.weight") == doctest::Approx(0.02).epsilon(0.05));
    CHECK(sd("h.0.attn.c_proj.weight") == doctest::Approx(0.01).epsilon(0.05));
    CHECK(sd("h.1.mlp.c_proj.weight") == doctest::Approx(0.01).epsilon(0.05));
    CHECK(sd("h.0.attn.c_attn.bias") == 0.0);
    CHECK(q.w[q.slot("ln_f.weight").offset] == 1.0f);
}

TEST_CASE("train: SGD steps are the hand-applied update, and the loss after each matches the loop") {
    const ModelConfig cfg = tiny_config(true);
    Params<double> p = spread_params(cfg, 11);
    Params<double> hand = p;
    OptimizerConfig oc;
    oc.kind = OptimizerKind::SGD;
    oc.lr = 0.05;
    Optimizer<double> opt(oc);
    Backprop<double> bp;
    const Batch b = tiny_batch();
    double prev = Ref{p, Mask::causal()}.loss(b);
    for (int step = 0; step < 4; ++step) {
        AlignedVec<double> g;
        bp.loss_and_grad(p, b, g);
        AlignedVec<double> g2 = g;
        for (std::size_t i = 0; i < g.size(); ++i) hand.w[i] -= 0.05 * g[i];
        opt.step(p, g2);
        double diff = 0;
        for (std::size_t i = 0; i < g.size(); ++i) diff = std::max(diff, std::fabs(p.w[i] - hand.w[i]));
        CHECK(diff < 1e-15);  // (one rounding: the optimizer may fuse the multiply-add)
        const double now = Ref{p, Mask::causal()}.loss(b);
        CHECK(bp.loss(p, b) == doctest::Approx(now).epsilon(1e-12));
        CHECK(now < prev);
        prev = now;
    }
}

TEST_CASE("train: AdamW's first two steps against the formula; warm-up; clipping by global norm") {
    ModelConfig cfg = tiny_config(false);
    cfg.n_layers = 1;
    Params<double> p = spread_params(cfg, 2);
    const Params<double> p0 = p;
    OptimizerConfig oc;
    oc.lr = 0.01;
    oc.weight_decay = 0.1;
    Optimizer<double> opt(oc);
    AlignedVec<double> g1(p.size()), g2(p.size());
    for (std::size_t i = 0; i < p.size(); ++i) g1[i] = 0.3 * std::sin(double(i)), g2[i] = -0.2 * std::cos(0.5 * double(i));
    AlignedVec<double> a = g1, b = g2;
    opt.step(p, a);
    opt.step(p, b);
    for (const auto& t : p.slots) {
        const double wd = t.decay ? 0.1 : 0.0;
        for (std::size_t i = 0; i < t.size(); ++i) {
            const std::size_t k = t.offset + i;
            // t = 1: m̂ = g1, v̂ = g1²
            double w = p0.w[k] * (1 - 0.01 * wd) - 0.01 * g1[k] / (std::fabs(g1[k]) + 1e-8);
            // t = 2: m = 0.9·0.1·g1 + 0.1·g2, v = 0.999·0.001·g1² + 0.001·g2², bias-corrected
            const double m = 0.9 * 0.1 * g1[k] + 0.1 * g2[k];
            const double v = 0.999 * 0.001 * g1[k] * g1[k] + 0.001 * g2[k] * g2[k];
            const double mhat = m / (1 - 0.81), vhat = v / (1 - 0.999 * 0.999);
            w = w * (1 - 0.01 * wd) - 0.01 * mhat / (std::sqrt(vhat) + 1e-8);
            REQUIRE(p.w[k] == doctest::Approx(w).epsilon(1e-12));
        }
    }
    CHECK(p.slot("wte.weight").decay);
    CHECK_FALSE(p.slot("h.0.ln_1.weight").decay);
    CHECK_FALSE(p.slot("h.0.attn.c_attn.bias").decay);

    OptimizerConfig w;
    w.lr = 1.0;
    w.warmup = 4;
    Optimizer<double> warm(w);
    CHECK(warm.lr_at(1) == 0.25);
    CHECK(warm.lr_at(3) == 0.75);
    CHECK(warm.lr_at(4) == 1.0);
    CHECK(warm.lr_at(100) == 1.0);

    OptimizerConfig c;
    c.kind = OptimizerKind::SGD;
    c.lr = 1.0;
    c.clip = 1.0;
    Optimizer<double> clip(c);
    Params<double> q = p0;
    AlignedVec<double> g(q.size(), 0.0);
    g[0] = 3.0, g[1] = 4.0;  // norm 5 → scaled to 1: (0.6, 0.8)
    clip.step(q, g);
    CHECK(clip.last_grad_norm() == doctest::Approx(5.0));
    CHECK(q.w[0] == doctest::Approx(p0.w[0] - 0.6));
    CHECK(q.w[1] == doctest::Approx(p0.w[1] - 0.8));
    CHECK(q.w[2] == p0.w[2]);
}

TEST_CASE("train: the same seed and thread count give bit-identical weights") {
    auto run = [](int threads, std::uint64_t seed) {
        ModelConfig cfg;
        cfg.vocab_size = 16, cfg.n_ctx = 16, cfg.d_model = 16, cfg.n_layers = 2, cfg.n_heads = 2, cfg.mlp = true;
        TrainOptions o;
        o.batch = 8;
        o.threads = threads;
        o.optimizer.clip = 1.0;
        o.optimizer.warmup = 2;
        TrainSession s(make_induction_task(16, 16, seed), init_params<float>(cfg, seed), o);
        for (int i = 0; i < 5; ++i) s.step();
        return s.params().w;
    };
    const auto a = run(2, 1), b = run(2, 1), c = run(2, 2), one = run(1, 1);
    CHECK(a == b);
    CHECK(a != c);
    double worst = 0;  // another thread count sums in another order: close, not necessarily equal
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::fabs(a[i] - one[i])));
    CHECK(worst < 1e-4);
}

// The induction task, checked against its definition: where the copy is, what is counted.
TEST_CASE("train: induction task — a segment copied right after itself at a distance that varies; the loss counts the copy") {
    const int T = 64, V = 64;
    const Task ind = make_induction_task(T, V, 3);
    CHECK(ind.half == 32);
    std::set<int> distances, starts;
    int sequences = 0;
    auto check_sequence = [&](const std::vector<int>& s, std::pair<int, int> counted) {
        REQUIRE(s.size() == std::size_t(T));
        // The counted inputs are p + L … p + 2L − 2: L = end − begin + 1, p = begin − L.
        const int L = counted.second - counted.first + 1, p = counted.first - L;
        REQUIRE(L >= 2);
        REQUIRE(L <= 32);
        REQUIRE(p >= 0);
        REQUIRE(p + 2 * L <= T);
        for (int j = 0; j < L; ++j) CHECK(s[std::size_t(p + L + j)] == s[std::size_t(p + j)]);
        // Every counted input's next token equals the token after the same token L back: the copy
        // determines it; the longest repeated run ending there is at least L long.
        for (int t = counted.first; t < counted.second; ++t) CHECK(s[std::size_t(t + 1)] == s[std::size_t(t + 1 - L)]);
        distances.insert(L);
        starts.insert(p);
        ++sequences;
    };
    for (long step = 0; step < 4; ++step) {
        const Batch b = ind.batch(step, 32);
        REQUIRE(b.sequences.size() == 32);
        REQUIRE(b.counted.size() == 32);
        for (std::size_t i = 0; i < 32; ++i) check_sequence(b.sequences[i], b.counted[i]);
    }
    REQUIRE(ind.heldout.counted.size() == ind.heldout.sequences.size());
    for (std::size_t i = 0; i < ind.heldout.sequences.size(); ++i) check_sequence(ind.heldout.sequences[i], ind.heldout.counted[i]);
    CHECK(sequences == 4 * 32 + 64);
    // The distance and the place vary (31 possible lengths, 192 draws): position cannot solve it.
    CHECK(distances.size() >= 15);
    CHECK(starts.size() >= 15);
    CHECK(*distances.begin() <= 3);
    CHECK(*distances.rbegin() >= 24);

    // The repeat is the only structure: the tokens outside it look uniformly random (every id turns up).
    std::set<int> seen;
    for (const auto& s : ind.batch(9, 32).sequences) seen.insert(s.begin(), s.end());
    CHECK(seen.size() == std::size_t(V));

    // Deterministic for a seed, different across steps and seeds.
    CHECK(ind.batch(2, 8).sequences == make_induction_task(T, V, 3).batch(2, 8).sequences);
    CHECK(ind.batch(2, 8).counted == make_induction_task(T, V, 3).batch(2, 8).counted);
    CHECK(ind.batch(1, 8).sequences != ind.batch(2, 8).sequences);
    CHECK(make_induction_task(T, V, 4).batch(2, 8).sequences != ind.batch(2, 8).sequences);

    // The probe: 7 distinct random tokens, 20 more, the 20 again (47 tokens; distinct but for the copy).
    REQUIRE(ind.probe.size() == 47);
    CHECK(std::set<int>(ind.probe.begin(), ind.probe.begin() + 27).size() == 27);
    CHECK(std::equal(ind.probe.begin() + 7, ind.probe.begin() + 27, ind.probe.begin() + 27));

    // The loss of a batch counts exactly the determined predictions: a model whose loss is the
    // loss of a straightforward loop over the counted ranges.
    ModelConfig cfg;
    cfg.vocab_size = 16, cfg.n_ctx = 16, cfg.d_model = 8, cfg.n_layers = 1, cfg.n_heads = 2, cfg.mlp = false;
    const Task small = make_induction_task(16, 16, 1);
    const Batch b = small.batch(0, 3);
    const Params<double> p = spread_params(cfg, 5);
    Backprop<double> bp(Mask::causal(), 2);
    CHECK(bp.loss(p, b) == doctest::Approx(Ref{p, Mask::causal()}.loss(b)).epsilon(1e-12));
    Batch all = b;  // counting every position instead gives another loss
    all.counted.clear();
    CHECK(bp.loss(p, all) != doctest::Approx(bp.loss(p, b)).epsilon(1e-6));

    // A bad counted range is named.
    Batch bad = b;
    bad.counted[1] = {4, 4};
    CHECK_THROWS_WITH(check_batch(bad, cfg), doctest::Contains("counted[1]"));
    bad.counted.pop_back();
    CHECK_THROWS_WITH(check_batch(bad, cfg), doctest::Contains("2 counted ranges for 3 sequences"));
}

TEST_CASE("train: tasks — induction repeats, sort sorts, reverse reverses, text splits, data loads") {
    const Task so = make_sort_task(6, 10, 1), re = make_reverse_task(6, 10, 1);
    const auto s = so.batch(0, 1).sequences[0], r = re.batch(0, 1).sequences[0];
    REQUIRE(s.size() == 7);
    CHECK(s[3] == 9);  // ">" is the last id
    CHECK(so.vocab[9] == ">");
    CHECK(so.vocab[3] == "3");
    std::vector<int> head(s.begin(), s.begin() + 3);
    std::sort(head.begin(), head.end());
    CHECK(std::vector<int>(s.begin() + 4, s.end()) == head);
    CHECK(r[4] == r[2]);
    CHECK(r[6] == r[0]);

    const Task tx = make_text_task("abcabcabcé!", 4, 0);
    CHECK(tx.vocab == std::vector<std::string>{"!", "a", "b", "c", "\xA9", "\xC3"});  // bytes in order: é is C3 A9
    CHECK(tx.text_train.size() == 10);
    CHECK(tx.text_heldout.size() == 2);
    CHECK(tx.heldout.sequences.size() == 1);
    for (const auto& q : tx.batch(3, 5).sequences) CHECK(q.size() == 5);

    const auto path = (std::filesystem::temp_directory_path() / "attnviz_train_data.json").string();
    {
        std::ofstream(path) << R"({"sequences": [[1, 2, 3], [4, 5]]})";
    }
    CHECK(load_sequences_json(path) == std::vector<std::vector<int>>{{1, 2, 3}, {4, 5}});
    {
        std::ofstream(path) << R"({"sequences": [[1, 2, 3], [4, -5]]})";
    }
    CHECK_THROWS_WITH(load_sequences_json(path), doctest::Contains("sequences[1][1]"));
    CHECK_THROWS_WITH(make_data_task({{1, 2}, {9, 1}}, 5, 4, 0), doctest::Contains("sequences[1][0] = 9"));
    std::filesystem::remove(path);

    CHECK_THROWS_WITH(check_training_mask(Mask::matrix(1, 1, {1})), doctest::Contains("explicit matrix"));
    Batch bad = tiny_batch();
    bad.sequences[1][2] = 11;
    CHECK_THROWS_WITH(check_batch(bad, tiny_config(true)), doctest::Contains("sequences[1][2]"));
}

TEST_CASE("train: the trained model is the model the GPT-2 forward runs, and it saves and loads as a GPT-2 folder") {
    for (bool mlp : {true, false}) {
        const ModelConfig cfg = tiny_config(mlp);
        const Params<float> p = to_float(spread_params(cfg, 21));
        const Model m = model_from_params(p);
        const std::vector<int> seq = {1, 5, 3, 9, 0, 10, 2};
        // The loss from gpt2_model.hpp's logits, written out here.
        Gpt2Options o;
        o.all_logits = true;
        o.threads = 1;
        const Gpt2Forward f(m, std::vector<int>(seq.begin(), seq.end() - 1), o);
        double loss = 0;
        for (int t = 0; t + 1 < int(seq.size()); ++t) {
            const RowVec l = f.logits().row(t);
            const double mx = l.maxCoeff();
            double sum = 0;
            for (int v = 0; v < cfg.vocab_size; ++v) sum += std::exp(double(l(v)) - mx);
            loss += -(double(l(seq[t + 1])) - mx - std::log(sum));
        }
        loss /= double(seq.size() - 1);
        Backprop<float> bp;
        Batch b;
        b.sequences = {seq};
        CHECK(bp.loss(p, b) == doctest::Approx(loss).epsilon(1e-5));
        const auto pats = bp.patterns(p, seq);
        for (int l = 0; l < cfg.n_layers; ++l)
            for (int h = 0; h < cfg.n_heads; ++h) {
                const Gpt2Forward full(m, seq, o);
                const Mat theirs = full.pattern(l, h);
                const Mat diff = pats[l][h] - theirs;
                INFO("layer " << l << " head " << h << "\nbackprop's pattern\n" << pats[l][h] << "\ngpt2 forward's\n" << theirs);
                CHECK(diff.cwiseAbs().maxCoeff() < 1e-5f);
            }

        const auto dir = (std::filesystem::temp_directory_path() / "attnviz_train_folder").string();
        std::vector<std::string> vocab;
        for (int i = 0; i < cfg.vocab_size; ++i) vocab.push_back(std::string(1, char('a' + i)));
        save_gpt2_folder(m, dir, vocab);
        Gpt2Tokenizer tok;
        const Model back = load_gpt2_folder(dir, &tok);
        CHECK(params_from_model(back).w == p.w);
        CHECK(back.cfg.mlp == mlp);
        CHECK(tok.encode("bad") == std::vector<int>{1, 0, 3});  // one byte per token (merges.txt has no merges)
        std::filesystem::remove_all(dir);
    }
}
