// attnviz app — `attnviz train`: train a small GPT-2-style model on a task and save it as a GPT-2
// folder (config.json, vocab.json, merges.txt, model.safetensors) that `attnviz --model` opens.
#pragma once

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace attnviz::app {

struct TrainArgs {
    std::string task = "induction";  // induction, sort, reverse, text (or data with --data)
    int layers = 2, heads = 4, d_model = 64;
    int context = 0;                 // 0: the task's default (induction 64, sort/reverse 16, text 64)
    int vocab = 0;                   // 0: the task's default (induction 64, sort/reverse 11)
    std::string mlp;                 // on | off; default: off for induction, on otherwise
    std::string mask = "causal";     // causal, none, sliding_window:W, strided:L, fixed:L
    long steps = -1;                 // < 0: the default (induction 3000 — its head forms near step 2200 —, otherwise 1000)
    int batch = 32;                  // with --data and no --batch: every sequence, each step
    double lr = 1e-3;
    std::string optimizer = "adamw"; // adamw | sgd
    double weight_decay = -1;        // < 0: the default (AdamW 0.01, SGD 0)
    int warmup = -1;                 // < 0: the default (0)
    double clip = -1;                // < 0: the default (1.0 for tasks; none with --model/--data)
    std::uint64_t seed = 0;
    int threads = 2;
    long log_every = 50;
    double stop_at_induction = 0;    // > 0: stop once the best head's induction score reaches it
    std::string text;                // --text FILE (task text; default: the lecture scenes' texts)
    std::string data;                // --data FILE.json ({"sequences": [[id, …], …]})
    std::string model;               // --model INIT_DIR (start from these weights)
    std::string out;                 // --out DIR
};

// Adds the `train` subcommand to `cli`; returns it so the caller can test whether it ran.
CLI::App* add_train_command(CLI::App& cli, TrainArgs& args);

// Trains, printing one JSON line per logging interval ({"step", "loss", "heldout_loss",
// "steps_per_s", "induction_score", "prev_token_score", "elapsed_s"}), and saves. Exit code: 0,
// 1 (writing failed), 2 (bad arguments or input files, with the reason on stderr).
int run_train(const TrainArgs& args);

}  // namespace attnviz::app
