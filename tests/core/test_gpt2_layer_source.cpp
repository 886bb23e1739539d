// Gpt2LayerSource: one layer of a GPT-2-style forward pass as a PatternSource. Every number it
// answers (cells, row statistics, the four stages' tiles, pooled overviews, the engine Forward of
// full()) is checked against a double-precision reference computed here from the forward's own
// per-head Q and K (loops: q·k, · 1/√d_head, the mask, softmax), with patterns kept and computed
// on demand, causal and sliding-window layers.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "gpt2_io.hpp"
#include "gpt2_model.hpp"
#include "pattern_source.hpp"
#include "helpers.hpp"

using namespace attnviz;

namespace {

ModelConfig cfg() { return test::model_config(50, 40, 24, 3, 3, ModelConfig{}.mlp); }

// The reference for head h of layer l: raw (n, n), logits and softmax weights, in double.
struct Ref {
    std::vector<std::vector<double>> raw, weight;
    std::vector<double> row_max, row_sum;
};

Ref reference(const Gpt2Forward& f, int l, int h, const Mask& mask) {
    const auto Q = f.Q(l, h);
    const auto K = f.K(l, h);
    const int n = f.n(), dh = f.d_head();
    const double factor = 1.0 / std::sqrt(static_cast<double>(dh));
    Ref r;
    r.raw.assign(n, std::vector<double>(n, 0.0));
    r.weight.assign(n, std::vector<double>(n, 0.0));
    r.row_max.assign(n, 0.0);
    r.row_sum.assign(n, 0.0);
    for (int i = 0; i < n; ++i) {
        double mx = -std::numeric_limits<double>::infinity();
        for (int j = 0; j < n; ++j) {
            double s = 0;
            for (int k = 0; k < dh; ++k) s += static_cast<double>(Q(i, k)) * static_cast<double>(K(j, k));
            r.raw[i][j] = s;
            if (mask.allows(i, j)) mx = std::max(mx, s * factor);
        }
        double z = 0;
        for (int j = 0; j < n; ++j)
            if (mask.allows(i, j)) z += std::exp(r.raw[i][j] * factor - mx);
        for (int j = 0; j < n; ++j) r.weight[i][j] = mask.allows(i, j) ? std::exp(r.raw[i][j] * factor - mx) / z : 0.0;
        r.row_max[i] = mx;
        r.row_sum[i] = z;
    }
    return r;
}

void check_layer(const std::shared_ptr<const Gpt2Forward>& f, int l) {
    Gpt2LayerSource src(f, l);
    const Mask& mask = f->options().mask_of(l);
    const int n = f->n();
    CHECK(src.n() == n);
    CHECK(src.m() == n);
    CHECK(src.n_heads() == 3);
    const double factor = 1.0 / std::sqrt(static_cast<double>(f->d_head()));
    const Forward* full = src.full();
    REQUIRE(full);
    CHECK(full == src.full());  // built once
    for (int h = 0; h < 3; ++h) {
        const Ref r = reference(*f, l, h, mask);
        const Mat raw = src.stage_tile(h, Stage::Raw, 0, 0, n, n);
        const Mat scaled = src.stage_tile(h, Stage::Scaled, 0, 0, n, n);
        const Mat masked = src.stage_tile(h, Stage::Masked, 0, 0, n, n);
        const Mat pattern = src.stage_tile(h, Stage::Pattern, 0, 0, n, n);
        const Mat block = src.stage_tile(h, Stage::Pattern, 3, 2, 5, 7);  // (5, 7) a block of it
        for (int i = 0; i < n; ++i) {
            double row = 0;
            for (int j = 0; j < n; ++j) {
                const double tol = 1e-4 * (1.0 + std::abs(r.raw[i][j]));
                CHECK(raw(i, j) == doctest::Approx(r.raw[i][j]).epsilon(1e-4).scale(1.0));
                CHECK(std::abs(scaled(i, j) - r.raw[i][j] * factor) <= tol);
                if (mask.allows(i, j)) CHECK(std::abs(masked(i, j) - r.raw[i][j] * factor) <= tol);
                else CHECK(masked(i, j) == -std::numeric_limits<float>::infinity());
                CHECK(std::abs(pattern(i, j) - r.weight[i][j]) <= 1e-5);
                if (!mask.allows(i, j)) CHECK(pattern(i, j) == 0.0f);
                row += pattern(i, j);
                const PatternCell c = src.cell(h, i, j);
                CHECK(c.allowed == mask.allows(i, j));
                CHECK(std::abs(c.raw - r.raw[i][j]) <= tol);
                CHECK(std::abs(c.logit - r.raw[i][j] * factor) <= tol);
                CHECK(std::abs(c.weight - r.weight[i][j]) <= 1e-5);
                // full(): the engine Forward of the layer
                const HeadResult& hr = full->heads[static_cast<std::size_t>(h)];
                CHECK(std::abs(hr.scores(i, j) - r.raw[i][j]) <= tol);
                CHECK(std::abs(hr.pattern(i, j) - r.weight[i][j]) <= 1e-5);
                if (i >= 3 && i < 8 && j >= 2 && j < 9) CHECK(block(i - 3, j - 2) == pattern(i, j));
            }
            CHECK(row == doctest::Approx(1.0).epsilon(1e-5));
            const RowStats st = src.row_stats(h, i);
            CHECK(st.max == doctest::Approx(r.row_max[i]).epsilon(1e-4));
            CHECK(st.sum == doctest::Approx(r.row_sum[i]).epsilon(1e-4));
            CHECK(full->heads[static_cast<std::size_t>(h)].row_max[static_cast<std::size_t>(i)] == doctest::Approx(r.row_max[i]).epsilon(1e-4));
        }
        // a pooled overview: buckets of 2 × 2 cells, the mean and the max of the reference weights
        Mat mean, mx;
        REQUIRE(src.overview(h, 0, 0, n, n, n / 2, n / 2, Pool::Mean, mean));
        REQUIRE(src.overview(h, 0, 0, n, n, n / 2, n / 2, Pool::Max, mx));
        for (int y = 0; y < n / 2; ++y)
            for (int x = 0; x < n / 2; ++x) {
                double acc = 0, big = 0;
                bool any = false;
                for (int i = 2 * y; i < 2 * y + 2; ++i)
                    for (int j = 2 * x; j < 2 * x + 2; ++j) {
                        acc += r.weight[i][j];
                        big = std::max(big, r.weight[i][j]);
                        any = any || mask.allows(i, j);
                    }
                if (!any) {
                    CHECK(std::isnan(mean(y, x)));
                    continue;
                }
                CHECK(std::abs(mean(y, x) - acc / 4) <= 1e-5);
                CHECK(std::abs(mx(y, x) - big) <= 1e-5);
            }
    }
    // E and the output of full(): the residual stream before the layer and after its attention
    CHECK((full->E - f->resid(l)).cwiseAbs().maxCoeff() == 0.0f);
    const Mat after = f->resid(l) + f->attn_out(l);
    CHECK((full->output - after).cwiseAbs().maxCoeff() <= 1e-6f);
    CHECK(full->logit_factor == doctest::Approx(factor));
}

}  // namespace

TEST_CASE("Gpt2LayerSource: every stage, cell and overview against a double reference from Q and K") {
    auto m = std::make_shared<Model>(random_gpt2_model(cfg(), 11, true, 0.3f));
    std::vector<int> ids;
    for (int i = 0; i < 20; ++i) ids.push_back((i * 7 + 3) % 50);
    SUBCASE("patterns kept, causal") {
        auto f = std::make_shared<Gpt2Forward>(*m, ids);
        for (int l = 0; l < 3; ++l) check_layer(f, l);
    }
    SUBCASE("patterns computed on demand, a sliding window on layer 1") {
        Gpt2Options o;
        o.pattern_budget_bytes = 0;
        o.layer_masks[1] = Mask::sliding_window(3);
        auto f = std::make_shared<Gpt2Forward>(*m, ids, o);
        CHECK_FALSE(f->pattern_kept(1, 0));
        for (int l = 0; l < 3; ++l) check_layer(f, l);
        // the window: query 10 sees keys 8, 9, 10 only
        Gpt2LayerSource src(f, 1);
        CHECK_FALSE(src.cell(0, 10, 7).allowed);
        CHECK(src.cell(0, 10, 7).weight == 0.0f);
        CHECK(src.cell(0, 10, 8).allowed);
    }
    CHECK_THROWS_AS(Gpt2LayerSource(std::make_shared<Gpt2Forward>(*m, ids), 3), std::out_of_range);
}

TEST_CASE("Gpt2Forward: progress per layer, and a cancelled run throws Gpt2Cancelled") {
    auto m = random_gpt2_model(cfg(), 2);
    Progress p;
    Gpt2Forward f(m, {1, 2, 3}, {}, &p);
    CHECK(p.total.load() == 3);
    CHECK(p.done.load() == 3);
    Progress c;
    c.cancel = true;
    CHECK_THROWS_AS(Gpt2Forward(m, {1, 2, 3}, {}, &c), Gpt2Cancelled);
}
