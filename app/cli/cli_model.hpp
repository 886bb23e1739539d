// attnviz app — the command line for real models (GPT-2 folders):
//   attnviz export --model DIR --text TEXT [--out FILE] [--layer L] [--top-k K] [--format csv|npy --head H --matrix M]
//   attnviz tokenize --model DIR --text TEXT [--json]
//   attnviz bench --gpt2-shape small|medium|tiny [--n N] [--json]
// Exit codes as everywhere: 0 success, 1 runtime failure (writing the output), 2 bad input (a
// malformed model folder — the message names the file and the tensor — or a wrong argument).
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace attnviz::app {

struct ModelExportArgs {
    std::string model;          // folder (config.json, vocab.json, merges.txt, model.safetensors)
    std::string text, text_file;
    std::string out;            // "" or "-": standard output
    std::string format = "json";
    int layer = -1;             // json: only this layer (−1: every layer); csv/npy: the matrix's layer
    int head = 0;
    std::string matrix = "pattern";
    int top_k = 10;
};


struct Gpt2BenchArgs {
    std::string shape;          // small, medium, tiny
    int n = 1024;
    int repeat = 3;
    int threads = 0;
    bool json = false;
};

// The options of `export` that read a model (added to the existing export subcommand).
void add_model_export_options(CLI::App& export_cmd, ModelExportArgs& a);
int run_model_export(const ModelExportArgs& a);

// `attnviz tokenize --model DIR`: the text's GPT-2 ids and pieces (the subcommand is app/cli/tokenize.cpp).
int run_model_tokenize(const std::string& model, const std::string& text, bool json);

void add_gpt2_bench_options(CLI::App& bench_cmd, Gpt2BenchArgs& a);
int run_gpt2_bench(const Gpt2BenchArgs& a);

}  // namespace attnviz::app
