#include "tokenize.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli_model.hpp"
#include "file_io.hpp"
#include "scene_io.hpp"
#include "tokenizer.hpp"

namespace attnviz::app {
namespace {

nlohmann::json tokens_json(const std::vector<Token>& tokens) {
    nlohmann::json a = nlohmann::json::array();
    for (std::size_t i = 0; i < tokens.size(); ++i)
        a.push_back({{"index", i}, {"text", tokens[i].text}, {"offset", tokens[i].offset}, {"length", tokens[i].length}});
    return a;
}

std::string tokens_table(const std::vector<Token>& tokens) {
    std::string out;
    for (std::size_t i = 0; i < tokens.size(); ++i)
        out += std::to_string(i) + "\t" + std::to_string(tokens[i].offset) + "\t" + std::to_string(tokens[i].length) + "\t" +
               tokens[i].text + "\n";
    return out;
}

}  // namespace

CLI::App* add_tokenize_command(CLI::App& cli, TokenizeArgs& args) {
    auto* cmd = cli.add_subcommand("tokenize", "Print the tokens of a text or a scene (index, byte offset, byte length, text), "
                                               "or with --model a text's GPT-2 ids and pieces");
    auto* text = cmd->add_option("--text", args.text, "Text to split with the scene tokenizer (or --model's)");
    auto* file = cmd->add_option("--text-file", args.text_file, "Read the text from this file (any bytes)");
    auto* scene = cmd->add_option("--scene", args.scene, "Scene file (JSON): its tokens as stored")->check(CLI::ExistingFile);
    auto* model = cmd->add_option("--model", args.model, "GPT-2 folder: tokenize with its vocab.json and merges.txt");
    text->excludes(scene)->excludes(file);
    file->excludes(scene);
    model->excludes(scene);
    cmd->add_flag("--json", args.json, "Print one JSON object");
    return cmd;
}

int run_tokenize(const TokenizeArgs& args) {
    std::vector<Token> tokens;
    std::vector<Token> source_tokens;
    bool has_source = false;
    std::optional<std::string> text = args.text;
    if (!args.text_file.empty()) {
        try {
            text = read_regular_file(args.text_file, std::size_t{64} << 20);
        } catch (const FileError& e) {
            std::cerr << "attnviz: --text-file: " << e.what() << "\n";
            return 2;
        }
    }
    if (!args.model.empty()) {
        if (!text) {
            std::cerr << "attnviz: tokenize --model needs --text TEXT or --text-file FILE\n";
            return 2;
        }
        return run_model_tokenize(args.model, *text, args.json);
    }
    if (text) {
        tokens = tokenize(*text);
    } else if (!args.scene.empty()) {
        try {
            Scene s = load_scene(args.scene);
            tokens = std::move(s.input.tokens);
            if (s.source) {
                has_source = true;
                source_tokens = std::move(s.source->tokens);
            }
        } catch (const SceneError& e) {
            std::cerr << "attnviz: " << args.scene << ": " << e.what() << "\n";
            return 2;
        }
    } else {
        std::cerr << "attnviz: tokenize needs --text TEXT, --text-file FILE or --scene FILE\n";
        return 2;
    }
    std::string out;
    if (args.json) {
        nlohmann::json j = {{"tokens", tokens_json(tokens)}};
        if (has_source) j["source_tokens"] = tokens_json(source_tokens);
        out = j.dump(1) + "\n";
    } else {
        out = "index\toffset\tlength\ttext\n" + tokens_table(tokens);
        if (has_source) out += "# source (keys and values)\n" + tokens_table(source_tokens);
    }
    try {
        write_stdout(out);  // checked: `> /dev/full` is exit 1
    } catch (const FileError& e) {
        std::cerr << "attnviz: " << e.what() << "\n";
        return 1;
    }
    return 0;
}

}  // namespace attnviz::app
