// attnviz core — GPT-2 forward pass, appends with cached keys/values, next-token tools, head labels.
// See gpt2_model.hpp.
//
// Speed: every projection is one Eigen product over whole matrices (Q, K and V of all heads in one
// product per layer), split by rows over `threads` threads; attention runs per head (heads in
// parallel) in blocks of 64 query rows that compute only the key columns the mask lets them see.
#include "gpt2_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "gemm.hpp"  // gemm_rows: the row-split products
#include "parallel.hpp"
#include "random.hpp"
#include "safetensors.hpp"  // ModelError
#include "softmax.hpp"
#include "stream_store.hpp"

namespace attnviz {

namespace {
constexpr int kBlock = 64;  // query rows per attention block

const Mask& causal_mask() {
    static const Mask m = Mask::causal();
    return m;
}

// out = LN(x) row by row: (x − mean) / √(var + eps) · g + b   (biased variance, as PyTorch).
void layer_norm(const Eigen::Ref<const Mat>& x, const RowVec& g, const RowVec& b, float eps, Eigen::Ref<Mat> out) {
    const Eigen::Index d = x.cols();
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
        const auto row = x.row(r);
        const float mean = row.sum() / static_cast<float>(d);
        const float var = (row.array() - mean).square().sum() / static_cast<float>(d);
        const float inv = 1.0f / std::sqrt(var + eps);
        out.row(r) = (((row.array() - mean) * inv) * g.array() + b.array()).matrix();
    }
}

// GELU, tanh form, in place: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
void gelu_tanh(Eigen::Ref<Mat> x, int threads) {
    const int n = static_cast<int>(x.rows());
    const int t = x.size() < 200'000 ? 1 : std::max(1, std::min(threads, n));
    const int per = (n + t - 1) / t;
    parallel_for(t, t, [&](int k) {
        const int r0 = k * per, r1 = std::min(n, r0 + per);
        if (r1 <= r0) return;
        auto a = x.middleRows(r0, r1 - r0).array();
        const float c = 0.7978845608028654f;  // √(2/π)
        a = 0.5f * a * (1.0f + (c * (a + 0.044715f * a.cube())).tanh());
    });
}

// One block of query rows [i0, i1) against keys [0, m): fills P (i1 − i0, kc) with the pattern of
// keys [clo, clo + kc) (every allowed key of the block is inside); kc = 0 when no row sees a key.
void pattern_block(const Eigen::Ref<const Mat, 0, Eigen::OuterStride<>>& Q, const Eigen::Ref<const Mat, 0, Eigen::OuterStride<>>& K,
                   const Mask& mask, float factor, int i0, int i1, int m, int& clo, int& kc, Mat& P) {
    int chi = -1;
    mask.block_key_range(i0, i1, m, clo, chi);
    kc = chi >= clo ? chi - clo + 1 : 0;
    const int bi = i1 - i0;
    P.resize(bi, kc);
    if (kc == 0) return;
    // (1)–(2) raw scores of the block, then per row (3)–(5) softmax.hpp's masked softmax in place —
    // the one every attention path uses (logits stored before max and exp, an infinite max handled,
    // masked cells exactly 0).
    P.noalias() = Q.middleRows(i0, bi) * K.middleRows(clo, kc).transpose();
    for (int r = 0; r < bi; ++r) softmax_row(mask, i0 + r, clo, clo + kc - 1, P.row(r).data(), factor, P.row(r).data());
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] Options
// ---------------------------------------------------------------------------------------------
const Mask& Gpt2Options::mask_of(int layer) const {
    auto it = layer_masks.find(layer);
    if (it != layer_masks.end()) return it->second;
    return mask ? *mask : causal_mask();
}

bool Gpt2Options::ablated(int layer, int head) const {
    return std::find(ablate.begin(), ablate.end(), std::make_pair(layer, head)) != ablate.end();
}

void head_pattern_rows(const Eigen::Ref<const Mat, 0, Eigen::OuterStride<>>& Q, const Eigen::Ref<const Mat, 0, Eigen::OuterStride<>>& K,
                       const Mask& mask, float factor, int i0, int i1, Mat& out) {
    const int m = static_cast<int>(K.rows());
    out.setZero(i1 - i0, m);
    Mat P;
    // The forward's block partition (multiples of kBlock from row 0), so the values are identical.
    for (int b0 = (i0 / kBlock) * kBlock; b0 < i1; b0 += kBlock) {
        const int b1 = std::min(b0 + kBlock, static_cast<int>(Q.rows()));
        int clo = 0, kc = 0;
        pattern_block(Q, K, mask, factor, b0, b1, m, clo, kc, P);
        for (int i = std::max(b0, i0); i < std::min(b1, i1); ++i)
            if (kc) out.row(i - i0).segment(clo, kc) = P.row(i - b0);
    }
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Forward
// ---------------------------------------------------------------------------------------------
Gpt2Forward::Gpt2Forward(const Model& m, std::vector<int> ids, Gpt2Options opt)
    : Gpt2Forward(m, std::move(ids), std::move(opt), nullptr) {}

Gpt2Forward::Gpt2Forward(const Model& m, std::vector<int> ids, Gpt2Options opt, Progress* progress)
    : model_(&m), opt_(std::move(opt)), ids_(std::move(ids)) {
    const ModelConfig& c = m.cfg;
    const int n = static_cast<int>(ids_.size());
    if (n < 1) throw ModelError("", "tokens", "no tokens");
    if (n > c.n_ctx)
        throw ModelError("", "tokens", std::to_string(n) + " tokens, more than the model's " + std::to_string(c.n_ctx) + " positions");
    for (int i = 0; i < n; ++i)
        if (ids_[static_cast<std::size_t>(i)] < 0 || ids_[static_cast<std::size_t>(i)] >= c.vocab_size)
            throw ModelError("", "tokens", "token id " + std::to_string(ids_[static_cast<std::size_t>(i)]) + " at position " +
                                                std::to_string(i) + " is not in 0.." + std::to_string(c.vocab_size - 1));
    for (const auto& [l, h] : opt_.ablate)
        if (l < 0 || l >= c.n_layers || h < 0 || h >= c.n_heads)
            throw ModelError("", "ablate", "head (" + std::to_string(l) + ", " + std::to_string(h) + ") does not exist");
    for (const auto& [l, mk] : opt_.layer_masks)
        if (l < 0 || l >= c.n_layers) throw ModelError("", "layer_masks", "layer " + std::to_string(l) + " does not exist");
    const int threads = resolve_threads(opt_.threads);
    const int d = c.d_model;
    n_ = n;
    capacity_ = std::clamp(opt_.reserve, n, c.n_ctx);
    resid_.assign(static_cast<std::size_t>(c.n_layers) + 1, Mat());
    for (auto& r : resid_) r.resize(capacity_, d);
    layers_.assign(static_cast<std::size_t>(c.n_layers), Layer());
    for (auto& L : layers_) {
        L.attn_out.resize(capacity_, d);
        if (c.mlp) L.mlp_out.resize(capacity_, d);
        L.qkv.resize(capacity_, 3 * d);
        L.mixed.resize(capacity_, d);
        L.patterns.assign(static_cast<std::size_t>(c.n_heads), Mat());
    }
    for (int i = 0; i < n; ++i) resid_[0].row(i) = m.wte.row(ids_[static_cast<std::size_t>(i)]) + m.wpe.row(i);
    std::int64_t budget = opt_.pattern_budget_bytes;
    const std::int64_t per_pattern = std::int64_t(n) * n * static_cast<std::int64_t>(sizeof(float));
    if (progress) {
        progress->total = c.n_layers;
        progress->done = 0;
    }
    for (int l = 0; l < c.n_layers; ++l) {
        if (progress && progress->cancel) throw Gpt2Cancelled();
        for (int h = 0; h < c.n_heads; ++h)
            if (budget >= per_pattern) {
                layers_[static_cast<std::size_t>(l)].patterns[static_cast<std::size_t>(h)].resize(n, n);
                budget -= per_pattern;
            }
        run_layer(l, threads);
        if (progress) progress->done = l + 1;
    }
    if (progress && progress->cancel) throw Gpt2Cancelled();
    // Logits: LN_f of the last position (or of every position) · wteᵀ.
    const int rows = opt_.all_logits ? n : 1;
    Mat hf(rows, d);  // (rows, d)
    layer_norm(resid_.back().middleRows(n - rows, rows), m.lnf_g, m.lnf_b, c.ln_eps, hf);
    logits_.resize(opt_.all_logits ? capacity_ : 1, c.vocab_size);
    if (rows == 1) {
        // (vocab) = wte (vocab, d) · hᵀ: a matrix–vector product, rows of wte split over threads.
        const int V = c.vocab_size;
        const int t = std::max(1, std::min(threads, V / 4096));
        const int per = (V + t - 1) / t;
        parallel_for(t, t, [&](int k) {
            const int r0 = k * per, r1 = std::min(V, r0 + per);
            if (r1 > r0) logits_.row(0).segment(r0, r1 - r0).noalias() = (m.wte.middleRows(r0, r1 - r0) * hf.row(0).transpose()).transpose();
        });
    } else {
        gemm_rows(hf, Mat(m.wte.transpose()), nullptr, logits_.topRows(n), threads);
    }
}

void Gpt2Forward::run_layer(int l, int threads) {
    const Model& m = *model_;
    const ModelConfig& c = m.cfg;
    const LayerWeights& w = m.layers[static_cast<std::size_t>(l)];
    Layer& L = layers_[static_cast<std::size_t>(l)];
    const int n = n_, d = c.d_model, dh = c.d_head(), H = c.n_heads;
    const auto x = resid_[static_cast<std::size_t>(l)].topRows(n);
    Mat a(n, d);  // (n, d) LN_1(x)
    layer_norm(x, w.ln1_g, w.ln1_b, c.ln_eps, a);
    gemm_rows(a, w.W_qkv, &w.b_qkv, L.qkv.topRows(n), threads);

    // Attention, heads in parallel; each head in blocks of kBlock query rows.
    const Mask& mask = opt_.mask_of(l);
    const float factor = logit_factor();
    std::vector<Mat> scratch(static_cast<std::size_t>(std::max(1, threads)));
    std::vector<Mat> keep_rows(scratch.size());
    parallel_for_workers(H, std::min(threads, H), [&](int h, int worker) {
        Mat& P = scratch[static_cast<std::size_t>(worker)];
        const auto Qh = L.qkv.block(0, h * dh, n, dh);
        const auto Kh = L.qkv.block(0, d + h * dh, n, dh);
        const auto Vh = L.qkv.block(0, 2 * d + h * dh, n, dh);
        auto mixed = L.mixed.block(0, h * dh, n, dh);
        Mat& keep = L.patterns[static_cast<std::size_t>(h)];
        Mat& rows = keep_rows[static_cast<std::size_t>(worker)];  // (kBlock, n) a kept block's full rows
        const bool ablated = opt_.ablated(l, h);
        for (int i0 = 0; i0 < n; i0 += kBlock) {
            const int i1 = std::min(n, i0 + kBlock);
            int clo = 0, kc = 0;
            pattern_block(Qh, Kh, mask, factor, i0, i1, n, clo, kc, P);
            if (kc == 0 || ablated) mixed.middleRows(i0, i1 - i0).setZero();
            else mixed.middleRows(i0, i1 - i0).noalias() = P * Vh.middleRows(clo, kc);
            if (keep.size()) {  // the block's rows, zeros outside the keys it sees, streamed (stream_store.hpp)
                rows.resize(i1 - i0, n);
                rows.setZero();
                if (kc) rows.middleCols(clo, kc) = P;
                stream_rows(rows.data(), n, keep.row(i0).data(), n, i1 - i0, n);
            }
        }
    });
    // attn_out = mixed·W_o + b_o;  x_mid = x + attn_out
    gemm_rows(L.mixed.topRows(n), w.W_o, &w.b_o, L.attn_out.topRows(n), threads);
    auto next = resid_[static_cast<std::size_t>(l) + 1].topRows(n);
    next = x + L.attn_out.topRows(n);
    if (c.mlp) {
        layer_norm(next, w.ln2_g, w.ln2_b, c.ln_eps, a);
        Mat hidden(n, 4 * d);  // (n, 4d)
        gemm_rows(a, w.W_fc, &w.b_fc, hidden, threads);
        gelu_tanh(hidden, threads);
        gemm_rows(hidden, w.W_proj, &w.b_proj, L.mlp_out.topRows(n), threads);
        next += L.mlp_out.topRows(n);
    }
}

void Gpt2Forward::grow(int capacity) {
    capacity_ = capacity;
    for (auto& r : resid_) r.conservativeResize(capacity, Eigen::NoChange);
    for (auto& L : layers_) {
        L.attn_out.conservativeResize(capacity, Eigen::NoChange);
        if (L.mlp_out.size()) L.mlp_out.conservativeResize(capacity, Eigen::NoChange);
        L.qkv.conservativeResize(capacity, Eigen::NoChange);
        L.mixed.conservativeResize(capacity, Eigen::NoChange);
    }
    if (opt_.all_logits) logits_.conservativeResize(capacity, Eigen::NoChange);
}

void Gpt2Forward::append(int id) {
    if (!model_) throw ModelError("", "tokens", "append to an empty forward pass");
    const Model& m = *model_;
    const ModelConfig& c = m.cfg;
    if (n_ >= c.n_ctx) throw ModelError("", "tokens", "the model has only " + std::to_string(c.n_ctx) + " positions");
    if (id < 0 || id >= c.vocab_size) throw ModelError("", "tokens", "token id " + std::to_string(id) + " is not in the vocabulary");
    if (n_ >= capacity_) grow(std::min(c.n_ctx, std::max(n_ + 1, n_ + n_ / 4 + 16)));
    const int threads = resolve_threads(opt_.threads);
    const int i = n_, d = c.d_model, dh = c.d_head(), H = c.n_heads;
    ids_.push_back(id);
    n_ = i + 1;
    for (auto& L : layers_)
        for (auto& p : L.patterns) p.resize(0, 0);  // kept patterns are dropped: computed on demand now
    // Row-vector × matrix products split by output columns over the threads.
    const auto vecmat = [&](const RowVec& v, const Mat& W, const RowVec& b, Eigen::Ref<RowVec> out) {
        const int cols = static_cast<int>(W.cols());
        const int t = std::max(1, std::min(threads, cols / 256));
        const int per = ((cols + t - 1) / t + 15) / 16 * 16;
        parallel_for(t, t, [&](int k) {
            const int c0 = k * per, c1 = std::min(cols, c0 + per);
            if (c1 > c0) out.segment(c0, c1 - c0).noalias() = v * W.middleCols(c0, c1 - c0) + b.segment(c0, c1 - c0);
        });
    };
    resid_[0].row(i) = m.wte.row(id) + m.wpe.row(i);
    RowVec a(d), tmp(d), hidden(4 * d);
    Mat P;
    const float factor = logit_factor();
    for (int l = 0; l < c.n_layers; ++l) {
        const LayerWeights& w = m.layers[static_cast<std::size_t>(l)];
        Layer& L = layers_[static_cast<std::size_t>(l)];
        layer_norm(resid_[static_cast<std::size_t>(l)].row(i), w.ln1_g, w.ln1_b, c.ln_eps, a);
        RowVec q(3 * d);
        vecmat(a, w.W_qkv, w.b_qkv, q);
        L.qkv.row(i) = q;
        const Mask& mask = opt_.mask_of(l);
        for (int h = 0; h < H; ++h) {
            const auto Qh = L.qkv.block(0, h * dh, n_, dh);
            const auto Kh = L.qkv.block(0, d + h * dh, n_, dh);
            const auto Vh = L.qkv.block(0, 2 * d + h * dh, n_, dh);
            int clo = 0, kc = 0;
            pattern_block(Qh, Kh, mask, factor, i, i + 1, n_, clo, kc, P);
            auto mixed = L.mixed.block(i, h * dh, 1, dh);
            if (kc == 0 || opt_.ablated(l, h)) mixed.setZero();
            else mixed.noalias() = P * Vh.middleRows(clo, kc);
        }
        RowVec mixed_row = L.mixed.row(i);
        vecmat(mixed_row, w.W_o, w.b_o, tmp);
        L.attn_out.row(i) = tmp;
        resid_[static_cast<std::size_t>(l) + 1].row(i) = resid_[static_cast<std::size_t>(l)].row(i) + tmp;
        if (c.mlp) {
            layer_norm(resid_[static_cast<std::size_t>(l) + 1].row(i), w.ln2_g, w.ln2_b, c.ln_eps, a);
            vecmat(a, w.W_fc, w.b_fc, hidden);
            Mat hm = hidden;  // (1, 4d)
            gelu_tanh(hm, 1);
            vecmat(hm.row(0), w.W_proj, w.b_proj, tmp);
            L.mlp_out.row(i) = tmp;
            resid_[static_cast<std::size_t>(l) + 1].row(i) += tmp;
        }
    }
    RowVec hf(d);
    layer_norm(resid_.back().row(i), m.lnf_g, m.lnf_b, c.ln_eps, hf);
    auto out = opt_.all_logits ? logits_.row(i) : logits_.row(0);
    const int V = c.vocab_size;
    const int t = std::max(1, std::min(threads, V / 4096));
    const int per = (V + t - 1) / t;
    parallel_for(t, t, [&](int k) {
        const int r0 = k * per, r1 = std::min(V, r0 + per);
        if (r1 > r0) out.segment(r0, r1 - r0).noalias() = (m.wte.middleRows(r0, r1 - r0) * hf.transpose()).transpose();
    });
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Accessors
// ---------------------------------------------------------------------------------------------
Gpt2Forward::Rows Gpt2Forward::resid(int l) const { return resid_.at(static_cast<std::size_t>(l)).topRows(n_); }
Gpt2Forward::Rows Gpt2Forward::attn_out(int l) const { return layers_.at(static_cast<std::size_t>(l)).attn_out.topRows(n_); }
Gpt2Forward::Rows Gpt2Forward::mlp_out(int l) const {
    const Mat& x = layers_.at(static_cast<std::size_t>(l)).mlp_out;
    return x.size() ? x.topRows(n_) : x.topRows(0);
}
Gpt2Forward::Rows Gpt2Forward::qkv(int l) const { return layers_.at(static_cast<std::size_t>(l)).qkv.topRows(n_); }
Gpt2Forward::Cols Gpt2Forward::Q(int l, int h) const { return layers_.at(static_cast<std::size_t>(l)).qkv.block(0, h * d_head(), n_, d_head()); }
Gpt2Forward::Cols Gpt2Forward::K(int l, int h) const {
    return layers_.at(static_cast<std::size_t>(l)).qkv.block(0, model_->cfg.d_model + h * d_head(), n_, d_head());
}
Gpt2Forward::Cols Gpt2Forward::V(int l, int h) const {
    return layers_.at(static_cast<std::size_t>(l)).qkv.block(0, 2 * model_->cfg.d_model + h * d_head(), n_, d_head());
}
Gpt2Forward::Rows Gpt2Forward::mixed(int l) const { return layers_.at(static_cast<std::size_t>(l)).mixed.topRows(n_); }
Mat Gpt2Forward::scores(int l, int h) const { return Q(l, h) * K(l, h).transpose(); }
bool Gpt2Forward::pattern_kept(int l, int h) const {
    return layers_.at(static_cast<std::size_t>(l)).patterns.at(static_cast<std::size_t>(h)).size() > 0;
}
const Mat& Gpt2Forward::kept_pattern(int l, int h) const {
    if (!pattern_kept(l, h))
        throw std::logic_error("Gpt2Forward::kept_pattern: layer " + std::to_string(l) + " head " + std::to_string(h) + " is not kept");
    return layers_[static_cast<std::size_t>(l)].patterns[static_cast<std::size_t>(h)];
}
Mat Gpt2Forward::pattern(int l, int h) const {
    if (pattern_kept(l, h)) return kept_pattern(l, h);
    Mat out;
    head_pattern_rows(Q(l, h), K(l, h), opt_.mask_of(l), logit_factor(), 0, n_, out);
    return out;
}
Mat Gpt2Forward::delta(int l, int h) const {
    const int dh = d_head();
    return mixed(l).middleCols(h * dh, dh) * model_->layers.at(static_cast<std::size_t>(l)).W_o.middleRows(h * dh, dh);
}
Gpt2Forward::Rows Gpt2Forward::logits() const { return opt_.all_logits ? logits_.topRows(n_) : logits_.topRows(1); }
RowVec Gpt2Forward::last_logits() const { return opt_.all_logits ? RowVec(logits_.row(n_ - 1)) : RowVec(logits_.row(0)); }
float Gpt2Forward::logit_factor() const { return 1.0f / std::sqrt(static_cast<float>(d_head())); }
std::int64_t Gpt2Forward::kept_bytes() const {
    std::int64_t b = 0;
    for (const auto& r : resid_) b += r.size();
    for (const auto& L : layers_) {
        b += L.attn_out.size() + L.mlp_out.size() + L.qkv.size() + L.mixed.size();
        for (const auto& p : L.patterns) b += p.size();
    }
    b += logits_.size();
    return b * static_cast<std::int64_t>(sizeof(float));
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Next-token distributions
// ---------------------------------------------------------------------------------------------
std::vector<TokenProb> top_k(const RowVec& logits, int k) {
    const int V = static_cast<int>(logits.size());
    k = std::clamp(k, 0, V);
    if (V == 0) return {};
    const float mx = logits.maxCoeff();
    double sum = 0;
    for (int j = 0; j < V; ++j) sum += std::exp(static_cast<double>(logits(j)) - mx);
    std::vector<int> idx(static_cast<std::size_t>(V));
    std::iota(idx.begin(), idx.end(), 0);
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int a, int b) {
        return logits(a) > logits(b) || (logits(a) == logits(b) && a < b);
    });
    std::vector<TokenProb> out;
    for (int r = 0; r < k; ++r) {
        const int j = idx[static_cast<std::size_t>(r)];
        out.push_back({j, static_cast<float>(std::exp(static_cast<double>(logits(j)) - mx) / sum), logits(j)});
    }
    return out;
}

double kl_divergence(const RowVec& p_logits, const RowVec& q_logits) {
    if (p_logits.size() != q_logits.size() || p_logits.size() == 0) throw std::invalid_argument("kl_divergence: sizes differ");
    const auto log_softmax = [](const RowVec& x) {
        const double mx = x.maxCoeff();
        double s = 0;
        for (Eigen::Index j = 0; j < x.size(); ++j) s += std::exp(static_cast<double>(x(j)) - mx);
        const double lse = mx + std::log(s);
        std::vector<double> out(static_cast<std::size_t>(x.size()));
        for (Eigen::Index j = 0; j < x.size(); ++j) out[static_cast<std::size_t>(j)] = static_cast<double>(x(j)) - lse;
        return out;
    };
    const auto lp = log_softmax(p_logits), lq = log_softmax(q_logits);
    double kl = 0;
    for (std::size_t j = 0; j < lp.size(); ++j) kl += std::exp(lp[j]) * (lp[j] - lq[j]);
    return std::max(0.0, kl);
}

RowVec read_out_logits(const Model& m, const Eigen::Ref<const RowVec>& x) {
    RowVec h(m.cfg.d_model);  // (d) ln_f(x)
    layer_norm(x, m.lnf_g, m.lnf_b, m.cfg.ln_eps, h);
    return (m.wte * h.transpose()).transpose();  // (vocab)
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Head labels
// ---------------------------------------------------------------------------------------------
double previous_token_score(const Mat& P) {
    if (P.rows() < 2) return 0;
    double s = 0;
    for (Eigen::Index i = 1; i < P.rows(); ++i) s += P(i, i - 1);
    return s / static_cast<double>(P.rows() - 1);
}

namespace {
// Mean over the queries i whose token occurred before (at k < i) of Σ_k P[i][k + offset]: offset 1
// is the token after the earlier copy (induction), 0 the earlier copy itself (duplicate token).
double earlier_copy_score(const Mat& P, const std::vector<int>& ids, Eigen::Index offset) {
    double s = 0;
    int rows = 0;
    for (Eigen::Index i = 1; i < P.rows(); ++i) {
        double r = 0;
        bool any = false;
        for (Eigen::Index k = 0; k < i; ++k)
            if (ids[static_cast<std::size_t>(k)] == ids[static_cast<std::size_t>(i)]) {
                any = true;
                r += P(i, k + offset);
            }
        if (any) {
            s += r;
            ++rows;
        }
    }
    return rows ? s / rows : 0;
}
}  // namespace

double induction_score(const Mat& P, const std::vector<int>& ids) { return earlier_copy_score(P, ids, 1); }

double duplicate_token_score(const Mat& P, const std::vector<int>& ids) { return earlier_copy_score(P, ids, 0); }

double first_token_score(const Mat& P) {
    if (P.rows() == 0) return 0;
    return static_cast<double>(P.col(0).cast<double>().sum()) / static_cast<double>(P.rows());
}

double local_window_score(const Mat& P, int w) {
    if (P.rows() == 0) return 0;
    double s = 0;
    for (Eigen::Index i = 0; i < P.rows(); ++i)
        for (Eigen::Index j = std::max<Eigen::Index>(0, i - w + 1); j <= i && j < P.cols(); ++j) s += P(i, j);
    return s / static_cast<double>(P.rows());
}

double entropy_score(const Mat& P) {
    if (P.rows() == 0) return 0;
    double s = 0;
    for (Eigen::Index i = 0; i < P.rows(); ++i)
        for (Eigen::Index j = 0; j < P.cols(); ++j)
            if (P(i, j) > 0) s -= static_cast<double>(P(i, j)) * std::log(static_cast<double>(P(i, j)));
    return s / static_cast<double>(P.rows());
}

std::vector<int> repeated_random_sequence(int T, int vocab, std::uint64_t seed) {
    std::vector<int> first;
    std::vector<char> used(static_cast<std::size_t>(vocab), 0);
    std::uint64_t state = rng::mix(seed ^ 0x1D0C7105EEDull);
    while (static_cast<int>(first.size()) < T) {
        state = rng::mix(state);
        const int id = static_cast<int>(state % static_cast<std::uint64_t>(vocab));
        if (vocab >= T && used[static_cast<std::size_t>(id)]) continue;
        used[static_cast<std::size_t>(id)] = 1;
        first.push_back(id);
    }
    std::vector<int> ids = first;
    ids.insert(ids.end(), first.begin(), first.end());
    return ids;
}

std::vector<HeadLabelScores> label_heads(const Model& m, int T, std::uint64_t seed, int threads) {
    T = std::clamp(T, 1, std::max(1, m.cfg.n_ctx / 2));
    const std::vector<int> ids = repeated_random_sequence(T, m.cfg.vocab_size, seed);
    Gpt2Options o;
    o.threads = threads;
    o.pattern_budget_bytes = 0;
    const Gpt2Forward f(m, ids, o);
    std::vector<HeadLabelScores> out;
    for (int l = 0; l < f.n_layers(); ++l)
        for (int h = 0; h < f.n_heads(); ++h) {
            const Mat P = f.pattern(l, h);
            HeadLabelScores s;
            s.layer = l;
            s.head = h;
            s.previous_token = previous_token_score(P);
            s.induction = induction_score(P, ids);
            s.duplicate_token = duplicate_token_score(P, ids);
            s.first_token = first_token_score(P);
            s.local_window = local_window_score(P, 3);
            s.entropy = entropy_score(P);
            out.push_back(s);
        }
    return out;
}

}  // namespace attnviz
