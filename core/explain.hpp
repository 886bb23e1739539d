// attnviz core — the step-by-step math of one query of one head, and parameter counts.
//
// The math panel of lecture mode walks through the attention formula for the selected query
// token with the real numbers of the current scene:
//
//   (1) q = E_i·W_Q, and each k_j = X_j·W_K, v_j = X_j·W_V
//   (2) s_j = q·k_j
//   (3) l_j = s_j / √d_k / T                  (the scene's logit factor)
//   (4) masked keys: l_j = −∞
//   (5) w_j = exp(l_j − max) / Σ exp(l − max)  (softmax)
//   (6) z = Σ_j w_j·v_j
//   (7) ΔE_h = z·W_O[h]                        (the head's d_head rows of W_O)
//   (8) E'_i = E_i + Σ_h ΔE_h
//
// Steps (2)–(7) are recomputed here for the one row, in double precision, from q and the
// forward pass's K and V (so a wrong engine and a wrong explanation disagree; the tests check
// that they agree). Every step also comes as text lines with the numbers, ready for a panel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine.hpp"
#include "scene.hpp"

namespace attnviz {

struct ExplainStep {
    int number = 0;                  // 1..8
    std::string title;               // "Dot products"
    std::string formula;             // "s_j = q·k_j"
    std::vector<std::string> lines;  // the numbers, one per key or vector ("q·k_1 'fluffy' = 13.2")
};

struct QueryExplanation {
    int head = 0, query = 0;
    std::string query_token;
    std::vector<std::string> key_tokens;   // (m)
    int d_model = 0, d_head = 0;
    bool scaled = true;
    float sqrt_d_k = 1.0f;                 // √d_head
    float temperature = 1.0f;
    float logit_factor = 1.0f;             // (scaled ? 1/√d_k : 1) / T

    RowVec e;            // (d_model) E_i (embedding + positional)
    RowVec q;            // (d_head)  step 1
    Mat K, V;            // (m, d_head) step 1: k_j, v_j as rows
    RowVec dots;         // (m) step 2: q·k_j
    RowVec logits;       // (m) step 3: dots · logit_factor
    std::vector<std::uint8_t> allowed;  // (m) step 4: 1 = the query may see key j
    RowVec masked;       // (m) step 4: logits, −∞ where masked
    float row_max = 0, row_sum = 0;     // step 5: max allowed logit, Σ exp(l − max)
    RowVec weights;      // (m) step 5: the pattern row; masked 0; sums to 1 (or all 0)
    bool fully_masked = false;
    RowVec mixed;        // (d_head) step 6: Σ_j w_j v_j
    Mat W_O_slice;       // (d_head, d_model) step 7: rows h·d_head … (h+1)·d_head − 1 of W_O
    RowVec delta_head;   // (d_model) step 7: ΔE_h of this query
    RowVec delta;        // (d_model) step 8: Σ over all heads of ΔE_h
    RowVec output;       // (d_model) step 8: E'_i

    std::vector<ExplainStep> steps;  // the 8 steps as text
};

// How many lines a step lists at most (one per key); the rest are summarised in one line.
inline constexpr int kExplainMaxLines = 48;

// Explains query `query` of head `head`. `f` must be forward(s). Throws SceneError naming
// "head" or "query" when out of range.
QueryExplanation explain_query(const Scene& s, const Forward& f, int head, int query);

// ---------------------------------------------------------------------------------------------
// Parameter counts of one attention layer (computed; the lecture compares them with arithmetic).
// ---------------------------------------------------------------------------------------------
struct ParameterCounts {
    std::int64_t d_model = 0, n_heads = 0, d_head = 0;
    std::int64_t W_Q_per_head = 0;        // d_model·d_head
    std::int64_t W_K_per_head = 0;        // d_model·d_head
    std::int64_t value_down_per_head = 0; // W_V: d_model·d_head
    std::int64_t value_up_per_head = 0;   // the head's slice of W_O: d_head·d_model
    std::int64_t per_head = 0;            // the four above
    std::int64_t W_Q = 0, W_K = 0, W_V = 0;  // all heads
    std::int64_t W_O = 0;                 // n_heads·d_head·d_model
    std::int64_t total = 0;               // W_Q + W_K + W_V + W_O
    std::int64_t full_value_map = 0;      // d_model² (one un-factored value map)
};
// Throws SceneError naming the size when a size is not positive or the counts overflow.
ParameterCounts parameter_counts(std::int64_t d_model, std::int64_t n_heads, std::int64_t d_head);
ParameterCounts parameter_counts(const Scene& s);

// Head h's value map W_V·W_O[h] (d_model, d_model): what one unit of attention to token j adds,
// ΔE_h,i = Σ_j w_ij · X_j · value_map. Its rank is at most d_head.
Mat value_map(const Scene& s, int head);

// That map and its rank: the singular values of W_V·W_O[h] (computed in double with Eigen's
// JacobiSVD) that exceed `relative_tolerance` × the largest one. At most min(d_head, d_model).
struct ValueMapRank {
    Mat map;                              // (d_model, d_model) value_map(s, head)
    int rank = 0;
    double relative_tolerance = 0;        // the stated tolerance, relative to the largest
    double largest = 0, threshold = 0;    // σ_max, and relative_tolerance · σ_max
    std::vector<double> singular_values;  // (d_model) largest first
};
ValueMapRank value_map_rank(const Scene& s, int head, double relative_tolerance = 1e-9);

// The mean over the rows of a pattern of the row's largest weight: 1/m for uniform rows, 1 for
// one-hot rows (how saturated the softmax is; rows with no allowed key count as 0).
double mean_max_weight(const Mat& pattern);

// "[0.125, -1.5, 3]" with at most `max_entries` numbers, then "… (N more)".
std::string format_vector(const RowVec& v, int max_entries = 8);
// A number with 4 significant digits ("0.1235", "-13.25", "1.2e+06"); "−∞" for -inf.
std::string format_number(double x);
// A heatmap cell's number in at most ~4 characters: 2 decimals, no leading zero, trailing zeros
// trimmed (".33", "-1.5", "12", "0"); ±∞ as "∞" / "−∞". The one cell formatter (SVG figures and the
// presentation view).
std::string format_cell(double x);
// 1572864 → "1,572,864".
std::string format_count(std::int64_t n);

}  // namespace attnviz
