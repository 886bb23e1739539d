// attnviz core — GPT-2 byte-level BPE (see gpt2_tokenizer.hpp).
#include "gpt2_tokenizer.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>
#include <fstream>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "safetensors.hpp"  // ModelError

namespace attnviz {

// ---------------------------------------------------------------------------------------------
// [SECTION] Bytes ↔ unicode
// ---------------------------------------------------------------------------------------------
namespace {

std::string utf8_of(std::uint32_t cp) {
    std::string s;
    if (cp < 0x80) {
        s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        s.push_back(static_cast<char>(0xc0 | (cp >> 6)));
        s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
        s.push_back(static_cast<char>(0xe0 | (cp >> 12)));
        s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
    return s;
}

struct ByteMap {
    std::array<std::string, 256> piece;  // byte → its character (UTF-8)
    std::unordered_map<std::uint32_t, unsigned char> byte_of;  // code point → byte
    ByteMap() {
        std::array<bool, 256> printable{};
        for (int b = '!'; b <= '~'; ++b) printable[b] = true;
        for (int b = 0xa1; b <= 0xac; ++b) printable[b] = true;
        for (int b = 0xae; b <= 0xff; ++b) printable[b] = true;
        std::uint32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            const std::uint32_t cp = printable[b] ? static_cast<std::uint32_t>(b) : next++;
            piece[b] = utf8_of(cp);
            byte_of[cp] = static_cast<unsigned char>(b);
        }
    }
};
const ByteMap& byte_map() {
    static const ByteMap m;
    return m;
}

// Length of the valid UTF-8 sequence at s[i] (1–4), or 0 when the bytes there are not one
// (overlong forms, surrogates, code points past U+10FFFF, truncated sequences are invalid).
int valid_utf8_at(const std::string& s, std::size_t i) {
    const auto c = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = c(i);
    if (b0 < 0x80) return 1;
    const std::size_t left = s.size() - i;
    const auto cont = [&](std::size_t k) { return (c(k) & 0xc0) == 0x80; };
    if (b0 >= 0xc2 && b0 <= 0xdf) return left >= 2 && cont(i + 1) ? 2 : 0;
    if (b0 >= 0xe0 && b0 <= 0xef) {
        if (left < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
        if (b0 == 0xe0 && c(i + 1) < 0xa0) return 0;   // overlong
        if (b0 == 0xed && c(i + 1) >= 0xa0) return 0;  // surrogate
        return 3;
    }
    if (b0 >= 0xf0 && b0 <= 0xf4) {
        if (left < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
        if (b0 == 0xf0 && c(i + 1) < 0x90) return 0;   // overlong
        if (b0 == 0xf4 && c(i + 1) >= 0x90) return 0;  // past U+10FFFF
        return 4;
    }
    return 0;
}

// Decodes one UTF-8 character of a valid string at s[i]; advances i.
std::uint32_t next_code_point(const std::string& s, std::size_t& i) {
    const int len = valid_utf8_at(s, i);
    if (len == 0) {
        ++i;
        return 0xffffffffu;
    }
    const auto c = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(s[k])); };
    std::uint32_t cp;
    if (len == 1) cp = c(i);
    else if (len == 2) cp = (c(i) & 0x1f) << 6 | (c(i + 1) & 0x3f);
    else if (len == 3) cp = (c(i) & 0x0f) << 12 | (c(i + 1) & 0x3f) << 6 | (c(i + 2) & 0x3f);
    else cp = (c(i) & 0x07) << 18 | (c(i + 1) & 0x3f) << 12 | (c(i + 2) & 0x3f) << 6 | (c(i + 3) & 0x3f);
    i += static_cast<std::size_t>(len);
    return cp;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Pre-tokenizer (PCRE2)
// ---------------------------------------------------------------------------------------------
struct Pattern {
    pcre2_code* code = nullptr;
    Pattern() {
        static const char kPattern[] = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
        int err = 0;
        PCRE2_SIZE off = 0;
        code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kPattern), PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &err,
                             &off, nullptr);
        if (!code) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            throw std::runtime_error(std::string("GPT-2 pre-tokenizer pattern: ") + reinterpret_cast<char*>(msg));
        }
        pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // optional: falls back to the interpreter
    }
    ~Pattern() { pcre2_code_free(code); }
};
const Pattern& pattern() {
    static const Pattern p;
    return p;
}

// Pre-tokens of a valid UTF-8 run [begin, end) of `text`, appended to `out`.
void pre_tokenize_valid(const std::string& text, std::size_t begin, std::size_t end, std::vector<std::string>& out) {
    if (begin == end) return;
    const Pattern& p = pattern();
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(p.code, nullptr);
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data() + begin);
    const PCRE2_SIZE len = end - begin;
    PCRE2_SIZE at = 0;
    while (at < len) {
        const int rc = pcre2_match(p.code, subject, len, at, PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc < 0) {  // no match (cannot happen: every character is \s, \p{L}, \p{N} or other)
            out.emplace_back(text.substr(begin + at, len - at));
            break;
        }
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        if (ov[0] > at) out.emplace_back(text.substr(begin + at, ov[0] - at));  // (cannot happen either)
        if (ov[1] <= ov[0]) {  // an empty match: take one character and go on
            std::size_t i = begin + ov[0];
            next_code_point(text, i);
            out.emplace_back(text.substr(begin + ov[0], i - begin - ov[0]));
            at = i - begin;
            continue;
        }
        out.emplace_back(text.substr(begin + ov[0], ov[1] - ov[0]));
        at = ov[1];
    }
    pcre2_match_data_free(md);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] Vocabulary and merges
// ---------------------------------------------------------------------------------------------
struct Gpt2Tokenizer::Impl {
    std::unordered_map<std::string, int> id_of;      // piece → id
    std::vector<std::string> piece_of;               // id → piece ("" for a gap)
    std::vector<bool> has;                           // id present
    int count = 0;
    std::vector<std::pair<std::string, std::string>> merges;  // rank order
    std::unordered_map<std::string, int> rank;       // "a b" → rank
    mutable std::mutex cache_mutex;
    mutable std::unordered_map<std::string, std::vector<int>> cache;  // pre-token bytes → ids

    void add(const std::string& piece, int id, const std::string& file) {
        if (id < 0) throw ModelError(file, "", "token \"" + piece + "\" has a negative id " + std::to_string(id));
        if (id > 10'000'000) throw ModelError(file, "", "token \"" + piece + "\" has id " + std::to_string(id) + ", too large");
        if (id_of.count(piece)) throw ModelError(file, "", "token \"" + piece + "\" appears twice");
        if (static_cast<std::size_t>(id) >= piece_of.size()) {
            piece_of.resize(static_cast<std::size_t>(id) + 1);
            has.resize(static_cast<std::size_t>(id) + 1, false);
        }
        if (has[static_cast<std::size_t>(id)])
            throw ModelError(file, "", "id " + std::to_string(id) + " is given to both \"" + piece_of[static_cast<std::size_t>(id)] +
                                           "\" and \"" + piece + "\"");
        has[static_cast<std::size_t>(id)] = true;
        piece_of[static_cast<std::size_t>(id)] = piece;
        id_of[piece] = id;
        ++count;
    }
    void add_merge(const std::string& a, const std::string& b) {
        const std::string key = a + ' ' + b;
        if (!rank.count(key)) rank[key] = static_cast<int>(merges.size());  // a repeated line keeps its first rank
        merges.emplace_back(a, b);
    }

    // The BPE of one pre-token (its bytes) → ids.
    std::vector<int> bpe(const std::string& bytes) const {
        const ByteMap& bm = byte_map();
        std::vector<std::string> word;  // (pieces)
        word.reserve(bytes.size());
        for (unsigned char b : bytes) word.push_back(bm.piece[b]);
        while (word.size() > 1) {
            int best = std::numeric_limits<int>::max();
            std::size_t best_i = 0;
            for (std::size_t i = 0; i + 1 < word.size(); ++i) {
                auto it = rank.find(word[i] + ' ' + word[i + 1]);
                if (it != rank.end() && it->second < best) {
                    best = it->second;
                    best_i = i;
                }
            }
            if (best == std::numeric_limits<int>::max()) break;
            const std::string first = word[best_i], second = word[best_i + 1];
            std::vector<std::string> merged;
            merged.reserve(word.size());
            for (std::size_t i = 0; i < word.size();) {
                if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
                    merged.push_back(first + second);
                    i += 2;
                } else {
                    merged.push_back(word[i]);
                    ++i;
                }
            }
            word.swap(merged);
        }
        std::vector<int> ids;
        ids.reserve(word.size());
        for (const auto& w : word) {
            auto it = id_of.find(w);
            if (it == id_of.end())
                throw ModelError("", "", "the vocabulary has no token for the piece \"" + w + "\" (of the text \"" + bytes + "\")");
            ids.push_back(it->second);
        }
        return ids;
    }
};

Gpt2Tokenizer::Gpt2Tokenizer() : impl_(std::make_shared<Impl>()) {}

Gpt2Tokenizer Gpt2Tokenizer::from_text(const std::string& vocab_json, const std::string& merges_txt,
                                       const std::string& vocab_name, const std::string& merges_name) {
    Gpt2Tokenizer t;
    Impl& im = *t.impl_;
    nlohmann::json v;
    try {
        v = nlohmann::json::parse(vocab_json);
    } catch (const nlohmann::json::exception& e) {
        throw ModelError(vocab_name, "", std::string("not valid JSON: ") + e.what());
    }
    if (!v.is_object()) throw ModelError(vocab_name, "", "expected a JSON object {\"piece\": id, …}");
    for (auto it = v.begin(); it != v.end(); ++it) {
        if (!it.value().is_number_integer())
            throw ModelError(vocab_name, "", "token \"" + it.key() + "\": id is not an integer");
        im.add(it.key(), it.value().get<int>(), vocab_name);
    }
    std::istringstream in(merges_txt);
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line.rfind("#version", 0) == 0) continue;
        const auto sp = line.find(' ');
        if (sp == std::string::npos || sp == 0 || sp + 1 >= line.size() || line.find(' ', sp + 1) != std::string::npos)
            throw ModelError(merges_name, "", "line " + std::to_string(line_no) + ": expected two pieces separated by one space, got \"" + line + "\"");
        im.add_merge(line.substr(0, sp), line.substr(sp + 1));
    }
    return t;
}

namespace {
std::string read_text_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw ModelError(path, "", "cannot read");
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}
}  // namespace

Gpt2Tokenizer Gpt2Tokenizer::from_files(const std::string& vocab_json_path, const std::string& merges_txt_path) {
    return from_text(read_text_file(vocab_json_path), read_text_file(merges_txt_path), vocab_json_path, merges_txt_path);
}

Gpt2Tokenizer Gpt2Tokenizer::from_pieces(std::vector<std::string> pieces, std::vector<std::pair<std::string, std::string>> merges) {
    Gpt2Tokenizer t;
    for (std::size_t i = 0; i < pieces.size(); ++i) t.impl_->add(pieces[i], static_cast<int>(i), "token list");
    for (auto& [a, b] : merges) t.impl_->add_merge(a, b);
    return t;
}

Gpt2Tokenizer Gpt2Tokenizer::from_token_texts(const std::vector<std::string>& texts) {
    std::vector<std::string> pieces;
    pieces.reserve(texts.size());
    for (const auto& s : texts) pieces.push_back(bytes_to_piece(s));
    return from_pieces(std::move(pieces));
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Encode / decode
// ---------------------------------------------------------------------------------------------
std::vector<std::string> Gpt2Tokenizer::pre_tokenize(const std::string& text) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t j = i;
        while (j < text.size()) {  // the valid run [i, j)
            const int len = valid_utf8_at(text, j);
            if (len == 0) break;
            j += static_cast<std::size_t>(len);
        }
        pre_tokenize_valid(text, i, j, out);
        std::size_t k = j;
        while (k < text.size() && valid_utf8_at(text, k) == 0) ++k;  // the invalid run [j, k)
        if (k > j) out.emplace_back(text.substr(j, k - j));
        i = k;
    }
    return out;
}

std::vector<int> Gpt2Tokenizer::encode(const std::string& text) const {
    std::vector<int> ids;
    for (const std::string& pre : pre_tokenize(text)) {
        {
            std::lock_guard lock(impl_->cache_mutex);
            auto it = impl_->cache.find(pre);
            if (it != impl_->cache.end()) {
                ids.insert(ids.end(), it->second.begin(), it->second.end());
                continue;
            }
        }
        std::vector<int> part = impl_->bpe(pre);
        ids.insert(ids.end(), part.begin(), part.end());
        std::lock_guard lock(impl_->cache_mutex);
        if (impl_->cache.size() > 200'000) impl_->cache.clear();
        impl_->cache.emplace(pre, std::move(part));
    }
    return ids;
}

std::string Gpt2Tokenizer::decode(const std::vector<int>& ids) const {
    std::string out;
    for (int id : ids) {
        if (!has_id(id)) throw ModelError("", "", "no token has id " + std::to_string(id));
        out += piece_to_bytes(impl_->piece_of[static_cast<std::size_t>(id)]);
    }
    return out;
}

int Gpt2Tokenizer::size() const { return impl_->count; }
int Gpt2Tokenizer::max_id() const { return static_cast<int>(impl_->piece_of.size()) - 1; }
bool Gpt2Tokenizer::has_id(int id) const {
    return id >= 0 && static_cast<std::size_t>(id) < impl_->has.size() && impl_->has[static_cast<std::size_t>(id)];
}
const std::string& Gpt2Tokenizer::piece(int id) const {
    static const std::string empty;
    return has_id(id) ? impl_->piece_of[static_cast<std::size_t>(id)] : empty;
}
std::string Gpt2Tokenizer::token_bytes(int id) const { return has_id(id) ? piece_to_bytes(piece(id)) : std::string(); }
std::optional<int> Gpt2Tokenizer::id_of(const std::string& p) const {
    auto it = impl_->id_of.find(p);
    if (it == impl_->id_of.end()) return std::nullopt;
    return it->second;
}
const std::vector<std::pair<std::string, std::string>>& Gpt2Tokenizer::merges() const { return impl_->merges; }

std::string Gpt2Tokenizer::vocab_json() const {
    nlohmann::ordered_json v = nlohmann::ordered_json::object();
    for (std::size_t id = 0; id < impl_->piece_of.size(); ++id)
        if (impl_->has[id]) v[impl_->piece_of[id]] = static_cast<int>(id);
    return v.dump();
}

std::string Gpt2Tokenizer::merges_txt() const {
    std::string s = "#version: 0.2\n";
    for (const auto& [a, b] : impl_->merges) s += a + ' ' + b + '\n';
    return s;
}

std::string Gpt2Tokenizer::bytes_to_piece(const std::string& bytes) {
    const ByteMap& bm = byte_map();
    std::string s;
    for (unsigned char b : bytes) s += bm.piece[b];
    return s;
}

std::string Gpt2Tokenizer::piece_to_bytes(const std::string& piece) {
    const ByteMap& bm = byte_map();
    std::string out;
    std::size_t i = 0;
    while (i < piece.size()) {
        const std::uint32_t cp = next_code_point(piece, i);
        auto it = bm.byte_of.find(cp);
        if (it == bm.byte_of.end()) throw ModelError("", "", "the piece \"" + piece + "\" holds a character outside GPT-2's byte map");
        out.push_back(static_cast<char>(it->second));
    }
    return out;
}

}  // namespace attnviz
