#include <doctest/doctest.h>

#include "tokenizer.hpp"

using namespace attnviz;

namespace {
std::vector<std::string> texts(std::string_view s) { return token_texts(tokenize(s)); }

// Every byte of the text is either inside exactly one token or whitespace/control.
void check_nothing_lost(std::string_view s) {
    const auto toks = tokenize(s);
    std::vector<int> covered(s.size(), 0);
    std::size_t prev_end = 0;
    for (const auto& t : toks) {
        CHECK(t.offset >= prev_end);  // in order, no overlap
        prev_end = t.offset + t.length;
        REQUIRE(prev_end <= s.size());
        for (std::size_t b = t.offset; b < prev_end; ++b) covered[b]++;
    }
    for (std::size_t b = 0; b < s.size(); ++b) {
        const unsigned char c = static_cast<unsigned char>(s[b]);
        if (!covered[b]) CHECK_MESSAGE((c == ' ' || c == '\n' || c == '\t' || c < 0x20 || c >= 0x80), "byte " << b << " lost");
    }
}
}  // namespace

TEST_CASE("words, numbers and punctuation are separate tokens") {
    CHECK(texts("a fluffy blue creature") == std::vector<std::string>{"a", "fluffy", "blue", "creature"});
    CHECK(texts("Hello, world!") == std::vector<std::string>{"Hello", ",", "world", "!"});
    CHECK(texts("d_model=12288 and pi 3.14") ==
          std::vector<std::string>{"d", "_", "model", "=", "12288", "and", "pi", "3.14"});
    CHECK(texts("GPT3 (2020)") == std::vector<std::string>{"GPT", "3", "(", "2020", ")"});
    CHECK(texts("don't stop") == std::vector<std::string>{"don't", "stop"});
    CHECK(texts("1,000,000 tokens.") == std::vector<std::string>{"1,000,000", "tokens", "."});
}

TEST_CASE("offsets point at the original bytes") {
    const std::string s = "  the  cat\tsat.";
    const auto t = tokenize(s);
    REQUIRE(t.size() == 4);
    CHECK(t[0].offset == 2);
    CHECK(t[0].length == 3);
    CHECK(t[1].offset == 7);
    CHECK(t[2].offset == 11);
    CHECK(t[3].text == ".");
    CHECK(t[3].offset == 14);
    for (const auto& tok : t) CHECK(s.substr(tok.offset, tok.length) == tok.text);
    check_nothing_lost(s);
}

TEST_CASE("UTF-8: accents, other scripts, CJK, emoji") {
    CHECK(texts("le café noir") == std::vector<std::string>{"le", "café", "noir"});
    // "e" + combining acute accent stays one word
    CHECK(texts("cafe\xCC\x81 ok") == std::vector<std::string>{"cafe\xCC\x81", "ok"});
    CHECK(texts("Привет, мир") == std::vector<std::string>{"Привет", ",", "мир"});
    CHECK(texts("注意力机制") == std::vector<std::string>{"注", "意", "力", "机", "制"});
    CHECK(texts("hi 👋🏽 there") == std::vector<std::string>{"hi", "👋🏽", "there"});
    CHECK(texts("«quoted» — dash") == std::vector<std::string>{"«", "quoted", "»", "—", "dash"});
    check_nothing_lost("Привет, мир 注意力 👋🏽 «x»");
}

TEST_CASE("invalid UTF-8 bytes become U+FFFD tokens and nothing is lost") {
    const std::string s = std::string("ab") + "\xFF" + "cd \xC3";  // stray byte, truncated sequence
    const auto t = tokenize(s);
    REQUIRE(t.size() == 4);
    CHECK(t[0].text == "ab");
    CHECK(t[1].text == "\xEF\xBF\xBD");
    CHECK(t[1].offset == 2);
    CHECK(t[1].length == 1);
    CHECK(t[2].text == "cd");
    CHECK(t[3].text == "\xEF\xBF\xBD");
    for (const auto& tok : t) CHECK(is_valid_utf8(tok.text));
    CHECK_FALSE(is_valid_utf8("\xC0\xAF"));  // overlong '/'
    CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));  // surrogate
    CHECK(is_valid_utf8("ok ✓"));
}

TEST_CASE("empty text, only spaces, control characters") {
    CHECK(tokenize("").empty());
    CHECK(tokenize("   \n\t ").empty());
    CHECK(texts("a\x01" "b") == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a very long single token and many tokens") {
    const std::string longword(100000, 'x');
    const auto t = tokenize(longword);
    REQUIRE(t.size() == 1);
    CHECK(t[0].length == 100000);
    std::string many;
    for (int i = 0; i < 10000; ++i) many += "w ";
    CHECK(tokenize(many).size() == 10000);
}
