// attnviz session — the analysis panels' state and their computations on a worker thread: head
// labels of every head, an intervention compared with the model as it is, the logit lens. No ImGui
// or GL here; the math is core's (gpt2_analysis.hpp).
//
// Each computation is asked for with its inputs (`want_…`, once a frame is fine): a request whose
// inputs equal the last one asked for does nothing; a new one replaces the queued or running one
// of its kind (JobRunner). A result is adopted by poll() (UI thread, once a frame) and kept until a
// newer one is adopted; `…_current()` says whether it answers the inputs last asked for. The
// forwards come in as shared pointers with the model that they reference, so a result stays valid
// after the document moved on.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gpt2_analysis.hpp"
#include "jobs.hpp"

namespace attnviz::app {

class ModelAnalysis {
public:
    ModelAnalysis();
    ~ModelAnalysis();  // cancels and joins the worker
    ModelAnalysis(const ModelAnalysis&) = delete;
    ModelAnalysis& operator=(const ModelAnalysis&) = delete;

    // -- what the panels edit (UI thread) --
    const Model* for_model = nullptr;          // the model these options were made for (a new one: reset())
    Intervention intervention;                 // heads to ablate, a mask on one layer or every layer
    int mask_choice = 0;                       // the panel's mask combo (0 = none)
    int mask_size = 3;                         // window / stride / block of that mask
    int token = -1;                            // the token whose logit difference is shown (−1: the top one before)
    std::string token_text;                    // the text typed for it
    HeadScore map_score = HeadScore::PreviousToken;  // the score the layers × heads map shows
    int label_T = 50;                          // length of the random sequence (repeated) for induction
    int lens_pos = -1;                         // the logit lens' position (−1: the last one)
    int lens_k = 5;

    // -- results --
    struct Labels {
        const Gpt2Forward* text = nullptr;     // the forward they were read from (identity only)
        int T = 0;
        std::vector<HeadLabelScores> scores;   // layer by layer, head by head
    };
    struct Comparison {
        const Gpt2Forward* before = nullptr;   // identity only
        Intervention iv;
        int k = 0, token = -1, layer = -1;     // as asked (token −1: resolved into c.token)
        InterventionComparison c;
    };
    struct Lens {
        const Gpt2Forward* f = nullptr;        // identity only
        int pos = 0, k = 0;
        std::vector<LensRow> rows;
    };

    // Ask for head labels of `text`'s model: previous-token, first-token, local window and entropy
    // on its text, induction and duplicate-token on a random sequence of label_T tokens, twice.
    void want_labels(std::shared_ptr<const Model> m, std::shared_ptr<const Gpt2Forward> text);
    // Ask for `before` compared with the same ids under before's options with `iv` applied
    // (apply_intervention): top-k, KL, the logit difference of `token` (−1: before's top token),
    // the pattern differences of `layer`. An empty intervention compares before with itself.
    void want_comparison(std::shared_ptr<const Model> m, std::shared_ptr<const Gpt2Forward> before, const Intervention& iv,
                         int k, int token, int layer);
    // Ask for the logit lens at `pos` (−1: the last position) of `f`.
    void want_lens(std::shared_ptr<const Model> m, std::shared_ptr<const Gpt2Forward> f, int pos, int k);

    // Adopt finished results; errors of failed jobs go to `errors`. True when something was adopted.
    bool poll(std::vector<std::string>* errors = nullptr);
    std::shared_ptr<const Labels> labels() const { return labels_.shown; }
    std::shared_ptr<const Comparison> comparison() const { return comparison_.shown; }
    std::shared_ptr<const Lens> lens() const { return lens_.shown; }
    bool labels_current() const { return labels_.current(); }
    bool comparison_current() const { return comparison_.current(); }
    bool lens_current() const { return lens_.current(); }
    std::uint64_t generation() const { return generation_; }  // +1 per adopted result (views re-upload)
    bool busy() const { return jobs_->busy(); }
    JobRunner::Status status() const { return jobs_->current(); }
    void wait_idle() { jobs_->wait_idle(); }   // tests: until nothing runs (then call poll())
    // Forget every result and request, and the options (a new model was opened).
    void reset();

    // The state dump's "analysis" object (JSON text): the ablated heads, the mask, the KL, the
    // logit difference, whether each result is current.
    std::string state_json() const;

private:
    template <class T>
    struct Slot {
        std::uint64_t asked = 0, answered = 0;  // request numbers (UI thread)
        std::string key;                       // inputs of the last request
        std::shared_ptr<const void> keep;      // the forward it names, kept alive (no address reuse)
        std::shared_ptr<const T> shown;        // adopted (UI thread)
        std::shared_ptr<const T> finished;     // from the worker, guarded by mu_
        std::uint64_t finished_request = 0;    // guarded by mu_
        bool current() const { return shown && answered == asked; }
    };
    template <class T>
    bool adopt(Slot<T>& slot);
    mutable std::mutex mu_;
    std::uint64_t next_request_ = 0;
    std::uint64_t generation_ = 0;
    Slot<Labels> labels_;
    Slot<Comparison> comparison_;
    Slot<Lens> lens_;
    std::unique_ptr<JobRunner> jobs_;          // last: stops before the rest goes
};

// "L1H3" for (1, 3); the state dump and the panels name heads this way.
std::string head_name(int layer, int head);

}  // namespace attnviz::app
