#include "engine.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attnviz {
namespace {

// Passes (3)–(5) for one row: max over allowed logits, exp(x − max) and sum, normalise.
// `logits` are the raw scores times `factor`. Returns false if no key is allowed.
bool softmax_row(const Mask& mask, int i, int m, const float* scores, float factor, float* out, float& row_max,
                 float& row_sum) {
    int lo = 0, hi = 0;
    mask.key_range(i, m, lo, hi);
    const bool dense_band = mask.type == MaskType::None || mask.type == MaskType::Causal ||
                            mask.type == MaskType::SlidingWindow;
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
    if (s.positional != Positional::None) e += positional_encoding(s.positional, seq.size(), s.d_model, s.seed);
    return e;
}

void compute_head(const Scene& s, const Forward& f, int h, HeadResult& r, std::vector<int>* fully_masked) {
    const auto& hw = s.heads[static_cast<std::size_t>(h)];
    const int n = s.n(), m = s.m();
    // (1) projections
    r.Q.noalias() = f.E * hw.W[kQuery];
    r.K.noalias() = f.X * hw.W[kKey];
    r.V.noalias() = f.X * hw.W[kValue];
    // (2) raw scores
    r.scores.resize(n, m);
    if (n > 0 && m > 0) r.scores.noalias() = r.Q * r.K.transpose();
    // (3)–(5) masked, numerically stable softmax per row
    r.pattern.resize(n, m);
    r.row_max.assign(static_cast<std::size_t>(n), 0.0f);
    r.row_sum.assign(static_cast<std::size_t>(n), 0.0f);
    const float factor = s.logit_factor();
    for (int i = 0; i < n; ++i) {
        const bool ok = softmax_row(s.mask, i, m, r.scores.row(i).data(), factor, r.pattern.row(i).data(),
                                    r.row_max[static_cast<std::size_t>(i)], r.row_sum[static_cast<std::size_t>(i)]);
        if (!ok && fully_masked) fully_masked->push_back(i);
    }
    // (6) weighted sum of values, (7) this head's slice of W_O
    r.mixed.resize(n, s.d_head);
    if (m > 0) r.mixed.noalias() = r.pattern * r.V;
    else r.mixed.setZero();
    r.delta.noalias() = r.mixed * s.W_O.middleRows(static_cast<Eigen::Index>(h) * s.d_head, s.d_head);
}

void sum_heads(const Scene& s, Forward& f) {
    f.delta = Mat::Zero(s.n(), s.d_model);
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

Forward forward(const Scene& s) {
    Forward f;
    f.E = with_positional(s.input, s);
    f.X = s.source ? with_positional(*s.source, s) : f.E;
    f.logit_factor = s.logit_factor();
    f.heads.resize(static_cast<std::size_t>(s.n_heads));
    for (int h = 0; h < s.n_heads; ++h)
        compute_head(s, f, h, f.heads[static_cast<std::size_t>(h)], h == 0 ? &f.fully_masked_rows : nullptr);
    sum_heads(s, f);
    return f;
}

void recompute_head(const Scene& s, Forward& f, int h) {
    f.heads.resize(static_cast<std::size_t>(s.n_heads));
    f.fully_masked_rows.clear();
    compute_head(s, f, h, f.heads[static_cast<std::size_t>(h)], &f.fully_masked_rows);
    sum_heads(s, f);
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
