#include "tokenizer.hpp"

#include <cstdint>

namespace attnviz {
namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;

// Decodes one code point at s[i]; sets `len` to the bytes used (1 for an invalid byte).
char32_t decode(std::string_view s, std::size_t i, std::size_t& len) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) { len = 1; return b0; }
    int extra = 0;
    char32_t cp = 0;
    if ((b0 & 0xE0) == 0xC0) { extra = 1; cp = b0 & 0x1F; }
    else if ((b0 & 0xF0) == 0xE0) { extra = 2; cp = b0 & 0x0F; }
    else if ((b0 & 0xF8) == 0xF0) { extra = 3; cp = b0 & 0x07; }
    else { len = 1; return kInvalid; }
    if (i + static_cast<std::size_t>(extra) >= s.size()) { len = 1; return kInvalid; }
    for (int k = 1; k <= extra; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) { len = 1; return kInvalid; }
        cp = (cp << 6) | (b & 0x3F);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    static constexpr char32_t kMin[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) { len = 1; return kInvalid; }
    len = static_cast<std::size_t>(extra) + 1;
    return cp;
}

enum class Kind { Space, Letter, Digit, Punct, Single, Mark, Control, Invalid };

bool is_space(char32_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0x85 ||
           c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

bool is_combining(char32_t c) {
    return (c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) ||
           (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE20 && c <= 0xFE2F) || c == 0x200D || /* ZWJ */
           (c >= 0xFE00 && c <= 0xFE0F) /* variation selectors */ || (c >= 0x1F3FB && c <= 0x1F3FF) ||
           (c >= 0x0591 && c <= 0x05C7 && c != 0x05BE && c != 0x05C0 && c != 0x05C3 && c != 0x05C6) ||
           (c >= 0x0610 && c <= 0x061A) || (c >= 0x064B && c <= 0x065F) || c == 0x0670 ||
           (c >= 0x0900 && c <= 0x0903) || (c >= 0x093A && c <= 0x094F && c != 0x093D) ||
           (c >= 0x0951 && c <= 0x0957) || (c >= 0x0962 && c <= 0x0963) || (c >= 0x0E31 && c <= 0x0E3A && c != 0x0E32 && c != 0x0E33) ||
           (c >= 0x0E47 && c <= 0x0E4E) || (c >= 0xE0100 && c <= 0xE01EF);
}

// Scripts written without spaces and symbols: each code point is a token of its own.
bool is_single(char32_t c) {
    return (c >= 0x2E80 && c <= 0x2FDF) ||   // CJK radicals
           (c >= 0x3040 && c <= 0x30FF) ||   // Hiragana, Katakana
           (c >= 0x3100 && c <= 0x31FF) ||   // Bopomofo etc.
           (c >= 0x3400 && c <= 0x4DBF) ||   // CJK ext A
           (c >= 0x4E00 && c <= 0x9FFF) ||   // CJK unified
           (c >= 0xF900 && c <= 0xFAFF) ||   // CJK compatibility
           (c >= 0x20000 && c <= 0x3FFFF) || // CJK ext B+
           (c >= 0x2190 && c <= 0x2BFF) ||   // arrows, math operators, technical, shapes, dingbats
           (c >= 0x1F000 && c <= 0x1FAFF);   // emoji and pictographs
}

bool is_ascii_punct(char32_t c) {
    return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
           (c >= 0x7B && c <= 0x7E);
}

bool is_unicode_punct(char32_t c) {
    return (c >= 0xA1 && c <= 0xBF && c != 0xAA && c != 0xB2 && c != 0xB3 && c != 0xB5 && c != 0xB9 &&
            c != 0xBA && c != 0xBC && c != 0xBD && c != 0xBE) ||
           c == 0xD7 || c == 0xF7 || (c >= 0x2010 && c <= 0x2027) || (c >= 0x2030 && c <= 0x205E) ||
           (c >= 0x20A0 && c <= 0x20CF) || (c >= 0x3001 && c <= 0x303F) || (c >= 0xFF01 && c <= 0xFF0F) ||
           (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||
           c == 0x055D || c == 0x0589 || c == 0x060C || c == 0x061B || c == 0x061F || c == 0x06D4 ||
           c == 0x0964 || c == 0x0965 || c == 0x0E5A || c == 0x0E5B || c == 0x037E || c == 0x0387;
}

Kind classify(char32_t c) {
    if (c == kInvalid) return Kind::Invalid;
    if (is_space(c)) return Kind::Space;
    if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0)) return Kind::Control;
    if (c >= '0' && c <= '9') return Kind::Digit;
    if (c < 0x80) return is_ascii_punct(c) ? Kind::Punct : Kind::Letter;
    if (is_combining(c)) return Kind::Mark;
    if (is_unicode_punct(c)) return Kind::Punct;
    if (is_single(c)) return Kind::Single;
    if ((c >= 0xFF10 && c <= 0xFF19)) return Kind::Digit;  // full-width digits
    return Kind::Letter;
}

struct Cp {
    char32_t c;
    std::size_t offset, len;
    Kind kind;
};

}  // namespace

bool is_valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        std::size_t len = 0;
        if (decode(s, i, len) == kInvalid) return false;
        i += len;
    }
    return true;
}

std::string sanitize_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        std::size_t len = 0;
        if (decode(s, i, len) == kInvalid) out += "\xEF\xBF\xBD";
        else out.append(s.substr(i, len));
        i += len;
    }
    return out;
}

std::vector<Token> tokenize(std::string_view text) { return tokenize(text, static_cast<std::size_t>(-1)); }

// Decodes code points on demand (one of lookahead at most), so memory stays proportional to the
// tokens kept, never to the text: a 1 GB paste costs no more than `max_tokens` tokens.
std::vector<Token> tokenize(std::string_view text, std::size_t max_tokens) {
    const std::size_t n = text.size();
    auto at = [&](std::size_t i) {  // the code point starting at byte i (i < n)
        std::size_t len = 0;
        const char32_t c = decode(text, i, len);
        return Cp{c, i, len, classify(c)};
    };
    std::vector<Token> tokens;
    auto emit = [&](std::size_t begin, std::size_t end) {  // bytes [begin, end)
        tokens.push_back({sanitize_utf8(text.substr(begin, end - begin)), begin, end - begin});
    };
    auto swallow_marks = [&](std::size_t j) {
        while (j < n) {
            const Cp m = at(j);
            if (m.kind != Kind::Mark) break;
            // A ZWJ joins the next pictograph into the same emoji sequence.
            if (m.c == 0x200D && j + m.len < n) {
                const Cp next = at(j + m.len);
                if (next.kind == Kind::Single) { j += m.len + next.len; continue; }
            }
            j += m.len;
        }
        return j;
    };

    std::size_t i = 0;
    while (i < n) {
        const Cp first = at(i);
        const Kind k = first.kind;
        if (k == Kind::Space || k == Kind::Control) { i += first.len; continue; }
        if (tokens.size() > max_tokens) break;  // over the limit: the caller sees max_tokens + 1
        std::size_t j = i + first.len;
        if (k == Kind::Letter || (k == Kind::Mark)) {
            // A word: letters and marks; an apostrophe between letters stays inside ("don't").
            while (j < n) {
                const Cp c = at(j);
                if (c.kind == Kind::Letter || c.kind == Kind::Mark) { j += c.len; continue; }
                if ((c.c == '\'' || c.c == 0x2019) && j + c.len < n) {
                    const Cp next = at(j + c.len);
                    if (next.kind == Kind::Letter) { j += c.len + next.len; continue; }
                }
                break;
            }
        } else if (k == Kind::Digit) {
            // A number: digits, with '.' or ',' between digits ("3.14", "12,288").
            while (j < n) {
                const Cp c = at(j);
                if (c.kind == Kind::Digit) { j += c.len; continue; }
                if ((c.c == '.' || c.c == ',') && j + c.len < n) {
                    const Cp next = at(j + c.len);
                    if (next.kind == Kind::Digit) { j += c.len + next.len; continue; }
                }
                break;
            }
        } else if (k == Kind::Single || k == Kind::Punct) {
            j = swallow_marks(j);
        }
        // Kind::Invalid: the single bad byte is its own token (text U+FFFD).
        emit(i, j);
        i = j;
    }
    return tokens;
}

std::vector<Token> tokens_from_strings(const std::vector<std::string>& words) {
    std::vector<Token> tokens;
    tokens.reserve(words.size());
    std::size_t offset = 0;
    for (const auto& w : words) {
        tokens.push_back({sanitize_utf8(w), offset, w.size()});
        offset += w.size() + 1;
    }
    return tokens;
}

std::vector<std::string> token_texts(const std::vector<Token>& tokens) {
    std::vector<std::string> out;
    out.reserve(tokens.size());
    for (const auto& t : tokens) out.push_back(t.text);
    return out;
}

}  // namespace attnviz
