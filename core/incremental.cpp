// attnviz core — incremental edits of PatternTiles (see incremental.hpp).
#include "incremental.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "parallel.hpp"
#include "tiles_internal.hpp"

namespace attnviz {

using namespace tiles_detail;

namespace {

void check_same_shape(const PatternTiles& t, const Scene& s, const char* what) {
    const bool same = s.n() == t.n() && s.m() == t.m() && s.d_model == t.d_model() && s.d_head == t.d_head() &&
                      s.n_heads == t.n_heads() && s.logit_factor() == t.logit_factor() && s.mask == t.mask();
    if (!same)
        throw std::invalid_argument(std::string(what) +
                                    ": the scene's sizes, mask or scaling differ from the ones built; build again");
}

}  // namespace

void PatternTiles::rescan_row(int h, int i, float* scratch) {
    HeadStats& r = heads_[static_cast<std::size_t>(h)];
    int lo = 0, hi = 0;
    mask_.key_range(i, m_, lo, hi);
    RowStats st;
    if (hi >= lo) {
        const int w = hi - lo + 1;
        Eigen::Map<RowVec> scores(scratch, w), p(scratch + m_, w);
        scores.noalias() = r.Q.row(i) * r.K.middleRows(lo, w).transpose();
        st = row_softmax(mask_, i, m_, lo, hi, scores.data(), factor_, p.data());
        if (st.argmax >= 0) r.mixed.row(i).noalias() = p * r.V.middleRows(lo, w);
        else r.mixed.row(i).setZero();
    } else {
        r.mixed.row(i).setZero();
    }
    r.row_max[static_cast<std::size_t>(i)] = st.max;
    r.row_sum[static_cast<std::size_t>(i)] = st.sum;
    r.row_argmax[static_cast<std::size_t>(i)] = st.argmax;
}

void PatternTiles::update_token(const Scene& after, int t, int threads) {
    check_same_shape(*this, after, "update_token");
    if (t < 0 || t >= n_)
        throw std::out_of_range("update_token: token " + std::to_string(t) + " is out of range 0.." + std::to_string(n_ - 1));
    // The token's new embedding row (positional encoding depends on the position only).
    E_.row(t) = after.input.embeddings.row(t);
    if (pos_.size() > 0) E_.row(t) += pos_.row(t);
    const RowVec e = E_.row(t);

    // Rows whose softmax includes key t.
    int a = 0, b = n_;
    if (!cross_) {
        if (mask_.type == MaskType::Causal) a = t;
        else if (mask_.type == MaskType::SlidingWindow) a = t, b = std::min(n_, t + mask_.size);
        else if (mask_.type == MaskType::Strided || mask_.type == MaskType::Fixed) a = t;
    }
    const int nh = n_heads();
    const int nt = static_cast<std::int64_t>(n_) * nh >= 8192 ? resolve_threads(threads) : 1;
    std::vector<std::vector<float>> scratch(static_cast<std::size_t>(nt), std::vector<float>(2 * static_cast<std::size_t>(m_)));
    parallel_for_workers(nh, nt, [&](int h, int worker) {
        float* buf = scratch[static_cast<std::size_t>(worker)].data();
        HeadStats& r = heads_[static_cast<std::size_t>(h)];
        const auto& W = after.heads[static_cast<std::size_t>(h)].W;
        r.Q.row(t).noalias() = e * W[kQuery];
        if (cross_) {  // keys and values come from the source: only query row t changed
            rescan_row(h, t, buf);
            return;
        }
        const RowVec k_old = r.K.row(t), v_old = r.V.row(t);  // (1, d_head)
        r.K.row(t).noalias() = e * W[kKey];
        r.V.row(t).noalias() = e * W[kValue];
        const RowVec k_new = r.K.row(t), v_new = r.V.row(t);
        // Column t of the logits, before and after, for the rows that see key t.
        Eigen::VectorXf l_old(b - a), l_new(b - a);
        if (b > a) {
            l_old.noalias() = r.Q.middleRows(a, b - a) * k_old.transpose();
            l_new.noalias() = r.Q.middleRows(a, b - a) * k_new.transpose();
        }
        l_old *= factor_;
        l_new *= factor_;
        RowVec U(d_head_);  // (1, d_head) unnormalised Σ_j exp(logit_j − max)·v_j
        for (int i = a; i < b; ++i) {
            if (i == t || !mask_.allows(i, t)) continue;
            const std::size_t si = static_cast<std::size_t>(i);
            float& M = r.row_max[si];
            float& S = r.row_sum[si];
            const float lo = l_old[i - a], ln = l_new[i - a];
            const float e_old = S > 0.0f ? std::exp(lo - M) : 0.0f;
            // Recompute the row when its max moves down (key t held it). Otherwise removing key t's
            // term cannot lose precision that matters: if it was most of the sum, key t held the
            // max and now holds a larger one, whose exp(0) = 1 term keeps S ≥ 1.
            if (S == 0.0f || (r.row_argmax[si] == t && ln < M)) {
                rescan_row(h, i, buf);
                continue;
            }
            const float rest = S - e_old;
            U.noalias() = r.mixed.row(i) * S - e_old * v_old;
            if (ln > M) {  // key t is the new max: rescale to it
                const float g = std::exp(M - ln);
                S = rest * g + 1.0f;
                U = U * g + v_new;
                M = ln;
                r.row_argmax[si] = t;
            } else {
                const float e_new = std::exp(ln - M);
                S = rest + e_new;
                U.noalias() += e_new * v_new;
            }
            r.mixed.row(i) = U * (1.0f / S);
        }
        rescan_row(h, t, buf);  // the query itself changed
    });
}

void PatternTiles::update_head(const Scene& after, int h, int threads) {
    check_same_shape(*this, after, "update_head");
    check_head(h);
    build_heads(after, {h}, nullptr, threads);
}

void PatternTiles::update_output(const Scene& after) {
    check_same_shape(*this, after, "update_output");
    W_O_ = after.W_O;
}

}  // namespace attnviz
