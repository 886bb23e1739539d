// Odd text through set_text and the forward pass: empty, one token, 10,000 tokens at once, every
// script, control characters, very long single tokens, invalid UTF-8.
#include <doctest/doctest.h>

#include <cmath>

#include "engine.hpp"
#include "scene.hpp"
#include "scene_io.hpp"

using namespace attnviz;

namespace {
Scene base() { return make_scene({"a", "b", "c"}, 8, 2, 4, 5); }

// Every unmasked pattern row sums to 1 and every number is finite.
void check_forward(const Scene& s) {
    const Forward f = forward(s);
    REQUIRE(f.heads.size() == static_cast<std::size_t>(s.n_heads));
    CHECK(f.output.rows() == s.n());
    CHECK(f.output.allFinite());
    for (const auto& h : f.heads) {
        CHECK(h.pattern.rows() == s.n());
        CHECK(h.pattern.cols() == s.m());
        for (Eigen::Index i = 0; i < h.pattern.rows(); ++i) {
            const float sum = h.pattern.row(i).sum();
            if (std::abs(sum - 1.0f) > 1e-4f) FAIL("row " << i << " sums to " << sum);
        }
    }
}
std::vector<std::string> texts(const Scene& s) { return token_texts(s.input.tokens); }
}  // namespace

TEST_CASE("empty text: no tokens, a forward pass of empty matrices") {
    for (const char* t : {"", "   ", "\n\t\r ", "\x01\x02\x7f"}) {
        Scene s = base();
        set_text(s, t);
        CHECK(s.n() == 0);
        const Forward f = forward(s);
        CHECK(f.output.rows() == 0);
        CHECK(f.output.cols() == 8);
        CHECK(f.heads[0].pattern.size() == 0);
        CHECK(f.fully_masked_rows.empty());
    }
    Scene s = base();
    set_text(s, "");
    set_mask(s, Mask::causal());
    check_forward(s);
}

TEST_CASE("one token attends only to itself: its pattern is exactly 1") {
    Scene s = base();
    set_text(s, "attention");
    CHECK(texts(s) == std::vector<std::string>{"attention"});
    const Forward f = forward(s);
    for (const auto& h : f.heads) CHECK(h.pattern(0, 0) == 1.0f);
    // ΔE of a single token is v·W_O summed over heads (weight 1 on its own value).
    Mat expect = Mat::Zero(1, 8);
    for (int h = 0; h < 2; ++h) expect += f.heads[static_cast<std::size_t>(h)].V * s.W_O.middleRows(h * 4, 4);
    CHECK((f.delta - expect).cwiseAbs().maxCoeff() < 1e-5f);
}

TEST_CASE("10,000 tokens pasted at once") {
    std::string text;
    for (int i = 0; i < 10000; ++i) {
        const int w = i % 97;  // 97 different two-letter words, repeating
        text += std::string{static_cast<char>('a' + w % 26), static_cast<char>('a' + w / 26)} + " ";
    }
    Scene s = base();
    set_text(s, text);
    CHECK(s.n() == 10000);
    CHECK(s.input.embeddings.rows() == 10000);
    // The same token text gets the same embedding (drawn from text and seed).
    CHECK(s.input.embeddings.row(0) == s.input.embeddings.row(97));
    set_n_heads(s, 1);
    set_mask(s, Mask::sliding_window(16));
    check_forward(s);
}

TEST_CASE("UTF-8 of many scripts: one word per word, CJK and emoji one per character") {
    struct Case { const char* text; std::vector<std::string> tokens; };
    const Case cases[] = {
        {"Привет мир", {"Привет", "мир"}},
        {"Ελληνικά γράμματα", {"Ελληνικά", "γράμματα"}},
        {"مرحبا بالعالم", {"مرحبا", "بالعالم"}},
        {"שָׁלוֹם עולם", {"שָׁלוֹם", "עולם"}},
        {"नमस्ते दुनिया", {"नमस्ते", "दुनिया"}},
        {"注意力机制", {"注", "意", "力", "机", "制"}},
        {"ひらがなカタカナ", {"ひ", "ら", "が", "な", "カ", "タ", "カ", "ナ"}},
        {"한국어 텍스트", {"한국어", "텍스트"}},
        {"ქართული ენა", {"ქართული", "ენა"}},
        {"Հայերեն", {"Հայերեն"}},
        {"ትግርኛ", {"ትግርኛ"}},
        {"👍🏽 🇩🇪", {"👍🏽", "🇩", "🇪"}},
        {"café naïve", {"café", "naïve"}},
    };
    for (const auto& c : cases) {
        INFO("text: " << c.text);
        Scene s = base();
        set_text(s, c.text);
        CHECK(texts(s) == c.tokens);
        check_forward(s);
    }
}

TEST_CASE("control characters separate tokens and never appear in one") {
    Scene s = base();
    const char raw[] = "a\x01" "b\x1b[31mc\x7f" "d\r\ne\0f";  // holds a NUL: length from sizeof
    set_text(s, std::string(raw, sizeof raw - 1));
    for (const auto& t : s.input.tokens)
        for (unsigned char ch : t.text) CHECK_MESSAGE((ch >= 0x20 && ch != 0x7f), "control byte in token " << t.text);
    CHECK(texts(s) == std::vector<std::string>{"a", "b", "[", "31", "mc", "d", "e", "f"});
    check_forward(s);
}

TEST_CASE("invalid UTF-8 bytes become U+FFFD tokens; labels stay valid") {
    Scene s = base();
    set_text(s, "ok \xff\xfe end \xe2\x82");
    CHECK(texts(s) == std::vector<std::string>{"ok", "\xEF\xBF\xBD", "\xEF\xBF\xBD", "end", "\xEF\xBF\xBD", "\xEF\xBF\xBD"});
    for (const auto& t : s.input.tokens) CHECK(is_valid_utf8(t.text));
    check_forward(s);
    // The scene keeps the text as valid UTF-8, so it saves and loads back to the same tokens
    // (found by the soak: saving the raw bytes made the JSON writer throw).
    CHECK(s.input.text == "ok \xEF\xBF\xBD\xEF\xBF\xBD end \xEF\xBF\xBD\xEF\xBF\xBD");
    const Scene back = scene_from_json(scene_to_json(s));
    CHECK(token_texts(back.input.tokens) == texts(s));
    s.title = "bad \xff title";  // a title set directly: written with U+FFFD, not thrown
    CHECK(scene_from_json(scene_to_json(s)).title == "bad \xEF\xBF\xBD title");
}

TEST_CASE("very long single tokens") {
    Scene s = base();
    const std::string word(1'000'000, 'x');  // a megabyte with no space
    set_text(s, word + " y");
    REQUIRE(s.n() == 2);
    CHECK(s.input.tokens[0].text.size() == 1'000'000);
    CHECK(s.input.tokens[1].offset == 1'000'001);
    check_forward(s);
    set_tokens(s, {std::string(100000, 'z'), "", "q"});  // a list may hold an empty token
    CHECK(s.n() == 3);
    check_forward(s);
}
