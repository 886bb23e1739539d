// attnviz core — one way for a view to ask for attention patterns, whether the scene's full
// forward pass is kept (short scenes: every n × m score and weight in a Forward) or only its
// statistics (long scenes: PatternTiles computes cells and blocks on demand).
//
// A view asks a PatternSource for one cell (its raw score, logit, weight, whether the mask allows
// it), a row's softmax statistics, a block of one head at a display stage, or a pooled overview;
// it never needs to know which of the two it has. Both answer the same numbers (tests/core/
// test_pattern_source.cpp checks them against each other on every mask).
#pragma once

#include <memory>
#include <mutex>

#include "engine.hpp"
#include "gpt2_model.hpp"
#include "tiles.hpp"

namespace attnviz {

// One cell of head h: query i, key j.
struct PatternCell {
    float raw = 0;        // q_i·k_j
    float logit = 0;      // raw · logit_factor (1/√d_head if scaling, / temperature)
    float weight = 0;     // softmax weight (0 where masked)
    bool allowed = true;  // the mask lets query i see key j
};

// A row's softmax statistics over the keys the mask allows.
struct RowStats {
    float max = 0;    // largest allowed logit (0 when none allowed)
    float sum = 0;    // Σ exp(logit − max) over allowed keys (0 when none)
    int argmax = -1;  // the key holding max (−1 when none allowed)
};

class PatternSource {
public:
    virtual ~PatternSource() = default;
    virtual int n() const = 0;        // queries
    virtual int m() const = 0;        // keys
    virtual int n_heads() const = 0;
    virtual PatternCell cell(int head, int i, int j) const = 0;
    virtual RowStats row_stats(int head, int i) const = 0;
    // The (rows, cols) block of head `head` at stage `st`, as stage_matrix (engine.hpp) gives it.
    virtual Mat stage_tile(int head, Stage st, int row0, int col0, int rows, int cols) const = 0;
    // The block of the pattern pooled into height × width buckets, as PatternTiles::overview
    // (head −1: the average over heads; a bucket the mask forbids entirely is NaN). False if
    // cancelled.
    virtual bool overview(int head, int row0, int col0, int rows, int cols, int width, int height, Pool pool, Mat& out,
                          Progress* progress = nullptr) const = 0;
    // The capability question of a view that needs every intermediate of every head at once (the
    // mask comparison, the step-by-step math, the plots): the full forward pass when this source
    // keeps one, else null (the view then says it is not available for this scene).
    virtual const Forward* full() const { return nullptr; }
};

// A scene's full forward pass (both must outlive the source).
class ForwardSource final : public PatternSource {
public:
    ForwardSource(const Scene& s, const Forward& f) : s_(s), f_(f) {}
    int n() const override { return s_.n(); }
    int m() const override { return s_.m(); }
    int n_heads() const override { return static_cast<int>(f_.heads.size()); }
    PatternCell cell(int head, int i, int j) const override;
    RowStats row_stats(int head, int i) const override;
    Mat stage_tile(int head, Stage st, int row0, int col0, int rows, int cols) const override;
    bool overview(int head, int row0, int col0, int rows, int cols, int width, int height, Pool pool, Mat& out,
                  Progress* progress = nullptr) const override;
    const Forward* full() const override { return &f_; }

private:
    const Scene& s_;
    const Forward& f_;
};

// PatternTiles' statistics (kept alive by the source).
class TilesSource final : public PatternSource {
public:
    explicit TilesSource(std::shared_ptr<const PatternTiles> t) : t_(std::move(t)) {}
    int n() const override { return t_->n(); }
    int m() const override { return t_->m(); }
    int n_heads() const override { return t_->n_heads(); }
    PatternCell cell(int head, int i, int j) const override;
    RowStats row_stats(int head, int i) const override;
    Mat stage_tile(int head, Stage st, int row0, int col0, int rows, int cols) const override;
    bool overview(int head, int row0, int col0, int rows, int cols, int width, int height, Pool pool, Mat& out,
                  Progress* progress = nullptr) const override;

private:
    std::shared_ptr<const PatternTiles> t_;
};

// One layer of a GPT-2-style model's forward pass (gpt2_model.hpp): head h of layer `layer`, with
// the layer's mask (Gpt2Options::mask_of) and factor 1/√d_head. Cells and tiles are computed from
// the forward's Q and K by the forward's own softmax (bit-identical with Gpt2Forward::pattern).
// full() builds, once and on first use, an engine Forward of the layer so that views that need
// every intermediate work unchanged:
//   E = X = x_l (the residual stream before the layer)          (n, d_model)
//   heads[h]: Q, K, V (biases in), scores (raw, every cell), pattern, mixed, delta = ΔE_h
//   delta = attn_out = Σ_h ΔE_h + b_o;  output = x_l + attn_out (the residual after attention)
// The source keeps the forward alive (pass a shared_ptr that also owns the model, e.g. an
// aliasing shared_ptr).
class Gpt2LayerSource final : public PatternSource {
public:
    Gpt2LayerSource(std::shared_ptr<const Gpt2Forward> f, int layer);
    ~Gpt2LayerSource() override;
    int n() const override { return f_->n(); }
    int m() const override { return f_->n(); }
    int n_heads() const override { return f_->n_heads(); }
    int layer() const { return layer_; }
    const Gpt2Forward& forward() const { return *f_; }
    const Mask& mask() const { return f_->options().mask_of(layer_); }
    PatternCell cell(int head, int i, int j) const override;
    RowStats row_stats(int head, int i) const override;
    Mat stage_tile(int head, Stage st, int row0, int col0, int rows, int cols) const override;
    bool overview(int head, int row0, int col0, int rows, int cols, int width, int height, Pool pool, Mat& out,
                  Progress* progress = nullptr) const override;
    const Forward* full() const override;

private:
    std::shared_ptr<const Gpt2Forward> f_;
    int layer_;
    mutable std::once_flag full_once_;
    mutable std::unique_ptr<Forward> full_;
};

}  // namespace attnviz
