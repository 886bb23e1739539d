// attnviz core — the scene: everything that defines one attention layer and its input.
//
// A Scene is always valid: it is checked where it is built (`validate`) and every editing
// function below keeps it valid or throws SceneError naming the field, leaving the scene as it was.
// Weights and embeddings that were not given explicitly are drawn from the seed; each matrix
// remembers whether it was given (or edited), so a save writes only what cannot be redrawn.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer.hpp"
#include "types.hpp"

namespace attnviz {

// ---------------------------------------------------------------------------------------------
// [SECTION] Limits — checked before anything is allocated.
// ---------------------------------------------------------------------------------------------
struct Limits {
    static constexpr int kMaxTokens = 32768;       // n and m
    static constexpr int kMaxDModel = 16384;       // GPT-3 uses 12288
    static constexpr int kMaxHeads = 256;
    static constexpr int kMaxDHead = 16384;
    static constexpr std::size_t kMaxSceneBytes = std::size_t(3) << 30;    // weights + embeddings
    // One full Forward (every n × m score and pattern): checked by forward() itself, not by the
    // scene checks — a longer scene is valid and is explored through PatternTiles (tiles.hpp).
    static constexpr std::size_t kMaxForwardBytes = std::size_t(8) << 30;
    // The front end keeps a full Forward only while it fits this; above it, PatternTiles.
    static constexpr std::size_t kLiveForwardBytes = std::size_t(256) << 20;
    // What PatternTiles::build may hold (its bytes() estimate): n = 32768, d_model 768, 12 heads
    // needs ~490 MiB.
    static constexpr std::size_t kMaxTilesBytes = std::size_t(2) << 30;
    // Weights and embeddings: |x| ≤ 1e6 keeps every score finite in float32 (d ≤ 16384:
    // |q·k| ≤ 16384 · (16384 · 1e6 · 1e6)² ≈ 4e36 < 3.4e38). A smaller temperature would turn
    // a zero score into 0 · ∞.
    static constexpr float kMaxAbsValue = 1e6f;
    static constexpr float kMinTemperature = 1e-6f;
};

// ---------------------------------------------------------------------------------------------
// [SECTION] Mask
// ---------------------------------------------------------------------------------------------
enum class MaskType { None, Causal, SlidingWindow, Strided, Fixed, Matrix };

struct Mask {
    MaskType type = MaskType::None;
    int size = 0;  // width (sliding_window), stride (strided) or block (fixed)
    // Explicit mask: `allowed` is rows × cols, row-major, 1 = the query may see the key.
    int rows = 0, cols = 0;
    std::vector<std::uint8_t> allowed;

    // May query i attend to key j?
    bool allows(int i, int j) const {
        switch (type) {
            case MaskType::None: return true;
            case MaskType::Causal: return j <= i;
            case MaskType::SlidingWindow: return j <= i && i - j < size;
            case MaskType::Strided: return j <= i && (i - j < size || (i - j) % size == 0);
            case MaskType::Fixed: return j <= i && (j / size == i / size || j % size == size - 1);
            case MaskType::Matrix:
                return i < rows && j < cols && allowed[static_cast<std::size_t>(i) * cols + j] != 0;
        }
        return true;
    }
    // Smallest and largest key a query may see ([lo, hi], hi < lo when none): lets the engine
    // skip work outside the band. Exact for None/Causal/SlidingWindow, a bound for the others.
    void key_range(int i, int m, int& lo, int& hi) const;
    // None, Causal and SlidingWindow allow exactly the keys of key_range (no holes in the band).
    bool dense_band() const {
        return type == MaskType::None || type == MaskType::Causal || type == MaskType::SlidingWindow;
    }
    // The key columns [clo, chi] that any query of [i0, i1) may see (chi < clo when none).
    void block_key_range(int i0, int i1, int m, int& clo, int& chi) const;
    // Number of allowed cells in an n × m pattern.
    std::int64_t allowed_count(int n, int m) const;

    static Mask none() { return {}; }
    static Mask causal() { return {MaskType::Causal, 0, 0, 0, {}}; }
    static Mask sliding_window(int w) { return {MaskType::SlidingWindow, w, 0, 0, {}}; }
    static Mask strided(int l) { return {MaskType::Strided, l, 0, 0, {}}; }
    static Mask fixed(int l) { return {MaskType::Fixed, l, 0, 0, {}}; }
    static Mask matrix(int rows, int cols, std::vector<std::uint8_t> allowed) {
        return {MaskType::Matrix, 0, rows, cols, std::move(allowed)};
    }
    bool operator==(const Mask&) const = default;
};

const char* mask_type_name(MaskType t);  // "none", "causal", "sliding_window", …
std::optional<MaskType> mask_type_from_name(const std::string& s);

// ---------------------------------------------------------------------------------------------
// [SECTION] Scene
// ---------------------------------------------------------------------------------------------
enum class Positional { None, Sinusoidal, Learned };
const char* positional_name(Positional p);
std::optional<Positional> positional_from_name(const std::string& s);

enum Projection { kQuery = 0, kKey = 1, kValue = 2 };
const char* projection_name(Projection p);  // "W_Q", "W_K", "W_V"

struct HeadWeights {
    std::array<Mat, 3> W;              // W[kQuery], W[kKey], W[kValue]: each (d_model, d_head)
    std::array<bool, 3> given{};       // given in the file or edited (else: drawn from the seed)
};

// A token sequence with its embeddings (before positional encoding).
struct Sequence {
    std::string text;                  // the text the tokens came from ("" when given as a list)
    bool from_text = false;
    std::vector<Token> tokens;
    Mat embeddings;                    // (n, d_model), before positional encoding
    bool embeddings_given = false;     // given/edited, else drawn per token text from the seed
    int size() const { return static_cast<int>(tokens.size()); }
};

struct Scene {
    std::string title;
    std::string description;           // shown with the scene (lecture explanation)
    Sequence input;                    // the queries' sequence (and keys' for self-attention)
    std::optional<Sequence> source;    // cross-attention: keys and values come from here
    int d_model = 8;
    int n_heads = 2;
    int d_head = 4;
    Mask mask;
    bool scale = true;                 // divide scores by √d_head
    float temperature = 1.0f;          // logits = scaled scores / temperature
    Positional positional = Positional::None;
    std::uint64_t seed = 0;
    std::vector<HeadWeights> heads;    // n_heads entries
    Mat W_O;                           // (n_heads·d_head, d_model)
    bool W_O_given = false;
    std::string view_json;             // the file's "view" object (front-end presets), kept as text
    // The file's "model": a GPT-2 folder (config.json, vocab, model.safetensors) the scene opens, as
    // written (relative to the scene file's folder, or absolute); "" when none. load_scene resolves
    // it into model_dir (absolute, checked to exist); scene_from_json alone leaves model_dir "".
    std::string model;
    std::string model_dir;

    int n() const { return input.size(); }
    int m() const { return source ? source->size() : input.size(); }  // number of keys
    bool cross() const { return source.has_value(); }
    // The factor the raw scores are multiplied by before softmax: 1/√d_head (or 1) / temperature.
    float logit_factor() const;
};

// ---------------------------------------------------------------------------------------------
// [SECTION] Drawing from the seed
// ---------------------------------------------------------------------------------------------
// The embedding (1, d_model) of a token text; depends on text, seed and d_model only.
RowVec token_embedding(const std::string& text, std::uint64_t seed, int d_model);
// Positional encodings (n, d_model).
Mat positional_encoding(Positional p, int n, int d_model, std::uint64_t seed);
// A drawn projection (d_model, d_head), entries ~ N(0, 1/d_model).
Mat drawn_projection(std::uint64_t seed, int head, Projection p, int d_model, int d_head);
// A drawn output matrix (n_heads·d_head, d_model), entries ~ N(0, 1/(n_heads·d_head)).
Mat drawn_output(std::uint64_t seed, int rows, int d_model);

// ---------------------------------------------------------------------------------------------
// [SECTION] Building and checking
// ---------------------------------------------------------------------------------------------
// A scene of the given sizes with everything drawn from the seed.
Scene make_scene(const std::vector<std::string>& tokens, int d_model, int n_heads, int d_head,
                 std::uint64_t seed);
// Fills whatever is not given (embeddings, weights) from the seed, at the scene's sizes.
void fill_drawn(Scene& s);
// Checks every invariant; throws SceneError naming the field.
void validate(const Scene& s);
// Bytes the scene itself holds, and bytes one full forward pass will allocate.
std::size_t estimate_scene_bytes(int n, int m, int d_model, int n_heads, int d_head);
std::size_t estimate_forward_bytes(int n, int m, int d_model, int n_heads, int d_head);
std::size_t estimate_forward_bytes(const Scene& s);
// Does one full Forward of `s` fit in `budget` bytes? (Limits::kLiveForwardBytes: what the app
// keeps live; above it the app explores the scene through PatternTiles.)
bool fits_full_forward(const Scene& s, std::size_t budget);
// Throws SceneError("tokens", …) when a full Forward would exceed Limits::kMaxForwardBytes; called
// by forward(), recompute_head() and GemmBaseline before they allocate anything.
void check_forward_bytes(const Scene& s);
// Throws SceneError if the sizes are outside Limits (before anything is allocated): the per-size
// ranges and the scene's own bytes. A full Forward's size is not checked here (see above).
void check_sizes(int n, int m, int d_model, int n_heads, int d_head);

// ---------------------------------------------------------------------------------------------
// [SECTION] Editing — each keeps the scene valid or throws and changes nothing.
// ---------------------------------------------------------------------------------------------
void set_text(Scene& s, const std::string& text);                  // tokenize and use
void set_tokens(Scene& s, const std::vector<std::string>& tokens); // a token list
void set_source_text(Scene& s, const std::string& text);           // makes it cross-attention
void set_source_tokens(Scene& s, const std::vector<std::string>& tokens);
void clear_source(Scene& s);                                       // back to self-attention
void set_embedding(Scene& s, int token, int dim, float value);
void set_weight(Scene& s, int head, Projection p, int row, int col, float value);
void set_weight_matrix(Scene& s, int head, Projection p, const Mat& w);
void set_output_weight(Scene& s, int row, int col, float value);
void set_output_matrix(Scene& s, const Mat& w);
void set_n_heads(Scene& s, int n_heads);  // new heads drawn from the seed, the rest kept
void set_d_model(Scene& s, int d_model);  // keeps the overlapping block of every given matrix
void set_d_head(Scene& s, int d_head);
void set_mask(Scene& s, const Mask& mask);
void set_scale(Scene& s, bool scale);
void set_temperature(Scene& s, float t);
void set_positional(Scene& s, Positional p);
void set_seed(Scene& s, std::uint64_t seed);  // redraws everything that was not given
void rerandomize(Scene& s, std::uint64_t seed);  // forgets given weights, draws all from `seed`

}  // namespace attnviz
