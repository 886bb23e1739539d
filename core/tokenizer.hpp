// attnviz core — text → tokens.
//
// Words, numbers and punctuation become separate tokens. The tokenizer is UTF-8 aware: letters of
// any script form words, CJK ideographs and emoji are one token each, combining marks stay with
// the character before them. Every token keeps its byte offset and byte length in the original
// text, so the text can always be rebuilt (whitespace is the only thing between tokens).
// Invalid UTF-8 bytes become their own token whose text is U+FFFD; offset/length still point at
// the original bytes, so nothing is lost.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace attnviz {

struct Token {
    std::string text;      // UTF-8 (always valid)
    std::size_t offset = 0;  // byte offset in the source text
    std::size_t length = 0;  // byte length in the source text
};

std::vector<Token> tokenize(std::string_view text);
// Stops after max_tokens + 1 tokens: a result longer than max_tokens means "too many", found
// without decoding or storing the rest (memory stays bounded whatever the text's length).
std::vector<Token> tokenize(std::string_view text, std::size_t max_tokens);

// Tokens made from a list of strings (no source text): offsets as if joined by single spaces.
std::vector<Token> tokens_from_strings(const std::vector<std::string>& words);

// The token texts alone.
std::vector<std::string> token_texts(const std::vector<Token>& tokens);

// True if `s` is valid UTF-8.
bool is_valid_utf8(std::string_view s);

// `s` with every invalid UTF-8 byte replaced by U+FFFD.
std::string sanitize_utf8(std::string_view s);

}  // namespace attnviz
