// PatternTiles (patterns on demand from per-row softmax statistics) against a full forward pass,
// and the forward pass's skipping of masked-out score blocks against computing them.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <thread>

#include "engine.hpp"
#include "helpers.hpp"
#include "tiles.hpp"
#include "unmasked.hpp"

using namespace attnviz;
using attnviz::test::word;

namespace {

Scene tiles_scene(int n, int d_model, int heads, int d_head, std::uint64_t seed, const Mask& mask) {
    std::vector<std::string> tokens;
    for (int i = 0; i < n; ++i) tokens.push_back(word("w", (i * 7919) % (n / 2 + 1)));
    Scene s = make_scene(tokens, d_model, heads, d_head, seed);
    set_positional(s, Positional::Sinusoidal);
    set_mask(s, mask);
    return s;
}

Mask random_matrix_mask(int n, int m, std::uint64_t seed) {
    std::mt19937 rng(static_cast<unsigned>(seed));
    std::vector<std::uint8_t> allowed(static_cast<std::size_t>(n) * m);
    for (auto& a : allowed) a = rng() % 3 != 0;
    for (int j = 0; j < m; ++j) allowed[static_cast<std::size_t>(5) * m + j] = 0;  // row 5 sees nothing
    return Mask::matrix(n, m, std::move(allowed));
}

Mat as_col(const std::vector<float>& v) {
    return Eigen::Map<const Mat>(v.data(), static_cast<Eigen::Index>(v.size()), 1);
}

// Every statistic and every on-demand matrix of `t` against the full forward pass `f`.
void check_against_forward(const PatternTiles& t, const Forward& f, const Scene& s) {
    REQUIRE(t.n_heads() == s.n_heads);
    for (int h = 0; h < s.n_heads; ++h) {
        CAPTURE(h);
        const HeadResult& r = f.heads[static_cast<std::size_t>(h)];
        const HeadStats& st = t.head(h);
        CHECK_MAT(as_col(st.row_max), as_col(r.row_max), 1e-4f);
        CHECK_MAT(Mat(as_col(st.row_sum).array() / (as_col(r.row_sum).array() + 1.0f)),
                  Mat(as_col(r.row_sum).array() / (as_col(r.row_sum).array() + 1.0f)), 1e-5f);
        CHECK_MAT(st.mixed, r.mixed, 2e-5f);
        CHECK_MAT(t.tile(h, 0, 0, s.n(), s.m()), r.pattern, 2e-6f);
        CHECK_MAT(t.score_tile(h, 0, 0, s.n(), s.m()), stage_matrix(s, r, Stage::Raw), 2e-5f);
        // A tile that is not aligned with anything, and single cells.
        const int r0 = s.n() / 3, c0 = s.m() / 5, rows = s.n() / 2, cols = s.m() / 3;
        CHECK_MAT(t.tile(h, r0, c0, rows, cols), Mat(r.pattern.block(r0, c0, rows, cols)), 2e-6f);
        for (int i : {0, s.n() / 2, s.n() - 1})
            for (int j : {0, s.m() / 3, s.m() - 1}) {
                CAPTURE(i);
                CAPTURE(j);
                CHECK(t.cell(h, i, j) == doctest::Approx(r.pattern(i, j)).epsilon(1e-4).scale(1e-6));
                CHECK(t.score(h, i, j) == doctest::Approx(r.scores(i, j)).epsilon(1e-4));
            }
    }
    CHECK_MAT(t.delta(), f.delta, 2e-5f);
    CHECK_MAT(Mat(t.delta_row(s.n() - 1)), Mat(f.delta.row(s.n() - 1)), 2e-5f);
    CHECK_MAT(t.delta_rows(3, s.n() / 2), Mat(f.delta.middleRows(3, s.n() / 2)), 2e-5f);
    CHECK_MAT(Mat(t.output_row(0)), Mat(f.output.row(0)), 2e-5f);
}

// Pooling done here, cell by cell, from the full pattern.
// Pooling worked out cell by cell; a bucket whose every cell `mask` forbids (the block starts at
// row0, col0 of the pattern) is NaN.
Mat pooled(const Mat& p, int width, int height, Pool pool, const Mask* mask = nullptr, int row0 = 0, int col0 = 0) {
    const Eigen::Index n = p.rows(), m = p.cols();
    Mat out(height, width);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
            const Eigen::Index r0 = y * n / height, r1 = (y + 1) * n / height;
            const Eigen::Index c0 = x * m / width, c1 = (x + 1) * m / width;
            double acc = 0;
            bool any = mask == nullptr;
            for (Eigen::Index i = r0; i < r1; ++i)
                for (Eigen::Index j = c0; j < c1; ++j) {
                    acc = pool == Pool::Max ? std::max(acc, static_cast<double>(p(i, j))) : acc + p(i, j);
                    if (mask && mask->allows(row0 + static_cast<int>(i), col0 + static_cast<int>(j))) any = true;
                }
            out(y, x) = !any ? std::numeric_limits<float>::quiet_NaN()
                             : static_cast<float>(pool == Pool::Max ? acc : acc / static_cast<double>((r1 - r0) * (c1 - c0)));
        }
    return out;
}

// NaN in the same places, then CHECK_MAT on the rest.
void check_pooled(const Mat& got, const Mat& want, float tol) {
    REQUIRE(got.rows() == want.rows());
    REQUIRE(got.cols() == want.cols());
    int nan_mismatch = 0;
    for (Eigen::Index i = 0; i < got.rows(); ++i)
        for (Eigen::Index j = 0; j < got.cols(); ++j)
            if (std::isnan(got(i, j)) != std::isnan(want(i, j))) ++nan_mismatch;
    CHECK_MESSAGE(nan_mismatch == 0, nan_mismatch << " buckets are NaN (all masked) in one matrix only");
    CHECK_MAT(Mat(got.array().isNaN().select(0.0f, got)), Mat(want.array().isNaN().select(0.0f, want)), tol);
}

}  // namespace

TEST_CASE("PatternTiles equals the full forward pass for every mask") {
    const int n = 150;
    for (const Mask& mask : {Mask::none(), Mask::causal(), Mask::sliding_window(9), Mask::strided(6), Mask::fixed(8),
                             random_matrix_mask(n, n, 3)}) {
        const std::string mask_name = mask_type_name(mask.type);
        CAPTURE(mask_name);
        const Scene s = tiles_scene(n, 24, 3, 8, 11, mask);
        const Forward f = forward(s);
        PatternTiles t;
        REQUIRE(t.build(s));
        CHECK(t.n() == n);
        check_against_forward(t, f, s);
        for (int h = 0; h < s.n_heads; ++h)  // every allowed key of row 0 under causal: itself
            if (mask.type == MaskType::Causal) CHECK(t.cell(h, 0, 0) == doctest::Approx(1.0f));
        if (mask.type == MaskType::Matrix) {  // row 5 sees no key: zeros, never NaN
            CHECK(t.head(0).row_sum[5] == 0.0f);
            CHECK(t.tile(0, 5, 0, 1, n).cwiseAbs().maxCoeff() == 0.0f);
        }
    }
}

TEST_CASE("PatternTiles: cross-attention and a single thread") {
    Scene s = tiles_scene(40, 16, 2, 8, 5, Mask::none());
    std::vector<std::string> src;
    for (int i = 0; i < 57; ++i) src.push_back(word("s", i));
    set_source_tokens(s, src);
    const Forward f = forward(s);
    PatternTiles t;
    REQUIRE(t.build(s, nullptr, 1));
    CHECK(t.m() == 57);
    check_against_forward(t, f, s);
}

TEST_CASE("overview pools the pattern (max and mean) into buckets that need not divide n") {
    const Scene s = tiles_scene(130, 16, 2, 8, 7, Mask::causal());
    const Forward f = forward(s);
    PatternTiles t;
    REQUIRE(t.build(s));
    Mat out;
    for (Pool pool : {Pool::Max, Pool::Mean}) {
        REQUIRE(t.overview(1, 7, 11, pool, out));
        check_pooled(out, pooled(f.heads[1].pattern, 7, 11, pool, &s.mask), 2e-6f);
        REQUIRE(t.overview(-1, 13, 5, pool, out));  // all heads: the average pattern
        check_pooled(out, pooled(average_pattern(f), 13, 5, pool, &s.mask), 2e-6f);
    }
    // Mean pooling into a single bucket: every row sums to 1, so the mean is n / (n·m) = 1/m.
    REQUIRE(t.overview(0, 1, 1, Pool::Mean, out));
    CHECK(out(0, 0) == doctest::Approx(1.0 / 130.0));
    // Asking for more buckets than cells gives one bucket per cell: the pattern itself, NaN
    // above the diagonal (causal: key j > query i is masked).
    REQUIRE(t.overview(0, 1000, 1000, Pool::Max, out));
    Mat want = f.heads[0].pattern;
    for (int i = 0; i < 130; ++i)
        for (int j = i + 1; j < 130; ++j) want(i, j) = std::numeric_limits<float>::quiet_NaN();
    check_pooled(out, want, 2e-6f);
}

TEST_CASE("build and overview on a worker thread report progress and can be cancelled") {
    const Scene s = tiles_scene(300, 16, 4, 4, 9, Mask::none());
    PatternTiles t;
    Progress progress;
    bool ok = false;
    std::thread worker([&] { ok = t.build(s, &progress); });
    worker.join();
    CHECK(ok);
    CHECK(progress.fraction() == doctest::Approx(1.0));
    check_against_forward(t, forward(s), s);

    Progress cancelled;
    cancelled.cancel = true;
    PatternTiles u;
    CHECK_FALSE(u.build(s, &cancelled));
    CHECK(u.empty());
    Mat out = Mat::Constant(2, 2, 7.0f);
    CHECK_FALSE(t.overview(0, 10, 10, Pool::Max, out, &cancelled));
    CHECK(out(0, 0) == 7.0f);  // left as it was
    CHECK_FALSE(t.empty());    // a cancelled overview keeps the statistics
}

TEST_CASE("PatternTiles memory grows with n, not n²; bad tile arguments are refused") {
    PatternTiles a, b;
    REQUIRE(a.build(tiles_scene(256, 16, 2, 8, 1, Mask::causal())));
    REQUIRE(b.build(tiles_scene(1024, 16, 2, 8, 1, Mask::causal())));
    // 4× the tokens: 4× the memory (a full pattern would be 16×).
    CHECK(static_cast<double>(b.bytes()) / static_cast<double>(a.bytes()) == doctest::Approx(4.0).epsilon(0.01));
    // n = 32768, d_model = 768, 12 heads of 64: Q, K, V, mixed, statistics and E.
    const double per_token = 4.0 * (12 * 64 * 4 + 12 * 3 + 768);
    CHECK(per_token * 32768 < 2e9 * 0.5);
    CHECK_THROWS_AS(a.tile(0, 250, 0, 10, 10), std::out_of_range);
    CHECK_THROWS_AS(a.tile(2, 0, 0, 1, 1), std::out_of_range);
    CHECK_THROWS_AS(a.cell(0, 0, 256), std::out_of_range);
    CHECK_THROWS_AS(a.delta_row(-1), std::out_of_range);
}

TEST_CASE("forward skips masked-out score blocks: same pattern, masked scores 0") {
    for (const Mask& mask : {Mask::causal(), Mask::sliding_window(20), Mask::strided(16), random_matrix_mask(200, 200, 4)}) {
        const std::string mask_name = mask_type_name(mask.type);
        CAPTURE(mask_name);
        const Scene s = tiles_scene(200, 16, 3, 8, 2, mask);
        ForwardOptions full, skip;
        full.masked_scores = ForwardOptions::MaskedScores::Compute;
        skip.masked_scores = ForwardOptions::MaskedScores::Skip;
        const Forward a = forward(s, full), b = forward(s, skip);
        CHECK(a.masked_scores_computed);
        CHECK_FALSE(b.masked_scores_computed);
        CHECK(a.fully_masked_rows == b.fully_masked_rows);
        CHECK_MAT(b.output, a.output, 1e-6f);
        for (int h = 0; h < s.n_heads; ++h) {
            const HeadResult &ha = a.heads[static_cast<std::size_t>(h)], &hb = b.heads[static_cast<std::size_t>(h)];
            CHECK_MAT(hb.pattern, ha.pattern, 1e-6f);
            Mat expected = ha.scores;  // allowed cells: q·k; masked cells: 0
            for (int i = 0; i < s.n(); ++i)
                for (int j = 0; j < s.m(); ++j)
                    if (!s.mask.allows(i, j)) expected(i, j) = 0.0f;
            CHECK_MAT(hb.scores, expected, 1e-5f);
            // The fully computed scores are q_i·k_j everywhere, masked cells included.
            CHECK_MAT(ha.scores, Mat(ha.Q * ha.K.transpose()), 1e-4f);
        }
        // Auto: a small scene keeps the raw scores of masked cells for the lecture view.
        CHECK(forward(s).masked_scores_computed);
    }
    // Auto skips above 512² cells; a causal forward then computes about half the score products.
    const Scene big = tiles_scene(1024, 8, 1, 4, 3, Mask::causal());
    CHECK_FALSE(forward(big).masked_scores_computed);
    ForwardOptions full;
    full.masked_scores = ForwardOptions::MaskedScores::Compute;
    Scene none = big;
    set_mask(none, Mask::none());
    // Score and pattern·V products dominate here (d_model = 8): causal ≈ half of none (blocks of
    // 64 rows add 64/2 columns per row on the diagonal: (n/2 + 32)/n).
    const double ratio = forward_gemm_flops(big) / forward_gemm_flops(none);
    CHECK(ratio > 0.5);
    CHECK(ratio < 0.56);
    CHECK(forward_gemm_flops(big) < forward_gemm_flops(big, full));
}

TEST_CASE("the forward pass's positional encoding equals positional_encoding(); forward into a Forward reuses it") {
    Scene s = tiles_scene(40, 16, 2, 8, 3, Mask::causal());
    for (int d_model : {16, 30}) {
        set_d_model(s, d_model);
        for (int n : {1, 33, 3000}) {
            CAPTURE(n);
            CHECK_MAT(positional_for(s, n), positional_encoding(Positional::Sinusoidal, n, d_model, s.seed), 1e-6f);
        }
        for (Positional p : {Positional::None, Positional::Sinusoidal, Positional::Learned}) {
            set_positional(s, p);
            const Mat all = positional_encoding(p, 300, d_model, s.seed);
            for (int pos : {0, 1, 77, 299}) CHECK_MAT(Mat(positional_row(s, pos)), Mat(all.row(pos)), 0.0f);
        }
        set_positional(s, Positional::Sinusoidal);
    }
    // Reusing a Forward of another scene gives the same as a fresh one.
    Forward reused = forward(tiles_scene(64, 16, 3, 8, 4, Mask::none()));
    const Scene t = tiles_scene(50, 16, 2, 8, 5, random_matrix_mask(50, 50, 2));
    forward(t, reused);
    const Forward fresh = forward(t);
    REQUIRE(reused.heads.size() == 2);
    CHECK(reused.fully_masked_rows == fresh.fully_masked_rows);
    CHECK_MAT(reused.heads[1].pattern, fresh.heads[1].pattern, 0.0f);
    CHECK_MAT(reused.output, fresh.output, 0.0f);
}

TEST_CASE("a 32,768-token, 12-head, d_model 768 scene is valid; only a full forward pass refuses it") {
    // The size checks no longer budget a full Forward: the scene is explored through PatternTiles.
    CHECK_NOTHROW(check_sizes(32768, 32768, 768, 12, 64));
    std::vector<std::string> tokens;
    for (int i = 0; i < 32768; ++i) tokens.push_back(word("w", i % 100));
    const Scene s = make_scene(tokens, 768, 12, 64, 3);
    CHECK_NOTHROW(validate(s));
    // A full forward would hold 12 · 2 · 32768² floats of scores and patterns alone: 96 GiB.
    CHECK(estimate_forward_bytes(s) > std::size_t(12) * 2 * 32768 * 32768 * 4);
    CHECK_FALSE(fits_full_forward(s, Limits::kLiveForwardBytes));
    try {
        (void)forward(s);
        FAIL("forward() accepted a 96 GiB forward pass");
    } catch (const SceneError& e) {
        CHECK(e.path() == "tokens");
        CHECK(std::string(e.what()).find("n = 32768 with 12 heads would need") != std::string::npos);
        CHECK(std::string(e.what()).find("MiB for the patterns, more than the 8192 MiB limit") != std::string::npos);
    }
    Forward f;
    CHECK_THROWS_AS(forward(s, f), SceneError);
    CHECK(f.heads.empty());  // refused before anything was allocated
    CHECK_THROWS_AS(recompute_head(s, f, 0), SceneError);
    CHECK_THROWS_AS(GemmBaseline{s}, SceneError);
    // PatternTiles: E (32768 · 768) and W_O (768 · 768) floats, and per head Q, K, V, mixed
    // (4 · 32768 · 64 floats) and 3 · 32768 statistics of 4 B: 100,663,296 + 2,359,296 +
    // 12 · (33,554,432 + 393,216) = 510,394,368 B (~487 MiB), under the 2 GiB limit.
    CHECK(PatternTiles::estimate_bytes(s) == 510394368u);
    CHECK(PatternTiles::estimate_bytes(s) < Limits::kMaxTilesBytes);
}

TEST_CASE("fits_full_forward and the byte estimates, worked out by hand") {
    const Scene s = make_scene({"a", "b", "c", "d"}, 8, 2, 4, 1);
    // Per head: Q (4·4) + K, V (2·4·4) + scores and pattern (2·4·4) + ΔE_h (4·8) = 112 floats;
    // 2 heads = 224, plus E, ΔE, E' (3·4·8) and X (4·8) = 128: 352 floats; plus the fused
    // projection: W_qkv (8 · 3·2·4 = 192) and E·W_qkv (4 · 24 = 96) = 288: 640 floats = 2560 B.
    CHECK(estimate_forward_bytes(s) == 2560u);
    CHECK(fits_full_forward(s, 2560));
    CHECK_FALSE(fits_full_forward(s, 2559));
    CHECK(Limits::kLiveForwardBytes == std::size_t(256) << 20);
    // PatternTiles: E (4·8) + W_O (8·8) floats + per head (2·4·4 + 2·4·4) floats and 4 · 12 B:
    // 384 + 2 · (256 + 48) = 992 B — what bytes() reports once built.
    CHECK(PatternTiles::estimate_bytes(s) == 992u);
    PatternTiles t;
    REQUIRE(t.build(s));
    CHECK(t.bytes() == 992u);
}

TEST_CASE("PatternTiles::build refuses only what would exceed its 2 GiB") {
    // 32768 tokens, 256 heads of 64 on d_model 8: the scene is small (a few MB) but the tiles'
    // Q, K, V and mixed would be 256 · 4 · 32768 · 64 · 4 B = 8 GiB.
    std::vector<std::string> tokens;
    for (int i = 0; i < 32768; ++i) tokens.push_back(word("w", i % 10));
    const Scene s = make_scene(tokens, 8, 256, 64, 1);
    PatternTiles t;
    try {
        t.build(s);
        FAIL("build accepted 8 GiB of statistics");
    } catch (const SceneError& e) {
        CHECK(e.path() == "tokens");
        CHECK(std::string(e.what()).find("n = 32768 with 256 heads of 64 would need 8289 MiB for the tile statistics, "
                                         "more than the 2048 MiB limit") != std::string::npos);
    }
    CHECK(t.empty());
}

namespace {
// a and b agree: −∞ exactly where the other is −∞, finite cells within tol · (1 + largest |b|).
void check_stage(const Mat& a, const Mat& b, float tol) {
    REQUIRE(a.rows() == b.rows());
    REQUIRE(a.cols() == b.cols());
    const float inf = std::numeric_limits<float>::infinity();
    float scale = 0, worst = 0;
    Eigen::Index wr = 0, wc = 0, inf_mismatch = 0;
    for (Eigen::Index i = 0; i < b.rows(); ++i)
        for (Eigen::Index j = 0; j < b.cols(); ++j)
            if (b(i, j) != -inf) scale = std::max(scale, std::fabs(b(i, j)));
    for (Eigen::Index i = 0; i < a.rows(); ++i)
        for (Eigen::Index j = 0; j < a.cols(); ++j) {
            if ((a(i, j) == -inf) != (b(i, j) == -inf)) {
                ++inf_mismatch;
                continue;
            }
            if (b(i, j) == -inf) continue;
            const float d = std::fabs(a(i, j) - b(i, j));
            if (!(d <= worst)) worst = d, wr = i, wc = j;
        }
    CHECK_MESSAGE(inf_mismatch == 0, inf_mismatch << " cells are −∞ in one matrix only");
    CHECK_MESSAGE(worst <= tol * (1 + scale), "largest difference " << worst << " at [" << wr << "][" << wc << "]: "
                                                                   << a(wr, wc) << " vs " << b(wr, wc));
}
}  // namespace

TEST_CASE("stage_tile equals stage_matrix of the full forward pass on any block, for every mask") {
    const int n = 130;
    for (const Mask& mask : {Mask::none(), Mask::causal(), Mask::sliding_window(7), Mask::strided(5), Mask::fixed(6),
                             random_matrix_mask(n, n, 9)}) {
        const std::string mask_name = mask_type_name(mask.type);
        CAPTURE(mask_name);
        Scene s = tiles_scene(n, 24, 2, 8, 17, mask);
        set_temperature(s, 0.7f);
        const Forward f = forward(s);  // n·m < 512²: masked cells' raw scores are computed too
        REQUIRE(f.masked_scores_computed);
        PatternTiles t;
        REQUIRE(t.build(s));
        struct Block { int r0, c0, rows, cols; };
        for (const Block& b : {Block{0, 0, n, n}, Block{13, 71, 40, 29}, Block{90, 2, 40, 1}, Block{5, 5, 0, 9}}) {
            for (int h = 0; h < s.n_heads; ++h)
                for (Stage st : {Stage::Raw, Stage::Scaled, Stage::Masked, Stage::Pattern}) {
                    CAPTURE(h);
                    const std::string stage = stage_name(st);
                    CAPTURE(stage);
                    CAPTURE(b.r0);
                    CAPTURE(b.c0);
                    const Mat full = stage_matrix(s, f.heads[static_cast<std::size_t>(h)], st);
                    check_stage(t.stage_tile(h, st, b.r0, b.c0, b.rows, b.cols),
                                Mat(full.block(b.r0, b.c0, b.rows, b.cols)), 1e-5f);
                }
        }
        // The Masked stage is −∞ exactly where the mask forbids, the scaled score elsewhere.
        const Mat masked = t.stage_tile(1, Stage::Masked, 0, 0, n, n);
        const Mat raw = t.stage_tile(1, Stage::Raw, 0, 0, n, n);
        for (int i = 0; i < n; i += 7)
            for (int j = 0; j < n; j += 5) {
                if (mask.allows(i, j)) CHECK(masked(i, j) == doctest::Approx(raw(i, j) / std::sqrt(8.0f) / 0.7f));
                else CHECK(masked(i, j) == -std::numeric_limits<float>::infinity());
            }
    }
    PatternTiles t;
    REQUIRE(t.build(tiles_scene(20, 8, 1, 4, 1, Mask::none())));
    CHECK_THROWS_AS(t.stage_tile(0, Stage::Raw, 10, 0, 11, 5), std::out_of_range);
    CHECK_THROWS_AS(t.stage_tile(1, Stage::Raw, 0, 0, 1, 1), std::out_of_range);
}

TEST_CASE("region overviews equal pooling the full forward's pattern by hand") {
    const int n = 150;
    for (const Mask& mask : {Mask::none(), Mask::causal(), Mask::sliding_window(11), random_matrix_mask(n, n, 4)}) {
        const std::string mask_name = mask_type_name(mask.type);
        CAPTURE(mask_name);
        const Scene s = tiles_scene(n, 24, 3, 8, 23, mask);
        const Forward f = forward(s);
        PatternTiles t;
        REQUIRE(t.build(s));
        const Mat avg = average_pattern(f);
        struct Region { int r0, c0, rows, cols, width, height; };
        // Not aligned with the buckets (101 rows into 7, 77 columns into 10), one bucket, a thin
        // strip, and more buckets than cells (clamped: one cell per bucket).
        for (const Region& g : {Region{17, 23, 101, 77, 10, 7}, Region{0, 0, n, n, 1, 1}, Region{60, 3, 3, 140, 9, 2},
                                Region{40, 50, 5, 4, 64, 64}}) {
            for (Pool pool : {Pool::Mean, Pool::Max})
                for (int h : {0, 2, -1}) {
                    CAPTURE(h);
                    CAPTURE(g.r0);
                    CAPTURE(g.c0);
                    CAPTURE(pool == Pool::Max);
                    const Mat& p = h == -1 ? avg : f.heads[static_cast<std::size_t>(h)].pattern;
                    const Mat want = pooled(Mat(p.block(g.r0, g.c0, g.rows, g.cols)), std::min(g.width, g.cols),
                                            std::min(g.height, g.rows), pool, &s.mask, g.r0, g.c0);
                    Mat got;
                    REQUIRE(t.overview(h, g.r0, g.c0, g.rows, g.cols, g.width, g.height, pool, got, nullptr, 1));
                    check_pooled(got, want, 2e-6f);
                }
        }
        // The whole-pattern overview is the region (0, 0, n, m).
        Mat whole, region;
        REQUIRE(t.overview(1, 13, 9, Pool::Mean, whole));
        REQUIRE(t.overview(1, 0, 0, n, n, 13, 9, Pool::Mean, region));
        check_pooled(whole, region, 0.0f);
    }
}

TEST_CASE("region overview: a causal region above the diagonal is all masked (NaN); bad regions are refused") {
    const int n = 150;
    const Scene s = tiles_scene(n, 24, 2, 8, 5, Mask::causal());
    PatternTiles t;
    REQUIRE(t.build(s));
    // Rows 0..39 may see keys 0..i ≤ 39 only: the block of keys 60..129 is entirely masked.
    for (Pool pool : {Pool::Mean, Pool::Max}) {
        Mat out;
        REQUIRE(t.overview(-1, 0, 60, 40, 70, 8, 4, pool, out));
        CHECK(out.rows() == 4);
        CHECK(out.cols() == 8);
        CHECK(out.array().isNaN().all());
    }
    // Row 0 of a causal pattern is (1, 0, 0, …): the max over the one-row region [0,1) × [0,10)
    // is 1 and the mean is 1/10.
    Mat out;
    REQUIRE(t.overview(0, 0, 0, 1, 10, 1, 1, Pool::Max, out));
    CHECK(out(0, 0) == doctest::Approx(1.0f));
    REQUIRE(t.overview(0, 0, 0, 1, 10, 1, 1, Pool::Mean, out));
    CHECK(out(0, 0) == doctest::Approx(0.1f));
    REQUIRE(t.overview(0, 10, 10, 0, 5, 4, 4, Pool::Mean, out));
    CHECK(out.size() == 0);
    CHECK_THROWS_AS(t.overview(0, 100, 0, 51, 10, 4, 4, Pool::Mean, out), std::out_of_range);
    CHECK_THROWS_AS(t.overview(0, -1, 0, 5, 10, 4, 4, Pool::Mean, out), std::out_of_range);
    CHECK_THROWS_AS(t.overview(0, 0, 149, 5, 2, 4, 4, Pool::Mean, out), std::out_of_range);
    CHECK_THROWS_AS(t.overview(2, 0, 0, 5, 5, 4, 4, Pool::Mean, out), std::out_of_range);
    // A cancelled region overview returns false and leaves `out` as it was.
    Progress progress;
    progress.cancel = true;
    Mat kept = Mat::Constant(1, 1, 7.0f);
    CHECK_FALSE(t.overview(0, 0, 0, n, n, 16, 16, Pool::Max, kept, &progress));
    CHECK(kept(0, 0) == 7.0f);
}

TEST_CASE("unmasked_pattern_rows: the pattern without the mask, from the masked scene's statistics") {
    // reference: the engine's forward pass of the same scene with its mask removed
    for (const Mask& mask : {Mask::causal(), Mask::sliding_window(5)}) {
        const Scene s = tiles_scene(300, 16, 2, 8, 5, mask);  // 300 rows: more than one block of 256
        Scene u = s;
        u.mask = Mask::none();
        const Forward f = forward(u);
        PatternTiles t;
        REQUIRE(t.build(s));
        for (int h = 0; h < s.n_heads; ++h) {
            CHECK_MAT(unmasked_pattern_rows(t, h, 0, 300), f.heads[static_cast<std::size_t>(h)].pattern, 1e-6f);
            CHECK_MAT(unmasked_pattern_rows(t, h, 250, 40), Mat(f.heads[static_cast<std::size_t>(h)].pattern.middleRows(250, 40)), 1e-6f);
        }
        // every row sums to 1 (no key is masked), the masked triangle is not zero
        const Mat p = unmasked_pattern_rows(t, 0, 0, 300);
        CHECK(std::abs(p.row(0).sum() - 1.0f) < 1e-5f);
        CHECK(p(0, 299) > 0.0f);
    }
    PatternTiles t;
    REQUIRE(t.build(tiles_scene(10, 8, 1, 8, 1, Mask::causal())));
    CHECK_THROWS_AS(unmasked_pattern_rows(t, 1, 0, 10), std::out_of_range);
    CHECK_THROWS_AS(unmasked_pattern_rows(t, 0, 5, 6), std::out_of_range);
    CHECK(compare_bytes(5021, 5021) == std::size_t(3) * 5021 * 5021 * 4);
}
