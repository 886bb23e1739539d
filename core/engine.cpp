#include "engine.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "parallel.hpp"
#include "random.hpp"

namespace attnviz {
namespace {

// Passes (3)–(5) for one row: max over allowed logits, exp(x − max) and sum, normalise.
// `logits` are the raw scores times `factor`. Returns false if no key is allowed.
bool softmax_row(const Mask& mask, int i, int m, const float* scores, float factor, float* out, float& row_max,
                 float& row_sum) {
    int lo = 0, hi = 0;
    mask.key_range(i, m, lo, hi);
    const bool dense_band = mask.dense_band();
    // lo may lie past the last key (a sliding window over a shorter source): clamp to m.
    for (int j = 0; j < std::min(lo, m); ++j) out[j] = 0.0f;
    for (int j = std::max(hi + 1, 0); j < m; ++j) out[j] = 0.0f;

    float mx = -std::numeric_limits<float>::infinity();
    if (dense_band) {
        for (int j = lo; j <= hi; ++j) mx = std::max(mx, scores[j] * factor);
    } else {
        for (int j = lo; j <= hi; ++j)
            if (mask.allows(i, j)) mx = std::max(mx, scores[j] * factor);
    }
    if (mx == std::numeric_limits<float>::infinity()) {
        // A logit overflowed to +∞ (huge scores over a tiny temperature): the softmax's limit is
        // an equal share among the +∞ entries, 0 elsewhere (exp(∞ − ∞) would be NaN).
        int count = 0;
        for (int j = lo; j <= hi; ++j) {
            const bool top = (dense_band || mask.allows(i, j)) && scores[j] * factor == mx;
            out[j] = top ? 1.0f : 0.0f;
            count += top ? 1 : 0;
        }
        for (int j = lo; j <= hi; ++j) out[j] /= static_cast<float>(count);
        row_max = mx;
        row_sum = static_cast<float>(count);
        return true;
    }
    if (mx == -std::numeric_limits<float>::infinity()) {  // no allowed key
        for (int j = lo; j <= hi; ++j) out[j] = 0.0f;
        row_max = 0.0f;
        row_sum = 0.0f;
        return false;
    }
    float sum = 0.0f;
    if (dense_band) {
        for (int j = lo; j <= hi; ++j) {
            out[j] = std::exp(scores[j] * factor - mx);
            sum += out[j];
        }
    } else {
        for (int j = lo; j <= hi; ++j) {
            out[j] = mask.allows(i, j) ? std::exp(scores[j] * factor - mx) : 0.0f;
            sum += out[j];
        }
    }
    const float inv = 1.0f / sum;  // sum ≥ 1: the max entry contributes exp(0)
    for (int j = lo; j <= hi; ++j) out[j] *= inv;
    row_max = mx;
    row_sum = sum;
    return true;
}

Mat with_positional(const Sequence& seq, const Scene& s) {
    Mat e = seq.embeddings;
    if (s.positional != Positional::None) e += positional_for(s, seq.size());
    return e;
}

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


// Passes (3)–(5) for one row of a dense-band mask, vectorised: allowed keys are exactly [lo, hi].
// Writes pattern cells [0, m); with `zero_masked`, also sets the scores of masked cells in
// [clo, chi] to 0 (cells outside [clo, chi] were never computed and are zeroed by the caller).
bool softmax_band_row(int lo, int hi, int m, float* scores, float factor, float* out, float& row_max,
                      float& row_sum) {
    if (hi < lo) {
        std::fill(out, out + m, 0.0f);
        row_max = 0.0f;
        row_sum = 0.0f;
        return false;
    }
    std::fill(out, out + lo, 0.0f);
    std::fill(out + hi + 1, out + m, 0.0f);
    const int w = hi - lo + 1;
    Eigen::Map<Eigen::ArrayXf> x(scores + lo, w), p(out + lo, w);
    const float mx = x.maxCoeff() * factor;  // factor > 0 (validated temperature)
    if (mx == std::numeric_limits<float>::infinity()) {
        // A logit overflowed to +∞ (huge scores over a tiny temperature): the softmax's limit is
        // an equal share among the +∞ entries, 0 elsewhere (exp(∞ − ∞) would be NaN).
        p = ((x * factor) == mx).cast<float>();
        const float count = p.sum();
        p *= 1.0f / count;
        row_max = mx;
        row_sum = count;
        return true;
    }
    p = (x * factor - mx).exp();
    const float sum = p.sum();  // ≥ 1: the max entry contributes exp(0)
    p *= 1.0f / sum;
    row_max = mx;
    row_sum = sum;
    return true;
}

void compute_head(const Scene& s, const Forward& f, int h, bool skip_masked, HeadResult& r,
                  std::vector<int>* fully_masked) {
    const auto& hw = s.heads[static_cast<std::size_t>(h)];
    const int n = s.n(), m = s.m();
    const Mask& mask = s.mask;
    const bool band = mask.dense_band();
    const float factor = s.logit_factor();
    // (1) projections
    r.Q.noalias() = f.E * hw.W[kQuery];  // (n, d_head)
    r.K.noalias() = f.X * hw.W[kKey];    // (m, d_head)
    r.V.noalias() = f.X * hw.W[kValue];  // (m, d_head)
    r.scores.resize(n, m);               // (n, m)
    r.pattern.resize(n, m);              // (n, m)
    r.mixed.resize(n, s.d_head);         // (n, d_head)
    r.row_max.assign(static_cast<std::size_t>(n), 0.0f);
    r.row_sum.assign(static_cast<std::size_t>(n), 0.0f);

    const int rb = row_block(mask);
    for (int i0 = 0; i0 < n; i0 += rb) {
        const int i1 = std::min(n, i0 + rb), b = i1 - i0;
        int clo = 0, chi = m - 1;
        mask.block_key_range(i0, i1, m, clo, chi);
        const int w = chi - clo + 1;
        // (2) raw scores: only the columns this block may see, unless masked scores are wanted
        if (!skip_masked) {
            if (m > 0) r.scores.middleRows(i0, b).noalias() = r.Q.middleRows(i0, b) * r.K.transpose();
        } else {
            if (w > 0) {
                r.scores.block(i0, clo, b, w).noalias() = r.Q.middleRows(i0, b) * r.K.middleRows(clo, w).transpose();
            }
            for (int i = i0; i < i1; ++i) {  // columns never computed: 0
                float* row = r.scores.row(i).data();
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
            float* srow = r.scores.row(i).data();
            float* prow = r.pattern.row(i).data();
            float& mx = r.row_max[static_cast<std::size_t>(i)];
            float& sum = r.row_sum[static_cast<std::size_t>(i)];
            bool ok = false;
            if (band) {
                int lo = 0, hi = 0;
                mask.key_range(i, m, lo, hi);
                ok = softmax_band_row(lo, hi, m, srow, factor, prow, mx, sum);
                if (skip_masked && w > 0) {  // masked cells inside the computed block: 0
                    if (hi < lo) {
                        std::fill(srow + clo, srow + chi + 1, 0.0f);
                    } else {
                        std::fill(srow + clo, srow + lo, 0.0f);
                        std::fill(srow + hi + 1, srow + chi + 1, 0.0f);
                    }
                }
            } else {
                ok = softmax_row(mask, i, m, srow, factor, prow, mx, sum);
                if (skip_masked)
                    for (int j = clo; j <= chi; ++j)
                        if (!mask.allows(i, j)) srow[j] = 0.0f;
            }
            if (!ok && fully_masked) fully_masked->push_back(i);
        }
        // (6) weighted sum of values over the columns the block may see
        if (w > 0) r.mixed.middleRows(i0, b).noalias() = r.pattern.block(i0, clo, b, w) * r.V.middleRows(clo, w);
        else r.mixed.middleRows(i0, b).setZero();
    }
    // (7) this head's slice of W_O
    r.delta.noalias() = r.mixed * s.W_O.middleRows(static_cast<Eigen::Index>(h) * s.d_head, s.d_head);
}

void sum_heads(const Scene& s, Forward& f) {
    f.delta.setZero(s.n(), s.d_model);
    for (const auto& r : f.heads) f.delta += r.delta;
    f.output = f.E + f.delta;
}

}  // namespace

bool masked_softmax_row(const float* logits, const std::uint8_t* allowed, int m, float* out, float* max_out,
                        float* sum_out) {
    float mx = -std::numeric_limits<float>::infinity();
    for (int j = 0; j < m; ++j)
        if (allowed[j]) mx = std::max(mx, logits[j]);
    if (mx == -std::numeric_limits<float>::infinity()) {
        for (int j = 0; j < m; ++j) out[j] = 0.0f;
        if (max_out) *max_out = 0.0f;
        if (sum_out) *sum_out = 0.0f;
        return false;
    }
    float sum = 0.0f;
    for (int j = 0; j < m; ++j) {
        out[j] = allowed[j] ? std::exp(logits[j] - mx) : 0.0f;
        sum += out[j];
    }
    for (int j = 0; j < m; ++j) out[j] /= sum;
    if (max_out) *max_out = mx;
    if (sum_out) *sum_out = sum;
    return true;
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
    parallel_for(s.n_heads, threads, [&](int h) {
        compute_head(s, f, h, skip, f.heads[static_cast<std::size_t>(h)], h == 0 ? &f.fully_masked_rows : nullptr);
    });
    sum_heads(s, f);
}

void recompute_head(const Scene& s, Forward& f, int h) { recompute_head(s, f, h, ForwardOptions{}); }

void recompute_head(const Scene& s, Forward& f, int h, const ForwardOptions& opt) {
    check_forward_bytes(s);
    f.heads.resize(static_cast<std::size_t>(s.n_heads));
    f.fully_masked_rows.clear();
    const bool skip = skip_masked_scores(s, opt);
    // One flag for the whole Forward: if any head skipped, masked scores are not all there.
    f.masked_scores_computed = f.masked_scores_computed && !skip;
    compute_head(s, f, h, skip, f.heads[static_cast<std::size_t>(h)], &f.fully_masked_rows);
    sum_heads(s, f);
}

GemmBaseline::GemmBaseline(const Scene& s, const ForwardOptions& opt)
    : s_(&s), opt_(opt), skip_(skip_masked_scores(s, opt)) {
    check_forward_bytes(s);
    E_ = with_positional(s.input, s);
    X_ = s.source ? with_positional(*s.source, s) : E_;
    scratch_.resize(static_cast<std::size_t>(s.n_heads));
    for (auto& m : scratch_) {
        m[3].resize(s.n(), s.m());
        m[4].resize(s.n(), s.d_head);
    }
}

double GemmBaseline::flops() const { return forward_gemm_flops(*s_, opt_); }

void GemmBaseline::run() {
    const Scene& s = *s_;
    const int n = s.n(), m = s.m();
    const int threads = flops() < 2e6 ? 1 : resolve_threads(opt_.threads);
    parallel_for(s.n_heads, threads, [&](int h) {
        auto& [Q, K, V, S, M, D] = scratch_[static_cast<std::size_t>(h)];
        const auto& hw = s.heads[static_cast<std::size_t>(h)];
        Q.noalias() = E_ * hw.W[kQuery];
        K.noalias() = X_ * hw.W[kKey];
        V.noalias() = X_ * hw.W[kValue];
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
