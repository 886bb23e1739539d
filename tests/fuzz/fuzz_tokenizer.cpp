// libFuzzer harness: the tokenizer and set_text. Any bytes: tokens are valid UTF-8, non-empty, in
// order, inside the text; a limited tokenize is a prefix of the full one; set_text on a small
// scene either succeeds (and the forward pass runs) or throws SceneError.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine.hpp"
#include "scene.hpp"
#include "tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const auto tokens = attnviz::tokenize(text);
    std::size_t prev_end = 0;
    for (const auto& t : tokens) {
        if (t.text.empty() || t.length == 0) std::abort();
        if (!attnviz::is_valid_utf8(t.text)) std::abort();
        if (t.offset < prev_end || t.offset + t.length > text.size()) std::abort();
        prev_end = t.offset + t.length;
    }
    if (!attnviz::is_valid_utf8(attnviz::sanitize_utf8(text))) std::abort();
    const std::size_t limit = size % 7;
    const auto limited = attnviz::tokenize(text, limit);
    if (limited.size() != std::min(tokens.size(), limit + 1)) std::abort();
    for (std::size_t i = 0; i < limited.size(); ++i)
        if (limited[i].text != tokens[i].text || limited[i].offset != tokens[i].offset) std::abort();

    static const attnviz::Scene base = attnviz::make_scene({"a", "b"}, 4, 2, 2, 1);
    attnviz::Scene s = base;
    try {
        attnviz::set_text(s, text);
    } catch (const attnviz::SceneError&) {
        return 0;
    }
    if (s.n() != static_cast<int>(tokens.size())) std::abort();
    const attnviz::Forward f = attnviz::forward(s);
    if (f.output.rows() != s.n()) std::abort();
    return 0;
}
