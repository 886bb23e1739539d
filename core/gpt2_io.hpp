// attnviz core — GPT-2 model folders (Hugging Face layout): load and save; random models.
//
// A folder holds config.json, vocab.json, merges.txt and model.safetensors. Tensor names are bare
// (`wte.weight`, `h.0.attn.c_attn.weight`, …) or prefixed (`transformer.wte.weight`, …); both load.
// Conv1D weights are stored in × out, which is Model's layout as it is (model.hpp).
//
// Decisions:
// - `lm_head.weight`, when present, must equal `wte.weight` exactly (GPT-2 ties them); a file whose
//   lm_head differs is refused (the model here has a tied unembedding only).
// - `h.N.attn.bias` / `h.N.attn.masked_bias` (old causal-mask buffers) are ignored, as is any
//   other tensor outside the model's names, except `h.N.…` with N ≥ n_layer (refused: the file and
//   config.json disagree).
// - config.json: n_embd, n_layer, n_head, vocab_size and n_positions (or n_ctx) are required;
//   layer_norm_epsilon defaults to 1e-5; n_inner must be null/absent or 4·n_embd; the activation
//   must be GELU's tanh form (gelu_new, gelu_pytorch_tanh, gelu_fast) or absent. An attention-only
//   model (no ln_2 / MLP) says "attnviz_attention_only": true (our own key).
// - Every refusal is a ModelError naming the file and the tensor or field.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gpt2_tokenizer.hpp"
#include "model.hpp"
#include "safetensors.hpp"

namespace attnviz {

// Sizes past these are refused before anything is allocated.
struct Gpt2Limits {
    static constexpr int kMaxDModel = 16384;
    static constexpr int kMaxLayers = 512;
    static constexpr int kMaxHeads = 1024;
    static constexpr int kMaxVocab = 10'000'000;
    static constexpr int kMaxPositions = 1 << 20;
};

// Loads the folder. With tok_out, also vocab.json + merges.txt (their ids must be < vocab_size).
Model load_gpt2_folder(const std::string& dir, Gpt2Tokenizer* tok_out = nullptr);
// config.json alone (checked as above).
ModelConfig load_gpt2_config(const std::string& config_json_path);

struct Gpt2SaveOptions {
    Dtype dtype = Dtype::F32;   // F32, F16 or BF16
    bool prefixed = false;      // names "transformer.h.0.…" instead of "h.0.…"
    bool lm_head = false;       // also write lm_head.weight (= wte)
};

// Writes the four files into `dir` (created when missing; files replaced atomically).
void save_gpt2_folder(const Model& m, const std::string& dir, const Gpt2Tokenizer& vocab, const Gpt2SaveOptions& opt = {});
// The same with a simple token list: token i is the raw bytes texts[i] (Gpt2Tokenizer::from_token_texts).
void save_gpt2_folder(const Model& m, const std::string& dir, const std::vector<std::string>& token_texts,
                      const Gpt2SaveOptions& opt = {});

// The tensors of a model under their Hugging Face names (pointing into m), in the usual order.
std::vector<TensorToWrite> gpt2_tensors(const Model& m, const std::string& prefix = "");
std::string gpt2_config_json(const ModelConfig& cfg);

// Every matrix and vector has the shape cfg asks for; throws ModelError("", field, …) otherwise.
void check_model(const Model& m);

// A model of cfg's shapes with weights drawn from the seed: N(0, std²) matrices and embeddings
// (std = 0.02 as GPT-2's initialisation; output projections scaled by 1/√(2·n_layers)), zero
// biases, LayerNorm gains 1 — plus small random biases and gains when `random_affine`, so tests
// exercise every term.
Model random_gpt2_model(const ModelConfig& cfg, std::uint64_t seed, bool random_affine = false, float std = 0.02f);

}  // namespace attnviz
