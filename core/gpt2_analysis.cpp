// attnviz core — interventions, head labels and the logit lens (gpt2_analysis.hpp).
//
// [SECTION] Interventions
// [SECTION] Head labels
// [SECTION] Logit lens
#include "gpt2_analysis.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "safetensors.hpp"  // ModelError

namespace attnviz {

// ---------------------------------------------------------------------------------------------
// [SECTION] Interventions
// ---------------------------------------------------------------------------------------------
Gpt2Options apply_intervention(const Gpt2Options& base, const Intervention& iv, const ModelConfig& cfg) {
    Gpt2Options o = base;
    for (const auto& [l, h] : iv.ablate) {
        if (l < 0 || l >= cfg.n_layers)
            throw ModelError("", "ablate", "layer " + std::to_string(l) + " is not in 0.." + std::to_string(cfg.n_layers - 1));
        if (h < 0 || h >= cfg.n_heads)
            throw ModelError("", "ablate", "head " + std::to_string(h) + " is not in 0.." + std::to_string(cfg.n_heads - 1));
        if (std::find(o.ablate.begin(), o.ablate.end(), std::make_pair(l, h)) == o.ablate.end()) o.ablate.emplace_back(l, h);
    }
    if (iv.mask) {
        if (iv.mask_layer >= cfg.n_layers || iv.mask_layer < -1)
            throw ModelError("", "mask_layer",
                             std::to_string(iv.mask_layer) + " is not −1 (every layer) or in 0.." + std::to_string(cfg.n_layers - 1));
        if (iv.mask_layer < 0) {
            o.mask = *iv.mask;
            o.layer_masks.clear();
        } else {
            o.layer_masks[iv.mask_layer] = *iv.mask;
        }
    }
    return o;
}

InterventionComparison compare_forwards(const Gpt2Forward& before, const Gpt2Forward& after, int k, int token, int layer) {
    if (before.ids() != after.ids()) throw ModelError("", "ids", "the two forwards ran on different tokens");
    const int V = before.model().cfg.vocab_size;
    if (token >= V) throw ModelError("", "token", std::to_string(token) + " is not in 0.." + std::to_string(V - 1));
    if (layer >= before.n_layers())
        throw ModelError("", "layer", std::to_string(layer) + " is not in 0.." + std::to_string(before.n_layers() - 1));
    InterventionComparison c;
    const RowVec lb = before.last_logits(), la = after.last_logits();  // (vocab)
    c.before_top = top_k(lb, k);
    c.after_top = top_k(la, k);
    c.kl = kl_divergence(lb, la);
    c.token = token < 0 ? -1 : token;
    if (token >= 0) {
        c.logit_before = lb(token);
        c.logit_after = la(token);
        const auto prob = [](const RowVec& x, int t) {
            const double mx = x.maxCoeff();
            double s = 0;
            for (Eigen::Index j = 0; j < x.size(); ++j) s += std::exp(static_cast<double>(x(j)) - mx);
            return static_cast<float>(std::exp(static_cast<double>(x(t)) - mx) / s);
        };
        c.prob_before = prob(lb, token);
        c.prob_after = prob(la, token);
    }
    if (layer >= 0) {
        c.layer = layer;
        for (int h = 0; h < before.n_heads(); ++h) c.pattern_diff.push_back(after.pattern(layer, h) - before.pattern(layer, h));
    }
    return c;
}

InterventionComparison compare_intervention(const Model& m, const std::vector<int>& ids, const Gpt2Options& base,
                                            const Gpt2Options& intervened, int k, int token, int layer) {
    const Gpt2Forward before(m, ids, base);
    const Gpt2Forward after(m, ids, intervened);
    return compare_forwards(before, after, k, token, layer);
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Head labels
// ---------------------------------------------------------------------------------------------
std::vector<HeadLabelScores> label_heads_on_text(const Gpt2Forward& f, int T, std::uint64_t seed, int threads, int window) {
    std::vector<HeadLabelScores> out = label_heads(f.model(), T, seed, threads);  // induction, duplicate-token
    for (HeadLabelScores& s : out) {
        const Mat P = f.pattern(s.layer, s.head);  // (n, n) of the text
        s.previous_token = previous_token_score(P);
        s.first_token = first_token_score(P);
        s.local_window = local_window_score(P, window);
        s.entropy = entropy_score(P);
    }
    return out;
}

const char* head_score_name(HeadScore s) {
    switch (s) {
        case HeadScore::PreviousToken: return "previous-token";
        case HeadScore::Induction: return "induction";
        case HeadScore::DuplicateToken: return "duplicate-token";
        case HeadScore::FirstToken: return "first-token";
        case HeadScore::LocalWindow: return "local window";
        case HeadScore::Entropy: return "entropy";
        case HeadScore::Count: break;
    }
    return "?";
}

double head_score(const HeadLabelScores& s, HeadScore which) {
    switch (which) {
        case HeadScore::PreviousToken: return s.previous_token;
        case HeadScore::Induction: return s.induction;
        case HeadScore::DuplicateToken: return s.duplicate_token;
        case HeadScore::FirstToken: return s.first_token;
        case HeadScore::LocalWindow: return s.local_window;
        case HeadScore::Entropy: return s.entropy;
        case HeadScore::Count: break;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Logit lens
// ---------------------------------------------------------------------------------------------
namespace {
float prob_of(const RowVec& logits, int t) {
    const double mx = logits.maxCoeff();
    double s = 0;
    for (Eigen::Index j = 0; j < logits.size(); ++j) s += std::exp(static_cast<double>(logits(j)) - mx);
    return static_cast<float>(std::exp(static_cast<double>(logits(t)) - mx) / s);
}
}  // namespace

std::vector<LensRow> logit_lens_rows(const Gpt2Forward& f, int pos, int k, bool with_embeddings) {
    if (pos < 0 || pos >= f.n()) throw ModelError("", "position", std::to_string(pos) + " is not in 0.." + std::to_string(f.n() - 1));
    const Model& m = f.model();
    const int L = f.n_layers();
    std::vector<RowVec> logits;  // per stage (vocab)
    for (int l = with_embeddings ? 0 : 1; l <= L; ++l) logits.push_back(read_out_logits(m, f.resid(l).row(pos)));
    const int final_id = top_k(logits.back(), 1).front().id;
    std::vector<LensRow> rows;
    for (std::size_t r = 0; r < logits.size(); ++r) {
        LensRow row;
        row.layer = static_cast<int>(r) - (with_embeddings ? 1 : 0);
        row.top = top_k(logits[r], k);
        row.final_prob = prob_of(logits[r], final_id);
        rows.push_back(std::move(row));
    }
    return rows;
}

}  // namespace attnviz
