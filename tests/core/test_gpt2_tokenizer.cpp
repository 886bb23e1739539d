// GPT-2 byte-level BPE: the byte map, the pre-tokenizer and the merges on a small hand-made vocabulary
// whose ids are worked out by hand. (The real 50,257-token files are compared with the reference
// encoder in tests/gpt2_vocab_test.sh.)
#include <doctest/doctest.h>

#include "gpt2_tokenizer.hpp"
#include "safetensors.hpp"

using namespace attnviz;

namespace {
using Strings = std::vector<std::string>;

// ids: 0 "!", 1 "d", 2 "e", 3 "h", 4 "l", 5 "o", 6 "r", 7 "w", 8 "Ġ", 9 "ll", 10 "he", 11 "hell",
// 12 "Ġw", 13 "hello", 14 "or"; merges by rank: l l, h e, he ll, Ġ w, hell o, o r.
Gpt2Tokenizer small_vocab() {
    return Gpt2Tokenizer::from_text(
        R"({"!": 0, "d": 1, "e": 2, "h": 3, "l": 4, "o": 5, "r": 6, "w": 7, "Ġ": 8, "ll": 9, "he": 10, "hell": 11,
            "Ġw": 12, "hello": 13, "or": 14})",
        "#version: 0.2\nl l\nh e\nhe ll\nĠ w\nhell o\no r\n");
}
}  // namespace

TEST_CASE("gpt2 tokenizer: the bytes→unicode map") {
    CHECK(Gpt2Tokenizer::bytes_to_piece(" ") == "Ġ");         // 0x20 is the 33rd unprintable byte: U+0100 + 32
    CHECK(Gpt2Tokenizer::bytes_to_piece("\n") == "Ċ");        // U+0100 + 10
    CHECK(Gpt2Tokenizer::bytes_to_piece(std::string(1, '\0')) == "Ā");  // U+0100
    CHECK(Gpt2Tokenizer::bytes_to_piece("A~!") == "A~!");     // printable ASCII stays
    CHECK(Gpt2Tokenizer::bytes_to_piece("\x7f") == "ġ");      // U+0121: after the 33 control bytes and space
    CHECK(Gpt2Tokenizer::bytes_to_piece("\xad") == "Ń");      // soft hyphen, the last: U+0143
    CHECK(Gpt2Tokenizer::bytes_to_piece("\xe2\x80\x99") == "âĢĻ");  // ’ as GPT-2's vocabulary spells it
    CHECK(Gpt2Tokenizer::bytes_to_piece("\xa1\xac\xae\xff") == "¡¬®ÿ");
    std::string all;
    for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
    CHECK(Gpt2Tokenizer::piece_to_bytes(Gpt2Tokenizer::bytes_to_piece(all)) == all);
    CHECK_THROWS_AS(Gpt2Tokenizer::piece_to_bytes("€"), ModelError);  // not in the map
}

TEST_CASE("gpt2 tokenizer: the pre-tokenizer pattern, cut by hand") {
    CHECK(Gpt2Tokenizer::pre_tokenize("hello world!") == Strings{"hello", " world", "!"});
    // Two spaces before a word: the first is a token of its own (\s+(?!\S) backs off one).
    CHECK(Gpt2Tokenizer::pre_tokenize("I'm  fine,  thanks!!\n\nOK") ==
          Strings{"I", "'m", " ", " fine", ",", " ", " thanks", "!!", "\n", "\n", "OK"});
    CHECK(Gpt2Tokenizer::pre_tokenize("a   ") == Strings{"a", "   "});          // trailing spaces: one token
    CHECK(Gpt2Tokenizer::pre_tokenize("abc123 4567") == Strings{"abc", "123", " 4567"});
    CHECK(Gpt2Tokenizer::pre_tokenize("I'M they're") == Strings{"I", "'", "M", " they", "'re"});  // case-sensitive
    CHECK(Gpt2Tokenizer::pre_tokenize("日本語 テスト") == Strings{"日本語", " テスト"});
    CHECK(Gpt2Tokenizer::pre_tokenize("ok 👍👍 café") == Strings{"ok", " 👍👍", " café"});
    CHECK(Gpt2Tokenizer::pre_tokenize("x\t\ty") == Strings{"x", "\t", "\t", "y"});  // only ' ' joins a word
    // Invalid bytes cut the text: each invalid run is a pre-token, each valid run as a whole text.
    CHECK(Gpt2Tokenizer::pre_tokenize("ab\xff\xfe" "cd") == Strings{"ab", "\xff\xfe", "cd"});
    CHECK(Gpt2Tokenizer::pre_tokenize("a \xc3") == Strings{"a", " ", "\xc3"});    // truncated é
    CHECK(Gpt2Tokenizer::pre_tokenize("\xed\xa0\x80x") == Strings{"\xed\xa0\x80", "x"});  // a surrogate
    CHECK(Gpt2Tokenizer::pre_tokenize("").empty());
}

TEST_CASE("gpt2 tokenizer: merges by rank on a hand-made vocabulary") {
    const Gpt2Tokenizer t = small_vocab();
    CHECK(t.size() == 15);
    // "hello": h e l l o → (l l, rank 0) h e ll o → (h e, 1) he ll o → (he ll, 2) hell o → (hell o, 4) hello
    // " world": Ġ w o r l d → (Ġ w, 3) Ġw o r l d → (o r, 5) Ġw or l d
    CHECK(t.encode("hello world!") == std::vector<int>{13, 12, 14, 4, 1, 0});
    CHECK(t.encode("lll") == std::vector<int>{9, 4});        // left to right, no overlap
    CHECK(t.encode("hell") == std::vector<int>{11});
    // " hello": Ġ h e l l o → Ġ h e ll o → Ġ he ll o → Ġ hell o → Ġ hello (no merge joins Ġ and h)
    CHECK(t.encode("hello hello") == std::vector<int>{13, 8, 13});
    CHECK(t.decode({13, 12, 14, 4, 1, 0}) == "hello world!");
    CHECK(t.piece(12) == "Ġw");
    CHECK(t.token_bytes(12) == " w");
    CHECK(*t.id_of("hello") == 13);
    CHECK(!t.id_of("x"));
    CHECK_THROWS_WITH_AS(t.encode("x"), doctest::Contains("no token for the piece \"x\""), ModelError);
    CHECK_THROWS_AS(t.decode({99}), ModelError);
    // The files written back read the same.
    const Gpt2Tokenizer u = Gpt2Tokenizer::from_text(t.vocab_json(), t.merges_txt());
    CHECK(u.encode("hello world!") == t.encode("hello world!"));
    CHECK(t.merges_txt().rfind("#version: 0.2\nl l\nh e\n", 0) == 0);
}

TEST_CASE("gpt2 tokenizer: any bytes round-trip through a full byte vocabulary") {
    std::vector<std::string> bytes;
    for (int b = 0; b < 256; ++b) bytes.emplace_back(1, static_cast<char>(b));
    const Gpt2Tokenizer t = Gpt2Tokenizer::from_token_texts(bytes);  // id = byte
    const std::string text = "caf\xc3\xa9 \xff\xfe \xf0\x9f\x91\x8d \xe6\x97\xa5 \xc3";
    const std::vector<int> ids = t.encode(text);
    REQUIRE(ids.size() == text.size());
    for (std::size_t i = 0; i < text.size(); ++i) CHECK(ids[i] == static_cast<unsigned char>(text[i]));
    CHECK(t.decode(ids) == text);
}

TEST_CASE("gpt2 tokenizer: malformed vocabulary files name the file and the line") {
    CHECK_THROWS_WITH_AS(Gpt2Tokenizer::from_text("[1]", "", "v.json", "m.txt"), doctest::Contains("v.json: expected a JSON object"),
                         ModelError);
    CHECK_THROWS_WITH_AS(Gpt2Tokenizer::from_text(R"({"a": 0, "b": 0})", "", "v.json", "m.txt"),
                         doctest::Contains("v.json: id 0 is given to both"), ModelError);
    CHECK_THROWS_WITH_AS(Gpt2Tokenizer::from_text(R"({"a": "x"})", "", "v.json", "m.txt"),
                         doctest::Contains("v.json: token \"a\": id is not an integer"), ModelError);
    CHECK_THROWS_WITH_AS(Gpt2Tokenizer::from_text(R"({"a": 0})", "#version: 0.2\na b\nabc\n", "v.json", "m.txt"),
                         doctest::Contains("m.txt: line 3: expected two pieces"), ModelError);
}
