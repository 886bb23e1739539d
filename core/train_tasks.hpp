// attnviz core — what a small model is trained on, and a training session that runs it.
//
// [SECTION] Tasks        — induction/copying, sorting, reversing, next character, a user's sequences
// [SECTION] Head scores  — previous-token and induction scores of a pattern
// [SECTION] Session      — parameters + backprop + optimizer + task, one step at a time
//
// Every batch is a pure function of (task seed, step): a run is reproducible, and the held-out
// set and the probe never change while training.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "train.hpp"

namespace attnviz {

// ---------------------------------------------------------------------------------------------
// [SECTION] Tasks
// ---------------------------------------------------------------------------------------------
enum class TaskKind { Induction, Sort, Reverse, Text, Data };
const char* task_name(TaskKind k);  // "induction", "sort", "reverse", "text", "data"

struct Task {
    TaskKind kind = TaskKind::Induction;
    std::vector<std::string> vocab;  // id → token text (raw bytes; generated tasks use one
                                     // character per token: "0"…"9", "A"…, ">" separates)
    int context = 64;                // positions the model needs (n_ctx)
    std::uint64_t seed = 0;

    // Induction: a segment of repeat_min (2) … half random tokens copied right after itself, at a
    // random place among random tokens (the loss counts the predictions the first copy determines);
    // sort/reverse: `list` values, ">", the list sorted or reversed (the loss counts the answer).
    int half = 0, repeat_min = 0, list = 0, values = 0;
    std::vector<int> text_train, text_heldout;             // Text: the token stream, split 90/10
    std::vector<std::vector<int>> data_train, data_heldout;  // Data: the user's sequences

    Batch heldout;                   // fixed; empty sequences when the task has none
    std::vector<int> probe;          // a random prefix, a random segment, the segment again (head scores)

    int vocab_size() const { return static_cast<int>(vocab.size()); }
    // The batch of step `step` (`size` sequences; for Data, 0 = every training sequence in order).
    Batch batch(long step, int size) const;
};

// Induction: sequences of T = context random tokens of `vocab` in which a segment of L random
// tokens (L drawn per sequence from [2, half], half = T/2, uniform below a cap drawn uniformly from
// [2, half]: short repeats more often) is followed by a copy of
// itself, starting at a random position p ∈ [0, T − 2L] — the repeat distance L varies, so
// position alone cannot predict the copy. Batch::counted holds each sequence's determined
// predictions: inputs p + L … p + 2L − 2 (the copy's 2nd … last token).
Task make_induction_task(int context, int vocab, std::uint64_t seed);
// Sort / reverse: `context` = 2·list (list values of 0 … vocab − 2, then ">" = vocab − 1, then the
// answer; 2·list + 1 tokens, the last one only a target).
Task make_sort_task(int context, int vocab, std::uint64_t seed);
Task make_reverse_task(int context, int vocab, std::uint64_t seed);
// Next character: a byte vocabulary (the text's distinct bytes, in byte order: a saved model's
// GPT-2 tokenizer then encodes any text made of them, one token per byte; a UTF-8 character of
// several bytes is several tokens); windows of context + 1 bytes from the first 90 %, held-out
// windows from the last 10 %.
Task make_text_task(const std::string& text, int context, std::uint64_t seed);
// A user's sequences (ids < vocab). The last 10 % are held out when there are 10 or more.
Task make_data_task(std::vector<std::vector<int>> sequences, int vocab, int context, std::uint64_t seed,
                    bool hold_out = true);

// `{"sequences": [[id, …], …]}`. Throws std::runtime_error naming the file and the field.
std::vector<std::vector<int>> load_sequences_json(const std::string& path);
// The lecture scenes' own texts: every "text" of every *.json in `dir` (file name order), joined
// by newlines. Throws std::runtime_error when none is found.
std::string scenes_text(const std::string& dir);

// ---------------------------------------------------------------------------------------------
// [SECTION] Head scores
// ---------------------------------------------------------------------------------------------
// The scores themselves are gpt2_model.hpp's (previous_token_score, induction_score), on the
// task's probe: context/9 random tokens, then a segment of 5·context/16 random tokens twice (7 and
// 20 for a context of 64; all distinct but for the copy when the vocabulary is large enough).
struct HeadScores {
    std::vector<std::vector<double>> previous_token, induction;  // [layer][head]
    double best_previous_token = 0, best_induction = 0;
    int best_induction_layer = -1, best_induction_head = -1;
};

// ---------------------------------------------------------------------------------------------
// [SECTION] Session
// ---------------------------------------------------------------------------------------------
struct TrainOptions {
    int batch = 32;
    int threads = 2;
    Mask mask = Mask::causal();
    OptimizerConfig optimizer;
};

class TrainSession {
public:
    TrainSession(Task task, Params<float> init, TrainOptions options);

    float step();                      // one optimizer step; the batch's loss before the step
    long steps() const { return steps_; }
    std::optional<float> heldout_loss();  // none when the task holds nothing out
    HeadScores head_scores();          // on the task's probe
    const Params<float>& params() const { return params_; }
    const Task& task() const { return task_; }
    const TrainOptions& options() const { return options_; }

private:
    Task task_;
    Params<float> params_;
    TrainOptions options_;
    Backprop<float> backprop_;
    Optimizer<float> optimizer_;
    AlignedVec<float> grad_;
    long steps_ = 0;
};

}  // namespace attnviz
