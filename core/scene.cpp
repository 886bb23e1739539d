#include "scene.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>
#include <unordered_map>

#include "random.hpp"

namespace attnviz {

// ---------------------------------------------------------------------------------------------
// [SECTION] Mask
// ---------------------------------------------------------------------------------------------
void Mask::key_range(int i, int m, int& lo, int& hi) const {
    lo = 0;
    hi = m - 1;
    switch (type) {
        case MaskType::None: break;
        case MaskType::Matrix: break;
        case MaskType::Causal:
        case MaskType::Strided:
        case MaskType::Fixed: hi = std::min(i, m - 1); break;
        case MaskType::SlidingWindow:
            hi = std::min(i, m - 1);
            lo = std::max(0, i - size + 1);
            break;
    }
}

void Mask::block_key_range(int i0, int i1, int m, int& clo, int& chi) const {
    clo = m;
    chi = -1;
    for (int i = i0; i < i1; ++i) {
        int lo = 0, hi = 0;
        key_range(i, m, lo, hi);
        if (hi < lo) continue;
        clo = std::min(clo, lo);
        chi = std::max(chi, hi);
    }
}

std::int64_t Mask::allowed_count(int n, int m) const {
    std::int64_t count = 0;
    for (int i = 0; i < n; ++i) {
        int lo = 0, hi = 0;
        key_range(i, m, lo, hi);
        if (type == MaskType::None || type == MaskType::Causal || type == MaskType::SlidingWindow) {
            count += std::max(0, hi - lo + 1);
        } else {
            for (int j = lo; j <= hi; ++j) count += allows(i, j) ? 1 : 0;
        }
    }
    return count;
}

const char* mask_type_name(MaskType t) {
    switch (t) {
        case MaskType::None: return "none";
        case MaskType::Causal: return "causal";
        case MaskType::SlidingWindow: return "sliding_window";
        case MaskType::Strided: return "strided";
        case MaskType::Fixed: return "fixed";
        case MaskType::Matrix: return "matrix";
    }
    return "none";
}

std::optional<MaskType> mask_type_from_name(const std::string& s) {
    for (auto t : {MaskType::None, MaskType::Causal, MaskType::SlidingWindow, MaskType::Strided, MaskType::Fixed,
                   MaskType::Matrix})
        if (s == mask_type_name(t)) return t;
    return std::nullopt;
}

const char* positional_name(Positional p) {
    switch (p) {
        case Positional::None: return "none";
        case Positional::Sinusoidal: return "sinusoidal";
        case Positional::Learned: return "learned";
    }
    return "none";
}

std::optional<Positional> positional_from_name(const std::string& s) {
    for (auto p : {Positional::None, Positional::Sinusoidal, Positional::Learned})
        if (s == positional_name(p)) return p;
    return std::nullopt;
}

const char* projection_name(Projection p) {
    static constexpr const char* kNames[3] = {"W_Q", "W_K", "W_V"};
    return kNames[p];
}

float Scene::logit_factor() const {
    const float s = scale ? 1.0f / std::sqrt(static_cast<float>(d_head)) : 1.0f;
    return s / temperature;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Drawing from the seed
// ---------------------------------------------------------------------------------------------
RowVec token_embedding(const std::string& text, std::uint64_t seed, int d_model) {
    RowVec e(d_model);
    const std::uint64_t h = rng::hash_text(text);
    for (int d = 0; d < d_model; ++d) e[d] = rng::normal(seed, rng::kEmbedding, h, 0, static_cast<std::uint64_t>(d));
    return e;
}

Mat positional_encoding(Positional p, int n, int d_model, std::uint64_t seed) {
    Mat pe = Mat::Zero(n, d_model);
    if (p == Positional::Sinusoidal) {
        for (int pos = 0; pos < n; ++pos)
            for (int d = 0; d < d_model; ++d) {
                const int i2 = d - (d % 2);  // 2i
                const double angle = pos / std::pow(10000.0, static_cast<double>(i2) / d_model);
                pe(pos, d) = static_cast<float>(d % 2 == 0 ? std::sin(angle) : std::cos(angle));
            }
    } else if (p == Positional::Learned) {
        for (int pos = 0; pos < n; ++pos)
            for (int d = 0; d < d_model; ++d)
                pe(pos, d) = rng::normal(seed, rng::kLearnedPosition, static_cast<std::uint64_t>(pos), 0,
                                         static_cast<std::uint64_t>(d));
    }
    return pe;
}

Mat drawn_projection(std::uint64_t seed, int head, Projection p, int d_model, int d_head) {
    Mat w(d_model, d_head);
    const float k = 1.0f / std::sqrt(static_cast<float>(d_model));
    const std::uint64_t stream = rng::kWeightQ + static_cast<std::uint64_t>(p);
    for (int r = 0; r < d_model; ++r)
        for (int c = 0; c < d_head; ++c)
            w(r, c) = k * rng::normal(seed, stream, static_cast<std::uint64_t>(head), static_cast<std::uint64_t>(r),
                                      static_cast<std::uint64_t>(c));
    return w;
}

Mat drawn_output(std::uint64_t seed, int rows, int d_model) {
    Mat w(rows, d_model);
    const float k = 1.0f / std::sqrt(static_cast<float>(std::max(rows, 1)));
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < d_model; ++c)
            w(r, c) = k * rng::normal(seed, rng::kWeightO, 0, static_cast<std::uint64_t>(r), static_cast<std::uint64_t>(c));
    return w;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Building and checking
// ---------------------------------------------------------------------------------------------
namespace {

// Resizes `m` to rows × cols keeping the overlapping block; new entries come from `drawn`.
Mat resized_keep(const Mat& m, const Mat& drawn) {
    Mat out = drawn;
    const auto r = std::min(m.rows(), drawn.rows());
    const auto c = std::min(m.cols(), drawn.cols());
    out.topLeftCorner(r, c) = m.topLeftCorner(r, c);
    return out;
}

// Drawn embeddings (tokens.size(), d_model) of `tokens`. A drawn row depends only on the token's
// text, the seed and d_model, so a text seen before is copied, not drawn again: from `old_rows`
// (drawn for `old_tokens` with the same seed and d_model — the same position first, then any
// position) or from an earlier token of the list. An edit of one token of a long text then
// draws one row and copies the others (O(d_model) each instead of d_model normal draws).
Mat drawn_rows(const std::vector<Token>& tokens, std::uint64_t seed, int d_model,
               const std::vector<Token>* old_tokens = nullptr, const Mat* old_rows = nullptr) {
    const int n = static_cast<int>(tokens.size());
    const int n_old = old_tokens && old_rows ? static_cast<int>(old_tokens->size()) : 0;
    Mat e(n, d_model);  // (n, d_model)
    std::unordered_map<std::string_view, const float*> known;  // text → a row holding its embedding
    bool old_indexed = false;
    for (int i = 0; i < n; ++i) {
        const std::string& text = tokens[static_cast<std::size_t>(i)].text;
        float* row = e.row(i).data();
        if (i < n_old && (*old_tokens)[static_cast<std::size_t>(i)].text == text) {
            std::copy_n(old_rows->row(i).data(), d_model, row);
            continue;
        }
        if (!old_indexed) {  // only when some token moved or changed
            for (int k = 0; k < n_old; ++k) known.emplace((*old_tokens)[static_cast<std::size_t>(k)].text, old_rows->row(k).data());
            old_indexed = true;
        }
        auto it = known.find(text);
        if (it != known.end()) {
            std::copy_n(it->second, d_model, row);
        } else {
            e.row(i) = token_embedding(text, seed, d_model);
            known.emplace(text, row);
        }
    }
    return e;
}

void fill_sequence(Sequence& seq, std::uint64_t seed, int d_model) {
    const int n = seq.size();
    if (seq.embeddings_given && seq.embeddings.rows() == n && seq.embeddings.cols() == d_model) return;
    if (!seq.embeddings_given) {
        seq.embeddings = drawn_rows(seq.tokens, seed, d_model);
        return;
    }
    Mat e(n, d_model);
    for (int i = 0; i < n; ++i) {
        if (i < seq.embeddings.rows()) {
            e.row(i) = resized_keep(seq.embeddings.row(i), token_embedding(seq.tokens[i].text, seed, d_model));
        } else {
            e.row(i) = token_embedding(seq.tokens[i].text, seed, d_model);
        }
    }
    seq.embeddings = std::move(e);
}

// A sequence's new tokens and embedding rows, worked out without touching the sequence; apply()
// only moves and copies, so an edit that fails on the way leaves the scene as it was.
//   - the same number of tokens (typing in a word): only the positions whose text changed get a
//     new row; the others keep theirs (O(changed · d_model) instead of O(n · d_model));
//   - another number: every row anew — a position keeps its old row where its text is the same,
//     other rows are found by text among the old tokens (drawn embeddings: copied, as drawing
//     again gives the same numbers; given embeddings: a small vocabulary, the first old token
//     with that text), and the rest are drawn from the seed.
struct NewTokens {
    std::vector<Token> tokens;
    bool in_place = false;     // same count: `rows` holds the rows of `changed` only
    std::vector<int> changed;  // positions whose text changed (in place)
    Mat rows;                  // (changed.size(), d_model) in place, else (tokens.size(), d_model)

    int size() const { return static_cast<int>(tokens.size()); }
    void apply(Sequence& seq) noexcept {
        seq.tokens.swap(tokens);
        if (in_place) {
            for (std::size_t k = 0; k < changed.size(); ++k)
                seq.embeddings.row(changed[k]) = rows.row(static_cast<Eigen::Index>(k));
        } else {
            seq.embeddings.swap(rows);
        }
    }
};

NewTokens plan_tokens(const Sequence& seq, std::vector<Token> tokens, std::uint64_t seed, int d_model) {
    NewTokens out;
    const int n = static_cast<int>(tokens.size());
    const int n_old = seq.size();
    // The old rows belong to the old tokens (a filled scene), drawn with this seed and d_model.
    const bool old_rows = seq.embeddings.rows() == n_old && seq.embeddings.cols() == d_model;
    // text → an old row with that text: the first one (given embeddings: the vocabulary).
    std::unordered_map<std::string_view, int> vocab;
    bool vocab_built = false;
    auto row_for = [&](const std::string& text, float* row) {
        if (old_rows) {
            if (!vocab_built) {
                for (int k = 0; k < n_old; ++k) vocab.emplace(seq.tokens[static_cast<std::size_t>(k)].text, k);
                vocab_built = true;
            }
            const auto it = vocab.find(text);
            if (it != vocab.end()) {
                std::copy_n(seq.embeddings.row(it->second).data(), d_model, row);
                return;
            }
        }
        const RowVec e = token_embedding(text, seed, d_model);
        std::copy_n(e.data(), d_model, row);
    };
    if (n == n_old && old_rows) {
        out.in_place = true;
        for (int i = 0; i < n; ++i)
            if (tokens[static_cast<std::size_t>(i)].text != seq.tokens[static_cast<std::size_t>(i)].text) out.changed.push_back(i);
        out.rows.resize(static_cast<Eigen::Index>(out.changed.size()), d_model);
        // A few changed words: drawing each row costs less than indexing every old token.
        const bool index_old = seq.embeddings_given || out.changed.size() > 8;
        for (std::size_t k = 0; k < out.changed.size(); ++k) {
            const std::string& text = tokens[static_cast<std::size_t>(out.changed[k])].text;
            float* row = out.rows.row(static_cast<Eigen::Index>(k)).data();
            if (index_old) {
                row_for(text, row);
            } else {
                const RowVec e = token_embedding(text, seed, d_model);
                std::copy_n(e.data(), d_model, row);
            }
        }
    } else if (!seq.embeddings_given) {
        out.rows = old_rows ? drawn_rows(tokens, seed, d_model, &seq.tokens, &seq.embeddings)
                            : drawn_rows(tokens, seed, d_model);
    } else {
        out.rows.resize(n, d_model);
        for (int i = 0; i < n; ++i) {
            float* row = out.rows.row(i).data();
            if (old_rows && i < n_old && tokens[static_cast<std::size_t>(i)].text == seq.tokens[static_cast<std::size_t>(i)].text)
                std::copy_n(seq.embeddings.row(i).data(), d_model, row);
            else
                row_for(tokens[static_cast<std::size_t>(i)].text, row);
        }
    }
    out.tokens = std::move(tokens);
    return out;
}

void check_value(float v, const std::string& path);

// A float in a message: its shortest exact text (1e-09, not 0.000000).
std::string number_text(float v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "infinity" : "-infinity";
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

void check_finite(const Mat& m, const std::string& path) {
    for (Eigen::Index r = 0; r < m.rows(); ++r)
        for (Eigen::Index c = 0; c < m.cols(); ++c)
            if (!std::isfinite(m(r, c)) || std::fabs(m(r, c)) > Limits::kMaxAbsValue)
                check_value(m(r, c), path + "[" + std::to_string(r) + "][" + std::to_string(c) + "]");
}

void check_shape(const Mat& m, Eigen::Index rows, Eigen::Index cols, const std::string& path) {
    if (m.rows() != rows || m.cols() != cols)
        throw SceneError(path, "expected " + std::to_string(rows) + " rows of " + std::to_string(cols) + " numbers, got " +
                                   std::to_string(m.rows()) + " rows of " + std::to_string(m.cols()));
}

void check_index(int value, int size, const std::string& what) {
    if (value < 0 || value >= size)
        throw SceneError(what, "index " + std::to_string(value) + " is out of range 0.." + std::to_string(size - 1));
}

void check_value(float v, const std::string& path) {
    if (!std::isfinite(v)) throw SceneError(path, std::string("expected a finite number, got ") + (std::isnan(v) ? "NaN" : "infinity"));
    // Bounded so that every score stays a finite float32 (found by the scene fuzzer: 1.8e19 in an
    // embedding made the scores overflow and the pattern NaN).
    if (std::fabs(v) > Limits::kMaxAbsValue)
        throw SceneError(path, "expected a number between -1e6 and 1e6, got " + number_text(v));
}

void check_mask(const Mask& mask, int n, int m) {
    switch (mask.type) {
        case MaskType::SlidingWindow:
        case MaskType::Strided:
        case MaskType::Fixed:
            if (mask.size < 1)
                throw SceneError(std::string("mask.") + (mask.type == MaskType::SlidingWindow ? "width"
                                                          : mask.type == MaskType::Strided  ? "stride"
                                                                                            : "block"),
                                 "expected a whole number ≥ 1, got " + std::to_string(mask.size));
            break;
        case MaskType::Matrix:
            if (mask.rows != n || mask.cols != m)
                throw SceneError("mask.allowed", "expected " + std::to_string(n) + " rows of " + std::to_string(m) +
                                                     " booleans, got " + std::to_string(mask.rows) + " rows of " +
                                                     std::to_string(mask.cols));
            if (mask.allowed.size() != static_cast<std::size_t>(n) * static_cast<std::size_t>(m))
                throw SceneError("mask.allowed", "expected " + std::to_string(n * m) + " cells");
            break;
        default: break;
    }
}

// Runs `edit` on a copy, validates it, and only then replaces the scene: an edit that throws
// leaves the scene exactly as it was.
template <class F>
void transact(Scene& s, F&& edit) {
    Scene copy = s;
    edit(copy);
    validate(copy);
    s = std::move(copy);
}

}  // namespace

std::size_t estimate_scene_bytes(int n, int m, int d_model, int n_heads, int d_head) {
    const std::size_t f = sizeof(float);
    const std::size_t dm = static_cast<std::size_t>(d_model), h = static_cast<std::size_t>(n_heads),
                      dh = static_cast<std::size_t>(d_head);
    return f * (dm * dh * 3 * h + h * dh * dm + (static_cast<std::size_t>(n) + static_cast<std::size_t>(m)) * dm);
}

std::size_t estimate_forward_bytes(int n, int m, int d_model, int n_heads, int d_head) {
    const std::size_t f = sizeof(float);
    const std::size_t N = static_cast<std::size_t>(n), M = static_cast<std::size_t>(m),
                      dm = static_cast<std::size_t>(d_model), h = static_cast<std::size_t>(n_heads),
                      dh = static_cast<std::size_t>(d_head);
    // Per head: Q, K, V, scores + pattern, ΔE_h; plus E, X, ΔE and E'; plus the fused projection
    // (engine.hpp): W_qkv (d_model, 3·H·d_head) and its product, n rows of Q and m rows of K and V.
    return f * (h * (N * dh + 2 * M * dh + 2 * N * M + N * dm) + 3 * N * dm + M * dm +
                3 * dm * h * dh + (N + 2 * M) * h * dh);
}

void check_sizes(int n, int m, int d_model, int n_heads, int d_head) {
    auto range = [](int v, int lo, int hi, const char* path) {
        if (v < lo || v > hi)
            throw SceneError(path, "expected " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " +
                                       std::to_string(v));
    };
    range(n, 0, Limits::kMaxTokens, "tokens");
    range(m, 0, Limits::kMaxTokens, "source.tokens");
    range(d_model, 1, Limits::kMaxDModel, "d_model");
    range(n_heads, 1, Limits::kMaxHeads, "n_heads");
    range(d_head, 1, Limits::kMaxDHead, "d_head");
    const std::size_t scene = estimate_scene_bytes(n, m, d_model, n_heads, d_head);
    if (scene > Limits::kMaxSceneBytes)
        throw SceneError("d_model", "the weights would need " + std::to_string(scene >> 20) + " MiB, more than the " +
                                        std::to_string(Limits::kMaxSceneBytes >> 20) + " MiB limit");
}

std::size_t estimate_forward_bytes(const Scene& s) {
    return estimate_forward_bytes(s.n(), s.m(), s.d_model, s.n_heads, s.d_head);
}

bool fits_full_forward(const Scene& s, std::size_t budget) { return estimate_forward_bytes(s) <= budget; }

void check_forward_bytes(const Scene& s) {
    const std::size_t fwd = estimate_forward_bytes(s);
    if (fwd > Limits::kMaxForwardBytes)
        throw SceneError("tokens", "n = " + std::to_string(s.n()) + " with " + std::to_string(s.n_heads) +
                                       " heads would need " + std::to_string(fwd >> 20) +
                                       " MiB for the patterns, more than the " +
                                       std::to_string(Limits::kMaxForwardBytes >> 20) +
                                       " MiB limit of a full forward pass (explore it tile by tile instead)");
}

void fill_drawn(Scene& s) {
    check_sizes(s.n(), s.m(), s.d_model, s.n_heads, s.d_head);
    fill_sequence(s.input, s.seed, s.d_model);
    if (s.source) fill_sequence(*s.source, s.seed, s.d_model);
    s.heads.resize(static_cast<std::size_t>(s.n_heads));
    for (int h = 0; h < s.n_heads; ++h) {
        auto& hw = s.heads[static_cast<std::size_t>(h)];
        for (int p = 0; p < 3; ++p) {
            Mat& w = hw.W[static_cast<std::size_t>(p)];
            if (hw.given[static_cast<std::size_t>(p)] && w.rows() == s.d_model && w.cols() == s.d_head) continue;
            Mat drawn = drawn_projection(s.seed, h, static_cast<Projection>(p), s.d_model, s.d_head);
            w = hw.given[static_cast<std::size_t>(p)] ? resized_keep(w, drawn) : std::move(drawn);
        }
    }
    const int rows = s.n_heads * s.d_head;
    if (!(s.W_O_given && s.W_O.rows() == rows && s.W_O.cols() == s.d_model)) {
        Mat drawn = drawn_output(s.seed, rows, s.d_model);
        s.W_O = s.W_O_given ? resized_keep(s.W_O, drawn) : std::move(drawn);
    }
}

Scene make_scene(const std::vector<std::string>& tokens, int d_model, int n_heads, int d_head, std::uint64_t seed) {
    Scene s;
    s.input.tokens = tokens_from_strings(tokens);
    s.d_model = d_model;
    s.n_heads = n_heads;
    s.d_head = d_head;
    s.seed = seed;
    fill_drawn(s);
    validate(s);
    return s;
}

void validate(const Scene& s) {
    check_sizes(s.n(), s.m(), s.d_model, s.n_heads, s.d_head);
    if (!std::isfinite(s.temperature) || !(s.temperature >= Limits::kMinTemperature))
        throw SceneError("temperature", "expected a finite number ≥ 1e-6, got " + number_text(s.temperature));
    check_shape(s.input.embeddings, s.n(), s.d_model, "embeddings");
    check_finite(s.input.embeddings, "embeddings");
    if (s.source) {
        check_shape(s.source->embeddings, s.m(), s.d_model, "source.embeddings");
        check_finite(s.source->embeddings, "source.embeddings");
    }
    if (static_cast<int>(s.heads.size()) != s.n_heads)
        throw SceneError("heads", "expected " + std::to_string(s.n_heads) + " heads (n_heads), got " +
                                      std::to_string(s.heads.size()));
    for (int h = 0; h < s.n_heads; ++h)
        for (int p = 0; p < 3; ++p) {
            const std::string path = "heads[" + std::to_string(h) + "]." + projection_name(static_cast<Projection>(p));
            check_shape(s.heads[static_cast<std::size_t>(h)].W[static_cast<std::size_t>(p)], s.d_model, s.d_head, path);
            check_finite(s.heads[static_cast<std::size_t>(h)].W[static_cast<std::size_t>(p)], path);
        }
    check_shape(s.W_O, static_cast<Eigen::Index>(s.n_heads) * s.d_head, s.d_model, "W_O");
    check_finite(s.W_O, "W_O");
    check_mask(s.mask, s.n(), s.m());
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Editing
// ---------------------------------------------------------------------------------------------
namespace {
Mask mask_for_new_sizes(const Mask& mask, int n, int m) {
    if (mask.type != MaskType::Matrix || (mask.rows == n && mask.cols == m)) return mask;
    // An explicit mask follows the tokens: keep the overlap, new cells are causal.
    Mask out = Mask::matrix(n, m, std::vector<std::uint8_t>(static_cast<std::size_t>(n) * m, 0));
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < m; ++j)
            out.allowed[static_cast<std::size_t>(i) * m + j] =
                (i < mask.rows && j < mask.cols) ? mask.allowed[static_cast<std::size_t>(i) * mask.cols + j]
                                                 : static_cast<std::uint8_t>(j <= i);
    return out;
}
}  // namespace

namespace {
// Tokenizes at most Limits::kMaxTokens + 1 tokens: a longer text is refused before its tokens
// are stored (a pasted 10⁹-token text costs nothing).
std::vector<Token> tokenize_checked(const std::string& text, const char* path) {
    auto tokens = tokenize(text, static_cast<std::size_t>(Limits::kMaxTokens));
    if (tokens.size() > static_cast<std::size_t>(Limits::kMaxTokens))
        throw SceneError(path, "the text has more than " + std::to_string(Limits::kMaxTokens) + " tokens (the limit)");
    return tokens;
}
}  // namespace

namespace {
// An explicit mask for new sizes (see mask_for_new_sizes); nothing when the mask stays as it is.
std::optional<Mask> mask_for_sizes(const Mask& mask, int n, int m) {
    if (mask.type != MaskType::Matrix || (mask.rows == n && mask.cols == m)) return std::nullopt;
    return mask_for_new_sizes(mask, n, m);
}

// New tokens for the queries (source = false) or the keys' sequence: sizes checked, the new rows
// worked out and checked, and only then the scene changed — by moves and copies that cannot
// throw. The rest of the scene was valid and stays as it is, so only what is new is checked
// (an edit of one word of 32,768 costs O(n) string compares and one row, not a copy of the scene).
void replace_tokens(Scene& s, bool source, std::vector<Token> tokens, std::string text, bool from_text, const char* path) {
    const int count = static_cast<int>(tokens.size());
    // The sizes after the edit (self-attention: the keys are the queries).
    const int n = source ? s.n() : count, m = source || !s.source ? count : s.m();
    check_sizes(n, m, s.d_model, s.n_heads, s.d_head);
    const Sequence none{};  // self-attention so far: the keys' sequence starts empty
    const Sequence& old = source ? (s.source ? *s.source : none) : s.input;
    NewTokens next = plan_tokens(old, std::move(tokens), s.seed, s.d_model);
    check_finite(next.rows, path);
    std::optional<Mask> mask = mask_for_sizes(s.mask, n, m);
    // -- nothing below throws --
    if (source && !s.source) s.source.emplace();
    Sequence& seq = source ? *s.source : s.input;
    next.apply(seq);
    seq.text.swap(text);
    seq.from_text = from_text;
    if (mask) s.mask = std::move(*mask);
}
}  // namespace

void set_text(Scene& s, const std::string& raw) {
    // The scene keeps valid UTF-8 only (a file must be able to hold it): bad bytes become U+FFFD,
    // which the tokenizer makes one token each, just as it does the bad bytes themselves.
    std::string text = is_valid_utf8(raw) ? raw : sanitize_utf8(raw);
    auto tokens = tokenize_checked(text, "text");
    replace_tokens(s, false, std::move(tokens), std::move(text), true, "embeddings");
}

void set_tokens(Scene& s, const std::vector<std::string>& tokens) {
    check_sizes(static_cast<int>(tokens.size()), s.m(), s.d_model, s.n_heads, s.d_head);
    replace_tokens(s, false, tokens_from_strings(tokens), std::string(), false, "embeddings");
}

void set_source_text(Scene& s, const std::string& raw) {
    std::string text = is_valid_utf8(raw) ? raw : sanitize_utf8(raw);
    auto tokens = tokenize_checked(text, "source.text");
    replace_tokens(s, true, std::move(tokens), std::move(text), true, "source.embeddings");
}

void set_source_tokens(Scene& s, const std::vector<std::string>& tokens) {
    check_sizes(s.n(), static_cast<int>(tokens.size()), s.d_model, s.n_heads, s.d_head);
    replace_tokens(s, true, tokens_from_strings(tokens), std::string(), false, "source.embeddings");
}

void clear_source(Scene& s) {
    transact(s, [&](Scene& c) {
        c.source.reset();
        c.mask = mask_for_new_sizes(c.mask, c.n(), c.m());
    });
}

void set_embedding(Scene& s, int token, int dim, float value) {
    check_index(token, s.n(), "embeddings");
    check_index(dim, s.d_model, "embeddings[" + std::to_string(token) + "]");
    check_value(value, "embeddings[" + std::to_string(token) + "][" + std::to_string(dim) + "]");
    s.input.embeddings(token, dim) = value;
    s.input.embeddings_given = true;
}

void set_weight(Scene& s, int head, Projection p, int row, int col, float value) {
    check_index(head, s.n_heads, "heads");
    const std::string path = "heads[" + std::to_string(head) + "]." + projection_name(p);
    check_index(row, s.d_model, path);
    check_index(col, s.d_head, path + "[" + std::to_string(row) + "]");
    check_value(value, path + "[" + std::to_string(row) + "][" + std::to_string(col) + "]");
    auto& hw = s.heads[static_cast<std::size_t>(head)];
    hw.W[p](row, col) = value;
    hw.given[p] = true;
}

void set_weight_matrix(Scene& s, int head, Projection p, const Mat& w) {
    check_index(head, s.n_heads, "heads");
    const std::string path = "heads[" + std::to_string(head) + "]." + projection_name(p);
    check_shape(w, s.d_model, s.d_head, path);
    check_finite(w, path);
    auto& hw = s.heads[static_cast<std::size_t>(head)];
    hw.W[p] = w;
    hw.given[p] = true;
}

void set_output_weight(Scene& s, int row, int col, float value) {
    check_index(row, static_cast<int>(s.W_O.rows()), "W_O");
    check_index(col, s.d_model, "W_O[" + std::to_string(row) + "]");
    check_value(value, "W_O[" + std::to_string(row) + "][" + std::to_string(col) + "]");
    s.W_O(row, col) = value;
    s.W_O_given = true;
}

void set_output_matrix(Scene& s, const Mat& w) {
    check_shape(w, s.W_O.rows(), s.d_model, "W_O");
    check_finite(w, "W_O");
    s.W_O = w;
    s.W_O_given = true;
}

void set_n_heads(Scene& s, int n_heads) {
    check_sizes(s.n(), s.m(), s.d_model, n_heads, s.d_head);
    transact(s, [&](Scene& c) {
        const int old_rows = c.n_heads * c.d_head;
        c.n_heads = n_heads;
        c.heads.resize(static_cast<std::size_t>(n_heads));
        if (c.W_O_given) {
            // Keep the blocks of the heads that stay; new heads' blocks are drawn.
            Mat drawn = drawn_output(c.seed, n_heads * c.d_head, c.d_model);
            const int keep = std::min(old_rows, n_heads * c.d_head);
            drawn.topRows(keep) = c.W_O.topRows(keep);
            c.W_O = std::move(drawn);
        }
        fill_drawn(c);
    });
}

void set_d_model(Scene& s, int d_model) {
    check_sizes(s.n(), s.m(), d_model, s.n_heads, s.d_head);
    transact(s, [&](Scene& c) {
        c.d_model = d_model;
        fill_drawn(c);
    });
}

void set_d_head(Scene& s, int d_head) {
    check_sizes(s.n(), s.m(), s.d_model, s.n_heads, d_head);
    transact(s, [&](Scene& c) {
        const int old = c.d_head;
        c.d_head = d_head;
        if (c.W_O_given) {
            // W_O is stacked per head: keep each head's overlapping rows.
            Mat drawn = drawn_output(c.seed, c.n_heads * d_head, c.d_model);
            const int keep = std::min(old, d_head);
            for (int h = 0; h < c.n_heads; ++h) drawn.middleRows(h * d_head, keep) = c.W_O.middleRows(h * old, keep);
            c.W_O = std::move(drawn);
        }
        fill_drawn(c);
    });
}

void set_mask(Scene& s, const Mask& mask) {
    check_mask(mask, s.n(), s.m());
    s.mask = mask;
}

void set_scale(Scene& s, bool scale) { s.scale = scale; }

void set_temperature(Scene& s, float t) {
    if (!std::isfinite(t) || !(t >= Limits::kMinTemperature))
        throw SceneError("temperature", "expected a finite number ≥ 1e-6, got " + number_text(t));
    s.temperature = t;
}

void set_positional(Scene& s, Positional p) { s.positional = p; }

void set_seed(Scene& s, std::uint64_t seed) {
    transact(s, [&](Scene& c) {
        c.seed = seed;
        for (auto& hw : c.heads)
            for (int p = 0; p < 3; ++p)
                if (!hw.given[static_cast<std::size_t>(p)]) hw.W[static_cast<std::size_t>(p)].resize(0, 0);
        if (!c.W_O_given) c.W_O.resize(0, 0);
        if (!c.input.embeddings_given) c.input.embeddings.resize(0, 0);
        if (c.source && !c.source->embeddings_given) c.source->embeddings.resize(0, 0);
        fill_drawn(c);
    });
}

void rerandomize(Scene& s, std::uint64_t seed) {
    transact(s, [&](Scene& c) {
        for (auto& hw : c.heads) hw.given = {false, false, false};
        c.W_O_given = false;
        set_seed(c, seed);
    });
}

}  // namespace attnviz
