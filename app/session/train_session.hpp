// attnviz session — training a small model live (the Train workspace), without ImGui or GL.
//
// [SECTION] Settings   — the model, task and optimizer the user picked
// [SECTION] Records    — what the UI reads: losses, head scores, the probe's patterns, snapshots
// [SECTION] LiveTrainer — core's TrainSession on a worker thread (Play, Pause, Step, Reset, Save)
//
// The worker owns core's TrainSession (core/train_tasks.hpp) and is the only thread that touches
// it. The UI thread posts commands and reads `view()`: an immutable TrainView the worker replaces
// (a shared_ptr swapped under a mutex held for a pointer copy), so a frame never waits for a step.
//
// What is recorded, per step count s (the number of optimizer steps taken so far):
//   - every `log_every` steps: the mean training loss of the steps of that interval (each step's
//     batch loss before its update) and the held-out loss of the weights after step s;
//   - every `probe_every` steps: every head's pattern on the task's probe (random tokens, a
//     segment, the segment again) and every head's label scores on it (core/gpt2_model.hpp);
//   - a timeline of snapshots of the weights (with their probe patterns): one every `interval`
//     steps, starting at step 0; when there are more than `max_snapshots`, every other one is
//     dropped and the interval doubles, so they stay evenly spaced and memory stays bounded.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "train_tasks.hpp"
#include "types.hpp"

namespace attnviz::app {

// ---------------------------------------------------------------------------------------------
// [SECTION] Settings
// ---------------------------------------------------------------------------------------------
struct TrainSettings {
    TaskKind task = TaskKind::Induction;  // Induction, Sort, Reverse or Text
    int layers = 2, heads = 4, d_model = 64;
    int context = 0;             // 0 = the task's default (induction 64, sort/reverse 16, text 64)
    int vocab = 0;               // 0 = the task's default (induction 64, sort/reverse 11)
    bool mlp = false;
    int batch = 32;
    double lr = 1e-3;
    OptimizerKind optimizer = OptimizerKind::AdamW;
    double weight_decay = -1;    // < 0: AdamW 0.01, SGD 0 (as `attnviz train`)
    double clip = 1.0;
    std::uint64_t seed = 0;
    int threads = 1;             // the other core draws the window
    std::string text;            // Text: the training text ("" = the lecture scenes' own texts)
    int log_every = 10;          // steps per loss point
    int probe_every = 5;         // steps per refresh of the probe's patterns and head scores
    int max_snapshots = 64;      // the timeline's bound (≥ 2)
    int snapshot_every = 5;      // the timeline's first interval (doubles as it thins)
};

// The task and initial weights the settings describe (what Reset starts from). Throws
// std::invalid_argument / std::runtime_error naming the bad setting.
Task make_task(const TrainSettings& s);
ModelConfig model_config(const TrainSettings& s, const Task& task);
TrainOptions train_options(const TrainSettings& s);

// ---------------------------------------------------------------------------------------------
// [SECTION] Records
// ---------------------------------------------------------------------------------------------
struct LossPoint {
    long step = 0;
    double loss = 0;             // mean batch loss over the interval ending at `step`
    double heldout = 0;          // held-out loss of the weights after `step` (NaN: none held out)
};

// Every head's label scores on the probe, flattened [layer · n_heads + head].
struct ScoreRow {
    long step = 0;
    std::vector<double> previous_token, induction, duplicate_token, first_token;
    double best_induction = 0, best_previous_token = 0;
    int best_induction_head = -1;  // flat index
};

// Every head's pattern on the probe at one step.
struct ProbePatterns {
    long step = 0;
    std::vector<int> tokens;     // the probe (n ≤ n_ctx)
    std::vector<Mat> patterns;   // [layer · n_heads + head] (n, n), row i = query i
    ScoreRow scores;
};

struct TrainSnapshot {
    long step = 0;
    std::shared_ptr<const AlignedVec<float>> weights;  // Params::w at that step
    std::shared_ptr<const ProbePatterns> probe;        // computed from those weights
};

// What the UI reads. Immutable once published.
struct TrainView {
    std::uint64_t version = 0;   // +1 per publish
    std::uint64_t run = 0;       // +1 per Reset: a new model
    TrainSettings settings;      // of the current run
    ModelConfig cfg;
    std::vector<std::string> vocab;
    bool playing = false;
    long step = 0;
    double steps_per_s = 0;      // while playing, over the last ~second of wall time
    std::vector<LossPoint> losses;
    std::vector<ScoreRow> scores;
    std::shared_ptr<const ProbePatterns> probe;    // the latest
    std::vector<TrainSnapshot> snapshots;          // step order
    std::string message;         // the last save's result or an error
    bool message_is_error = false;

    double max_induction() const { return probe ? probe->scores.best_induction : 0.0; }
};

// ---------------------------------------------------------------------------------------------
// [SECTION] LiveTrainer
// ---------------------------------------------------------------------------------------------
class LiveTrainer {
public:
    // Starts the worker, paused at step 0 of `settings` (throws like make_task on bad settings).
    explicit LiveTrainer(const TrainSettings& settings = {});
    ~LiveTrainer();  // stops and joins the worker
    LiveTrainer(const LiveTrainer&) = delete;
    LiveTrainer& operator=(const LiveTrainer&) = delete;

    // Commands: return at once; the worker applies them in order.
    void play();
    void pause();
    void step(int n = 1);        // pauses, then takes exactly n steps
    // Back to step 0 with the weights of `settings`' seed (its model, task and optimizer). A bad
    // setting leaves the current run as it is and returns the error ("" when applied).
    std::string reset(const TrainSettings& settings);
    std::string reset();         // the current settings again
    void save(const std::string& dir);  // the current weights as a GPT-2 folder; result in message

    // Blocks until every command posted before it is applied, Step's steps taken (tests; never
    // from a frame).
    void sync();
    // A copy of the current weights (waits like sync()).
    Params<float> params();

    std::shared_ptr<const TrainView> view() const;  // never waits for a step
    long steps() const { return step_count_.load(); }
    bool playing() const { return playing_.load(); }

    // The probe's patterns and scores of given weights (what snapshots hold).
    static std::shared_ptr<const ProbePatterns> probe_patterns(const Params<float>& p, const Task& task, long step,
                                                               Backprop<float>& backprop);

private:
    struct Command {
        enum Kind { Play, Pause, Step, Reset, Save, Fence } kind = Fence;
        int n = 0;
        std::string path;
        std::shared_ptr<TrainSession> session;       // Reset
        TrainSettings settings;                      // Reset
        std::shared_ptr<std::promise<void>> done;    // Fence
        std::function<void()> fn;                    // Fence: run on the worker first
    };
    void post(Command c);
    void loop();
    void apply(Command& c);
    void take_step();
    void record_probe();
    void add_snapshot();
    void publish();

    // -- worker-owned --
    std::shared_ptr<TrainSession> session_;
    std::unique_ptr<Backprop<float>> probe_backprop_;
    TrainSettings settings_;
    std::uint64_t run_ = 0, version_ = 0;
    long pending_steps_ = 0;
    double interval_loss_sum_ = 0;
    long interval_steps_ = 0;
    std::vector<LossPoint> losses_;
    std::vector<ScoreRow> scores_;
    std::shared_ptr<const ProbePatterns> probe_;
    std::vector<TrainSnapshot> snapshots_;
    long snapshot_interval_ = 5;
    std::string message_;
    bool message_is_error_ = false;
    std::deque<std::pair<double, long>> rate_window_;  // (seconds, step) while playing
    double steps_per_s_ = 0;
    double last_publish_s_ = 0;

    // -- shared --
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Command> commands_;
    bool quit_ = false;
    std::shared_ptr<const TrainView> view_;
    std::atomic<long> step_count_{0};
    std::atomic<bool> playing_{false};
    std::thread worker_;
};

// The UI's state for the Train workspace (the settings being edited, the timeline position, the
// save path) and the trainer, made when the workspace is first shown.
struct TrainWorkspace {
    TrainSettings edit;          // the controls (applied by Reset)
    std::unique_ptr<LiveTrainer> trainer;
    int scrub = -1;              // the snapshot shown (-1: the live model)
    std::string save_path = "trained_model";
    std::string replace_path;    // a folder holding a model that the next Save there replaces (asked once)
    std::uint64_t shown_run = ~std::uint64_t(0);  // the run the scrub index refers to
    LiveTrainer& get();          // makes the trainer on first use
    // "Save as GPT-2 folder" at save_path, as the window asks for it. A shipped model's folder
    // (assets/) is refused; a folder that already holds a model (config.json or model.safetensors)
    // is replaced only when asked twice in a row for the same path. Returns "" when the save was
    // queued on the trainer, else the message to show (nothing written).
    std::string request_save();
};

}  // namespace attnviz::app
