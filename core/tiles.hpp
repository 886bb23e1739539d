// attnviz core — attention patterns of long sequences, computed on demand.
//
// A full Forward keeps every (n, m) score and pattern matrix: 12 heads at n = 32,768 would be
// 12 · 32,768² · 4 B · 2 ≈ 103 GB. PatternTiles keeps only what is O(n · d_head) per head —
// Q, K, V, the per-row softmax statistics (row max and row sum, as FlashAttention's online softmax
// does) and pattern·V — about 0.6 GB at n = 32,768, d_model = 768, 12 heads. From these:
//
//   cell(h, i, j)          = exp(f·q_i·k_j − row_max_i) / row_sum_i   (0 where masked)
//   tile(h, r0, c0, R, C)  = the (R, C) block of pattern h, computed now (R·C·d_head multiply-adds)
//   overview(h, w, h)      = the whole pattern pooled (max or mean) into w × h buckets
//   delta_row(i)           = ΔE row i = Σ_h mixed_h,i · W_O[h]
//
// The heavy parts (`build`, `overview`, `delta`) take a Progress: run them on a worker thread
// (std::thread), read `fraction()` from the UI thread, set `cancel` to stop them early. The light
// parts (`cell`, `tile` of a screenful, `delta_row`) take microseconds to milliseconds and are
// meant for the UI thread. Incremental edits (core/incremental.hpp) update the statistics in
// place without recomputing the n × m work.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine.hpp"
#include "scene.hpp"

namespace attnviz {

// Progress and cancel of one heavy call, shared between a worker thread and the UI thread.
struct Progress {
    std::atomic<bool> cancel{false};          // set by anyone: the call stops soon and returns false
    std::atomic<std::int64_t> done{0};        // units finished (rows × heads, or overview rows)
    std::atomic<std::int64_t> total{0};       // units in all (set when the call starts)
    double fraction() const {
        const auto t = total.load();
        return t <= 0 ? 0.0 : static_cast<double>(done.load()) / static_cast<double>(t);
    }
};

// What one head keeps: O(n · d_head), never O(n · m).
struct HeadStats {
    Mat Q;                           // (n, d_head)
    Mat K;                           // (m, d_head)
    Mat V;                           // (m, d_head)
    std::vector<float> row_max;      // (n) largest allowed logit of each row (0 when none allowed)
    std::vector<float> row_sum;      // (n) Σ exp(logit − row_max) over allowed keys (0 when none)
    std::vector<int> row_argmax;     // (n) the key holding row_max (−1 when none allowed)
    Mat mixed;                       // (n, d_head) pattern·V
};

enum class Pool { Max, Mean };

class PatternTiles {
public:
    // Computes every head's statistics from the scene: O(H · n · m · d_head) work, O(H · n · d_head)
    // memory. Returns false (and leaves the object as it was) if cancelled. threads: 0 = every core.
    // Threads: the const functions may run at the same time as each other (an overview on a worker
    // while the UI thread asks for tiles), not at the same time as build or an update.
    // Throws SceneError("tokens", …) before allocating when estimate_bytes(s) exceeds
    // Limits::kMaxTilesBytes (n = 32768, d_model 768, 12 heads: ~490 MiB, allowed).
    bool build(const Scene& s, Progress* progress = nullptr, int threads = 0);
    // What bytes() will be after build(s), computed from the sizes alone.
    static std::size_t estimate_bytes(const Scene& s);

    bool empty() const { return heads_.empty(); }
    int n() const { return n_; }
    int m() const { return m_; }
    int n_heads() const { return static_cast<int>(heads_.size()); }
    int d_model() const { return d_model_; }
    int d_head() const { return d_head_; }
    float logit_factor() const { return factor_; }
    const Mask& mask() const { return mask_; }
    const HeadStats& head(int h) const;
    const Mat& E() const { return E_; }  // (n, d_model) embeddings + positional

    // One pattern cell, exact (0 where masked or the row sees no key). Throws std::out_of_range.
    float cell(int head, int i, int j) const;
    // One raw score q_i·k_j (masked or not).
    float score(int head, int i, int j) const;
    // A (rows, cols) block of pattern `head` starting at (row0, col0); the block must lie inside
    // the (n, m) pattern (throws std::out_of_range naming the bad argument).
    Mat tile(int head, int row0, int col0, int rows, int cols) const;
    // The same block of raw scores q_i·k_j (masked cells included).
    Mat score_tile(int head, int row0, int col0, int rows, int cols) const;
    // The whole pattern pooled into `height` × `width` buckets (clamped to n × m): bucket (y, x)
    // covers rows [y·n/height, (y+1)·n/height) and columns [x·m/width, (x+1)·m/width). Max: the
    // largest weight in the bucket; Mean: the mean over the bucket's cells, masked cells counted
    // as 0. A bucket whose every cell is masked is NaN (drawn as masked, not as weight 0).
    // `head` = −1 pools the average pattern over heads. Heavy (O(n · m · d_head)): returns false
    // if cancelled.
    bool overview(int head, int width, int height, Pool pool, Mat& out, Progress* progress = nullptr,
                  int threads = 0) const;
    // The same for the block [row0, row0 + rows) × [col0, col0 + cols) of the pattern (it must lie
    // inside it; throws std::out_of_range naming the bad argument): `height` × `width` buckets
    // (clamped to 1..rows × 1..cols; an empty block gives a 0 × 0 `out`), bucket (y, x) covering
    // rows row0 + [y·rows/height, (y+1)·rows/height) and columns col0 + [x·cols/width,
    // (x+1)·cols/width). For each 64 rows it computes only the key columns inside both the block
    // and the keys those rows may see (Mask::block_key_range: exact for causal and sliding-window
    // masks, a bound for the others). The whole-pattern overview is row0 = col0 = 0, rows = n,
    // cols = m. Heavy for big blocks: run it on a worker thread.
    bool overview(int head, int row0, int col0, int rows, int cols, int width, int height, Pool pool, Mat& out,
                  Progress* progress = nullptr, int threads = 0) const;
    // The (rows, cols) block of one head at a display stage, as stage_matrix (engine.hpp) gives it
    // for the full forward pass: Raw q_i·k_j; Scaled q_i·k_j · logit_factor(); Masked the scaled
    // value, −∞ where the mask forbids; Pattern tile().
    Mat stage_tile(int head, Stage st, int row0, int col0, int rows, int cols) const;

    // ΔE row i (1, d_model) = Σ_h mixed_h,i · W_O[h·d_head … (h+1)·d_head − 1], and E'_i = E_i + ΔE_i.
    RowVec delta_row(int i) const;
    RowVec output_row(int i) const;
    // ΔE rows [row0, row0 + rows) (rows, d_model) as one product — what a screenful of rows needs.
    Mat delta_rows(int row0, int rows) const;
    // All of ΔE (n, d_model): one (n, H·d_head) × (H·d_head, d_model) product.
    Mat delta(int threads = 0) const;

    // Memory held, in bytes.
    std::size_t bytes() const;

    // Incremental edits (defined in incremental.cpp; see incremental.hpp).
    // `after` is the scene after the edit; it must have the sizes this object was built with.
    void update_token(const Scene& after, int t, int threads = 0);  // input token t changed
    void update_head(const Scene& after, int h, int threads = 0);   // W_Q/W_K/W_V of head h changed
    void update_output(const Scene& after);                         // W_O changed: O(size of W_O)

private:
    void check_head(int head) const;
    // Recomputes row i of head h from Q, K, V: statistics and mixed. `scratch` holds ≥ m floats.
    void rescan_row(int h, int i, float* scratch);
    bool build_heads(const Scene& s, const std::vector<int>& which, Progress* progress, int threads);

    int n_ = 0, m_ = 0, d_model_ = 0, d_head_ = 0;
    float factor_ = 1.0f;
    bool cross_ = false;
    Mask mask_;
    Mat E_;    // (n, d_model)
    Mat W_O_;  // (H·d_head, d_model)
    std::vector<HeadStats> heads_;
};

}  // namespace attnviz
