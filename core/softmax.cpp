// attnviz core — the one row softmax (see softmax.hpp). Built with -ffp-contract=off.
#include "softmax.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attnviz {
namespace {

template <class T>
struct Stats {
    T max = 0, sum = 0;
    int argmax = -1;
};

// Passes (3)–(5) over `count` entries; ok(k) says whether entry k takes part.
template <class T, class Ok>
Stats<T> softmax_core(int count, const T* scores, T factor, Ok ok, T* out) {
    constexpr T inf = std::numeric_limits<T>::infinity();
    // (3) every logit once, stored; the max of the stored values
    for (int k = 0; k < count; ++k) out[k] = scores[k] * factor;
    T mx = -inf;
    int arg = -1;
    for (int k = 0; k < count; ++k)
        if (ok(k) && (arg < 0 || out[k] > mx)) {
            mx = out[k];
            arg = k;
        }
    Stats<T> st;
    if (arg < 0) {  // no allowed key
        std::fill(out, out + count, T(0));
        return st;
    }
    if (std::isinf(mx)) {
        // Logits overflowed: the softmax's limit, an equal share among the keys tied at the max.
        int tied = 0;
        for (int k = 0; k < count; ++k) {
            const bool top = ok(k) && out[k] == mx;
            out[k] = top ? T(1) : T(0);
            tied += top ? 1 : 0;
        }
        for (int k = 0; k < count; ++k) out[k] /= static_cast<T>(tied);
        st.max = mx;
        st.sum = static_cast<T>(tied);
        st.argmax = arg;
        return st;
    }
    // (4) exp(logit − max) of the same stored logits: every exponent ≤ 0
    T sum = 0;
    for (int k = 0; k < count; ++k) {
        out[k] = ok(k) ? std::exp(out[k] - mx) : T(0);
        sum += out[k];
    }
    // (5) normalise; sum ≥ 1 (the max entry contributes exp(0))
    const T inv = T(1) / sum;
    for (int k = 0; k < count; ++k) out[k] *= inv;
    st.max = mx;
    st.sum = sum;
    st.argmax = arg;
    return st;
}

// Every entry allowed, vectorised by Eigen (a dense band: no mask, causal, sliding window).
Stats<float> softmax_dense(int count, const float* scores, float factor, float* out) {
    Stats<float> st;
    if (count <= 0) return st;
    Eigen::Map<const Eigen::ArrayXf> x(scores, count);
    Eigen::Map<Eigen::ArrayXf> p(out, count);
    p = x * factor;  // (3) the logits, stored
    const float mx = p.maxCoeff();
    // The first index holding the max: one SIMD packet at a time (Eigen's packet compare; GCC left a
    // plain loop scalar, and the scan cost a third of the softmax at m = 1024), then one by one
    // inside that packet. A NaN never compares equal, as in the scalar scan.
    namespace ei = Eigen::internal;
    using Packet = ei::packet_traits<float>::type;
    constexpr int kLanes = ei::packet_traits<float>::size;
    const Packet vmx = ei::pset1<Packet>(mx);
    int arg = 0;
    for (; arg + kLanes <= count; arg += kLanes)
        if (ei::predux_any(ei::pcmp_eq(ei::ploadu<Packet>(out + arg), vmx))) break;
    arg = std::min(arg, count - 1);  // no hit at all (a NaN max): the last index, as the scalar scan gave
    while (arg < count - 1 && out[arg] != mx) ++arg;
    if (std::isinf(mx)) {
        p = (p == mx).cast<float>();
        const float tied = p.sum();
        p *= 1.0f / tied;
        st.max = mx;
        st.sum = tied;
        st.argmax = arg;
        return st;
    }
    p = (p - mx).exp();  // (4) from the same stored logits
    const float sum = p.sum();
    p *= 1.0f / sum;  // (5)
    st.max = mx;
    st.sum = sum;
    st.argmax = arg;
    return st;
}

SoftmaxStats to_public(const Stats<float>& s, int offset) {
    SoftmaxStats r;
    r.max = s.max;
    r.sum = s.sum;
    r.argmax = s.argmax < 0 ? -1 : s.argmax + offset;
    return r;
}

}  // namespace

float logit(float score, float factor) {
    volatile float l = score * factor;  // stored: rounded to float whatever the caller fuses
    return l;
}

SoftmaxStats softmax_row(const Mask& mask, int i, int first, int last, const float* scores, float factor, float* out) {
    if (last < first) return {};
    int lo = 0, hi = 0;
    mask.key_range(i, last + 1, lo, hi);
    lo = std::max(lo, first);
    hi = std::min(hi, last);
    const int width = last - first + 1;
    if (hi < lo) {
        std::fill(out, out + width, 0.0f);
        return {};
    }
    std::fill(out, out + (lo - first), 0.0f);
    std::fill(out + (hi - first) + 1, out + width, 0.0f);
    const float* x = scores + (lo - first);
    float* p = out + (lo - first);
    const int count = hi - lo + 1;
    if (mask.dense_band()) return to_public(softmax_dense(count, x, factor, p), lo);
    return to_public(softmax_core<float>(count, x, factor, [&](int k) { return mask.allows(i, lo + k); }, p), lo);
}

SoftmaxStats softmax_row(int count, const float* scores, float factor, const std::uint8_t* allowed, float* out) {
    if (count <= 0) return {};
    if (!allowed) return to_public(softmax_dense(count, scores, factor, out), 0);
    return to_public(softmax_core<float>(count, scores, factor, [&](int k) { return allowed[k] != 0; }, out), 0);
}

SoftmaxStatsD softmax_row(int count, const double* scores, double factor, const std::uint8_t* allowed, double* out) {
    if (count <= 0) return {};
    const auto st = softmax_core<double>(count, scores, factor, [&](int k) { return !allowed || allowed[k] != 0; }, out);
    SoftmaxStatsD r;
    r.max = st.max;
    r.sum = st.sum;
    r.argmax = st.argmax;
    return r;
}

float softmax_term(float l, float row_max) {
    if (std::isinf(row_max)) return l == row_max ? 1.0f : 0.0f;
    return std::exp(std::min(l - row_max, 0.0f));
}

float softmax_weight(float score, float factor, float row_max, float row_sum, bool is_argmax) {
    if (row_sum == 0.0f) return 0.0f;
    if (is_argmax) return 1.0f / row_sum;
    return softmax_term(logit(score, factor), row_max) / row_sum;
}

void softmax_weights(float* scores, int count, float factor, float row_max, float row_sum, int argmax) {
    if (count <= 0) return;
    Eigen::Map<Eigen::ArrayXf> x(scores, count);
    if (row_sum == 0.0f) {
        x.setZero();
        return;
    }
    x *= factor;  // the logits, stored (rounded as softmax_row rounded them)
    if (std::isinf(row_max)) {
        x = (x == row_max).cast<float>() * (1.0f / row_sum);
        return;
    }
    const float mx = argmax >= 0 && argmax < count && std::isfinite(x[argmax]) ? x[argmax] : row_max;
    x = (x - mx).min(0.0f).exp() * (1.0f / row_sum);
}

}  // namespace attnviz
