// attnviz core — 2-D projections for the embedding-shift and query–key plots.
//
// Everything a plot needs in numbers, computed from a Forward (engine.hpp); the front end only
// draws the 2-D points this returns. Row-vector convention: a point is a row, p = (x − mean)·axes.
//
//   pca_plane      principal components of a point set (centre, covariance, top-2 eigenvectors)
//   dims_plane     "pick two dimensions": axis 0 = e_dim_x, axis 1 = e_dim_y, no centring
//   shift_plot     E and E' = E + ΔE in one plane (PCA of E and E' stacked), and the chain
//                  E, E+ΔE_h1, E+ΔE_h1+ΔE_h2, … of the heads that are switched on
//   delta_norms    the per-token × per-head table of ‖ΔE_h‖
//   qk_plot        every q and k vector of one head in one plane (as AttentionViz does)
#pragma once

#include <vector>

#include "engine.hpp"
#include "types.hpp"

namespace attnviz {

// A linear map from d-dimensional row vectors to the plane.
struct PlaneProjection {
    RowVec mean;                      // (1, d) subtracted before projecting (zero for dims_plane)
    Mat axes;                         // (d, 2) column c = unit direction of plot axis c (or zero)
    float variance[2] = {0, 0};       // variance of the fitted points along each axis (PCA only)
    float total_variance = 0;         // trace of their covariance (PCA only): variance[c] / total
                                      // is the share of the spread the axis shows
    // (N, d) points → (N, 2) plot coordinates.
    Mat apply(const Mat& points) const;
};

// PCA of the rows of `points` (N, d). Covariance = (1/N)·Σ (x − mean)ᵀ(x − mean) (population).
// Axis 0 is the direction of largest variance, axis 1 the next. Sign convention (deterministic):
// the entry of largest magnitude of each axis is positive (on a tie, the first such entry).
// d == 1: axis 1 is zero. No points, or no spread at all: the first two coordinate axes.
PlaneProjection pca_plane(const Mat& points);

// Plot axis 0 = dimension dim_x, axis 1 = dimension dim_y of a d-dimensional space.
// Throws SceneError("dims", …) when a dimension is outside 0 … d−1.
PlaneProjection dims_plane(int d, int dim_x, int dim_y);

// Pca: PCA of E and E' stacked. Dims: two picked dimensions. ShiftPca: the plane of the largest
// shifts (PCA of the rows of ΔE), centred on the mean of E and E' — shows where the shifts point.
enum class PlaneMode { Pca, Dims, ShiftPca };

// ‖ΔE_h row i‖₂ for every token i and head h: (n, n_heads).
Mat delta_norms(const Forward& f);

struct ShiftPlot {
    PlaneProjection plane;            // fitted to E and E' stacked (PCA), to ΔE, or the picked dims
    Mat before;                       // (n, 2) E projected
    Mat after;                        // (n, 2) E' = E + ΔE projected (all heads; E + k·ΔE if magnified)
    std::vector<int> chain_heads;     // the heads switched on, in head order
    std::vector<Mat> chain;           // chain_heads.size() + 1 entries, each (n, 2):
                                      // chain[0] = E, chain[k] = E + Σ_{first k heads on} ΔE_h
    Mat norms;                        // (n, n_heads) delta_norms(f)
};

// heads_on[h] switches head h's link in the chain (missing entries count as on).
// `magnify` draws every shift k times longer (after = E + k·ΔE, chain links k·ΔE_h) so small
// shifts can be seen; the plane is always fitted to the true E and E'. Throws SceneError
// ("magnify") unless k is finite and > 0.
ShiftPlot shift_plot(const Forward& f, const std::vector<bool>& heads_on, PlaneMode mode = PlaneMode::Pca,
                     int dim_x = 0, int dim_y = 1, float magnify = 1.0f);

struct QKOptions {
    // Translate every key by (mean q − mean k) so both clouds share a centre. q·(k + c) = q·k + q·c
    // adds the same number to a whole row of scores, so the softmax pattern is unchanged.
    bool center_keys = true;
    // Then scale queries by s and keys by 1/s so their mean norms match; q·k is unchanged.
    bool balance_norms = true;
};

struct QKPlot {
    PlaneProjection plane;            // PCA of the adjusted queries and keys stacked
    Mat queries;                      // (n, 2)
    Mat keys;                         // (m, 2)
    RowVec key_shift;                 // (1, d_head) added to every key before scaling
    float query_scale = 1.0f;         // queries were multiplied by this, keys divided by it
};

QKPlot qk_plot(const HeadResult& h, const QKOptions& opt = {});

}  // namespace attnviz
