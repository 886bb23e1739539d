// attnviz core — training the GPT-2-style model of model.hpp: a forward pass that keeps what the
// backward pass needs, the backward pass, and the optimizers (AdamW, SGD).
//
// [SECTION] Parameters   — every weight in one flat vector (float for training, double for tests)
// [SECTION] Batches      — token sequences and which predictions count in the loss
// [SECTION] Backprop     — loss and gradient, and each head's pattern for a probe sequence
// [SECTION] Optimizers   — AdamW (decoupled weight decay, bias-corrected), SGD; warm-up; clipping
//
// The loss is the mean next-token cross-entropy: a sequence s of L tokens is run on its first
// L − 1 tokens (input position t = 0 … L − 2) and position t predicts token t + 1, exactly as
// `logits = model(s[:-1]); cross_entropy(logits, s[1:])` in PyTorch. The mean is over every
// counted prediction of the whole batch (Batch::loss_begin/loss_end pick the counted positions).
//
// The math is templated on the scalar: float trains, double checks the gradients in the tests
// (and the float path is checked against the double path there).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model.hpp"
#include "scene.hpp"

namespace attnviz {

// ---------------------------------------------------------------------------------------------
// [SECTION] Parameters
// ---------------------------------------------------------------------------------------------
// One tensor's place in the flat parameter vector. Order: wte, wpe, then per layer ln1_g, ln1_b,
// W_qkv, b_qkv, W_o, b_o, [ln2_g, ln2_b, W_fc, b_fc, W_proj, b_proj], then lnf_g, lnf_b.
struct TensorSlot {
    std::string name;       // Hugging Face GPT-2 name: "wte.weight", "h.0.attn.c_attn.weight", …
    std::size_t offset = 0;
    int rows = 1, cols = 1; // a vector is (1, n)
    bool decay = false;     // AdamW's weight decay applies (matrices; not biases or LayerNorm)
    std::size_t size() const { return static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols); }
};

// Checks the configuration (sizes > 0, d_model divisible by n_heads; the field is named) and
// returns the layout. Throws std::invalid_argument.
std::vector<TensorSlot> parameter_layout(const ModelConfig& cfg);

// Parameters and gradients: aligned like Eigen's own matrices. Eigen's vectorised sums peel the
// first elements by address; a vector whose address moved from run to run would sum in another
// order and change the last bits — aligned, a run is bit-for-bit repeatable.
template <class S>
using AlignedVec = std::vector<S, Eigen::aligned_allocator<S>>;

template <class S>
struct Params {
    ModelConfig cfg;
    std::vector<TensorSlot> slots;
    AlignedVec<S> w;         // every parameter, row-major per tensor, in slot order

    const TensorSlot& slot(const std::string& name) const;  // throws std::out_of_range
    std::size_t size() const { return w.size(); }
};

// GPT-2's initialisation: every matrix N(0, 0.02²), the residual projections (attn.c_proj and
// mlp.c_proj) N(0, (0.02/√(2·n_layers))²), biases 0, LayerNorm gains 1. A pure function of the
// seed (core's portable normal numbers), so the same seed gives the same model everywhere.
template <class S>
Params<S> init_params(const ModelConfig& cfg, std::uint64_t seed);

Params<float> params_from_model(const Model& m);     // checks every tensor's shape (names it)
Model model_from_params(const Params<float>& p);
Params<double> to_double(const Params<float>& p);
Params<float> to_float(const Params<double>& p);

// ---------------------------------------------------------------------------------------------
// [SECTION] Batches
// ---------------------------------------------------------------------------------------------
struct Batch {
    std::vector<std::vector<int>> sequences;  // token ids; each 2 … n_ctx + 1 long
    // Counted predictions: input positions t with loss_begin ≤ t < loss_end (position t predicts
    // token t + 1). The defaults count every position.
    int loss_begin = 0;
    int loss_end = 1 << 30;
    // Per sequence instead (when not empty: one [begin, end) per sequence, replacing the two above):
    // the induction task counts only the predictions an earlier copy determines.
    std::vector<std::pair<int, int>> counted;
    std::pair<int, int> counted_range(std::size_t s) const { return counted.empty() ? std::pair{loss_begin, loss_end} : counted[s]; }
};

// Throws std::invalid_argument naming the sequence and position of a bad id or length.
void check_batch(const Batch& b, const ModelConfig& cfg);

// Masks a model can be trained under: none, causal, sliding_window, strided, fixed (GPT-2 is
// causal). Throws std::invalid_argument for an explicit matrix mask or a size < 1.
void check_training_mask(const Mask& mask);

// ---------------------------------------------------------------------------------------------
// [SECTION] Backprop
// ---------------------------------------------------------------------------------------------
template <class S>
class Backprop {
public:
    explicit Backprop(Mask mask = Mask::causal(), int threads = 1);
    ~Backprop();
    Backprop(Backprop&&) noexcept;
    Backprop& operator=(Backprop&&) noexcept;

    // Mean cross-entropy over the counted predictions, and its gradient (resized to p.size()).
    // The batch is split into `threads` contiguous chunks, each run on its own thread with its
    // own gradient; the chunks' gradients are summed in chunk order, so the result depends on
    // the thread count only (not on timing).
    S loss_and_grad(const Params<S>& p, const Batch& b, AlignedVec<S>& grad);
    S loss(const Params<S>& p, const Batch& b);  // forward only
    // Each head's pattern on one sequence (run on all its tokens): [layer][head] (n, n), row i =
    // query i. n ≤ n_ctx.
    std::vector<std::vector<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>>
    patterns(const Params<S>& p, const std::vector<int>& tokens);

    const Mask& mask() const { return mask_; }
    int threads() const { return threads_; }

    struct Workspace;  // per-chunk activations (train.cpp)

private:
    Mask mask_;
    int threads_ = 1;
    std::vector<std::unique_ptr<Workspace>> ws_;
};

// ---------------------------------------------------------------------------------------------
// [SECTION] Optimizers
// ---------------------------------------------------------------------------------------------
enum class OptimizerKind { AdamW, SGD };

struct OptimizerConfig {
    OptimizerKind kind = OptimizerKind::AdamW;
    double lr = 1e-3;
    double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // AdamW (PyTorch's defaults)
    // Decoupled: p ← p − lr_t·weight_decay·p before the update, on matrices only (TensorSlot::
    // decay), for both optimizers.
    double weight_decay = 0.0;
    int warmup = 0;          // lr_t = lr · min(1, t / warmup) at step t = 1, 2, …; 0 = none
    double clip = 0.0;       // scale the gradient to this global L2 norm when above it; 0 = none
};

template <class S>
class Optimizer {
public:
    explicit Optimizer(OptimizerConfig cfg = {}) : cfg_(cfg) {}
    // One step: clips `grad` in place when asked, then updates p.w.
    void step(Params<S>& p, AlignedVec<S>& grad);
    double lr_at(long t) const;                // the learning rate of step t (1-based)
    long steps() const { return t_; }
    double last_grad_norm() const { return last_norm_; }  // before clipping
    const OptimizerConfig& config() const { return cfg_; }

private:
    OptimizerConfig cfg_;
    AlignedVec<S> m_, v_;    // AdamW moments (params' size)
    long t_ = 0;
    double last_norm_ = 0;
};

}  // namespace attnviz
