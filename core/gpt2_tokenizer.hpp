// attnviz core — GPT-2's byte-level BPE tokenizer, byte-exact with OpenAI's encoder.py.
//
//   text (bytes) → pre-tokens by the pattern
//       's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   → each pre-token's bytes as "pieces" through the bytes→unicode map (printable bytes stay,
//     the other 68 become U+0100 + k, so a space is "Ġ") → repeatedly merge the adjacent pair of
//     lowest rank (its line in merges.txt) → ids from vocab.json.
//
// Invalid UTF-8 (decision, the reference works on decoded strings and never sees such bytes):
// invalid bytes cut the text; each maximal valid run is pre-tokenized as if it were a whole text
// and each maximal run of invalid bytes is one pre-token of its own, which goes through the byte
// map and the merges like any other. decode(encode(t)) == t for every byte string t.
//
// Pieces are shown as they are in vocab.json (with Ġ for a leading space); token_bytes() gives a
// token's raw bytes. Thread-safe: encode() may be called from several threads (the BPE cache is
// locked). Copies share the compiled pattern and the vocabulary.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace attnviz {

class Gpt2Tokenizer {
public:
    Gpt2Tokenizer();  // an empty vocabulary (encode throws for any non-empty text)

    // vocab.json text ({"piece": id, …}) and merges.txt text ("#version" line, then "a b" lines).
    // `vocab_name` / `merges_name` name the files in errors (ModelError from safetensors.hpp).
    static Gpt2Tokenizer from_text(const std::string& vocab_json, const std::string& merges_txt,
                                   const std::string& vocab_name = "vocab.json",
                                   const std::string& merges_name = "merges.txt");
    static Gpt2Tokenizer from_files(const std::string& vocab_json_path, const std::string& merges_txt_path);
    // A vocabulary of the given pieces (id = index, in the byte-unicode form) and merges (rank = index).
    static Gpt2Tokenizer from_pieces(std::vector<std::string> pieces,
                                     std::vector<std::pair<std::string, std::string>> merges = {});
    // A vocabulary of raw byte strings (id = index; each turned into its piece), no merges: what
    // save_gpt2_folder writes for "a simple token list". Such a vocabulary encodes a text only if
    // the merges (none) leave pieces it has — single-byte tokens, in practice.
    static Gpt2Tokenizer from_token_texts(const std::vector<std::string>& texts);

    // Throws ModelError("", "", "… no token for piece \"…\" …") when the vocabulary lacks a piece.
    std::vector<int> encode(const std::string& text) const;
    // The bytes of the tokens, concatenated (throws ModelError for an id with no token).
    std::string decode(const std::vector<int>& ids) const;

    int size() const;                             // number of tokens in the vocabulary
    int max_id() const;                           // largest id (−1 when empty)
    bool has_id(int id) const;
    const std::string& piece(int id) const;       // as in vocab.json ("Ġworld"); "" when unknown
    std::string token_bytes(int id) const;        // raw bytes (" world")
    std::optional<int> id_of(const std::string& piece) const;
    const std::vector<std::pair<std::string, std::string>>& merges() const;

    std::string vocab_json() const;   // {"piece": id, …} in id order
    std::string merges_txt() const;   // "#version: 0.2\n" then one "a b" line per merge

    // The pre-tokenizer alone: the text cut into pre-tokens (bytes, in order; concatenated = text).
    static std::vector<std::string> pre_tokenize(const std::string& text);
    // bytes → pieces (byte-unicode form) and back (throws ModelError for a character outside the map).
    static std::string bytes_to_piece(const std::string& bytes);
    static std::string piece_to_bytes(const std::string& piece);

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace attnviz
