#include "explain.hpp"

#include <Eigen/SVD>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "softmax.hpp"
#include "text.hpp"

namespace attnviz {
namespace {

std::string quoted(const std::string& token) { return "'" + token + "'"; }

// Lines for one per-key quantity, at most kExplainMaxLines of them.
template <class F>
void key_lines(ExplainStep& st, int m, F&& line) {
    const int shown = std::min(m, kExplainMaxLines);
    for (int j = 0; j < shown; ++j) st.lines.push_back(line(j));
    if (m > shown) st.lines.push_back("… " + count_noun(m - shown, "more key", "more keys") + " (of " + format_count(m) + ") not listed");
}

std::int64_t mul_checked(std::int64_t a, std::int64_t b, const char* what) {
    std::int64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r)) throw SceneError(what, "parameter count overflows 64 bits");
    return r;
}

}  // namespace

std::string format_number(double x) {
    if (std::isinf(x)) return x < 0 ? "−∞" : "∞";
    if (std::isnan(x)) return "nan";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", x);
    std::string s = buf;
    if (s == "-0") s = "0";
    return s;
}

std::string format_cell(double x) {
    if (std::isinf(x)) return x < 0 ? "−∞" : "∞";
    if (std::isnan(x)) return "nan";
    char buf[32];
    const double a = std::fabs(x);
    if (a >= 99.5) std::snprintf(buf, sizeof buf, "%.3g", x);
    else if (a >= 9.95) std::snprintf(buf, sizeof buf, "%.0f", x);
    else if (a >= 0.995) std::snprintf(buf, sizeof buf, "%.1f", x);
    else std::snprintf(buf, sizeof buf, "%.2f", x);
    // Trim trailing zeros of a plain decimal ("1.0" → "1", "0.50" → "0.5").
    std::size_t len = std::strlen(buf);
    if (std::strchr(buf, '.') && !std::strchr(buf, 'e')) {
        while (len > 0 && buf[len - 1] == '0') buf[--len] = 0;
        if (len > 0 && buf[len - 1] == '.') buf[--len] = 0;
    }
    // Drop the leading zero ("0.33" → ".33", "-0.33" → "-.33").
    const bool neg = buf[0] == '-';
    const char* digits = buf + (neg ? 1 : 0);
    char out[34];
    if (digits[0] == '0' && digits[1] == '.') std::snprintf(out, sizeof out, "%s%s", neg ? "-" : "", digits + 1);
    else std::snprintf(out, sizeof out, "%s", buf);
    if (std::strcmp(out, "-0") == 0 || out[0] == 0 || std::strcmp(out, "-") == 0) return "0";
    return out;
}

std::string format_vector(const RowVec& v, int max_entries) {
    std::string s = "[";
    const int n = static_cast<int>(v.size());
    const int shown = std::min(n, std::max(max_entries, 1));
    for (int i = 0; i < shown; ++i) {
        if (i) s += ", ";
        s += format_number(v[i]);
    }
    if (n > shown) s += ", … (" + std::to_string(n - shown) + " more)";
    return s + "]";
}

std::string format_count(std::int64_t n) {
    std::string digits = std::to_string(n < 0 ? -n : n);
    std::string out;
    const int len = static_cast<int>(digits.size());
    for (int i = 0; i < len; ++i) {
        if (i && (len - i) % 3 == 0) out += ',';
        out += digits[static_cast<std::size_t>(i)];
    }
    return n < 0 ? "-" + out : out;
}

QueryExplanation explain_query(const Scene& s, const Forward& f, int head, int query) {
    if (head < 0 || head >= s.n_heads || head >= static_cast<int>(f.heads.size()))
        throw SceneError("head", "head " + std::to_string(head) + " is out of range 0.." + std::to_string(s.n_heads - 1));
    if (query < 0 || query >= s.n())
        throw SceneError("query", "query " + std::to_string(query) + " is out of range 0.." + std::to_string(s.n() - 1));
    const HeadResult& hr = f.heads[static_cast<std::size_t>(head)];
    const int m = s.m();
    const std::vector<Token>& keys = s.source ? s.source->tokens : s.input.tokens;

    QueryExplanation x;
    x.head = head;
    x.query = query;
    x.query_token = s.input.tokens[static_cast<std::size_t>(query)].text;
    for (const Token& t : keys) x.key_tokens.push_back(t.text);
    x.d_model = s.d_model;
    x.d_head = s.d_head;
    x.scaled = s.scale;
    x.sqrt_d_k = std::sqrt(static_cast<float>(s.d_head));
    x.temperature = s.temperature;
    x.logit_factor = s.logit_factor();

    // (1) q from the embedding row; k_j and v_j are the forward pass's rows.
    const Mat& W_Q = s.heads[static_cast<std::size_t>(head)].W[kQuery];
    x.e = f.E.row(query);
    x.q = (x.e.cast<double>() * W_Q.cast<double>()).cast<float>();
    x.K = hr.K;
    x.V = hr.V;

    // (2) dot products, (3) scale and temperature, (4) mask — in double.
    x.dots.resize(m);
    x.logits.resize(m);
    x.masked.resize(m);
    x.allowed.resize(static_cast<std::size_t>(m));
    std::vector<double> dots(static_cast<std::size_t>(m));  // (m) q·k_j in double
    for (int j = 0; j < m; ++j) {
        double dot = 0;
        for (int c = 0; c < s.d_head; ++c) dot += static_cast<double>(x.q[c]) * static_cast<double>(x.K(j, c));
        dots[static_cast<std::size_t>(j)] = dot;
        x.dots[j] = static_cast<float>(dot);
        x.logits[j] = static_cast<float>(dot * static_cast<double>(x.logit_factor));
        const bool ok = s.mask.allows(query, j);
        x.allowed[static_cast<std::size_t>(j)] = ok ? 1 : 0;
        x.masked[j] = ok ? x.logits[j] : -std::numeric_limits<float>::infinity();
    }
    // (5) softmax over the allowed keys: the engine's row softmax (softmax.hpp), in double.
    std::vector<double> w(static_cast<std::size_t>(m));  // (m)
    const SoftmaxStatsD st =
        softmax_row(m, dots.data(), static_cast<double>(x.logit_factor), x.allowed.data(), w.data());
    x.weights = RowVec::Zero(m);
    x.fully_masked = st.argmax < 0;
    if (!x.fully_masked) {
        for (int j = 0; j < m; ++j) x.weights[j] = static_cast<float>(w[static_cast<std::size_t>(j)]);
        x.row_max = static_cast<float>(st.max);
        x.row_sum = static_cast<float>(st.sum);
    }
    // (6) weighted sum of the values.
    Eigen::Matrix<double, 1, Eigen::Dynamic> z = Eigen::Matrix<double, 1, Eigen::Dynamic>::Zero(s.d_head);
    for (int j = 0; j < m; ++j)
        if (x.weights[j] != 0.0f) z += static_cast<double>(x.weights[j]) * x.V.row(j).cast<double>();
    x.mixed = z.cast<float>();
    // (7) the head's slice of W_O.
    x.W_O_slice = s.W_O.middleRows(static_cast<Eigen::Index>(head) * s.d_head, s.d_head);
    x.delta_head = (z * x.W_O_slice.cast<double>()).cast<float>();
    // (8) every head's ΔE for this row, and E'.
    x.delta = f.delta.row(query);
    x.output = f.output.row(query);

    // ---- the same as text ----
    const std::string qt = quoted(x.query_token);
    auto key = [&](int j) { return std::to_string(j) + " " + quoted(x.key_tokens[static_cast<std::size_t>(j)]); };
    {
        ExplainStep st{1, "Query, keys and values", "q = E_i·W_Q,  k_j = X_j·W_K,  v_j = X_j·W_V", {}};
        st.lines.push_back("q " + qt + " = " + format_vector(x.q));
        key_lines(st, m, [&](int j) { return "k_" + key(j) + " = " + format_vector(x.K.row(j)); });
        key_lines(st, m, [&](int j) { return "v_" + key(j) + " = " + format_vector(x.V.row(j)); });
        x.steps.push_back(std::move(st));
    }
    {
        ExplainStep st{2, "Dot products: how well each key answers the query", "s_j = q·k_j", {}};
        key_lines(st, m, [&](int j) { return "q·k_" + key(j) + " = " + format_number(x.dots[j]); });
        x.steps.push_back(std::move(st));
    }
    {
        std::string formula = x.scaled ? "l_j = s_j / √d_k" : "l_j = s_j  (scaling off)";
        if (x.temperature != 1.0f) formula += " / T";
        formula += "   (";
        if (x.scaled) formula += "√" + std::to_string(x.d_head) + " = " + format_number(x.sqrt_d_k);
        if (x.temperature != 1.0f) formula += std::string(x.scaled ? ", " : "") + "T = " + format_number(x.temperature);
        formula += x.scaled || x.temperature != 1.0f ? "; × " + format_number(x.logit_factor) + ")" : "factor 1)";
        ExplainStep st{3, "Scale", formula, {}};
        key_lines(st, m, [&](int j) {
            return "l_" + key(j) + " = " + format_number(x.dots[j]) + " × " + format_number(x.logit_factor) + " = " +
                   format_number(x.logits[j]);
        });
        x.steps.push_back(std::move(st));
    }
    {
        ExplainStep st{4, "Mask: keys this query may not see get −∞", std::string("mask: ") + mask_words(s.mask.type), {}};
        int n_allowed = 0;
        for (auto a : x.allowed) n_allowed += a;
        st.lines.push_back(format_count(n_allowed) + " of " + count_noun(m, "key") + " allowed");
        key_lines(st, m, [&](int j) {
            return "l_" + key(j) + " = " + (x.allowed[static_cast<std::size_t>(j)] ? format_number(x.masked[j]) : "−∞ (masked)");
        });
        x.steps.push_back(std::move(st));
    }
    {
        ExplainStep st{5, "Softmax: weights that sum to 1", "w_j = exp(l_j − max) / Σ_k exp(l_k − max)", {}};
        if (x.fully_masked) {
            st.lines.push_back("no key is allowed: every weight is 0");
        } else {
            st.lines.push_back("max = " + format_number(x.row_max) + ",  Σ exp(l − max) = " + format_number(x.row_sum));
            key_lines(st, m, [&](int j) { return "w_" + key(j) + " = " + format_number(x.weights[j]); });
        }
        x.steps.push_back(std::move(st));
    }
    {
        ExplainStep st{6, "Weighted sum of the values", "z = Σ_j w_j·v_j", {}};
        st.lines.push_back("z = " + format_vector(x.mixed));
        // The largest terms of the sum, by weight: "= 0.651·v_2 'blue' + 0.348·v_1 'fluffy' + …".
        std::vector<int> order;
        for (int j = 0; j < m; ++j)
            if (x.weights[j] > 0.0f) order.push_back(j);
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return x.weights[a] > x.weights[b]; });
        if (!order.empty()) {
            std::string terms = "  = ";
            const std::size_t shown = std::min<std::size_t>(order.size(), 4);
            for (std::size_t k = 0; k < shown; ++k) {
                const int j = order[k];
                terms += (k ? " + " : "") + format_number(x.weights[j]) + "·v_" + key(j);
            }
            if (order.size() > shown) terms += " + …";
            st.lines.push_back(terms);
        }
        x.steps.push_back(std::move(st));
    }
    {
        ExplainStep st{7, "Back to the embedding space: this head's slice of W_O",
                       "ΔE_h = z·W_O[h]   (W_O rows " + std::to_string(head * s.d_head) + "…" +
                           std::to_string((head + 1) * s.d_head - 1) + ")",
                       {}};
        st.lines.push_back("ΔE_" + std::to_string(head) + " = " + format_vector(x.delta_head, 16));
        x.steps.push_back(std::move(st));
    }
    {
        ExplainStep st{8, "The new embedding", head_sum_formula(s.n_heads), {}};
        st.lines.push_back("E_i  = " + format_vector(x.e, 16));
        st.lines.push_back("ΔE   = " + format_vector(x.delta, 16));
        st.lines.push_back("E'_i = " + format_vector(x.output, 16));
        x.steps.push_back(std::move(st));
    }
    return x;
}

ParameterCounts parameter_counts(std::int64_t d_model, std::int64_t n_heads, std::int64_t d_head) {
    if (d_model <= 0) throw SceneError("d_model", "expected a positive size, got " + std::to_string(d_model));
    if (n_heads <= 0) throw SceneError("n_heads", "expected a positive size, got " + std::to_string(n_heads));
    if (d_head <= 0) throw SceneError("d_head", "expected a positive size, got " + std::to_string(d_head));
    ParameterCounts c;
    c.d_model = d_model;
    c.n_heads = n_heads;
    c.d_head = d_head;
    c.W_Q_per_head = mul_checked(d_model, d_head, "d_head");
    c.W_K_per_head = c.W_Q_per_head;
    c.value_down_per_head = c.W_Q_per_head;
    c.value_up_per_head = mul_checked(d_head, d_model, "d_head");
    c.per_head = mul_checked(c.W_Q_per_head, 4, "d_head");
    c.W_Q = mul_checked(c.W_Q_per_head, n_heads, "n_heads");
    c.W_K = c.W_Q;
    c.W_V = c.W_Q;
    c.W_O = mul_checked(mul_checked(n_heads, d_head, "n_heads"), d_model, "n_heads");
    c.total = mul_checked(c.per_head, n_heads, "n_heads");
    c.full_value_map = mul_checked(d_model, d_model, "d_model");
    return c;
}

ParameterCounts parameter_counts(const Scene& s) { return parameter_counts(s.d_model, s.n_heads, s.d_head); }

double mean_max_weight(const Mat& pattern) {
    if (pattern.rows() == 0 || pattern.cols() == 0) return 0.0;
    double total = 0;
    for (Eigen::Index i = 0; i < pattern.rows(); ++i) total += pattern.row(i).maxCoeff();
    return total / static_cast<double>(pattern.rows());
}

Mat value_map(const Scene& s, int head) {
    if (head < 0 || head >= s.n_heads)
        throw SceneError("head", "head " + std::to_string(head) + " is out of range 0.." + std::to_string(s.n_heads - 1));
    return s.heads[static_cast<std::size_t>(head)].W[kValue] *
           s.W_O.middleRows(static_cast<Eigen::Index>(head) * s.d_head, s.d_head);
}

}  // namespace attnviz

namespace attnviz {

ValueMapRank value_map_rank(const Scene& s, int head, double relative_tolerance) {
    ValueMapRank r;
    r.map = value_map(s, head);
    r.relative_tolerance = relative_tolerance;
    // In double: the product of the float weights, whose exact rank is at most d_head.
    const Eigen::MatrixXd W_V = s.heads[static_cast<std::size_t>(head)].W[kValue].cast<double>();  // (d_model, d_head)
    const Eigen::MatrixXd W_O_h =
        s.W_O.middleRows(static_cast<Eigen::Index>(head) * s.d_head, s.d_head).cast<double>();  // (d_head, d_model)
    const Eigen::MatrixXd M = W_V * W_O_h;                                                       // (d_model, d_model)
    const Eigen::JacobiSVD<Eigen::MatrixXd> svd(M);
    const Eigen::VectorXd sv = svd.singularValues();
    r.singular_values.assign(sv.data(), sv.data() + sv.size());
    r.largest = sv.size() ? sv[0] : 0.0;
    r.threshold = relative_tolerance * r.largest;
    r.rank = 0;
    for (Eigen::Index k = 0; k < sv.size(); ++k)
        if (sv[k] > r.threshold && sv[k] > 0.0) ++r.rank;
    return r;
}

}  // namespace attnviz
