// 2-D projections (core/projection.hpp): PCA of point sets whose axes and variances are worked
// out by hand, the sign convention, picked dimensions, the shift plot, ‖ΔE_h‖ and the q–k plot.
#include <doctest/doctest.h>

#include <cmath>

#include "engine.hpp"
#include "helpers.hpp"
#include "projection.hpp"
#include "scene_io.hpp"

using namespace attnviz;
using attnviz::test::mat;

namespace {

// A Forward with only what the plots read: E, per-head ΔE_h, ΔE and E' = E + ΔE.
Forward hand_forward(const Mat& E, const std::vector<Mat>& deltas) {
    Forward f;
    f.E = E;
    f.X = E;
    f.delta = Mat::Zero(E.rows(), E.cols());
    for (const Mat& d : deltas) {
        HeadResult h;
        h.delta = d;
        f.delta += d;
        f.heads.push_back(h);
    }
    f.output = f.E + f.delta;
    return f;
}

}  // namespace

TEST_CASE("PCA of points on a line in 3-D: the axis is the line, its variance the mean squared spread") {
    // x = (1,1,1) + t·(1,2,0) for t = −1, 0, 1: mean (1,1,1), direction (1,2,0)/√5,
    // variance = mean of 5t² = 10/3; nothing spreads across the line.
    const Mat pts = mat({{0, -1, 1}, {1, 1, 1}, {2, 3, 1}});
    const PlaneProjection p = pca_plane(pts);
    CHECK_MAT(p.mean, mat({{1, 1, 1}}), 1e-6f);
    CHECK_MAT(Mat(p.axes.col(0).transpose()), mat({{0.4472136f, 0.8944272f, 0}}), 1e-5f);
    CHECK(p.variance[0] == doctest::Approx(10.0 / 3.0).epsilon(1e-5));
    CHECK(p.variance[1] == doctest::Approx(0.0).epsilon(1e-5));
    CHECK(p.total_variance == doctest::Approx(10.0 / 3.0).epsilon(1e-5));
    // Axis 1 is a unit vector at right angles to axis 0.
    CHECK(p.axes.col(1).norm() == doctest::Approx(1.0).epsilon(1e-5));
    CHECK(std::fabs(p.axes.col(0).dot(p.axes.col(1))) < 1e-5f);
    // (2,3,1) sits at t = 1: √5 along the line, 0 across it.
    const Mat proj = p.apply(mat({{2, 3, 1}, {0, -1, 1}}));
    CHECK_MAT(proj, mat({{2.2360680f, 0}, {-2.2360680f, 0}}), 1e-5f);
}

TEST_CASE("PCA of an ellipse rotated by 30 degrees recovers its axes and variances") {
    // Points ±3u and ±v, u = (cos 30°, sin 30°), v = (−sin 30°, cos 30°), shifted by (10, −4).
    // Covariance = (2·9·uuᵀ + 2·1·vvᵀ)/4 = 4.5·uuᵀ + 0.5·vvᵀ: variances 4.5 and 0.5, axes u and v
    // (largest entry of each made positive: u as is, v = (−0.5, 0.866) as is).
    const float c = 0.8660254f, s = 0.5f;
    const Mat pts = mat({{10 + 3 * c, -4 + 3 * s}, {10 - 3 * c, -4 - 3 * s}, {10 - s, -4 + c}, {10 + s, -4 - c}});
    const PlaneProjection p = pca_plane(pts);
    CHECK_MAT(p.mean, mat({{10, -4}}), 1e-5f);
    CHECK_MAT(p.axes, mat({{c, -s}, {s, c}}), 1e-5f);
    CHECK(p.variance[0] == doctest::Approx(4.5).epsilon(1e-5));
    CHECK(p.variance[1] == doctest::Approx(0.5).epsilon(1e-5));
    CHECK(p.total_variance == doctest::Approx(5.0).epsilon(1e-5));
    // 3u lands on (3, 0), v on (0, 1); the offset point (11, −4) = mean + (1, 0) on (cos 30°, −sin 30°).
    const Mat proj = p.apply(mat({{10 + 3 * c, -4 + 3 * s}, {10 - s, -4 + c}, {11, -4}}));
    CHECK_MAT(proj, mat({{3, 0}, {0, 1}, {c, -s}}), 1e-5f);
}

TEST_CASE("PCA sign convention: each axis's largest entry is positive, whatever the point order") {
    // Along (1, −3): the largest entry is the second, so the axis is (−1, 3)/√10.
    const Mat a = mat({{-1, 3}, {1, -3}});
    const Mat b = mat({{1, -3}, {-1, 3}});
    for (const Mat& pts : {a, b}) {
        const PlaneProjection p = pca_plane(pts);
        CHECK_MAT(Mat(p.axes.col(0).transpose()), mat({{-0.3162278f, 0.9486833f}}), 1e-5f);
        CHECK(p.variance[0] == doctest::Approx(10.0).epsilon(1e-5));
        CHECK_MAT(p.apply(mat({{1, -3}})), mat({{-3.1622777f, 0}}), 1e-5f);
    }
}

TEST_CASE("PCA edge cases: one dimension, no spread, no points") {
    // d = 1: the only axis is +e0, the second plot axis is zero.
    const PlaneProjection one = pca_plane(mat({{1}, {3}}));
    CHECK_MAT(one.axes, mat({{1, 0}}), 1e-6f);
    CHECK(one.variance[0] == doctest::Approx(1.0));
    CHECK_MAT(one.apply(mat({{3}})), mat({{1, 0}}), 1e-6f);
    // Every point the same: centred, then shown on the first two coordinate axes.
    const PlaneProjection same = pca_plane(mat({{2, 2, 2}, {2, 2, 2}}));
    CHECK_MAT(same.axes, mat({{1, 0}, {0, 1}, {0, 0}}), 0);
    CHECK(same.total_variance == 0.0f);
    CHECK_MAT(same.apply(mat({{3, 1, 7}})), mat({{1, -1}}), 1e-6f);
    // No points at all.
    const PlaneProjection none = pca_plane(Mat(0, 4));
    CHECK(none.axes.rows() == 4);
    CHECK(none.apply(Mat(0, 4)).rows() == 0);
}

namespace {

// ±3u, ±v, ±0.5w, each `copies` times, in `d` dimensions, for orthonormal u = (e0 + e_a)/√2,
// v = (e7 − e_b)/√2, w = e3. Covariance = (18uuᵀ + 2vvᵀ + 0.5wwᵀ)/6 = 3uuᵀ + vvᵀ/3 + wwᵀ/12:
// variances 3 and 1/3 along u and v (each axis's first largest entry is positive as written),
// total 3 + 1/3 + 1/12 = 3.4166667.
Mat three_axis_points(int d, int copies) {
    const float r = 0.70710678f;
    Mat u = Mat::Zero(1, d), v = Mat::Zero(1, d), w = Mat::Zero(1, d);
    u(0, 0) = r;
    u(0, d - 50) = r;
    v(0, 7) = r;
    v(0, d - 1) = -r;
    w(0, 3) = 1;
    Mat pts(6 * copies, d);
    for (int c = 0; c < copies; ++c) {
        pts.row(6 * c + 0) = 3 * u;
        pts.row(6 * c + 1) = -3 * u;
        pts.row(6 * c + 2) = v;
        pts.row(6 * c + 3) = -v;
        pts.row(6 * c + 4) = 0.5f * w;
        pts.row(6 * c + 5) = -0.5f * w;
    }
    return pts;
}

void check_three_axis(const PlaneProjection& p, int d) {
    const float r = 0.70710678f;
    Mat u = Mat::Zero(1, d), v = Mat::Zero(1, d);
    u(0, 0) = r;
    u(0, d - 50) = r;
    v(0, 7) = r;
    v(0, d - 1) = -r;
    CHECK_MAT(Mat(p.axes.col(0).transpose()), u, 1e-5f);
    CHECK_MAT(Mat(p.axes.col(1).transpose()), v, 1e-5f);
    CHECK(p.variance[0] == doctest::Approx(3.0).epsilon(1e-5));
    CHECK(p.variance[1] == doctest::Approx(1.0 / 3.0).epsilon(1e-5));
    CHECK(p.total_variance == doctest::Approx(3.4166667).epsilon(1e-5));
}

}  // namespace

TEST_CASE("PCA in many dimensions: few points (Gram matrix), many points (subspace iteration, with and without the covariance)") {
    // Few points in 200 dimensions.
    check_three_axis(pca_plane(three_axis_points(200, 1)), 200);
    // 420 points in 150 dimensions (covariance formed), 300 points in 1100 (products with the data).
    check_three_axis(pca_plane(three_axis_points(150, 70)), 150);
    check_three_axis(pca_plane(three_axis_points(1100, 50)), 1100);
}

TEST_CASE("PCA in many dimensions agrees with the full eigensolver on a generic point set") {
    // 600 points in 160 dimensions with spreads 1/(1 + k/4) along a rotated basis: a smooth
    // spectrum (small gaps), the hard case for iteration. Reference: Eigen's full solver.
    const int N = 600, d = 160;
    Mat pts(N, d);
    for (int i = 0; i < N; ++i)
        for (int k = 0; k < d; ++k)
            pts(i, k) = std::sin(0.37f * static_cast<float>(i * (k + 3)) + 0.11f * static_cast<float>(k)) / (1.0f + 0.25f * static_cast<float>(k));
    const Eigen::MatrixXd x = pts.cast<double>();
    const Eigen::MatrixXd c = x.rowwise() - x.colwise().mean();
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(c.transpose() * c / N);
    const PlaneProjection p = pca_plane(pts);
    for (int axis = 0; axis < 2; ++axis) {
        const Eigen::VectorXd ref = es.eigenvectors().col(d - 1 - axis);
        const double cosine = std::fabs(ref.dot(p.axes.col(axis).cast<double>()));
        MESSAGE("axis " << axis << ": |cos| with the full solver's eigenvector " << cosine << ", gap to the next "
                        << es.eigenvalues()(d - 1 - axis) - es.eigenvalues()(d - 2 - axis));
        CHECK(cosine > 0.9999);
        CHECK(p.variance[axis] == doctest::Approx(es.eigenvalues()(d - 1 - axis)).epsilon(1e-4));
    }
}

TEST_CASE("Picking two dimensions") {
    const PlaneProjection p = dims_plane(3, 2, 0);
    CHECK_MAT(p.apply(mat({{5, 6, 7}, {-1, 0, 2}})), mat({{7, 5}, {2, -1}}), 0);
    CHECK_THROWS_AS(dims_plane(3, 3, 0), SceneError);
    CHECK_THROWS_AS(dims_plane(3, 0, -1), SceneError);
    try {
        dims_plane(3, 0, 5);
    } catch (const SceneError& e) {
        CHECK(e.path() == "dims");
        CHECK(std::string(e.what()).find("5") != std::string::npos);
    }
}

TEST_CASE("Per-token, per-head norms of ΔE_h") {
    // ΔE_0 rows (3,4) and 0 → 5, 0; ΔE_1 rows (1,0) and (1,1) → 1, √2.
    const Forward f = hand_forward(mat({{0, 0}, {0, 0}}), {mat({{3, 4}, {0, 0}}), mat({{1, 0}, {1, 1}})});
    CHECK_MAT(delta_norms(f), mat({{5, 1}, {0, 1.4142136f}}), 1e-6f);
}

TEST_CASE("Shift plot: E and E' in the PCA plane of both, worked by hand") {
    // E = (−2,0),(2,0); ΔE_0 = (0,2),(0,0); ΔE_1 = (0,−1),(0,−1) → E' = (−2,1),(2,−1).
    // Stacked: mean 0, covariance (1/4)[[16, −4], [−4, 2]] = [[4, −1], [−1, 0.5]].
    // λ = (4.5 ± √16.25)/2 = 4.2655644, 0.2344356; axis 0 ∝ (1, 4 − λ₁) = (0.9664996, −0.2566679),
    // axis 1 = (0.2566679, 0.9664996).
    const Forward f = hand_forward(mat({{-2, 0}, {2, 0}}), {mat({{0, 2}, {0, 0}}), mat({{0, -1}, {0, -1}})});
    const ShiftPlot sp = shift_plot(f, {true, true});
    CHECK(sp.plane.variance[0] == doctest::Approx(4.2655644).epsilon(1e-5));
    CHECK(sp.plane.variance[1] == doctest::Approx(0.2344356).epsilon(1e-5));
    CHECK_MAT(sp.plane.axes, mat({{0.9664996f, 0.2566679f}, {-0.2566679f, 0.9664996f}}), 1e-5f);
    CHECK_MAT(sp.before, mat({{-1.9329993f, -0.5133359f}, {1.9329993f, 0.5133359f}}), 1e-5f);
    CHECK_MAT(sp.after, mat({{-2.1896672f, 0.4531638f}, {2.1896672f, -0.4531638f}}), 1e-5f);
    // The chain: E, E + ΔE_0 = (−2,2),(2,0), then E + ΔE_0 + ΔE_1 = E'.
    REQUIRE(sp.chain.size() == 3);
    CHECK(sp.chain_heads == std::vector<int>{0, 1});
    CHECK_MAT(sp.chain[0], sp.before, 0);
    CHECK_MAT(Mat(sp.chain[1].row(0)), mat({{-2.4463352f, 1.4196634f}}), 1e-5f);
    CHECK_MAT(sp.chain[2], sp.after, 1e-5f);
    CHECK_MAT(sp.norms, mat({{2, 1}, {0, 1}}), 1e-6f);
}

TEST_CASE("Shift plot: heads switched off leave the chain; picked dimensions are raw coordinates") {
    const Forward f = hand_forward(mat({{-2, 0}, {2, 0}}), {mat({{0, 2}, {0, 0}}), mat({{0, -1}, {0, -1}})});
    const ShiftPlot sp = shift_plot(f, {false, true}, PlaneMode::Dims, 1, 0);
    CHECK(sp.chain_heads == std::vector<int>{1});
    REQUIRE(sp.chain.size() == 2);
    // Axis 0 = dimension 1, axis 1 = dimension 0.
    CHECK_MAT(sp.chain[0], mat({{0, -2}, {0, 2}}), 0);
    CHECK_MAT(sp.chain[1], mat({{-1, -2}, {-1, 2}}), 0);   // E + ΔE_1
    CHECK_MAT(sp.after, mat({{1, -2}, {-1, 2}}), 0);       // E' still has every head
    CHECK_THROWS_AS(shift_plot(f, {true, true}, PlaneMode::Dims, 0, 2), SceneError);
}

TEST_CASE("Shift plot in the plane of the shifts: axes from ΔE, centred on E and E'") {
    // ΔE = (0,1),(0,−1): mean 0, covariance diag(0, 1) → axis 0 = (0,1) with variance 1, axis 1 =
    // (1,0) with variance 0. Centre = mean of E and E' = (0,0). E_0 = (−2,0) → (0,−2),
    // E'_0 = (−2,1) → (1,−2).
    const Forward f = hand_forward(mat({{-2, 0}, {2, 0}}), {mat({{0, 2}, {0, 0}}), mat({{0, -1}, {0, -1}})});
    const ShiftPlot sp = shift_plot(f, {true, true}, PlaneMode::ShiftPca);
    CHECK_MAT(sp.plane.axes, mat({{0, 1}, {1, 0}}), 1e-6f);
    CHECK(sp.plane.variance[0] == doctest::Approx(1.0));
    CHECK(sp.plane.variance[1] == doctest::Approx(0.0));
    CHECK_MAT(sp.plane.mean, mat({{0, 0}}), 1e-6f);
    CHECK_MAT(sp.before, mat({{0, -2}, {0, 2}}), 1e-6f);
    CHECK_MAT(sp.after, mat({{1, -2}, {-1, 2}}), 1e-6f);
}

TEST_CASE("Shift plot: magnified shifts are k times longer, the plane stays fitted to the true E'") {
    const Forward f = hand_forward(mat({{-2, 0}, {2, 0}}), {mat({{0, 2}, {0, 0}}), mat({{0, -1}, {0, -1}})});
    // Dims (0, 1), k = 3: E + 3·ΔE_0 = (−2,6),(2,0); E + 3·ΔE = (−2,3),(2,−3).
    const ShiftPlot dims = shift_plot(f, {true, true}, PlaneMode::Dims, 0, 1, 3.0f);
    CHECK_MAT(dims.chain[1], mat({{-2, 6}, {2, 0}}), 1e-6f);
    CHECK_MAT(dims.after, mat({{-2, 3}, {2, -3}}), 1e-6f);
    CHECK_MAT(dims.chain[2], dims.after, 1e-6f);
    // PCA: the same plane as without magnifying (worked out in the test above), E' drawn at
    // E + 3·ΔE: (−2,3) → (−2·0.9664996 − 3·0.2566679, −2·0.2566679 + 3·0.9664996).
    const ShiftPlot pca = shift_plot(f, {true, true}, PlaneMode::Pca, 0, 1, 3.0f);
    CHECK(pca.plane.variance[0] == doctest::Approx(4.2655644).epsilon(1e-5));
    CHECK_MAT(Mat(pca.after.row(0)), mat({{-2.7030031f, 2.3861631f}}), 1e-5f);
    CHECK_THROWS_AS(shift_plot(f, {true, true}, PlaneMode::Pca, 0, 1, 0.0f), SceneError);
    CHECK_THROWS_AS(shift_plot(f, {true, true}, PlaneMode::Pca, 0, 1, std::nanf("")), SceneError);
}

TEST_CASE("Query-key plot: keys moved onto the queries' centre, norms balanced, scores unchanged") {
    // Q = (0,0),(4,0): centre (2,0). K = (0,1),(0,3): centre (0,2) → shift (2,−2), K' = (2,−1),(2,1).
    // Stacked and centred: (−2,0),(2,0),(0,−1),(0,1): covariance diag(2, 0.5), axes e0 and e1.
    HeadResult h;
    h.Q = mat({{0, 0}, {4, 0}});
    h.K = mat({{0, 1}, {0, 3}});
    const QKPlot plain = qk_plot(h, {true, false});
    CHECK_MAT(plain.key_shift, mat({{2, -2}}), 1e-6f);
    CHECK_MAT(plain.plane.axes, mat({{1, 0}, {0, 1}}), 1e-6f);
    CHECK(plain.plane.variance[0] == doctest::Approx(2.0));
    CHECK(plain.plane.variance[1] == doctest::Approx(0.5));
    CHECK_MAT(plain.queries, mat({{-2, 0}, {2, 0}}), 1e-6f);
    CHECK_MAT(plain.keys, mat({{0, -1}, {0, 1}}), 1e-6f);
    // Balanced: mean ‖q‖ = 2, mean ‖k'‖ = √5, s = √(√5/2) = 1.0573713; s·2 = √5/s.
    const QKPlot bal = qk_plot(h, {true, true});
    CHECK(bal.query_scale == doctest::Approx(1.0573713).epsilon(1e-5));
    // Without centring, the stacked set (0,0),(4,0),(0,1),(0,3) has mean (1,1) and covariance
    // [[3, −1], [−1, 1.5]]: trace 4.5, det 3.5, λ₁ = (4.5 + √6.25)/2 = 3.5.
    const QKPlot raw = qk_plot(h, {false, false});
    CHECK_MAT(raw.key_shift, mat({{0, 0}}), 0);
    CHECK(raw.plane.variance[0] == doctest::Approx(3.5).epsilon(1e-5));
    CHECK(raw.plane.variance[1] == doctest::Approx(1.0).epsilon(1e-5));
}

TEST_CASE("Default lecture scene: 'creature' moves toward 'fluffy' and 'blue' in the shift plot") {
    const Scene s = load_scene(std::string(ATTNVIZ_SCENES) + "/01_adjectives_update_nouns.json");
    const Forward f = forward(s);
    const ShiftPlot sp = shift_plot(f, std::vector<bool>(static_cast<std::size_t>(s.n_heads), true));
    int fluffy = -1, blue = -1, creature = -1;
    for (int i = 0; i < s.n(); ++i) {
        const std::string& t = s.input.tokens[static_cast<std::size_t>(i)].text;
        if (t == "fluffy") fluffy = i;
        if (t == "blue") blue = i;
        if (t == "creature") creature = i;
    }
    REQUIRE(fluffy >= 0);
    REQUIRE(blue >= 0);
    REQUIRE(creature >= 0);
    // The chain with every head on ends at E' (E + Σ_h ΔE_h = E + ΔE).
    CHECK_MAT(sp.chain.back(), sp.after, 1e-4f);
    // In the plane, the arrow of 'creature' points toward the adjectives: E' is nearer their
    // midpoint than E is.
    const Eigen::RowVector2f adjectives = 0.5f * (sp.before.row(fluffy) + sp.before.row(blue));
    const float before = (sp.before.row(creature) - adjectives).norm();
    const float after = (sp.after.row(creature) - adjectives).norm();
    MESSAGE("creature to adjectives' midpoint in the plane of E and E': " << before << " -> " << after);
    CHECK(after < before);
    // In the plane of the shifts it moves most of the way there: head 0 writes 'fluffy' and 'blue'
    // (dimensions 4 and 5) into 'creature'.
    const ShiftPlot sh = shift_plot(f, std::vector<bool>(static_cast<std::size_t>(s.n_heads), true), PlaneMode::ShiftPca);
    const Eigen::RowVector2f adj2 = 0.5f * (sh.before.row(fluffy) + sh.before.row(blue));
    const float before2 = (sh.before.row(creature) - adj2).norm();
    const float after2 = (sh.after.row(creature) - adj2).norm();
    MESSAGE("creature to adjectives' midpoint in the plane of the shifts: " << before2 << " -> " << after2);
    CHECK(after2 < 0.5f * before2);
}
