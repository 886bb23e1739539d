// attnviz core — incremental edits of PatternTiles (see incremental.hpp).
#include "incremental.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "engine.hpp"
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
    SoftmaxStats st;
    if (hi >= lo) {
        const int w = hi - lo + 1;
        Eigen::Map<RowVec> scores(scratch, w), p(scratch + m_, w);
        scores.noalias() = r.Q.row(i) * r.K.middleRows(lo, w).transpose();
        st = softmax_row(mask_, i, lo, hi, scores.data(), factor_, p.data());
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
    E_.row(t) = after.input.embeddings.row(t) + positional_row(after, t);
    const RowVec e = E_.row(t);

    // Rows whose softmax includes key t.
    int a = 0, b = n_;
    if (!cross_) {
        if (mask_.type == MaskType::Causal) a = t;
        else if (mask_.type == MaskType::SlidingWindow) a = t, b = std::min(n_, t + mask_.size);
        else if (mask_.type == MaskType::Strided || mask_.type == MaskType::Fixed) a = t;
    }
    const int nh = n_heads();
    // A second thread pays off only for long sequences: at n = 4096 an edit is ~3 ms on one core,
    // and on a busy machine waiting for the second thread to be scheduled costs more than it saves.
    const int nt = static_cast<double>(n_) * nh * d_head_ >= 8e6 ? resolve_threads(threads) : 1;
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
        l_old *= factor_;  // the logits, stored (rounded as softmax_row rounds them)
        l_new *= factor_;
        RowVec U(d_head_);  // (1, d_head) unnormalised Σ_j exp(logit_j − max)·v_j
        for (int i = a; i < b; ++i) {
            if (i == t || !mask_.allows(i, t)) continue;
            const std::size_t si = static_cast<std::size_t>(i);
            float& M = r.row_max[si];
            float& S = r.row_sum[si];
            const float lo = l_old[i - a], ln = l_new[i - a];
            // Key t's old term; exactly 1 when it held the max (its score, computed again here by
            // another product, may round differently: at huge logits that is e^(−1e13) vs 1).
            const float e_old = S > 0.0f ? (r.row_argmax[si] == t ? 1.0f : softmax_term(lo, M)) : 0.0f;
            // Recompute the row when its max moves down (key t held it), or when logits overflowed
            // (M = ±∞). Otherwise removing key t's term cannot lose precision that matters: if it
            // was most of the sum, key t held the max and now holds a larger one, whose exp(0) = 1
            // term keeps S ≥ 1.
            if (S == 0.0f || std::isinf(M) || std::isinf(ln) || (r.row_argmax[si] == t && ln < M)) {
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
                const float e_new = softmax_term(ln, M);
                S = rest + e_new;
                U.noalias() += e_new * v_new;
            }
            if (!(S >= 1.0f) || !std::isfinite(S)) {  // cannot happen in exact arithmetic: start over
                rescan_row(h, i, buf);
                continue;
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



// ---------------------------------------------------------------------------------------------
// [SECTION] A full Forward
// ---------------------------------------------------------------------------------------------
namespace {

// Row i of head r from its stored scores: softmax, statistics, mixed and ΔE_h rows.
void refresh_row(const Mask& mask, int i, int m, float factor, const Eigen::Ref<const Mat>& W_Oh, HeadResult& r) {
    const SoftmaxStats st = softmax_row(mask, i, 0, m - 1, r.scores.row(i).data(), factor, r.pattern.row(i).data());
    r.row_max[static_cast<std::size_t>(i)] = st.max;
    r.row_sum[static_cast<std::size_t>(i)] = st.sum;
    r.mixed.row(i).noalias() = r.pattern.row(i) * r.V;
    r.delta.row(i).noalias() = r.mixed.row(i) * W_Oh;
}

}  // namespace

void update_token(const Scene& after, Forward& f, int t, int threads) {
    const int n = after.n(), m = after.m();
    const bool same = static_cast<int>(f.heads.size()) == after.n_heads && f.E.rows() == n && f.X.rows() == m &&
                      f.E.cols() == after.d_model && f.logit_factor == after.logit_factor() &&
                      (f.heads.empty() || f.heads[0].Q.cols() == after.d_head);
    if (!same)
        throw std::invalid_argument("update_token: the scene's sizes or scaling differ from the forward pass; run forward again");
    if (t < 0 || t >= n)
        throw std::out_of_range("update_token: token " + std::to_string(t) + " is out of range 0.." + std::to_string(n - 1));
    const Mask& mask = after.mask;
    const float factor = after.logit_factor();
    const bool cross = after.cross();
    const bool all_scores = f.masked_scores_computed;
    const RowVec e = after.input.embeddings.row(t) + positional_row(after, t);  // (1, d_model)
    f.E.row(t) = e;
    if (!cross) f.X.row(t) = e;

    // Rows whose softmax includes key t (a superset for strided/fixed/matrix masks).
    int a = 0, b = n;
    if (!cross) {
        if (mask.type == MaskType::Causal || mask.type == MaskType::Strided || mask.type == MaskType::Fixed) a = t;
        else if (mask.type == MaskType::SlidingWindow) a = t, b = std::min(n, t + mask.size);
    }
    const int ca = all_scores ? 0 : a, cb = all_scores ? n : b;  // rows whose score (i, t) is written
    const int nh = after.n_heads, dh = after.d_head;
    const double work = static_cast<double>(n) * m * nh;
    parallel_for(nh, work < (1 << 20) ? 1 : resolve_threads(threads), [&](int h) {
        HeadResult& r = f.heads[static_cast<std::size_t>(h)];
        const auto& W = after.heads[static_cast<std::size_t>(h)].W;
        const auto W_Oh = after.W_O.middleRows(static_cast<Eigen::Index>(h) * dh, dh);  // (d_head, d_model)
        r.Q.row(t).noalias() = e * W[kQuery];
        if (!cross) {
            const RowVec v_old = r.V.row(t);
            r.K.row(t).noalias() = e * W[kKey];
            r.V.row(t).noalias() = e * W[kValue];
            const RowVec y_old = v_old * W_Oh, y_new = r.V.row(t) * W_Oh;  // (1, d_model)
            Eigen::VectorXf column(cb - ca);                             // new scores (i, t)
            if (cb > ca) column.noalias() = r.Q.middleRows(ca, cb - ca) * r.K.row(t).transpose();
            for (int i = ca; i < cb; ++i) {
                if (i == t) continue;
                const bool allowed = mask.allows(i, t);
                const float s_old = r.scores(i, t), s_new = column[i - ca];
                if (!allowed) {
                    if (all_scores) r.scores(i, t) = s_new;
                    continue;
                }
                r.scores(i, t) = s_new;
                const std::size_t si = static_cast<std::size_t>(i);
                const float M = r.row_max[si], S = r.row_sum[si];
                // The logits rounded as softmax_row rounded them (the stored scores are the same).
                const float l_old = logit(s_old, factor), l_new = logit(s_new, factor);
                // Start the row over when key t held the max and gave it up, or logits overflowed.
                if (S == 0.0f || std::isinf(M) || std::isinf(l_new) || (l_old >= M && l_new < M)) {
                    refresh_row(mask, i, m, factor, W_Oh, r);
                    continue;
                }
                const float e_old = softmax_term(l_old, M);
                float g = 1.0f, M2 = M, S2;
                if (l_new > M) {
                    g = std::exp(M - l_new);
                    S2 = (S - e_old) * g + 1.0f;
                    M2 = l_new;
                } else {
                    S2 = S - e_old + softmax_term(l_new, M);
                }
                if (!(S2 >= 1.0f) || !std::isfinite(S2)) {  // cannot happen in exact arithmetic
                    refresh_row(mask, i, m, factor, W_Oh, r);
                    continue;
                }
                const float c = S * g / S2;  // every other weight of the row is multiplied by c
                const float p_old = r.pattern(i, t), p_new = softmax_term(l_new, M2) / S2;
                int lo = 0, hi = 0;
                mask.key_range(i, m, lo, hi);
                r.pattern.row(i).segment(lo, hi - lo + 1) *= c;  // masked cells stay 0
                r.pattern(i, t) = p_new;
                r.mixed.row(i) = c * (r.mixed.row(i) - p_old * v_old) + p_new * r.V.row(t);
                r.delta.row(i) = c * (r.delta.row(i) - p_old * y_old) + p_new * y_new;
                r.row_max[si] = M2;
                r.row_sum[si] = S2;
            }
        }
        // Row t: its query changed (and, for self-attention, its own key).
        int lo = 0, hi = m - 1;
        if (!all_scores) mask.key_range(t, m, lo, hi);
        if (m > 0) r.scores.row(t).setZero();
        if (hi >= lo) {
            r.scores.row(t).segment(lo, hi - lo + 1).noalias() = r.Q.row(t) * r.K.middleRows(lo, hi - lo + 1).transpose();
            if (!all_scores && !mask.dense_band())
                for (int j = lo; j <= hi; ++j)
                    if (!mask.allows(t, j)) r.scores(t, j) = 0.0f;
        }
        refresh_row(mask, t, m, factor, W_Oh, r);
    });
    // ΔE and E' of the rows that changed.
    const int ra = cross ? t : std::min(a, t), rb = cross ? t + 1 : std::max(b, t + 1);
    for (int i = ra; i < rb; ++i) {
        f.delta.row(i).setZero();
        for (const auto& r : f.heads) f.delta.row(i) += r.delta.row(i);
        f.output.row(i) = f.E.row(i) + f.delta.row(i);
    }
}

void update_output(const Scene& after, Forward& f, int threads) {
    const int n = after.n(), dh = after.d_head;
    const bool same = static_cast<int>(f.heads.size()) == after.n_heads && f.E.rows() == n &&
                      f.E.cols() == after.d_model && (f.heads.empty() || f.heads[0].mixed.cols() == dh) &&
                      after.W_O.rows() == static_cast<Eigen::Index>(after.n_heads) * dh;
    if (!same)
        throw std::invalid_argument("update_output: the scene's sizes differ from the forward pass; run forward again");
    const double work = 2.0 * n * dh * after.d_model * after.n_heads;
    parallel_for(after.n_heads, work < 4e6 ? 1 : resolve_threads(threads), [&](int h) {
        HeadResult& r = f.heads[static_cast<std::size_t>(h)];
        r.delta.noalias() = r.mixed * after.W_O.middleRows(static_cast<Eigen::Index>(h) * dh, dh);  // (n, d_model)
    });
    f.delta.setZero(n, after.d_model);
    for (const auto& r : f.heads) f.delta += r.delta;
    f.output = f.E + f.delta;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Classifying an edit (edit_kind.hpp)
// ---------------------------------------------------------------------------------------------
namespace {

bool same_bytes(const float* a, const float* b, std::size_t count) {
    return count == 0 || std::memcmp(a, b, count * sizeof(float)) == 0;
}

bool same_matrix(const Mat& a, const Mat& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() && same_bytes(a.data(), b.data(), static_cast<std::size_t>(a.size()));
}

// Rows [from, to) of a and b (same shape) that differ, appended to `rows`; stops once `rows`
// holds more than `limit`. Compares 64 rows per memcmp, then row by row inside a block that differs.
void differing_rows(const Mat& a, const Mat& b, int from, int to, std::vector<int>& rows, std::size_t limit) {
    const std::size_t w = static_cast<std::size_t>(a.cols());
    for (int i0 = from; i0 < to && rows.size() <= limit; i0 += 64) {
        const int i1 = std::min(to, i0 + 64);
        if (same_bytes(a.row(i0).data(), b.row(i0).data(), w * static_cast<std::size_t>(i1 - i0))) continue;
        for (int i = i0; i < i1 && rows.size() <= limit; ++i)
            if (!same_bytes(a.row(i).data(), b.row(i).data(), w)) rows.push_back(i);
    }
}

// Positions whose token text or embedding row differs (sequences of the same length and
// d_model); stops once more than `limit` are found.
std::vector<int> differing_tokens(const Sequence& a, const Sequence& b, bool same_seed, std::size_t limit) {
    std::vector<int> out;
    const int n = a.size();
    for (int i = 0; i < n && out.size() <= limit; ++i)
        if (a.tokens[static_cast<std::size_t>(i)].text != b.tokens[static_cast<std::size_t>(i)].text) out.push_back(i);
    if (out.size() > limit) return out;
    // Drawn rows are a function of (text, seed, d_model): with both sides drawn from one seed,
    // rows can differ only where the texts do.
    if (!a.embeddings_given && !b.embeddings_given && same_seed) return out;
    std::vector<int> rows;
    // Rows between the positions already found (those differ anyway).
    int from = 0;
    for (std::size_t k = 0; k <= out.size() && rows.size() + out.size() <= limit; ++k) {
        const int to = k < out.size() ? out[k] : n;
        differing_rows(a.embeddings, b.embeddings, from, to, rows, limit - out.size());
        from = to + 1;
    }
    out.insert(out.end(), rows.begin(), rows.end());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

const char* change_kind_name(SceneChange::Kind k) {
    switch (k) {
        case SceneChange::Kind::None: return "none";
        case SceneChange::Kind::Token: return "token";
        case SceneChange::Kind::HeadWeights: return "head_weights";
        case SceneChange::Kind::Output: return "output";
        case SceneChange::Kind::Other: return "other";
    }
    return "other";
}

SceneChange classify_change(const Scene& before, const Scene& after) {
    using Kind = SceneChange::Kind;
    const SceneChange other{Kind::Other, -1};
    // (1) sizes and settings
    if (before.n() != after.n() || before.m() != after.m() || before.d_model != after.d_model ||
        before.n_heads != after.n_heads || before.d_head != after.d_head || before.cross() != after.cross())
        return other;
    if (before.logit_factor() != after.logit_factor() || before.positional != after.positional) return other;
    const bool same_seed = before.seed == after.seed;
    if (before.positional == Positional::Learned && !same_seed) return other;  // every position moved
    if (static_cast<int>(before.heads.size()) != before.n_heads || static_cast<int>(after.heads.size()) != after.n_heads)
        return other;
    if (!(before.mask == after.mask)) return other;
    // (2) the keys' source of cross-attention: no incremental update for it
    if (before.cross()) {
        const Sequence &a = *before.source, &b = *after.source;
        if (a.embeddings.rows() != b.embeddings.rows() || a.embeddings.cols() != b.embeddings.cols() ||
            !differing_tokens(a, b, same_seed, 0).empty())
            return other;
    }
    // (3) the token texts, then the weights (cheap), then embedding rows where needed
    std::size_t changed = 0;  // kinds of change found so far
    SceneChange found{Kind::None, -1};
    int text_changed = -1;
    for (int i = 0; i < before.n(); ++i)
        if (before.input.tokens[static_cast<std::size_t>(i)].text != after.input.tokens[static_cast<std::size_t>(i)].text) {
            if (text_changed >= 0) return other;  // two tokens
            text_changed = i;
        }
    if (text_changed >= 0) {
        found = {Kind::Token, text_changed};
        ++changed;
    }
    for (int h = 0; h < before.n_heads; ++h) {
        const auto &a = before.heads[static_cast<std::size_t>(h)].W, &b = after.heads[static_cast<std::size_t>(h)].W;
        if (same_matrix(a[kQuery], b[kQuery]) && same_matrix(a[kKey], b[kKey]) && same_matrix(a[kValue], b[kValue]))
            continue;
        if (++changed > 1) return other;
        found = {Kind::HeadWeights, h};
    }
    if (!same_matrix(before.W_O, after.W_O)) {
        if (++changed > 1) return other;
        found = {Kind::Output, -1};
    }
    // Embedding rows: at most one token may differ, and only if nothing else did.
    const Sequence &a = before.input, &b = after.input;
    if (a.embeddings.rows() != b.embeddings.rows() || a.embeddings.cols() != b.embeddings.cols()) return other;
    const std::vector<int> tokens = differing_tokens(a, b, same_seed, 1);
    if (tokens.size() > 1) return other;
    if (tokens.size() == 1) {
        if (found.kind == Kind::Token) return found;  // the row of the token whose text changed
        if (changed > 0) return other;                // a token and a weight
        return {Kind::Token, tokens[0]};
    }
    return found;
}

}  // namespace attnviz
