#include "projection.hpp"

#include <algorithm>
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

// The top `k` eigenpairs (largest first) of the covariance C = centredᵀ·centred / N.
// Small d: the full symmetric eigensolver (exact). Few points: the same through the Gram matrix.
// Otherwise: block power (subspace) iteration with a
// Rayleigh–Ritz step, which needs only products C·Q — O(d²) per step with C formed (d ≤ 1024), or
// O(N·d) without it — instead of the O(d³) full decomposition (≈ 0.35 s at d = 768).
void top_eigenvectors(const Eigen::MatrixXd& centred, int k, Eigen::MatrixXd& vecs, Eigen::VectorXd& vals) {
    const Eigen::Index N = centred.rows(), d = centred.cols();
    const Eigen::Index kk = std::min<Eigen::Index>(k, d);
    const double invN = 1.0 / static_cast<double>(N);
    if (d <= 96) {
        const Eigen::MatrixXd cov = centred.transpose() * centred * invN;  // (d, d)
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(cov);             // eigenvalues increasing
        vecs.resize(d, kk);
        vals.resize(kk);
        for (Eigen::Index c = 0; c < kk; ++c) {
            vecs.col(c) = es.eigenvectors().col(d - 1 - c);
            vals(c) = es.eigenvalues()(d - 1 - c);
        }
        return;
    }
    if (N < d && N <= 256) {
        // Few points: the eigenvectors of C are Xᵀu for the eigenvectors u of the (N, N) Gram
        // matrix G = X·Xᵀ/N, with the same eigenvalues (C·Xᵀu = Xᵀ·G·u = λ·Xᵀu). Exact and cheap.
        const Eigen::MatrixXd gram = centred * centred.transpose() * invN;  // (N, N)
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(gram);
        vecs = Eigen::MatrixXd::Zero(d, kk);
        vals = Eigen::VectorXd::Zero(kk);
        for (Eigen::Index c = 0; c < kk && c < N; ++c) {
            Eigen::VectorXd v = centred.transpose() * es.eigenvectors().col(N - 1 - c);
            const double norm = v.norm();
            if (norm > 1e-300) vecs.col(c) = v / norm;
            vals(c) = std::max(0.0, es.eigenvalues()(N - 1 - c));
        }
        return;
    }
    const bool form_cov = d <= 1024;
    Eigen::MatrixXd cov;  // (d, d), lower triangle only: half the work of a full product
    if (form_cov) {
        cov = Eigen::MatrixXd::Zero(d, d);
        cov.selfadjointView<Eigen::Lower>().rankUpdate(centred.transpose(), invN);
    }
    auto apply_cov = [&](const Eigen::MatrixXd& q) -> Eigen::MatrixXd {
        if (form_cov) return cov.selfadjointView<Eigen::Lower>() * q;
        return centred.transpose() * (centred * q) * invN;
    };
    // A deterministic, generic start block of b = k + 4 columns (extra columns speed convergence).
    const Eigen::Index b = std::min<Eigen::Index>(d, kk + 4);
    // Modified Gram–Schmidt, twice for stability: O(d·b²) for a few columns. A column that falls
    // into the span of the others (data of low rank) is replaced by a fresh generic vector.
    auto generic = [&](Eigen::Index j, int salt) {
        Eigen::VectorXd g(d);
        for (Eigen::Index i = 0; i < d; ++i)
            g(i) = std::sin(0.7 + 1.3 * static_cast<double>(i) + 2.9 * static_cast<double>(j + 1) * static_cast<double>(i % 7 + 1) + 0.5 * salt);
        return g;
    };
    auto orthonormalise = [&](Eigen::MatrixXd z) {
        for (Eigen::Index j = 0; j < b; ++j)
            for (int attempt = 0; attempt < 4; ++attempt) {
                const double before = z.col(j).norm();
                for (int pass = 0; pass < 2; ++pass)
                    for (Eigen::Index i = 0; i < j; ++i) z.col(j) -= z.col(i).dot(z.col(j)) * z.col(i);
                const double after = z.col(j).norm();
                if (after > 1e-10 * before && after > 1e-300) {
                    z.col(j) /= after;
                    break;
                }
                z.col(j) = generic(j, attempt + 1);
            }
        return z;
    };
    Eigen::MatrixXd q(d, b);
    for (Eigen::Index j = 0; j < b; ++j) q.col(j) = generic(j, 0);
    q = orthonormalise(q);
    Eigen::MatrixXd cq;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> ritz;
    for (int iter = 0; iter < 400; ++iter) {
        cq = apply_cov(q);  // (d, b)
        if (iter % 8 == 7) {
            // Rayleigh–Ritz: the best vectors inside span(q); stop when the top k are eigenvectors.
            ritz.compute(q.transpose() * cq);
            const Eigen::MatrixXd v = q * ritz.eigenvectors().rightCols(kk);
            const Eigen::MatrixXd cv = cq * ritz.eigenvectors().rightCols(kk);
            const double top = std::max(ritz.eigenvalues()(b - 1), 1e-300);
            double residual = 0;
            for (Eigen::Index c = 0; c < kk; ++c)
                residual = std::max(residual, (cv.col(c) - ritz.eigenvalues()(b - kk + c) * v.col(c)).norm() / top);
            if (residual < 1e-7) break;
        }
        q = orthonormalise(cq);
    }
    ritz.compute(q.transpose() * apply_cov(q));
    vecs.resize(d, kk);
    vals.resize(kk);
    for (Eigen::Index c = 0; c < kk; ++c) {
        vecs.col(c) = q * ritz.eigenvectors().col(b - 1 - c);
        vecs.col(c).normalize();
        vals(c) = ritz.eigenvalues()(b - 1 - c);
    }
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
    // Centre in double: float loses the small spreads next to a large mean.
    const Eigen::MatrixXd x = points.cast<double>();  // (N, d)
    const Eigen::RowVectorXd mean = x.colwise().mean();
    const Eigen::MatrixXd centred = x.rowwise() - mean;  // (N, d)
    p.mean = mean.cast<float>();
    const double total = centred.squaredNorm() / static_cast<double>(N);  // trace of the covariance
    p.total_variance = static_cast<float>(total);
    if (!(total > 0.0)) return p;  // every point the same: nothing to rotate

    Eigen::MatrixXd vecs;  // (d, ≤2) top eigenvectors, largest first
    Eigen::VectorXd vals;
    top_eigenvectors(centred, 2, vecs, vals);
    p.axes.setZero();
    for (Eigen::Index c = 0; c < vecs.cols(); ++c) {
        Eigen::VectorXd v = vecs.col(c);
        fix_sign(v);
        p.axes.col(c) = v.cast<float>();
        p.variance[c] = static_cast<float>(std::max(0.0, vals(c)));
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
    if (mode == PlaneMode::ShiftPca) {
        sp.plane = pca_plane(f.delta);  // axes and variances of the shifts
        // centred on the mean of E and E' = mean(E) + mean(ΔE)/2
        sp.plane.mean = n > 0 ? RowVec(f.E.colwise().mean() + 0.5f * f.delta.colwise().mean()) : RowVec::Zero(d);
    } else if (mode == PlaneMode::Pca) {
        Mat both(2 * n, d);  // (2n, d): E then E'
        both.topRows(n) = f.E;
        both.bottomRows(n) = f.output;
        sp.plane = pca_plane(both);
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
