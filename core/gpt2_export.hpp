// attnviz core — the JSON of a GPT-2 forward pass that `attnviz export --model` and the window's
// Export menu write (the same text from both).
#pragma once

#include <string>

#include "gpt2_model.hpp"
#include "gpt2_tokenizer.hpp"

namespace attnviz {

// `{"model", "n_layers", "n_heads", "d_model", "tokens", "token_ids", "logit_factor", "layers":
// [{"layer", "heads": [{"head", "Q", "K", "V", "scores", "pattern", "delta"}]}], "next_token":
// [{"id", "token", "prob"}]}` of a finished forward pass `f` of `model` (its ids are the tokens):
// every layer (layer −1) or one, and the top `next_k` next tokens of the last position, most
// probable first. `model_label` is the "model" field (the folder). Numbers as scene exports write
// them (format_float: shortest round-trip, never NaN).
std::string model_export_json(const Model& model, const Gpt2Tokenizer& tok, const Gpt2Forward& f, const std::string& model_label,
                              int layer = -1, int next_k = 10);

}  // namespace attnviz
