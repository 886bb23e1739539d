// Test helper: is one scene exactly another? Every field, matrices bit for bit (memcmp, so −0
// and 0 differ), token offsets included. Returns "" when identical, else the first difference.
#pragma once

#include <cstring>
#include <string>

#include "scene.hpp"

namespace attnviz::test {

inline std::string mat_difference(const Mat& a, const Mat& b, const std::string& what) {
    if (a.rows() != b.rows() || a.cols() != b.cols())
        return what + ": shape " + std::to_string(a.rows()) + "x" + std::to_string(a.cols()) + " vs " +
               std::to_string(b.rows()) + "x" + std::to_string(b.cols());
    for (Eigen::Index r = 0; r < a.rows(); ++r)
        for (Eigen::Index c = 0; c < a.cols(); ++c)
            if (std::memcmp(&a(r, c), &b(r, c), sizeof(float)) != 0)
                return what + "[" + std::to_string(r) + "][" + std::to_string(c) + "]: " + std::to_string(a(r, c)) +
                       " vs " + std::to_string(b(r, c));
    return "";
}

inline std::string sequence_difference(const Sequence& a, const Sequence& b, const std::string& what) {
    if (a.text != b.text) return what + ".text: \"" + a.text + "\" vs \"" + b.text + "\"";
    if (a.from_text != b.from_text) return what + ".from_text";
    if (a.embeddings_given != b.embeddings_given) return what + ".embeddings_given";
    if (a.tokens.size() != b.tokens.size())
        return what + ".tokens: " + std::to_string(a.tokens.size()) + " vs " + std::to_string(b.tokens.size());
    for (std::size_t i = 0; i < a.tokens.size(); ++i) {
        const Token &x = a.tokens[i], &y = b.tokens[i];
        if (x.text != y.text || x.offset != y.offset || x.length != y.length)
            return what + ".tokens[" + std::to_string(i) + "]: \"" + x.text + "\"@" + std::to_string(x.offset) + "+" +
                   std::to_string(x.length) + " vs \"" + y.text + "\"@" + std::to_string(y.offset) + "+" +
                   std::to_string(y.length);
    }
    return mat_difference(a.embeddings, b.embeddings, what + ".embeddings");
}

inline std::string scene_difference(const Scene& a, const Scene& b) {
    if (a.title != b.title) return "title";
    if (a.description != b.description) return "description";
    if (a.view_json != b.view_json) return "view_json";
    if (a.model != b.model) return "model";
    if (auto d = sequence_difference(a.input, b.input, "input"); !d.empty()) return d;
    if (a.source.has_value() != b.source.has_value()) return "source: present vs absent";
    if (a.source)
        if (auto d = sequence_difference(*a.source, *b.source, "source"); !d.empty()) return d;
    if (a.d_model != b.d_model) return "d_model";
    if (a.n_heads != b.n_heads) return "n_heads";
    if (a.d_head != b.d_head) return "d_head";
    if (!(a.mask == b.mask)) return "mask";
    if (a.scale != b.scale) return "scale";
    if (std::memcmp(&a.temperature, &b.temperature, sizeof(float)) != 0) return "temperature";
    if (a.positional != b.positional) return "positional";
    if (a.seed != b.seed) return "seed";
    if (a.heads.size() != b.heads.size()) return "heads: count";
    for (std::size_t h = 0; h < a.heads.size(); ++h)
        for (int p = 0; p < 3; ++p) {
            const std::string what = "heads[" + std::to_string(h) + "]." + projection_name(static_cast<Projection>(p));
            if (a.heads[h].given[static_cast<std::size_t>(p)] != b.heads[h].given[static_cast<std::size_t>(p)])
                return what + ".given";
            if (auto d = mat_difference(a.heads[h].W[static_cast<std::size_t>(p)], b.heads[h].W[static_cast<std::size_t>(p)], what);
                !d.empty())
                return d;
        }
    if (a.W_O_given != b.W_O_given) return "W_O_given";
    return mat_difference(a.W_O, b.W_O, "W_O");
}

}  // namespace attnviz::test

// CHECK that two scenes are identical, printing the first difference.
#define CHECK_SAME_SCENE(a, b)                                              \
    do {                                                                    \
        const std::string diff_ = ::attnviz::test::scene_difference(a, b);  \
        CHECK_MESSAGE(diff_.empty(), "scenes differ: " << diff_);           \
    } while (0)
