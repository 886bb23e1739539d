// An independent oracle for forward(): the layer written out as plain loops in double precision
// (embeddings + positional encoding, Q = E·W_Q, K = X·W_K, V = X·W_V, logits = q·k/√d_head/T,
// a softmax over each row's allowed keys, ΔE = Σ_h pattern_h·V_h·W_O_h, E' = E + ΔE), with the
// mask rules written here again from their definitions. Tiles, incremental updates and the
// history are checked against forward(); this checks forward() on a mid-size scene
// (n = 96, d_model 32, 4 heads) for every mask type and for cross-attention.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine.hpp"
#include "helpers.hpp"

using namespace attnviz;

namespace {

using Grid = std::vector<std::vector<double>>;
Grid zeros(int r, int c) { return Grid(static_cast<std::size_t>(r), std::vector<double>(static_cast<std::size_t>(c), 0.0)); }

// sin/cos(pos / 10000^(2i/d_model)): sin in even dimensions, cos in odd ones (Vaswani et al. 2017).
Grid embed(const Mat& emb, bool sinusoidal) {
    const int n = static_cast<int>(emb.rows()), d = static_cast<int>(emb.cols());
    Grid e = zeros(n, d);
    for (int p = 0; p < n; ++p)
        for (int k = 0; k < d; ++k) {
            const double angle = p / std::pow(10000.0, static_cast<double>(k - k % 2) / d);
            e[p][k] = emb(p, k) + (sinusoidal ? (k % 2 == 0 ? std::sin(angle) : std::cos(angle)) : 0.0);
        }
    return e;
}

Grid times(const Grid& a, const Mat& w) {  // (r, d) · (d, c)
    const int r = static_cast<int>(a.size()), d = static_cast<int>(w.rows()), c = static_cast<int>(w.cols());
    Grid out = zeros(r, c);
    for (int i = 0; i < r; ++i)
        for (int j = 0; j < c; ++j) {
            double acc = 0.0;
            for (int k = 0; k < d; ++k) acc += a[i][k] * w(k, j);
            out[i][j] = acc;
        }
    return out;
}

// The mask rules, from their definitions (scene.hpp's documentation): query i, key j.
bool may_see(const std::string& type, int size, const std::vector<std::uint8_t>& matrix, int m, int i, int j) {
    if (type == "none") return true;
    if (type == "causal") return j <= i;
    if (type == "sliding_window") return j <= i && i - j < size;                       // the last `size` keys
    if (type == "strided") return j <= i && (i - j < size || (i - j) % size == 0);     // local + every size-th
    if (type == "fixed") return j <= i && (j / size == i / size || j % size == size - 1);  // own block + summaries
    return matrix[static_cast<std::size_t>(i) * m + j] != 0;                           // "matrix"
}

struct Reference {
    std::vector<Grid> scores, pattern;  // per head, (n, m); scores only where allowed
    Grid output;                         // (n, d_model)
    std::vector<int> fully_masked;
};

Reference reference(const Scene& s, const std::string& type, const std::vector<std::uint8_t>& matrix, bool sinusoidal) {
    const int n = s.n(), m = s.m(), dh = s.d_head, dm = s.d_model;
    const Grid E = embed(s.input.embeddings, sinusoidal);
    const Grid X = s.source ? embed(s.source->embeddings, sinusoidal) : E;
    const double factor = (s.scale ? 1.0 / std::sqrt(static_cast<double>(dh)) : 1.0) / s.temperature;
    Reference r;
    r.output = E;
    for (int i = 0; i < n; ++i) {
        bool any = false;
        for (int j = 0; j < m; ++j) any = any || may_see(type, s.mask.size, matrix, m, i, j);
        if (!any) r.fully_masked.push_back(i);
    }
    for (int h = 0; h < s.n_heads; ++h) {
        const auto& W = s.heads[static_cast<std::size_t>(h)].W;
        const Grid Q = times(E, W[kQuery]), K = times(X, W[kKey]), V = times(X, W[kValue]);
        Grid sc = zeros(n, m), pat = zeros(n, m);
        for (int i = 0; i < n; ++i) {
            double mx = -INFINITY;
            for (int j = 0; j < m; ++j) {
                double dot = 0.0;
                for (int k = 0; k < dh; ++k) dot += Q[i][k] * K[j][k];
                sc[i][j] = dot;
                if (may_see(type, s.mask.size, matrix, m, i, j)) mx = std::max(mx, dot * factor);
            }
            double sum = 0.0;
            for (int j = 0; j < m; ++j)
                if (may_see(type, s.mask.size, matrix, m, i, j)) sum += pat[i][j] = std::exp(sc[i][j] * factor - mx);
            for (int j = 0; j < m; ++j) pat[i][j] = sum > 0.0 ? pat[i][j] / sum : 0.0;
        }
        // ΔE_h = (pattern · V) · W_O rows [h·d_head, (h+1)·d_head)
        for (int i = 0; i < n; ++i) {
            std::vector<double> mixed(static_cast<std::size_t>(dh), 0.0);
            for (int j = 0; j < m; ++j)
                for (int k = 0; k < dh; ++k) mixed[k] += pat[i][j] * V[j][k];
            for (int c = 0; c < dm; ++c) {
                double acc = 0.0;
                for (int k = 0; k < dh; ++k) acc += mixed[k] * s.W_O(h * dh + k, c);
                r.output[i][c] += acc;
            }
        }
        r.scores.push_back(std::move(sc));
        r.pattern.push_back(std::move(pat));
    }
    return r;
}

std::vector<std::string> words(int count, const char* stem) {
    std::vector<std::string> w;
    const char* pool[] = {"the", "fluffy", "blue", "creature", "roamed", "verdant", "forest", "owl", "it", "saw"};
    for (int i = 0; i < count; ++i) w.push_back(std::string(pool[(i * 7 + i / 3) % 10]) + stem + std::to_string(i % 13));
    return w;
}

void check_against_reference(const Scene& s, const std::string& type, const std::vector<std::uint8_t>& matrix, bool sinusoidal) {
    const Forward f = forward(s);
    const Reference r = reference(s, type, matrix, sinusoidal);
    const int n = s.n(), m = s.m();
    double worst_pattern = 0, worst_score = 0, worst_out = 0;
    int masked_nonzero = 0;
    for (int h = 0; h < s.n_heads; ++h) {
        const HeadResult& hr = f.heads[static_cast<std::size_t>(h)];
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < m; ++j) {
                worst_pattern = std::max(worst_pattern, std::abs(hr.pattern(i, j) - r.pattern[h][i][j]));
                if (may_see(type, s.mask.size, matrix, m, i, j))
                    worst_score = std::max(worst_score, std::abs(hr.scores(i, j) - r.scores[h][i][j]) / (1.0 + std::abs(r.scores[h][i][j])));
                else if (hr.pattern(i, j) != 0.0f)
                    ++masked_nonzero;
            }
    }
    for (int i = 0; i < n; ++i)
        for (int c = 0; c < s.d_model; ++c)
            worst_out = std::max(worst_out, std::abs(f.output(i, c) - r.output[i][c]) / (1.0 + std::abs(r.output[i][c])));
    INFO("mask " << type << std::string(s.cross() ? " (cross-attention)" : ""));
    CHECK(worst_pattern < 2e-5);
    CHECK(worst_score < 2e-5);
    CHECK(worst_out < 2e-5);
    CHECK(masked_nonzero == 0);
    CHECK(f.fully_masked_rows == r.fully_masked);
}

}  // namespace

TEST_CASE("forward() equals a plain double-precision reference on a mid-size scene, for every mask") {
    const int n = 96;
    Scene s = make_scene(words(n, ""), 32, 4, 8, 2024);
    set_positional(s, Positional::Sinusoidal);
    set_temperature(s, 0.7f);
    struct Case {
        std::string type;
        Mask mask;
    };
    // an explicit matrix: a pseudo-random pattern with two queries that may see nothing
    std::vector<std::uint8_t> allowed(static_cast<std::size_t>(n) * n);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) allowed[static_cast<std::size_t>(i) * n + j] = (i * 31 + j * 17) % 5 < 2 && i != 5 && i != 77;
    const std::vector<Case> cases = {{"none", Mask::none()},        {"causal", Mask::causal()}, {"sliding_window", Mask::sliding_window(7)},
                                     {"strided", Mask::strided(5)}, {"fixed", Mask::fixed(8)},  {"matrix", Mask::matrix(n, n, allowed)}};
    for (const Case& c : cases) {
        set_mask(s, c.mask);
        check_against_reference(s, c.type, allowed, true);
    }
}

TEST_CASE("forward() equals the double-precision reference for cross-attention (96 queries, 80 keys)") {
    Scene s = make_scene(words(96, ""), 32, 4, 8, 77);
    set_source_tokens(s, words(80, "s"));
    set_positional(s, Positional::Sinusoidal);
    set_scale(s, false);
    set_temperature(s, 3.0f);
    check_against_reference(s, "none", {}, true);
    // a mask over the cross pattern (96 × 80)
    std::vector<std::uint8_t> allowed(96 * 80);
    for (int i = 0; i < 96; ++i)
        for (int j = 0; j < 80; ++j) allowed[static_cast<std::size_t>(i) * 80 + j] = (i + 3 * j) % 4 != 0;
    set_mask(s, Mask::matrix(96, 80, allowed));
    check_against_reference(s, "matrix", allowed, true);
}
