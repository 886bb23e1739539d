// attnviz core — training: forward with activations kept, backward, optimizers (train.hpp).
//
// [SECTION] Layout and conversions
// [SECTION] Building blocks (LayerNorm, linear, GELU) — forward and backward on whole (rows, d) blocks
// [SECTION] Workspace and forward
// [SECTION] Backward
// [SECTION] Backprop (chunks on threads)
// [SECTION] Optimizers
#include "train.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>

#include "parallel.hpp"
#include "random.hpp"

namespace attnviz {

namespace {

template <class S>
using MatT = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class S>
using RowT = Eigen::Matrix<S, 1, Eigen::Dynamic>;
template <class S>
using ColT = Eigen::Matrix<S, Eigen::Dynamic, 1>;
template <class S>
using CMap = Eigen::Map<const MatT<S>>;
template <class S>
using MMap = Eigen::Map<MatT<S>>;
template <class S>
using CRow = Eigen::Map<const RowT<S>>;
template <class S>
using MRow = Eigen::Map<RowT<S>>;

// ---------------------------------------------------------------------------------------------
// [SECTION] Layout and conversions
// ---------------------------------------------------------------------------------------------
struct LayerOffsets {
    std::size_t ln1_g, ln1_b, W_qkv, b_qkv, W_o, b_o;
    std::size_t ln2_g = 0, ln2_b = 0, W_fc = 0, b_fc = 0, W_proj = 0, b_proj = 0;
};
struct Offsets {
    std::size_t wte, wpe, lnf_g, lnf_b;
    std::vector<LayerOffsets> layers;
};

Offsets offsets_of(const std::vector<TensorSlot>& s, const ModelConfig& cfg) {
    Offsets o{};
    std::size_t k = 0;
    o.wte = s[k++].offset;
    o.wpe = s[k++].offset;
    for (int l = 0; l < cfg.n_layers; ++l) {
        LayerOffsets L{};
        L.ln1_g = s[k++].offset;
        L.ln1_b = s[k++].offset;
        L.W_qkv = s[k++].offset;
        L.b_qkv = s[k++].offset;
        L.W_o = s[k++].offset;
        L.b_o = s[k++].offset;
        if (cfg.mlp) {
            L.ln2_g = s[k++].offset;
            L.ln2_b = s[k++].offset;
            L.W_fc = s[k++].offset;
            L.b_fc = s[k++].offset;
            L.W_proj = s[k++].offset;
            L.b_proj = s[k++].offset;
        }
        o.layers.push_back(L);
    }
    o.lnf_g = s[k++].offset;
    o.lnf_b = s[k++].offset;
    return o;
}

constexpr std::uint64_t kInitStream = 0x7261696E;  // "rain": streams kInitStream + slot index

}  // namespace

std::vector<TensorSlot> parameter_layout(const ModelConfig& cfg) {
    auto need = [](bool ok, const char* field, const std::string& what) {
        if (!ok) throw std::invalid_argument(std::string("model config: ") + field + " " + what);
    };
    need(cfg.vocab_size >= 1, "vocab_size", "must be at least 1");
    need(cfg.n_ctx >= 1, "n_ctx", "must be at least 1");
    need(cfg.d_model >= 1, "d_model", "must be at least 1");
    need(cfg.n_layers >= 0, "n_layers", "must not be negative");
    need(cfg.n_heads >= 1, "n_heads", "must be at least 1");
    need(cfg.d_model % cfg.n_heads == 0, "d_model",
         "(" + std::to_string(cfg.d_model) + ") must be divisible by n_heads (" + std::to_string(cfg.n_heads) + ")");
    need(cfg.ln_eps > 0, "layer_norm_epsilon", "must be positive");
    const double total = (double(cfg.vocab_size) + cfg.n_ctx) * cfg.d_model +
                         double(cfg.n_layers) * (12.0 * cfg.d_model * cfg.d_model + 13.0 * cfg.d_model);
    need(total < 2e9, "d_model", "too large: the model would have over 2·10⁹ parameters");

    const int d = cfg.d_model;
    std::vector<TensorSlot> s;
    std::size_t off = 0;
    auto add = [&](std::string name, int rows, int cols, bool decay) {
        TensorSlot t{std::move(name), off, rows, cols, decay};
        off += t.size();
        s.push_back(std::move(t));
    };
    add("wte.weight", cfg.vocab_size, d, true);
    add("wpe.weight", cfg.n_ctx, d, true);
    for (int l = 0; l < cfg.n_layers; ++l) {
        const std::string h = "h." + std::to_string(l) + ".";
        add(h + "ln_1.weight", 1, d, false);
        add(h + "ln_1.bias", 1, d, false);
        add(h + "attn.c_attn.weight", d, 3 * d, true);
        add(h + "attn.c_attn.bias", 1, 3 * d, false);
        add(h + "attn.c_proj.weight", d, d, true);
        add(h + "attn.c_proj.bias", 1, d, false);
        if (cfg.mlp) {
            add(h + "ln_2.weight", 1, d, false);
            add(h + "ln_2.bias", 1, d, false);
            add(h + "mlp.c_fc.weight", d, 4 * d, true);
            add(h + "mlp.c_fc.bias", 1, 4 * d, false);
            add(h + "mlp.c_proj.weight", 4 * d, d, true);
            add(h + "mlp.c_proj.bias", 1, d, false);
        }
    }
    add("ln_f.weight", 1, d, false);
    add("ln_f.bias", 1, d, false);
    return s;
}

template <class S>
const TensorSlot& Params<S>::slot(const std::string& name) const {
    for (const auto& t : slots)
        if (t.name == name) return t;
    throw std::out_of_range("no parameter named " + name);
}

template <class S>
Params<S> init_params(const ModelConfig& cfg, std::uint64_t seed) {
    Params<S> p;
    p.cfg = cfg;
    p.slots = parameter_layout(cfg);
    const TensorSlot& last = p.slots.back();
    p.w.assign(last.offset + last.size(), S(0));
    const double residual_std = 0.02 / std::sqrt(2.0 * std::max(1, cfg.n_layers));
    for (std::size_t k = 0; k < p.slots.size(); ++k) {
        const TensorSlot& t = p.slots[k];
        const bool gain = t.name.find(".ln_") != std::string::npos || t.name.rfind("ln_f", 0) == 0;
        const bool is_bias = t.name.size() >= 5 && t.name.compare(t.name.size() - 5, 5, ".bias") == 0;
        S* w = p.w.data() + t.offset;
        if (gain && !is_bias) {
            std::fill(w, w + t.size(), S(1));
        } else if (!is_bias) {
            const bool residual = t.name.find("c_proj.weight") != std::string::npos;
            const double sd = residual ? residual_std : 0.02;
            for (int r = 0; r < t.rows; ++r)
                for (int c = 0; c < t.cols; ++c)
                    w[std::size_t(r) * t.cols + c] =
                        S(sd * double(rng::normal(seed, kInitStream + k, std::uint64_t(r), std::uint64_t(c), 0)));
        }
    }
    return p;
}

Params<float> params_from_model(const Model& m) {
    Params<float> p;
    p.cfg = m.cfg;
    p.slots = parameter_layout(m.cfg);
    p.w.assign(p.slots.back().offset + p.slots.back().size(), 0.0f);
    std::size_t k = 0;
    auto put = [&](const auto& x) {
        const TensorSlot& t = p.slots[k++];
        if (x.rows() != t.rows || x.cols() != t.cols)
            throw std::invalid_argument(t.name + ": shape " + std::to_string(x.rows()) + "x" + std::to_string(x.cols()) +
                                        ", expected " + std::to_string(t.rows) + "x" + std::to_string(t.cols));
        for (int r = 0; r < t.rows; ++r)
            for (int c = 0; c < t.cols; ++c) p.w[t.offset + std::size_t(r) * t.cols + c] = x(r, c);
    };
    put(m.wte);
    put(m.wpe);
    if (int(m.layers.size()) != m.cfg.n_layers)
        throw std::invalid_argument("model: " + std::to_string(m.layers.size()) + " layers, config says " +
                                    std::to_string(m.cfg.n_layers));
    for (const LayerWeights& L : m.layers) {
        put(L.ln1_g), put(L.ln1_b), put(L.W_qkv), put(L.b_qkv), put(L.W_o), put(L.b_o);
        if (m.cfg.mlp) put(L.ln2_g), put(L.ln2_b), put(L.W_fc), put(L.b_fc), put(L.W_proj), put(L.b_proj);
    }
    put(m.lnf_g);
    put(m.lnf_b);
    return p;
}

Model model_from_params(const Params<float>& p) {
    Model m;
    m.cfg = p.cfg;
    std::size_t k = 0;
    auto mat = [&]() {
        const TensorSlot& t = p.slots[k++];
        return Mat(CMap<float>(p.w.data() + t.offset, t.rows, t.cols));
    };
    auto vec = [&]() {
        const TensorSlot& t = p.slots[k++];
        return RowVec(CRow<float>(p.w.data() + t.offset, t.cols));
    };
    m.wte = mat();
    m.wpe = mat();
    for (int l = 0; l < p.cfg.n_layers; ++l) {
        LayerWeights L;
        L.ln1_g = vec(), L.ln1_b = vec(), L.W_qkv = mat(), L.b_qkv = vec(), L.W_o = mat(), L.b_o = vec();
        if (p.cfg.mlp) L.ln2_g = vec(), L.ln2_b = vec(), L.W_fc = mat(), L.b_fc = vec(), L.W_proj = mat(), L.b_proj = vec();
        m.layers.push_back(std::move(L));
    }
    m.lnf_g = vec();
    m.lnf_b = vec();
    return m;
}

Params<double> to_double(const Params<float>& p) {
    Params<double> d;
    d.cfg = p.cfg;
    d.slots = p.slots;
    d.w.assign(p.w.begin(), p.w.end());
    return d;
}

Params<float> to_float(const Params<double>& p) {
    Params<float> f;
    f.cfg = p.cfg;
    f.slots = p.slots;
    f.w.resize(p.w.size());
    for (std::size_t i = 0; i < p.w.size(); ++i) f.w[i] = static_cast<float>(p.w[i]);
    return f;
}

void check_batch(const Batch& b, const ModelConfig& cfg) {
    if (b.sequences.empty()) throw std::invalid_argument("batch: no sequences");
    for (std::size_t s = 0; s < b.sequences.size(); ++s) {
        const auto& q = b.sequences[s];
        const std::string where = "sequences[" + std::to_string(s) + "]";
        if (q.size() < 2) throw std::invalid_argument(where + ": needs at least 2 tokens (one prediction)");
        if (q.size() > std::size_t(cfg.n_ctx) + 1)
            throw std::invalid_argument(where + ": " + std::to_string(q.size()) + " tokens; the model's context (n_ctx " +
                                        std::to_string(cfg.n_ctx) + ") takes at most " + std::to_string(cfg.n_ctx + 1));
        for (std::size_t t = 0; t < q.size(); ++t)
            if (q[t] < 0 || q[t] >= cfg.vocab_size)
                throw std::invalid_argument(where + "[" + std::to_string(t) + "]: token id " + std::to_string(q[t]) +
                                            " outside the vocabulary (0 … " + std::to_string(cfg.vocab_size - 1) + ")");
    }
    if (!b.counted.empty()) {
        if (b.counted.size() != b.sequences.size())
            throw std::invalid_argument("batch: " + std::to_string(b.counted.size()) + " counted ranges for " +
                                        std::to_string(b.sequences.size()) + " sequences");
        for (std::size_t s = 0; s < b.counted.size(); ++s)
            if (b.counted[s].first < 0 || b.counted[s].second <= b.counted[s].first)
                throw std::invalid_argument("batch: counted[" + std::to_string(s) + "]: the counted positions [" +
                                            std::to_string(b.counted[s].first) + ", " + std::to_string(b.counted[s].second) +
                                            ") are empty");
    } else if (b.loss_begin < 0 || b.loss_end <= b.loss_begin) {
        throw std::invalid_argument("batch: the counted positions [" + std::to_string(b.loss_begin) + ", " +
                                    std::to_string(b.loss_end) + ") are empty");
    }
}

void check_training_mask(const Mask& mask) {
    switch (mask.type) {
        case MaskType::None:
        case MaskType::Causal: return;
        case MaskType::SlidingWindow:
        case MaskType::Strided:
        case MaskType::Fixed:
            if (mask.size < 1)
                throw std::invalid_argument(std::string("mask: ") + mask_type_name(mask.type) + " needs a size of at least 1");
            return;
        case MaskType::Matrix: break;
    }
    throw std::invalid_argument("mask: training takes none, causal, sliding_window, strided or fixed (not an explicit matrix)");
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Building blocks
// ---------------------------------------------------------------------------------------------
namespace {

// out = LN(x)·g + b; keeps x̂ = (x − mean)·rstd and rstd for the backward pass.
template <class S>
void layernorm_forward(const MatT<S>& x, const S* g, const S* b, S eps, MatT<S>& xhat, ColT<S>& rstd, MatT<S>& out) {
    const auto d = x.cols();
    const ColT<S> mean = x.rowwise().mean();
    xhat = x.colwise() - mean;
    rstd = ((xhat.rowwise().squaredNorm() / S(d)).array() + eps).rsqrt().matrix();
    xhat = rstd.asDiagonal() * xhat;
    out = (xhat.array().rowwise() * CRow<S>(g, d).array()).rowwise() + CRow<S>(b, d).array();
}

// Adds the gradient of LN to dx (and to dg, db), given dout = ∂loss/∂out.
template <class S>
void layernorm_backward(const MatT<S>& dout, const MatT<S>& xhat, const ColT<S>& rstd, const S* g, S* dg, S* db,
                        MatT<S>& dx, MatT<S>& scratch) {
    const auto d = dout.cols();
    MRow<S>(dg, d) += (dout.array() * xhat.array()).colwise().sum().matrix();
    MRow<S>(db, d) += dout.colwise().sum();
    scratch = dout.array().rowwise() * CRow<S>(g, d).array();  // ∂loss/∂x̂
    const ColT<S> mean_dxhat = scratch.rowwise().mean();
    const ColT<S> mean_dxhat_xhat = (scratch.array() * xhat.array()).rowwise().sum().matrix() / S(d);
    scratch.colwise() -= mean_dxhat;
    scratch -= mean_dxhat_xhat.asDiagonal() * xhat;
    dx += rstd.asDiagonal() * scratch;
}

constexpr double kGeluC = 0.7978845608028654;  // √(2/π)

template <class S>
using ArrT = Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
template <class S>
void gelu_forward(const MatT<S>& x, MatT<S>& y) {
    const ArrT<S> t = ((x.array() + S(0.044715) * x.array().cube()) * S(kGeluC)).tanh();
    y = (S(0.5) * x.array() * (S(1) + t)).matrix();
}

// dx = dy ⊙ GELU'(x) (dx may be dy).
template <class S>
void gelu_backward(const MatT<S>& x, const MatT<S>& dy, MatT<S>& dx) {
    const ArrT<S> x2 = x.array().square();
    const ArrT<S> t = ((x.array() + S(0.044715) * x.array() * x2) * S(kGeluC)).tanh();
    dx = (dy.array() * (S(0.5) * (S(1) + t) +
                        S(0.5) * x.array() * (S(1) - t.square()) * S(kGeluC) * (S(1) + S(3 * 0.044715) * x2)))
             .matrix();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] Workspace and forward
// ---------------------------------------------------------------------------------------------
template <class S>
struct Backprop<S>::Workspace {
    struct Layer {
        MatT<S> xhat1, a1;       // (N, d)   LN1's x̂ and output
        ColT<S> rstd1;           // (N)
        MatT<S> qkv;             // (N, 3d)  Q | K | V
        AlignedVec<S> pattern;   // per sequence s, per head h: (T_s, T_s) at pattern_off[s] + h·T_s²
        MatT<S> mixed;           // (N, d)   concat_h(pattern_h · V_h)
        MatT<S> xhat2, a2;       // (N, d)   LN2 (MLP only)
        ColT<S> rstd2;           // (N)
        MatT<S> fc, act;         // (N, 4d)  before and after GELU
    };
    // Inputs of this chunk: sequence s occupies rows [row0[s], row0[s] + len[s]).
    std::vector<const int*> tokens;
    std::vector<int> len, row0;
    std::vector<std::size_t> pattern_off;
    int N = 0;

    std::vector<Layer> layers;
    MatT<S> x;                 // (N, d) the residual stream
    MatT<S> xhatf, af;         // (N, d) final LN
    ColT<S> rstdf;             // (N)
    MatT<S> probs;             // (N, V) softmax of the logits; then ∂loss/∂logits
    AlignedVec<S> grad;        // this chunk's gradient (params' size)
    S loss_sum = 0;            // Σ −log p(target) · weight over the counted rows

    // Backward scratch.
    MatT<S> dx, da, dqkv, dmixed, dfc, scratch;
    MatT<S> dP;                // (T, T)
    // Masks by length: additive (0 / −∞) and multiplicative (1 / 0), (T, T).
    std::map<int, std::pair<MatT<S>, MatT<S>>> masks;

    const std::pair<MatT<S>, MatT<S>>& mask_for(const Mask& mask, int T) {
        auto it = masks.find(T);
        if (it != masks.end()) return it->second;
        MatT<S> add(T, T), keep(T, T);
        for (int i = 0; i < T; ++i)
            for (int j = 0; j < T; ++j) {
                const bool ok = mask.allows(i, j);
                add(i, j) = ok ? S(0) : -std::numeric_limits<S>::infinity();
                keep(i, j) = ok ? S(1) : S(0);
            }
        return masks.emplace(T, std::make_pair(std::move(add), std::move(keep))).first->second;
    }
};

namespace {

template <class S>
using WS = typename Backprop<S>::Workspace;

// Runs the model on the chunk's inputs, keeping every activation the backward pass needs. With
// `logits`, also the final LayerNorm and the softmax of the logits (ws.probs).
template <class S>
void forward(WS<S>& ws, const Params<S>& p, const Offsets& o, const Mask& mask, bool logits) {
    const ModelConfig& cfg = p.cfg;
    const int d = cfg.d_model, H = cfg.n_heads, dh = cfg.d_head(), N = ws.N;
    const S* w = p.w.data();
    const S scale = S(1) / std::sqrt(S(dh));

    ws.x.resize(N, d);
    const CMap<S> wte(w + o.wte, cfg.vocab_size, d), wpe(w + o.wpe, cfg.n_ctx, d);
    for (std::size_t s = 0; s < ws.len.size(); ++s)
        for (int t = 0; t < ws.len[s]; ++t) ws.x.row(ws.row0[s] + t) = wte.row(ws.tokens[s][t]) + wpe.row(t);

    ws.layers.resize(std::size_t(cfg.n_layers));
    for (int l = 0; l < cfg.n_layers; ++l) {
        const LayerOffsets& L = o.layers[std::size_t(l)];
        auto& A = ws.layers[std::size_t(l)];
        layernorm_forward<S>(ws.x, w + L.ln1_g, w + L.ln1_b, S(cfg.ln_eps), A.xhat1, A.rstd1, A.a1);
        A.qkv.noalias() = A.a1 * CMap<S>(w + L.W_qkv, d, 3 * d);
        A.qkv.rowwise() += CRow<S>(w + L.b_qkv, 3 * d);

        A.pattern.resize(ws.pattern_off.back());
        A.mixed.resize(N, d);
        for (std::size_t s = 0; s < ws.len.size(); ++s) {
            const int T = ws.len[s], r0 = ws.row0[s];
            const auto& mk = ws.mask_for(mask, T);
            for (int h = 0; h < H; ++h) {
                MMap<S> P(A.pattern.data() + ws.pattern_off[s] + std::size_t(h) * T * T, T, T);  // (T, T)
                const auto Q = A.qkv.block(r0, h * dh, T, dh);                                // (T, dh)
                const auto K = A.qkv.block(r0, d + h * dh, T, dh);
                const auto V = A.qkv.block(r0, 2 * d + h * dh, T, dh);
                // 1. scores, scaled and masked (stored once: max and exp read the same values).
                P.noalias() = Q * K.transpose();
                P = P * scale + mk.first;
                // 2. exp(x − row max), masked cells exactly 0; 3. normalise (every row of a
                // training mask allows its own position, so no row is empty).
                const ColT<S> mx = P.rowwise().maxCoeff();
                P = (P.colwise() - mx).array().exp() * mk.second.array();
                const ColT<S> inv = P.rowwise().sum().cwiseInverse();
                P = inv.asDiagonal() * P;
                // 4. weighted sum of V.
                A.mixed.block(r0, h * dh, T, dh).noalias() = P * V;
            }
        }
        ws.x.noalias() += A.mixed * CMap<S>(w + L.W_o, d, d);
        ws.x.rowwise() += CRow<S>(w + L.b_o, d);

        if (cfg.mlp) {
            layernorm_forward<S>(ws.x, w + L.ln2_g, w + L.ln2_b, S(cfg.ln_eps), A.xhat2, A.rstd2, A.a2);
            A.fc.noalias() = A.a2 * CMap<S>(w + L.W_fc, d, 4 * d);
            A.fc.rowwise() += CRow<S>(w + L.b_fc, 4 * d);
            gelu_forward<S>(A.fc, A.act);
            ws.x.noalias() += A.act * CMap<S>(w + L.W_proj, 4 * d, d);
            ws.x.rowwise() += CRow<S>(w + L.b_proj, d);
        }
    }
    if (!logits) return;
    layernorm_forward<S>(ws.x, w + o.lnf_g, w + o.lnf_b, S(cfg.ln_eps), ws.xhatf, ws.rstdf, ws.af);
    ws.probs.noalias() = ws.af * wte.transpose();  // (N, V) logits
    const ColT<S> mx = ws.probs.rowwise().maxCoeff();
    ws.probs = (ws.probs.colwise() - mx).array().exp();
    const ColT<S> inv = ws.probs.rowwise().sum().cwiseInverse();
    ws.probs = inv.asDiagonal() * ws.probs;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Backward
// ---------------------------------------------------------------------------------------------
// Turns ws.probs into ∂loss/∂logits (weight `inv_count` on counted rows, 0 elsewhere), adds the
// chunk's loss to ws.loss_sum, and accumulates every parameter's gradient into ws.grad.
template <class S>
void backward(WS<S>& ws, const Params<S>& p, const Offsets& o, const Batch& b, std::size_t s0, S inv_count) {
    const ModelConfig& cfg = p.cfg;
    const int d = cfg.d_model, H = cfg.n_heads, dh = cfg.d_head(), N = ws.N, V = cfg.vocab_size;
    const S* w = p.w.data();
    S* g = ws.grad.data();
    const S scale = S(1) / std::sqrt(S(dh));

    // Cross-entropy: ∂/∂logits = (softmax − onehot) / count on counted rows.
    ws.loss_sum = 0;
    for (std::size_t s = 0; s < ws.len.size(); ++s) {
        const auto [lo, hi] = b.counted_range(s0 + s);
        for (int t = 0; t < ws.len[s]; ++t) {
            const int r = ws.row0[s] + t;
            auto row = ws.probs.row(r);
            if (t >= lo && t < hi) {
                const int target = ws.tokens[s][t + 1];
                ws.loss_sum -= std::log(row(target));
                row(target) -= S(1);
                row *= inv_count;
            } else {
                row.setZero();
            }
        }
    }
    // Tied unembedding: logits = af · wteᵀ.
    MMap<S>(g + o.wte, V, d).noalias() += ws.probs.transpose() * ws.af;
    ws.da.noalias() = ws.probs * CMap<S>(w + o.wte, V, d);
    ws.dx.setZero(N, d);
    layernorm_backward<S>(ws.da, ws.xhatf, ws.rstdf, w + o.lnf_g, g + o.lnf_g, g + o.lnf_b, ws.dx, ws.scratch);

    for (int l = cfg.n_layers - 1; l >= 0; --l) {
        const LayerOffsets& L = o.layers[std::size_t(l)];
        auto& A = ws.layers[std::size_t(l)];
        if (cfg.mlp) {
            // x += act·W_proj + b_proj
            MMap<S>(g + L.W_proj, 4 * d, d).noalias() += A.act.transpose() * ws.dx;
            MRow<S>(g + L.b_proj, d) += ws.dx.colwise().sum();
            ws.dfc.noalias() = ws.dx * CMap<S>(w + L.W_proj, 4 * d, d).transpose();  // ∂/∂act
            gelu_backward<S>(A.fc, ws.dfc, ws.dfc);                                   // ∂/∂fc
            MMap<S>(g + L.W_fc, d, 4 * d).noalias() += A.a2.transpose() * ws.dfc;
            MRow<S>(g + L.b_fc, 4 * d) += ws.dfc.colwise().sum();
            ws.da.noalias() = ws.dfc * CMap<S>(w + L.W_fc, d, 4 * d).transpose();
            layernorm_backward<S>(ws.da, A.xhat2, A.rstd2, w + L.ln2_g, g + L.ln2_g, g + L.ln2_b, ws.dx, ws.scratch);
        }
        // x += mixed·W_o + b_o
        MMap<S>(g + L.W_o, d, d).noalias() += A.mixed.transpose() * ws.dx;
        MRow<S>(g + L.b_o, d) += ws.dx.colwise().sum();
        ws.dmixed.noalias() = ws.dx * CMap<S>(w + L.W_o, d, d).transpose();

        ws.dqkv.resize(N, 3 * d);
        for (std::size_t s = 0; s < ws.len.size(); ++s) {
            const int T = ws.len[s], r0 = ws.row0[s];
            for (int h = 0; h < H; ++h) {
                const CMap<S> P(A.pattern.data() + ws.pattern_off[s] + std::size_t(h) * T * T, T, T);  // (T, T)
                const auto Q = A.qkv.block(r0, h * dh, T, dh);
                const auto K = A.qkv.block(r0, d + h * dh, T, dh);
                const auto Vh = A.qkv.block(r0, 2 * d + h * dh, T, dh);
                const auto dY = ws.dmixed.block(r0, h * dh, T, dh);
                ws.dqkv.block(r0, 2 * d + h * dh, T, dh).noalias() = P.transpose() * dY;  // ∂/∂V
                ws.dP.noalias() = dY * Vh.transpose();                                     // ∂/∂pattern
                // softmax: ∂/∂score = P ⊙ (dP − Σ_j dP⊙P), times the scale.
                const ColT<S> rowdot = (ws.dP.array() * P.array()).rowwise().sum().matrix();
                ws.dP = ((ws.dP.colwise() - rowdot).array() * P.array() * scale).matrix();
                ws.dqkv.block(r0, h * dh, T, dh).noalias() = ws.dP * K;
                ws.dqkv.block(r0, d + h * dh, T, dh).noalias() = ws.dP.transpose() * Q;
            }
        }
        MMap<S>(g + L.W_qkv, d, 3 * d).noalias() += A.a1.transpose() * ws.dqkv;
        MRow<S>(g + L.b_qkv, 3 * d) += ws.dqkv.colwise().sum();
        ws.da.noalias() = ws.dqkv * CMap<S>(w + L.W_qkv, d, 3 * d).transpose();
        layernorm_backward<S>(ws.da, A.xhat1, A.rstd1, w + L.ln1_g, g + L.ln1_g, g + L.ln1_b, ws.dx, ws.scratch);
    }
    // Embeddings: x_0 = wte[id] + wpe[t].
    MMap<S> dwte(g + o.wte, V, d), dwpe(g + o.wpe, cfg.n_ctx, d);
    for (std::size_t s = 0; s < ws.len.size(); ++s)
        for (int t = 0; t < ws.len[s]; ++t) {
            dwte.row(ws.tokens[s][t]) += ws.dx.row(ws.row0[s] + t);
            dwpe.row(t) += ws.dx.row(ws.row0[s] + t);
        }
}

// Points a workspace at sequences [s0, s1) of the batch, `trim` tokens off each (1: the inputs
// of next-token prediction; 0: every token).
template <class S>
void bind_chunk(WS<S>& ws, const std::vector<std::vector<int>>& seqs, std::size_t s0, std::size_t s1, int trim, int H) {
    ws.tokens.clear(), ws.len.clear(), ws.row0.clear(), ws.pattern_off.assign(1, 0);
    ws.N = 0;
    for (std::size_t s = s0; s < s1; ++s) {
        const int T = int(seqs[s].size()) - trim;
        ws.tokens.push_back(seqs[s].data());
        ws.len.push_back(T);
        ws.row0.push_back(ws.N);
        ws.N += T;
        ws.pattern_off.push_back(ws.pattern_off.back() + std::size_t(H) * T * T);
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] Backprop (chunks on threads)
// ---------------------------------------------------------------------------------------------
template <class S>
Backprop<S>::Backprop(Mask mask, int threads) : mask_(std::move(mask)), threads_(std::max(1, threads)) {
    check_training_mask(mask_);
}
template <class S>
Backprop<S>::~Backprop() = default;
template <class S>
Backprop<S>::Backprop(Backprop&&) noexcept = default;
template <class S>
Backprop<S>& Backprop<S>::operator=(Backprop&&) noexcept = default;

namespace {

template <class S>
S run_batch(std::vector<std::unique_ptr<WS<S>>>& wss, int threads, const Mask& mask, const Params<S>& p,
            const Batch& b, AlignedVec<S>* grad) {
    check_batch(b, p.cfg);
    const Offsets o = offsets_of(p.slots, p.cfg);
    std::size_t count = 0;
    for (std::size_t s = 0; s < b.sequences.size(); ++s) {
        const int preds = int(b.sequences[s].size()) - 1;
        const auto [begin, end] = b.counted_range(s);
        const int lo = std::min(preds, begin), hi = std::min(preds, end);
        count += std::size_t(std::max(0, hi - lo));
    }
    if (count == 0) throw std::invalid_argument("batch: no prediction falls in the counted positions");
    const S inv_count = S(1) / S(count);

    const std::size_t nseq = b.sequences.size();
    const int chunks = int(std::min<std::size_t>(std::size_t(threads), nseq));
    while (int(wss.size()) < chunks) wss.push_back(std::make_unique<WS<S>>());
    parallel_for(chunks, chunks, [&](int c) {
        WS<S>& ws = *wss[std::size_t(c)];
        const std::size_t s0 = nseq * std::size_t(c) / std::size_t(chunks), s1 = nseq * std::size_t(c + 1) / std::size_t(chunks);
        bind_chunk<S>(ws, b.sequences, s0, s1, 1, p.cfg.n_heads);
        forward<S>(ws, p, o, mask, true);
        ws.grad.assign(p.w.size(), S(0));
        backward<S>(ws, p, o, b, s0, inv_count);  // (also the loss; the gradient is cheap next to it)
    });
    S loss = 0;
    for (int c = 0; c < chunks; ++c) loss += wss[std::size_t(c)]->loss_sum;
    if (grad) {
        *grad = wss[0]->grad;
        for (int c = 1; c < chunks; ++c) {
            const auto& gc = wss[std::size_t(c)]->grad;
            for (std::size_t i = 0; i < gc.size(); ++i) (*grad)[i] += gc[i];
        }
    }
    return loss * inv_count;
}

}  // namespace

template <class S>
S Backprop<S>::loss_and_grad(const Params<S>& p, const Batch& b, AlignedVec<S>& grad) {
    return run_batch<S>(ws_, threads_, mask_, p, b, &grad);
}

template <class S>
S Backprop<S>::loss(const Params<S>& p, const Batch& b) {
    return run_batch<S>(ws_, threads_, mask_, p, b, nullptr);
}

template <class S>
std::vector<std::vector<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>>
Backprop<S>::patterns(const Params<S>& p, const std::vector<int>& tokens) {
    Batch b;
    b.sequences = {tokens};
    if (tokens.empty() || int(tokens.size()) > p.cfg.n_ctx)
        throw std::invalid_argument("probe: needs 1 … n_ctx (" + std::to_string(p.cfg.n_ctx) + ") tokens");
    for (int t : tokens)
        if (t < 0 || t >= p.cfg.vocab_size) throw std::invalid_argument("probe: token id " + std::to_string(t) + " outside the vocabulary");
    if (ws_.empty()) ws_.push_back(std::make_unique<Workspace>());
    Workspace& ws = *ws_[0];
    bind_chunk<S>(ws, b.sequences, 0, 1, 0, p.cfg.n_heads);
    forward<S>(ws, p, offsets_of(p.slots, p.cfg), mask_, false);
    const int T = int(tokens.size());
    std::vector<std::vector<MatT<S>>> out(std::size_t(p.cfg.n_layers));
    for (int l = 0; l < p.cfg.n_layers; ++l)
        for (int h = 0; h < p.cfg.n_heads; ++h)
            out[std::size_t(l)].push_back(CMap<S>(ws.layers[std::size_t(l)].pattern.data() + std::size_t(h) * T * T, T, T));
    return out;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Optimizers
// ---------------------------------------------------------------------------------------------
template <class S>
double Optimizer<S>::lr_at(long t) const {
    if (cfg_.warmup > 0 && t < cfg_.warmup) return cfg_.lr * double(t) / double(cfg_.warmup);
    return cfg_.lr;
}

template <class S>
void Optimizer<S>::step(Params<S>& p, AlignedVec<S>& grad) {
    if (grad.size() != p.w.size()) throw std::invalid_argument("optimizer: gradient and parameters differ in size");
    double sq = 0;
    for (S v : grad) sq += double(v) * double(v);
    last_norm_ = std::sqrt(sq);
    if (cfg_.clip > 0 && last_norm_ > cfg_.clip) {
        const S k = S(cfg_.clip / last_norm_);
        for (S& v : grad) v *= k;
    }
    ++t_;
    const S lr = S(lr_at(t_));
    if (cfg_.kind == OptimizerKind::AdamW && m_.size() != p.w.size()) m_.assign(p.w.size(), S(0)), v_.assign(p.w.size(), S(0));
    const S b1 = S(cfg_.beta1), b2 = S(cfg_.beta2), eps = S(cfg_.eps);
    const S bc1 = S(1 - std::pow(cfg_.beta1, double(t_))), bc2 = S(1 - std::pow(cfg_.beta2, double(t_)));
    for (const TensorSlot& t : p.slots) {
        S* w = p.w.data() + t.offset;
        const S* gr = grad.data() + t.offset;
        const S keep = S(1) - (t.decay ? lr * S(cfg_.weight_decay) : S(0));
        const std::size_t n = t.size();
        if (cfg_.kind == OptimizerKind::SGD) {
            for (std::size_t i = 0; i < n; ++i) w[i] = w[i] * keep - lr * gr[i];
        } else {
            S* m = m_.data() + t.offset;
            S* v = v_.data() + t.offset;
            for (std::size_t i = 0; i < n; ++i) {
                m[i] = b1 * m[i] + (S(1) - b1) * gr[i];
                v[i] = b2 * v[i] + (S(1) - b2) * gr[i] * gr[i];
                const S mhat = m[i] / bc1, vhat = v[i] / bc2;
                w[i] = w[i] * keep - lr * mhat / (std::sqrt(vhat) + eps);
            }
        }
    }
}

template struct Params<float>;
template struct Params<double>;
template Params<float> init_params<float>(const ModelConfig&, std::uint64_t);
template Params<double> init_params<double>(const ModelConfig&, std::uint64_t);
template class Backprop<float>;
template class Backprop<double>;
template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace attnviz
