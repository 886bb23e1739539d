// attnviz session — the model document: a GPT-2 folder opened in the window (no ImGui or GL here).
//
// While a model is open, AppState::model holds one of these (null while a hand-made scene is the
// document). It keeps the folder, the weights (shared, never changed), the tokenizer, the text and
// its ids, the forward's options (ablations, masks), the latest *finished* forward pass and the
// selected layer and head.
//
// The forward runs on a worker thread (JobRunner): the UI never waits. Each computation has a
// name ("slot"): the document's own run is slot kMain; other panels may ask for runs with other
// inputs (before/after an intervention) under their own slot. A new request in a slot supersedes
// the one running or queued there (the running one is cancelled between layers); a slot's result
// is the last one that finished, kept until a newer one finishes. The UI thread calls poll() once
// a frame: it adopts finished results (returns true when something changed, so views re-upload).
//
// Inputs are one value (ModelInputs: ids + Gpt2Options), so a before/after run is "the document's
// inputs with other options".
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gpt2_model.hpp"
#include "gpt2_tokenizer.hpp"
#include "jobs.hpp"
#include "model.hpp"
#include "pattern_source.hpp"

namespace attnviz::app {

// What a forward pass is computed from.
struct ModelInputs {
    std::vector<int> ids;   // (n) token ids, 1 ≤ n ≤ n_ctx
    Gpt2Options opt;        // ablations, masks (threads and budgets too)
};

// One finished forward pass with what it was computed from.
struct ModelResult {
    ModelInputs in;
    std::shared_ptr<const Model> model;       // keeps the weights alive for `fwd`
    std::shared_ptr<const Gpt2Forward> fwd;   // the forward pass (references *model)
    std::vector<TokenProb> top;               // next-token top-k of the last position (kTopK)
    std::uint64_t request = 0;                // the request number it answers
    double seconds = 0;                       // wall time of the computation
    // The layer selected when it was asked for, as a PatternSource with its full() built on the
    // worker (the UI thread then only reads it); other layers are made on demand.
    int layer = -1;
    std::shared_ptr<const PatternSource> layer_source;
    // The model view's cells, computed on the worker (slot kMain): layer-major (l·n_heads + h), each
    // the pattern (n, n) when n ≤ kThumbnail, else pooled to (kThumbnail, kThumbnail) by the max of
    // each bucket (NaN where the mask forbids the whole bucket).
    std::vector<Mat> thumbnails;
};

class ModelDoc {
public:
    static constexpr int kTopK = 10;
    static constexpr int kThumbnail = 96;
    static constexpr const char* kMain = "main";   // the document's own run

    // Loads a GPT-2 folder (core/gpt2_io.hpp). Throws ModelError (naming file and tensor/field);
    // nothing is changed by a failed open.
    static std::shared_ptr<ModelDoc> open(const std::string& dir);
    // A document over a model already in memory (tests, benchmarks).
    ModelDoc(std::shared_ptr<const Model> model, Gpt2Tokenizer tok, std::string folder = {});
    ~ModelDoc();  // cancels and joins the worker
    ModelDoc(const ModelDoc&) = delete;
    ModelDoc& operator=(const ModelDoc&) = delete;

    // -- the document (UI thread) --
    std::string folder;                       // as opened ("" for one made in memory)
    std::shared_ptr<const Model> model;
    Gpt2Tokenizer tokenizer;
    std::string text;                         // as typed
    std::vector<int> ids;                     // tokenizer.encode(text), cut to n_ctx
    bool truncated = false;                   // text had more tokens than n_ctx (the rest dropped)
    Gpt2Options options;                      // ablations and masks of the document's run
    int layer = 0, head = 0;                  // the selection every view shows
    int query = -1;                           // selected query row (-1: none)

    const ModelConfig& cfg() const { return model->cfg; }
    std::string name() const;                 // the folder's last component ("model" when none)
    // Token i's piece as vocab.json has it, with Ġ (space) and Ċ (newline) visible.
    std::string piece(int id) const;
    std::vector<std::string> pieces() const;  // of `ids`
    // The inputs of the document's own run.
    ModelInputs inputs() const { return {ids, options}; }

    // Sets the text: encodes it and asks for a new forward pass (slot kMain). A text the
    // vocabulary cannot encode leaves ids as they were and returns false with `error` set.
    bool set_text(const std::string& t, std::string* error = nullptr);
    // Ids directly (ids outside the vocabulary: false, nothing changed).
    bool set_ids(std::vector<int> new_ids, std::string* error = nullptr);
    // Options changed (ablations, masks): asks for a new forward pass.
    // Selection, clamped to the model's layers and heads.
    void select(int l, int h);

    // -- computations --
    // Ask for a forward pass of `in` under `slot` (supersedes that slot's running/queued one).
    // Returns the request number. An empty ids list clears the slot's result.
    std::uint64_t request(const std::string& slot, ModelInputs in);
    // Same, for the document's own inputs (slot kMain).
    std::uint64_t recompute() { return request(kMain, inputs()); }
    // The last finished result of a slot (null until one finished). UI thread.
    std::shared_ptr<const ModelResult> result(const std::string& slot = kMain) const;
    // The last finished forward of the document (null until one finished).
    std::shared_ptr<const Gpt2Forward> latest() const;
    // Adopt results that finished on the worker; errors go to `errors` (if given). True when a
    // result was adopted (views re-upload). UI thread, once a frame.
    bool poll(std::vector<std::string>* errors = nullptr);
    // Whether the slot's newest request has finished (its result is the one shown).
    bool up_to_date(const std::string& slot = kMain) const;
    bool busy() const;                        // anything running or queued
    double progress() const;                  // of the running computation (0..1)
    std::string progress_label() const;
    void cancel(const std::string& slot = kMain);
    void wait_idle();                         // tests: until nothing runs (then call poll())
    std::uint64_t generation() const { return generation_; }  // +1 per adopted result

    // Where views read patterns: the selected layer of the latest forward (null before one
    // finished). The source keeps the forward alive.
    std::shared_ptr<const PatternSource> patterns() const;
    std::shared_ptr<const PatternSource> patterns(int layer) const;

    // The forward of `in` computed here, on the calling thread (progress/cancel optional; a
    // cancelled run throws Gpt2Cancelled). For tests and for panels' own workers.
    static std::shared_ptr<ModelResult> compute(std::shared_ptr<const Model> model, ModelInputs in,
                                                Progress* progress = nullptr);

private:
    int kind_of(const std::string& slot);
    mutable std::mutex mu_;                                        // guards finished_ and next_
    std::map<std::string, std::shared_ptr<const ModelResult>> finished_;  // from the worker, not yet adopted
    std::map<std::string, std::string> errors_;                    // slot → error, not yet taken
    std::map<std::string, std::shared_ptr<const ModelResult>> shown_;     // adopted (UI thread)
    std::map<std::string, std::uint64_t> asked_;                   // newest request per slot
    std::map<std::string, int> kinds_;                             // slot → job kind
    std::uint64_t next_request_ = 0;
    std::uint64_t generation_ = 0;
    mutable std::map<int, std::shared_ptr<const PatternSource>> sources_;  // per layer, of shown_[kMain]
    std::unique_ptr<JobRunner> jobs_;                              // last: stops before the rest goes
};

}  // namespace attnviz::app
