// attnviz cli — `attnviz tokenize`: the tokens a text (or a scene) becomes, with their byte offsets,
// so a reader can see exactly what the heatmap's rows and columns are.
//
// One input per run: --text TEXT / --text-file FILE (core's scene tokenizer, or with --model DIR
// that folder's GPT-2 byte-level BPE: ids and pieces) or --scene FILE (the scene's tokens as
// stored, and its source's for cross-attention).
#pragma once

#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace attnviz::app {

struct TokenizeArgs {
    std::optional<std::string> text;   // --text TEXT
    std::string text_file;             // --text-file FILE (any bytes)
    std::string scene;                 // --scene FILE
    std::string model;                 // --model DIR: GPT-2's tokenizer (vocab.json + merges.txt)
    bool json = false;                 // one JSON object instead of the table
};

// Adds the `tokenize` subcommand to `cli`; returns it so the caller can test whether it ran.
CLI::App* add_tokenize_command(CLI::App& cli, TokenizeArgs& args);

// Prints the tokens on standard output: a table "index offset length text" (tab-separated, one
// token a line; tokens never hold whitespace), or with --json
// {"tokens": [{"index", "text", "offset", "length"}, …]} (+ "source_tokens" for a cross-attention
// scene). With --model: "ids: …" then "id<TAB>piece" lines, or {"token_ids", "tokens"}.
// Returns the exit code (2: no input, or a scene or model that does not load; 1: output failed).
int run_tokenize(const TokenizeArgs& args);

}  // namespace attnviz::app
