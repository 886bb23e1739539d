#include "engine.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "gemm.hpp"
#include "parallel.hpp"
#include "random.hpp"
#include "softmax.hpp"
#include "stream_store.hpp"
#include "tiles_internal.hpp"

namespace attnviz {
Mat with_positional(const Sequence& seq, const Scene& s) {
    Mat e = seq.embeddings;  // (seq.size(), d_model)
    if (s.positional != Positional::None) e += positional_for(s, seq.size());
    return e;
}

namespace {

// Query rows per block of passes (2)–(6). A block's scores stay in cache for the softmax and
// pattern·V; bigger blocks repack K and V less often, smaller ones waste less of a causal
// diagonal block (b/2 columns per row). Measured at n = 1024 (128/64 vs 256/64, 256/128, 128/128):
// differences within this machine's noise, ~5 %.
int row_block(const Mask& mask) {
    return mask.type == MaskType::None || mask.type == MaskType::Matrix ? 128 : 64;
}

bool skip_masked_scores(const Scene& s, const ForwardOptions& opt) {
    if (s.mask.type == MaskType::None) return false;  // nothing is masked
    switch (opt.masked_scores) {
        case ForwardOptions::MaskedScores::Compute: return false;
        case ForwardOptions::MaskedScores::Skip: return true;
        case ForwardOptions::MaskedScores::Auto: break;
    }
    return static_cast<std::int64_t>(s.n()) * s.m() > ForwardOptions::kAutoMaskedScoresCells;
}


// Pass (1) for every head at once. W_qkv = [W_Q of heads 0…H−1 | W_K of heads … | W_V of heads …]
// (d_model, 3·H·d_head), heads as contiguous d_head column slices (GPT-2's c_attn layout).
// A Forward computed again keeps its W_qkv: a row of a slice is written only where it differs from
// the head's weights (reading both costs about half of writing, and after most edits no weight
// changed), so the result is the same matrix either way.
void fused_qkv_weights(const Scene& s, Mat& W_qkv) {
    const int H = s.n_heads, dh = s.d_head, w = H * dh;
    const bool kept = W_qkv.rows() == s.d_model && W_qkv.cols() == 3 * w;
    if (!kept) W_qkv.resize(s.d_model, 3 * w);
    const std::size_t row_bytes = sizeof(float) * static_cast<std::size_t>(dh);
    for (int h = 0; h < H; ++h)
        for (int p = 0; p < 3; ++p) {
            const Mat& W = s.heads[static_cast<std::size_t>(h)].W[static_cast<std::size_t>(p)];  // (d_model, d_head)
            auto slice = W_qkv.middleCols(p * w + h * dh, dh);
            if (!kept) {
                slice = W;
                continue;
            }
            for (int r = 0; r < s.d_model; ++r) {
                float* dst = &slice.coeffRef(r, 0);
                const float* src = W.row(r).data();
                if (std::memcmp(dst, src, row_bytes) != 0) std::memcpy(dst, src, row_bytes);
            }
        }
}

// One product by rows over the threads: self-attention qkv = E·W_qkv (n, 3·H·d_head), kv empty;
// cross-attention qkv = E·[W_Q…] (n, H·d_head) and kv = X·[W_K… | W_V…] (m, 2·H·d_head).
void project_all_heads(const Scene& s, const Mat& E, const Mat& X, const Mat& W_qkv, Mat& qkv, Mat& kv, int threads) {
    const int w = s.n_heads * s.d_head;
    if (!s.cross()) {
        qkv.resize(s.n(), 3 * w);
        kv.resize(0, 0);
        gemm_rows(E, W_qkv, nullptr, qkv, threads);
    } else {
        qkv.resize(s.n(), w);
        kv.resize(s.m(), 2 * w);
        gemm_rows(E, W_qkv.leftCols(w), nullptr, qkv, threads);
        gemm_rows(X, W_qkv.rightCols(2 * w), nullptr, kv, threads);
    }
}

// Head h's slice (rows, d_head) of projection p (kQuery, kKey, kValue) in qkv / kv.
Eigen::Block<const Mat> projection_slice(const Scene& s, const Mat& qkv, const Mat& kv, int h, int p) {
    const int dh = s.d_head, w = s.n_heads * dh;
    const Mat& src = (p == kQuery || !s.cross()) ? qkv : kv;
    const int col = (p == kQuery || !s.cross()) ? p * w + h * dh : (p - 1) * w + h * dh;
    // No rows (an empty text): the matrix owns no storage, and a view at a column offset would
    // offset a null pointer (UB); an empty view at column 0 has the same (0, d_head) shape.
    if (src.rows() == 0) return src.block(0, 0, 0, dh);
    return src.middleCols(col, dh);
}

void project_all_heads(const Scene& s, Forward& f, int threads) {
    fused_qkv_weights(s, f.W_qkv);
    project_all_heads(s, f.E, f.X, f.W_qkv, f.qkv, f.kv, threads);
}

// Passes (2)–(7) of head h from its Q, K and V (already in r), one block of query rows at a time.
// A block's raw scores, pattern and ΔE_h rows are computed into scratch matrices that stay in
// cache (at n = m = 1024, 128 rows: 512 KB + 512 KB + 384 KB), used there (softmax, pattern·V),
// then streamed to r.scores, r.pattern and r.delta (stream_store.hpp): the kept matrices are
// written once, never read for ownership. Every product has the same shapes as when it wrote
// into the kept matrices directly, so the values are the same bit for bit.
void attend_head(const Scene& s, int h, bool skip_masked, HeadResult& r, std::vector<int>* fully_masked) {
    const int n = s.n(), m = s.m(), dm = s.d_model;
    const Mask& mask = s.mask;
    const bool band = mask.dense_band();
    const float factor = s.logit_factor();
    r.scores.resize(n, m);               // (n, m)
    r.pattern.resize(n, m);              // (n, m)
    r.mixed.resize(n, s.d_head);         // (n, d_head)
    r.delta.resize(n, dm);               // (n, d_model)
    r.row_max.assign(static_cast<std::size_t>(n), 0.0f);
    r.row_sum.assign(static_cast<std::size_t>(n), 0.0f);
    const auto W_O_h = s.W_O.middleRows(static_cast<Eigen::Index>(h) * s.d_head, s.d_head);  // (d_head, d_model)

    const int rb = row_block(mask);
    Mat S(std::min(n, rb), m);   // (rb, m) the block's raw scores
    Mat P(std::min(n, rb), m);   // (rb, m) its pattern rows
    Mat D(std::min(n, rb), dm);  // (rb, d_model) its ΔE_h rows
    for (int i0 = 0; i0 < n; i0 += rb) {
        const int i1 = std::min(n, i0 + rb), b = i1 - i0;
        int clo = 0, chi = m - 1;
        mask.block_key_range(i0, i1, m, clo, chi);
        const int w = chi - clo + 1;
        // (2) raw scores: only the columns this block may see, unless masked scores are wanted
        if (!skip_masked) {
            if (m > 0) S.topRows(b).noalias() = r.Q.middleRows(i0, b) * r.K.transpose();
        } else {
            if (w > 0) {
                S.block(0, clo, b, w).noalias() = r.Q.middleRows(i0, b) * r.K.middleRows(clo, w).transpose();
            }
            for (int k = 0; k < b; ++k) {  // columns never computed: 0
                float* row = S.row(k).data();
                if (w <= 0) {
                    std::fill(row, row + m, 0.0f);
                } else {
                    std::fill(row, row + clo, 0.0f);
                    std::fill(row + chi + 1, row + m, 0.0f);
                }
            }
        }
        // (3)–(5) masked, numerically stable softmax per row
        for (int i = i0; i < i1; ++i) {
            float* srow = S.row(i - i0).data();
            float* prow = P.row(i - i0).data();
            // (3)–(5) softmax.hpp: each logit computed once, max and exp from the stored values
            const SoftmaxStats st = softmax_row(mask, i, 0, m - 1, srow, factor, prow);
            r.row_max[static_cast<std::size_t>(i)] = st.max;
            r.row_sum[static_cast<std::size_t>(i)] = st.sum;
            const bool ok = st.argmax >= 0;
            if (skip_masked && w > 0) {  // masked cells inside the computed block: 0
                if (band) {
                    int lo = 0, hi = 0;
                    mask.key_range(i, m, lo, hi);
                    if (hi < lo) {
                        std::fill(srow + clo, srow + chi + 1, 0.0f);
                    } else {
                        std::fill(srow + clo, srow + lo, 0.0f);
                        std::fill(srow + hi + 1, srow + chi + 1, 0.0f);
                    }
                } else {
                    for (int j = clo; j <= chi; ++j)
                        if (!mask.allows(i, j)) srow[j] = 0.0f;
                }
            }
            if (!ok && fully_masked) fully_masked->push_back(i);
        }
        // (6) weighted sum of values over the columns the block may see
        auto mixed = r.mixed.middleRows(i0, b);
        if (w > 0) mixed.noalias() = P.block(0, clo, b, w) * r.V.middleRows(clo, w);
        else mixed.setZero();
        // (7) this head's slice of W_O
        D.topRows(b).noalias() = mixed * W_O_h;
        stream_rows(S.data(), m, r.scores.row(i0).data(), m, b, m);
        stream_rows(P.data(), m, r.pattern.row(i0).data(), m, b, m);
        stream_rows(D.data(), dm, r.delta.row(i0).data(), dm, b, dm);
    }
}

// Pass (1) done by project_all_heads, then head h: its Q, K, V copied out of the fused product
// (HeadResult keeps them as matrices of their own), passes (2)–(7).
void compute_head(const Scene& s, const Forward& f, int h, bool skip_masked, HeadResult& r,
                  std::vector<int>* fully_masked) {
    r.Q = projection_slice(s, f.qkv, f.kv, h, kQuery);  // (n, d_head)
    r.K = projection_slice(s, f.qkv, f.kv, h, kKey);    // (m, d_head)
    r.V = projection_slice(s, f.qkv, f.kv, h, kValue);  // (m, d_head)
    attend_head(s, h, skip_masked, r, fully_masked);
}

// ΔE = Σ_h ΔE_h (heads added in order 0, 1, …) and E' = E + ΔE, rows split over the threads.
void sum_heads(const Scene& s, Forward& f, int threads) {
    const int n = s.n();
    f.delta.resize(n, s.d_model);
    f.output.resize(n, s.d_model);
    const std::int64_t cells = std::int64_t(n) * s.d_model * std::max(1, s.n_heads);
    const int t = cells < 1'000'000 ? 1 : std::max(1, std::min(threads, n / 16));
    const int per = (n + t - 1) / t;
    parallel_for(t, t, [&](int k) {
        const int r0 = k * per, r1 = std::min(n, r0 + per);
        if (r1 <= r0) return;
        // 32 rows at a time (96 KB of ΔE at d_model 768), so the running sum stays in cache while
        // every head's rows are added to it, instead of going to memory once per head.
        for (int b0 = r0; b0 < r1; b0 += 32) {
            const int b = std::min(r1, b0 + 32) - b0;
            auto d = f.delta.middleRows(b0, b);
            if (f.heads.empty()) {
                d.setZero();
            } else {
                d = f.heads[0].delta.middleRows(b0, b);
                for (std::size_t h = 1; h < f.heads.size(); ++h) d += f.heads[h].delta.middleRows(b0, b);
            }
            f.output.middleRows(b0, b) = f.E.middleRows(b0, b) + d;
        }
    });
}

}  // namespace

bool masked_softmax_row(const float* logits, const std::uint8_t* allowed, int m, float* out, float* max_out,
                        float* sum_out) {
    const SoftmaxStats st = softmax_row(m, logits, 1.0f, allowed, out);
    if (max_out) *max_out = st.max;
    if (sum_out) *sum_out = st.sum;
    return st.argmax >= 0;
}

Mat positional_for(const Scene& s, int n) {
    if (s.positional != Positional::Sinusoidal) return positional_encoding(s.positional, n, s.d_model, s.seed);
    // positional_encoding's formula — sin/cos(pos · ω_d), ω_d = 10000^(−2i/d_model), in double —
    // with the angle advanced by rotation from an exact sin/cos every 32 positions: the same
    // floats (the rotation's error, ~1e-15, is far below float rounding) at a fraction of the
    // sin/cos calls, which otherwise cost more than the products at n = 1024.
    const int d_model = s.d_model;
    Mat pe(n, d_model);  // (n, d_model)
    std::vector<double> omega(static_cast<std::size_t>(d_model)), cw(omega.size()), sw(omega.size()),
        sn(omega.size()), cs(omega.size());
    for (int d = 0; d < d_model; ++d) {
        const int i2 = d - (d % 2);
        omega[d] = 1.0 / std::pow(10000.0, static_cast<double>(i2) / d_model);
        cw[d] = std::cos(omega[d]);
        sw[d] = std::sin(omega[d]);
    }
    for (int pos = 0; pos < n; ++pos) {
        if (pos % 32 == 0) {
            for (int d = 0; d < d_model; ++d) {
                const double angle = pos / std::pow(10000.0, static_cast<double>(d - (d % 2)) / d_model);
                sn[d] = std::sin(angle);
                cs[d] = std::cos(angle);
            }
        } else {
            for (int d = 0; d < d_model; ++d) {
                const double s2 = sn[d] * cw[d] + cs[d] * sw[d];
                cs[d] = cs[d] * cw[d] - sn[d] * sw[d];
                sn[d] = s2;
            }
        }
        float* row = pe.row(pos).data();
        for (int d = 0; d < d_model; ++d) row[d] = static_cast<float>(d % 2 == 0 ? sn[d] : cs[d]);
    }
    return pe;
}

RowVec positional_row(const Scene& s, int pos) {
    RowVec row = RowVec::Zero(s.d_model);
    for (int d = 0; d < s.d_model; ++d) {
        if (s.positional == Positional::Sinusoidal) {  // as positional_encoding
            const double angle = pos / std::pow(10000.0, static_cast<double>(d - (d % 2)) / s.d_model);
            row[d] = static_cast<float>(d % 2 == 0 ? std::sin(angle) : std::cos(angle));
        } else if (s.positional == Positional::Learned) {
            row[d] = rng::normal(s.seed, rng::kLearnedPosition, static_cast<std::uint64_t>(pos), 0,
                                 static_cast<std::uint64_t>(d));
        }
    }
    return row;
}

Forward forward(const Scene& s) { return forward(s, ForwardOptions{}); }

Forward forward(const Scene& s, const ForwardOptions& opt) {
    Forward f;
    forward(s, f, opt);
    return f;
}

void forward(const Scene& s, Forward& f, const ForwardOptions& opt) {
    check_forward_bytes(s);  // before anything is allocated; f is left as it was
    f.E = s.input.embeddings;  // reuses f's storage when the sizes are unchanged
    if (s.positional != Positional::None) f.E += positional_for(s, s.n());
    if (s.source) f.X = with_positional(*s.source, s);
    else f.X = f.E;
    f.logit_factor = s.logit_factor();
    f.fully_masked_rows.clear();
    const bool skip = skip_masked_scores(s, opt);
    f.masked_scores_computed = !skip;
    f.heads.resize(static_cast<std::size_t>(s.n_heads));
    // Threads pay off from about a millisecond of work (starting one costs ~50 µs).
    const double work = forward_gemm_flops(s, opt);
    const int threads = work < 2e6 ? 1 : resolve_threads(opt.threads);
    project_all_heads(s, f, threads);  // (1) every head's Q, K, V: one product, rows over the threads
    parallel_for(s.n_heads, threads, [&](int h) {  // (2)–(7) heads in parallel
        compute_head(s, f, h, skip, f.heads[static_cast<std::size_t>(h)], h == 0 ? &f.fully_masked_rows : nullptr);
    });
    sum_heads(s, f, threads);
}

void recompute_head(const Scene& s, Forward& f, int h) { recompute_head(s, f, h, ForwardOptions{}); }

void recompute_head(const Scene& s, Forward& f, int h, const ForwardOptions& opt) {
    check_forward_bytes(s);
    f.heads.resize(static_cast<std::size_t>(s.n_heads));
    f.fully_masked_rows.clear();
    const bool skip = skip_masked_scores(s, opt);
    // One flag for the whole Forward: if any head skipped, masked scores are not all there.
    f.masked_scores_computed = f.masked_scores_computed && !skip;
    const int threads = forward_gemm_flops(s, opt) < 2e6 ? 1 : resolve_threads(opt.threads);
    // The whole fused product again, not head h's columns alone: a column's value depends on where
    // it sits in the product (Eigen's kernels sum a dot product in different orders for different
    // column blocks), and head h must come out exactly as forward() computes it.
    project_all_heads(s, f, threads);
    compute_head(s, f, h, skip, f.heads[static_cast<std::size_t>(h)], &f.fully_masked_rows);
    sum_heads(s, f, threads);
}

GemmBaseline::GemmBaseline(const Scene& s, const ForwardOptions& opt)
    : s_(&s), opt_(opt), skip_(skip_masked_scores(s, opt)) {
    check_forward_bytes(s);
    E_ = with_positional(s.input, s);
    X_ = s.source ? with_positional(*s.source, s) : E_;
    fused_qkv_weights(s, W_qkv_);
    scratch_.resize(static_cast<std::size_t>(s.n_heads));
    for (auto& m : scratch_) {
        m[0].resize(s.n(), s.m());
        m[1].resize(s.n(), s.d_head);
    }
}

double GemmBaseline::flops() const { return forward_gemm_flops(*s_, opt_); }

void GemmBaseline::run() {
    const Scene& s = *s_;
    const int n = s.n(), m = s.m();
    const int threads = flops() < 2e6 ? 1 : resolve_threads(opt_.threads);
    project_all_heads(s, E_, X_, W_qkv_, qkv_, kv_, threads);
    parallel_for(s.n_heads, threads, [&](int h) {
        auto& [S, M, D] = scratch_[static_cast<std::size_t>(h)];
        const auto Q = projection_slice(s, qkv_, kv_, h, kQuery);  // (n, d_head) views, as forward copies them
        const auto K = projection_slice(s, qkv_, kv_, h, kKey);    // (m, d_head)
        const auto V = projection_slice(s, qkv_, kv_, h, kValue);  // (m, d_head)
        if (!skip_) {  // nothing skipped: Eigen's plain products
            if (m > 0) {
                S.noalias() = Q * K.transpose();
                M.noalias() = S * V;
            }
        } else {  // the same blocks as forward
            const int rb = row_block(s.mask);
            for (int i0 = 0; i0 < n; i0 += rb) {
                const int b = std::min(n, i0 + rb) - i0;
                int clo = 0, chi = 0;
                s.mask.block_key_range(i0, i0 + b, m, clo, chi);
                const int w = chi - clo + 1;
                if (w <= 0) continue;
                S.block(i0, clo, b, w).noalias() = Q.middleRows(i0, b) * K.middleRows(clo, w).transpose();
                M.middleRows(i0, b).noalias() = S.block(i0, clo, b, w) * V.middleRows(clo, w);
            }
        }
        D.noalias() = M * s.W_O.middleRows(static_cast<Eigen::Index>(h) * s.d_head, s.d_head);
    });
}

double forward_gemm_flops(const Scene& s, const ForwardOptions& opt) {
    const double n = s.n(), m = s.m(), dm = s.d_model, dh = s.d_head;
    const bool skip = skip_masked_scores(s, opt);
    double score_cells = 0;  // cells of the score blocks computed
    for (int i0 = 0; i0 < s.n(); i0 += row_block(s.mask)) {
        const int i1 = std::min(s.n(), i0 + row_block(s.mask));
        int clo = 0, chi = 0;
        s.mask.block_key_range(i0, i1, s.m(), clo, chi);
        const double w = std::max(0, chi - clo + 1);
        score_cells += (i1 - i0) * (skip ? w : m);
    }
    double pv_cells = 0;  // pattern·V uses the block's key range in both modes
    for (int i0 = 0; i0 < s.n(); i0 += row_block(s.mask)) {
        const int i1 = std::min(s.n(), i0 + row_block(s.mask));
        int clo = 0, chi = 0;
        s.mask.block_key_range(i0, i1, s.m(), clo, chi);
        pv_cells += (i1 - i0) * static_cast<double>(std::max(0, chi - clo + 1));
    }
    const double per_head = 2 * (n * dm * dh + 2 * m * dm * dh) + 2 * score_cells * dh + 2 * pv_cells * dh +
                            2 * n * dh * dm;
    return per_head * s.n_heads;
}

const char* stage_name(Stage st) {
    switch (st) {
        case Stage::Raw: return "raw scores Q·Kᵀ";
        case Stage::Scaled: return "scaled";
        case Stage::Masked: return "masked";
        case Stage::Pattern: return "softmax pattern";
    }
    return "";
}

Mat stage_matrix(const Scene& s, const HeadResult& h, Stage st) {
    switch (st) {
        case Stage::Raw: return h.scores;
        case Stage::Scaled: return h.scores * s.logit_factor();
        case Stage::Masked: {
            Mat m = h.scores * s.logit_factor();
            for (Eigen::Index i = 0; i < m.rows(); ++i)
                for (Eigen::Index j = 0; j < m.cols(); ++j)
                    if (!s.mask.allows(static_cast<int>(i), static_cast<int>(j)))
                        m(i, j) = -std::numeric_limits<float>::infinity();
            return m;
        }
        case Stage::Pattern: return h.pattern;
    }
    return h.pattern;
}

Mat average_pattern(const Forward& f) {
    if (f.heads.empty()) return {};
    Mat avg = Mat::Zero(f.heads[0].pattern.rows(), f.heads[0].pattern.cols());
    for (const auto& h : f.heads) avg += h.pattern;
    return avg / static_cast<float>(f.heads.size());
}

}  // namespace attnviz
