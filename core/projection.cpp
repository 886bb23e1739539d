#include "projection.hpp"

#include <cmath>
#include <string>

namespace attnviz {
namespace {

// Flip `v` so its entry of largest magnitude is positive (first such entry on a tie).
void fix_sign(Eigen::VectorXd& v) {
    Eigen::Index best = 0;
    for (Eigen::Index i = 1; i < v.size(); ++i)
        if (std::fabs(v(i)) > std::fabs(v(best)) * (1.0 + 1e-9) + 1e-12) best = i;
    if (v.size() > 0 && v(best) < 0) v = -v;
}

PlaneProjection unit_axes(int d) {
    PlaneProjection p;
    p.mean = RowVec::Zero(d);
    p.axes = Mat::Zero(d, 2);
    if (d > 0) p.axes(0, 0) = 1.0f;
    if (d > 1) p.axes(1, 1) = 1.0f;
    return p;
}

}  // namespace

Mat PlaneProjection::apply(const Mat& points) const {
    Mat centred = points.rowwise() - mean;
    Mat out = centred * axes;  // (N, 2)
    return out;
}

PlaneProjection pca_plane(const Mat& points) {
    const Eigen::Index N = points.rows(), d = points.cols();
    PlaneProjection p = unit_axes(static_cast<int>(d));
    if (N == 0 || d == 0) return p;
    // Centre and covariance in double: float loses the small spreads next to a large mean.
    const Eigen::MatrixXd x = points.cast<double>();
    const Eigen::RowVectorXd mean = x.colwise().mean();
    const Eigen::MatrixXd centred = x.rowwise() - mean;
    const Eigen::MatrixXd cov = centred.transpose() * centred / static_cast<double>(N);  // (d, d)
    p.mean = mean.cast<float>();
    const double total = cov.trace();
    p.total_variance = static_cast<float>(total);
    if (!(total > 0.0)) return p;  // every point the same: nothing to rotate

    // Eigenvalues come in increasing order: the last two are the top components.
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(cov);
    const Eigen::VectorXd& values = es.eigenvalues();
    p.axes.setZero();
    for (int c = 0; c < 2 && c < d; ++c) {
        Eigen::VectorXd v = es.eigenvectors().col(d - 1 - c);
        fix_sign(v);
        p.axes.col(c) = v.cast<float>();
        p.variance[c] = static_cast<float>(std::max(0.0, values(d - 1 - c)));
    }
    return p;
}

PlaneProjection dims_plane(int d, int dim_x, int dim_y) {
    for (int dim : {dim_x, dim_y})
        if (dim < 0 || dim >= d)
            throw SceneError("dims", "dimension " + std::to_string(dim) + " is outside 0.." + std::to_string(d - 1));
    PlaneProjection p;
    p.mean = RowVec::Zero(d);
    p.axes = Mat::Zero(d, 2);
    p.axes(dim_x, 0) = 1.0f;
    p.axes(dim_y, 1) = 1.0f;
    return p;
}

Mat delta_norms(const Forward& f) {
    const Eigen::Index n = f.E.rows();
    Mat norms(n, static_cast<Eigen::Index>(f.heads.size()));  // (n, n_heads)
    for (std::size_t h = 0; h < f.heads.size(); ++h) norms.col(static_cast<Eigen::Index>(h)) = f.heads[h].delta.rowwise().norm();
    return norms;
}

ShiftPlot shift_plot(const Forward& f, const std::vector<bool>& heads_on, PlaneMode mode, int dim_x, int dim_y,
                     float magnify) {
    if (!std::isfinite(magnify) || !(magnify > 0))
        throw SceneError("magnify", "expected a positive finite factor, got " + std::to_string(magnify));
    ShiftPlot sp;
    const Eigen::Index n = f.E.rows(), d = f.E.cols();
    if (mode == PlaneMode::Pca || mode == PlaneMode::ShiftPca) {
        Mat both(2 * n, d);  // (2n, d): E then E'
        both.topRows(n) = f.E;
        both.bottomRows(n) = f.output;
        sp.plane = pca_plane(both);
        if (mode == PlaneMode::ShiftPca) {
            const RowVec centre = sp.plane.mean;
            sp.plane = pca_plane(f.delta);  // axes and variances of the shifts
            sp.plane.mean = centre;
        }
    } else {
        sp.plane = dims_plane(static_cast<int>(d), dim_x, dim_y);
    }
    sp.before = sp.plane.apply(f.E);
    sp.after = magnify == 1.0f ? sp.plane.apply(f.output) : sp.plane.apply(f.E + magnify * f.delta);
    sp.chain.push_back(sp.before);
    Mat running = f.E;  // (n, d) E + the heads switched on so far
    for (std::size_t h = 0; h < f.heads.size(); ++h) {
        if (h < heads_on.size() && !heads_on[h]) continue;
        running += magnify * f.heads[h].delta;
        sp.chain_heads.push_back(static_cast<int>(h));
        sp.chain.push_back(sp.plane.apply(running));
    }
    sp.norms = delta_norms(f);
    return sp;
}

QKPlot qk_plot(const HeadResult& h, const QKOptions& opt) {
    QKPlot qp;
    const Eigen::Index n = h.Q.rows(), m = h.K.rows(), dh = h.Q.cols();
    Mat q = h.Q;  // (n, d_head)
    Mat k = h.K;  // (m, d_head)
    qp.key_shift = RowVec::Zero(dh);
    if (opt.center_keys && n > 0 && m > 0) {
        qp.key_shift = q.colwise().mean() - k.colwise().mean();
        k.rowwise() += qp.key_shift;
    }
    if (opt.balance_norms && n > 0 && m > 0) {
        const double mq = q.rowwise().norm().cast<double>().mean();
        const double mk = k.rowwise().norm().cast<double>().mean();
        if (mq > 0 && mk > 0) {
            qp.query_scale = static_cast<float>(std::sqrt(mk / mq));  // s·mean‖q‖ = mean‖k‖/s
            q *= qp.query_scale;
            k /= qp.query_scale;
        }
    }
    Mat both(n + m, dh);  // (n + m, d_head)
    both.topRows(n) = q;
    both.bottomRows(m) = k;
    qp.plane = pca_plane(both);
    qp.queries = qp.plane.apply(q);
    qp.keys = qp.plane.apply(k);
    return qp;
}

}  // namespace attnviz
