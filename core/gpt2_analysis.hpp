// attnviz core — what the analysis panels of a GPT-2-style model show, computed without a window:
// interventions (ablated heads, masks) compared with the model as it is, head labels of every head,
// and the logit lens as rows.
//
//   before = Gpt2Forward(m, ids, base),  after = Gpt2Forward(m, ids, intervened)
//   KL(before ‖ after) = Σ_t p_before(t) · (log p_before(t) − log p_after(t))   over the vocabulary
//   logit difference of token t = logit_after(t) − logit_before(t)              at the last position
//   pattern difference of head h at layer l = pattern_after(l, h) − pattern_before(l, h)   (n, n)
//
// Head labels: previous-token, first-token ("sink"), local window and entropy are read from the
// patterns of the text itself; induction and duplicate-token need repeated tokens, so they are read
// from a random sequence repeated twice (core's label_heads), where each score means something.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "gpt2_model.hpp"

namespace attnviz {

// ---------------------------------------------------------------------------------------------
// Interventions
// ---------------------------------------------------------------------------------------------
struct Intervention {
    std::vector<std::pair<int, int>> ablate;  // (layer, head): that head's output ΔE_h zeroed
    std::optional<Mask> mask;                 // a mask put on one layer, or on every layer
    int mask_layer = -1;                      // the layer of `mask`; −1 = every layer

    bool empty() const { return ablate.empty() && !mask; }
    bool operator==(const Intervention&) const = default;
};

// `base` with the intervention applied: its heads added to base's ablated heads (no duplicates),
// its mask replacing the mask of `mask_layer` (or of every layer, per-layer masks of base included).
// Throws ModelError naming the field when a layer or head is outside the model's (`cfg`).
Gpt2Options apply_intervention(const Gpt2Options& base, const Intervention& iv, const ModelConfig& cfg);

struct InterventionComparison {
    std::vector<TokenProb> before_top, after_top;  // top-k next tokens at the last position, most probable first
    double kl = 0;                                 // KL(before ‖ after) in nats (0 when the options agree)
    int token = -1;                                // the chosen token (−1: none chosen)
    float logit_before = 0, logit_after = 0;       // its logits at the last position
    float prob_before = 0, prob_after = 0;         // its probabilities
    float logit_diff() const { return logit_after - logit_before; }
    int layer = -1;                                // the layer of pattern_diff (−1: none)
    std::vector<Mat> pattern_diff;                 // per head (n, n): after − before at `layer`
};

// Two forwards of the same ids compared (k top tokens; `token` < 0 for none; `layer` < 0 for no
// pattern differences). Throws ModelError when the ids differ or token/layer are out of range.
InterventionComparison compare_forwards(const Gpt2Forward& before, const Gpt2Forward& after, int k, int token, int layer);
// The same, running both forwards (threads from `base.threads`).
InterventionComparison compare_intervention(const Model& m, const std::vector<int>& ids, const Gpt2Options& base,
                                            const Gpt2Options& intervened, int k, int token, int layer);

// ---------------------------------------------------------------------------------------------
// Head labels
// ---------------------------------------------------------------------------------------------
// Every head of f's model, layer by layer then head by head: previous-token, first-token, local
// window (`window` keys) and entropy from f's own patterns (its text, its options); induction and
// duplicate-token from a random sequence of T tokens repeated twice (label_heads(m, T, seed)).
std::vector<HeadLabelScores> label_heads_on_text(const Gpt2Forward& f, int T = 50, std::uint64_t seed = 1,
                                                 int threads = 0, int window = 3);

enum class HeadScore { PreviousToken, Induction, DuplicateToken, FirstToken, LocalWindow, Entropy, Count };
const char* head_score_name(HeadScore s);       // "previous-token", "induction", …
double head_score(const HeadLabelScores& s, HeadScore which);

// ---------------------------------------------------------------------------------------------
// Logit lens
// ---------------------------------------------------------------------------------------------
struct LensRow {
    int layer = 0;                // the residual stream after block `layer` (0-based); −1 = the embeddings x_0
    std::vector<TokenProb> top;   // the k most probable tokens read through ln_f and the unembedding
    float final_prob = 0;         // the probability here of the model's own top token at this position
};
// One row per stage at position `pos`: the embeddings first when `with_embeddings`, then after each
// block (the last row is the model's own prediction). Throws ModelError when pos is outside 0..n−1.
std::vector<LensRow> logit_lens_rows(const Gpt2Forward& f, int pos, int k, bool with_embeddings = true);

}  // namespace attnviz
