// attnviz train — trains a small GPT-2-style model (core/train.hpp, core/train_tasks.hpp) and saves
// it as a GPT-2 folder (core/gpt2_io.hpp). See cli_train.hpp.
#include "cli_train.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gpt2_io.hpp"
#include "train_tasks.hpp"
#include "paths.hpp"

namespace attnviz::app {

namespace {

struct BadInput : std::runtime_error {
    using std::runtime_error::runtime_error;
};

Mask parse_mask(const std::string& s) {
    const auto colon = s.find(':');
    const std::string kind = s.substr(0, colon);
    int size = 0;
    if (colon != std::string::npos) {
        try {
            std::size_t used = 0;
            size = std::stoi(s.substr(colon + 1), &used);
            if (used != s.size() - colon - 1) throw std::invalid_argument("");
        } catch (const std::exception&) {
            throw BadInput("--mask: \"" + s + "\": the size after ':' must be an integer");
        }
    }
    if (kind == "causal" && colon == std::string::npos) return Mask::causal();
    if (kind == "none" && colon == std::string::npos) return Mask::none();
    if (colon != std::string::npos && size >= 1) {
        if (kind == "sliding_window") return Mask::sliding_window(size);
        if (kind == "strided") return Mask::strided(size);
        if (kind == "fixed") return Mask::fixed(size);
    }
    throw BadInput("--mask: \"" + s + "\": expected causal, none, sliding_window:W, strided:L or fixed:L (W, L ≥ 1)");
}

std::string mask_text(const Mask& m) {
    std::string s = mask_type_name(m.type);
    if (m.type == MaskType::SlidingWindow || m.type == MaskType::Strided || m.type == MaskType::Fixed)
        s += ":" + std::to_string(m.size);
    return s;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw BadInput(path + ": cannot open");
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}

std::string number(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

}  // namespace

CLI::App* add_train_command(CLI::App& cli, TrainArgs& a) {
    auto* t = cli.add_subcommand("train",
                                 "Train a small GPT-2-style model (induction, sort, reverse, text, or your sequences) and save it "
                                 "as a GPT-2 folder; prints one JSON line per logging interval");
    t->add_option("--task", a.task, "induction, sort, reverse or text (default induction; --data trains on your sequences)")
        ->check(CLI::IsMember({"induction", "sort", "reverse", "text"}));
    t->add_option("--layers", a.layers, "Layers (default 2)")->check(CLI::Range(1, 64));
    t->add_option("--heads", a.heads, "Heads per layer (default 4)")->check(CLI::Range(1, 64));
    t->add_option("--d-model", a.d_model, "Model width, divisible by --heads (default 64)")->check(CLI::Range(1, 4096));
    t->add_option("--context", a.context,
                  "Context in tokens (default: induction 64 = random tokens with a segment of 2 … 32 repeated, sort/reverse 16 = 8 values '>' 8 answers, text 64)")
        ->check(CLI::Range(1, 4096));
    t->add_option("--vocab", a.vocab, "Vocabulary of induction/sort/reverse (default 64 / 11; sort and reverse use the last id as '>')")
        ->check(CLI::Range(2, 100000));
    t->add_option("--mlp", a.mlp, "on or off (default: off for induction, on otherwise)")->check(CLI::IsMember({"on", "off"}));
    t->add_option("--mask", a.mask, "causal (default), none, sliding_window:W, strided:L or fixed:L");
    t->add_option("--steps", a.steps, "Optimizer steps (default: induction 3000, where the head forms near step 2200; otherwise 1000)")->check(CLI::Range(0L, 100000000L));
    t->add_option("--batch", a.batch, "Sequences per step (default 32; with --data and no --batch: every sequence)")
        ->check(CLI::Range(1, 100000));
    t->add_option("--lr", a.lr, "Learning rate (default 1e-3)")->check(CLI::Range(0.0, 100.0));
    t->add_option("--optimizer", a.optimizer, "adamw (default) or sgd")->check(CLI::IsMember({"adamw", "sgd"}));
    t->add_option("--weight-decay", a.weight_decay, "Decoupled weight decay on matrices (default: AdamW 0.01, SGD 0)")
        ->check(CLI::Range(0.0, 10.0));
    t->add_option("--warmup", a.warmup, "Linear learning-rate warm-up steps (default 0)")->check(CLI::Range(0, 100000000));
    t->add_option("--clip", a.clip, "Clip the gradient to this global norm, 0 = off (default 1 for tasks, off with --data)")
        ->check(CLI::Range(0.0, 1e9));
    t->add_option("--seed", a.seed, "Seed of the initial weights and of the data (default 0)");
    t->add_option("--threads", a.threads, "Threads (default 2; results depend on it only through summation order)")
        ->check(CLI::Range(1, 64));
    t->add_option("--log-every", a.log_every, "Steps between JSON lines (default 50; the last step is always logged)")
        ->check(CLI::Range(1L, 100000000L));
    t->add_option("--stop-at-induction", a.stop_at_induction,
                  "Stop once a head's induction score on the probe reaches this (checked at every logging interval)")
        ->check(CLI::Range(0.0, 1.0));
    t->add_option("--text", a.text, "Text file for --task text (default: the lecture scenes' own texts)");
    t->add_option("--data", a.data, "Your token id sequences: JSON {\"sequences\": [[id, …], …]}");
    t->add_option("--model", a.model, "Start from this GPT-2 folder's weights (its vocabulary and sizes)");
    t->add_option("--out", a.out, "Folder to save the trained model in (created)")->required();
    return t;
}

int run_train(const TrainArgs& a) {
    const long steps = a.steps >= 0 ? a.steps : a.data.empty() && a.task == "induction" ? 3000 : 1000;
    Task task;
    Params<float> init;
    Gpt2Tokenizer init_vocab;
    bool have_init_vocab = false;
    TrainOptions opt;
    ModelConfig cfg;
    const bool exact = !a.data.empty();  // the user's sequences: loss over every position, no clipping
    try {
        opt.mask = parse_mask(a.mask);
        opt.threads = a.threads;
        opt.batch = a.batch;
        opt.optimizer.kind = a.optimizer == "sgd" ? OptimizerKind::SGD : OptimizerKind::AdamW;
        opt.optimizer.lr = a.lr;
        opt.optimizer.weight_decay = a.weight_decay >= 0 ? a.weight_decay : (opt.optimizer.kind == OptimizerKind::AdamW ? 0.01 : 0.0);
        opt.optimizer.warmup = std::max(0, a.warmup);
        opt.optimizer.clip = a.clip >= 0 ? a.clip : (exact ? 0.0 : 1.0);

        if (!a.model.empty()) {
            Model m;
            try {
                m = load_gpt2_folder(a.model, &init_vocab);
            } catch (const std::exception& e) {
                throw BadInput(std::string("--model: ") + e.what());
            }
            have_init_vocab = true;
            init = params_from_model(m);
            cfg = m.cfg;
        }
        if (exact) {
            std::vector<std::vector<int>> seqs;
            try {
                seqs = load_sequences_json(a.data);
            } catch (const std::exception& e) {
                throw BadInput(e.what());
            }
            int vocab = 0, longest = 0;
            for (const auto& s : seqs) {
                for (int id : s) vocab = std::max(vocab, id + 1);
                longest = std::max(longest, int(s.size()));
            }
            if (!a.model.empty()) {
                vocab = cfg.vocab_size;
            } else if (a.vocab > 0) {
                vocab = a.vocab;
            }
            const int context = !a.model.empty() ? cfg.n_ctx : a.context > 0 ? a.context : std::max(1, longest - 1);
            try {
                task = make_data_task(seqs, vocab, context, a.seed, /*hold_out=*/a.model.empty());
            } catch (const std::exception& e) {
                throw BadInput(a.data + ": " + e.what());
            }
            if (a.batch == TrainArgs{}.batch) opt.batch = 0;  // every sequence, every step
        } else {
            if (!a.model.empty()) throw BadInput("--model needs --data FILE.json (the sequences to train on)");
            const bool induction = a.task == "induction";
            if (a.task == "induction") task = make_induction_task(a.context > 0 ? a.context : 64, a.vocab > 0 ? a.vocab : 64, a.seed);
            else if (a.task == "sort") task = make_sort_task(a.context > 0 ? a.context : 16, a.vocab > 0 ? a.vocab : 11, a.seed);
            else if (a.task == "reverse") task = make_reverse_task(a.context > 0 ? a.context : 16, a.vocab > 0 ? a.vocab : 11, a.seed);
            else {
                const std::string text = a.text.empty() ? scenes_text(asset_path("assets/scenes")) : read_file(a.text);
                task = make_text_task(text, a.context > 0 ? a.context : 64, a.seed);
            }
            (void)induction;
        }
        if (a.model.empty()) {
            cfg.vocab_size = task.vocab_size();
            cfg.n_ctx = task.context;
            cfg.d_model = a.d_model;
            cfg.n_layers = a.layers;
            cfg.n_heads = a.heads;
            cfg.mlp = a.mlp.empty() ? (exact || a.task != "induction") : a.mlp == "on";
            init = init_params<float>(cfg, a.seed);
        }
    } catch (const BadInput& e) {
        std::cerr << "attnviz train: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {  // invalid_argument from core: sizes, ids, masks
        std::cerr << "attnviz train: " << e.what() << "\n";
        return 2;
    }

    std::unique_ptr<TrainSession> session;
    try {
        session = std::make_unique<TrainSession>(task, std::move(init), opt);
    } catch (const std::exception& e) {
        std::cerr << "attnviz train: " << e.what() << "\n";
        return 2;
    }

    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    double train_seconds = 0, loss_sum = 0;
    long interval_steps = 0;
    auto log_line = [&](long step) {
        const auto h = session->heldout_loss();
        const HeadScores hs = session->head_scores();
        const double loss = interval_steps > 0 ? loss_sum / double(interval_steps) : std::nan("");
        const double rate = train_seconds > 0 ? double(interval_steps) / train_seconds : std::nan("");
        std::cout << "{\"step\": " << step << ", \"loss\": " << number(loss) << ", \"heldout_loss\": "
                  << (h ? number(*h) : "null") << ", \"steps_per_s\": " << number(rate)
                  << ", \"induction_score\": " << number(hs.best_induction) << ", \"prev_token_score\": "
                  << number(hs.best_previous_token) << ", \"elapsed_s\": "
                  << number(std::chrono::duration<double>(clock::now() - start).count()) << "}" << std::endl;
        loss_sum = 0, train_seconds = 0, interval_steps = 0;
        return hs.best_induction;
    };
    try {
        for (long s = 1; s <= steps; ++s) {
            const auto t0 = clock::now();
            loss_sum += session->step();
            train_seconds += std::chrono::duration<double>(clock::now() - t0).count();
            ++interval_steps;
            if (s % a.log_every == 0 || s == steps) {
                const double ind = log_line(s);
                if (a.stop_at_induction > 0 && ind >= a.stop_at_induction) break;
            }
        }
        if (steps == 0) log_line(0);
    } catch (const std::exception& e) {
        std::cerr << "attnviz train: " << e.what() << "\n";
        return 2;
    }

    try {
        const Model m = model_from_params(session->params());
        if (have_init_vocab) save_gpt2_folder(m, a.out, init_vocab);
        else save_gpt2_folder(m, a.out, task.vocab);
        if (opt.mask.type != MaskType::Causal) {  // our own key: GPT-2 is causal
            const std::string path = (std::filesystem::path(a.out) / "config.json").string();
            nlohmann::json j = nlohmann::json::parse(read_file(path));
            j["attnviz_mask"] = mask_text(opt.mask);
            std::ofstream(path, std::ios::binary) << j.dump(2) << "\n";
        }
    } catch (const std::exception& e) {
        std::cerr << "attnviz train: saving to " << a.out << ": " << e.what() << "\n";
        return 1;
    }
    return 0;
}

}  // namespace attnviz::app
