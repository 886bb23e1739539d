#include "scene_io.hpp"

#include "file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <new>
#include <set>
#include <sstream>
#include <vector>

namespace attnviz {

using Json = nlohmann::ordered_json;

namespace {

// ---------------------------------------------------------------------------------------------
// [SECTION] Reading helpers — each names the JSON path on failure.
// ---------------------------------------------------------------------------------------------
std::string type_name(const Json& j) {
    if (j.is_null()) return "null";
    if (j.is_boolean()) return "a boolean";
    if (j.is_number()) return "a number";
    if (j.is_string()) return "a string";
    if (j.is_array()) return "an array of " + std::to_string(j.size());
    if (j.is_object()) return "an object";
    return "something else";
}

[[noreturn]] void fail(const std::string& path, const std::string& msg) { throw SceneError(path, msg); }

// Text from the file as it may appear in a message (and so in JSON, a status line, a terminal):
// valid UTF-8 kept, control bytes and bytes that are not UTF-8 written as \xNN.
std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    auto hex = [&](unsigned char c) {
        static const char* digits = "0123456789ABCDEF";
        out += "\\x";
        out += digits[c >> 4];
        out += digits[c & 15];
    };
    for (std::size_t i = 0; i < text.size();) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7F) {
            hex(c);
            ++i;
            continue;
        }
        if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        // The length of a well-formed UTF-8 sequence starting here (0: not one).
        int len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (len && i + static_cast<std::size_t>(len) <= text.size()) {
            for (int k = 1; k < len; ++k)
                if ((static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]) & 0xC0) != 0x80) len = 0;
            if (len) {
                const unsigned char c1 = static_cast<unsigned char>(text[i + 1]);
                if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F))
                    len = 0;  // overlong, surrogate or beyond U+10FFFF
            }
        } else {
            len = 0;
        }
        if (!len) {
            hex(c);
            ++i;
            continue;
        }
        out.append(text.substr(i, static_cast<std::size_t>(len)));
        i += static_cast<std::size_t>(len);
    }
    return out;
}

std::string join(const std::string& parent, const std::string& key) {
    const std::string k = printable(key);
    return parent.empty() ? k : parent + "." + k;
}

const Json* find(const Json& obj, const char* key) {
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
}

long long get_int(const Json& j, const std::string& path) {
    if (j.is_number_integer() || j.is_number_unsigned()) {
        if (j.is_number_unsigned() && j.get<unsigned long long>() > static_cast<unsigned long long>(std::numeric_limits<long long>::max()))
            fail(path, "expected a whole number, got one too large");
        return j.get<long long>();
    }
    if (j.is_number_float()) {
        const double d = j.get<double>();
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) return static_cast<long long>(d);
    }
    fail(path, "expected a whole number, got " + type_name(j));
}

int get_size(const Json& j, const std::string& path, long long lo, long long hi) {
    const long long v = get_int(j, path);
    if (v < lo || v > hi) fail(path, "expected " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + std::to_string(v));
    return static_cast<int>(v);
}

bool get_bool(const Json& j, const std::string& path) {
    if (!j.is_boolean()) fail(path, "expected true or false, got " + type_name(j));
    return j.get<bool>();
}

std::string get_string(const Json& j, const std::string& path) {
    if (!j.is_string()) fail(path, "expected a string, got " + type_name(j));
    return j.get<std::string>();
}

float get_float(const Json& j, const std::string& path) {
    if (!j.is_number()) fail(path, "expected a number, got " + type_name(j));
    const double d = j.get<double>();
    if (!std::isfinite(d)) fail(path, "expected a finite number");
    if (std::fabs(d) > std::numeric_limits<float>::max()) fail(path, "number too large for float32: " + j.dump());
    return static_cast<float>(d);
}

void check_keys(const Json& obj, const std::string& path, std::initializer_list<const char*> known);

// ---- the compact form: {"dtype": "float32", "shape": [rows, cols], "base64": "…"} ----
// Standard base64 (RFC 4648, with = padding, no line breaks) of the little-endian bytes, row-major.
constexpr const char* kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(const unsigned char* data, std::size_t size) {
    std::string out;
    out.reserve((size + 2) / 3 * 4);
    for (std::size_t i = 0; i < size; i += 3) {
        const std::uint32_t b0 = data[i], b1 = i + 1 < size ? data[i + 1] : 0, b2 = i + 2 < size ? data[i + 2] : 0;
        const std::uint32_t v = (b0 << 16) | (b1 << 8) | b2;
        out += kBase64[(v >> 18) & 63];
        out += kBase64[(v >> 12) & 63];
        out += i + 1 < size ? kBase64[(v >> 6) & 63] : '=';
        out += i + 2 < size ? kBase64[v & 63] : '=';
    }
    return out;
}

// Decodes into `out` exactly `expect` bytes; fails naming `path` and the offending character.
void base64_decode(const std::string& text, const std::string& path, unsigned char* out, std::size_t expect) {
    static const auto table = [] {
        std::array<signed char, 256> t{};
        t.fill(-1);
        for (int k = 0; k < 64; ++k) t[static_cast<unsigned char>(kBase64[k])] = static_cast<signed char>(k);
        return t;
    }();
    if (text.size() % 4 != 0)
        fail(path, "base64 text of " + std::to_string(text.size()) + " characters: expected a multiple of 4");
    std::size_t pad = 0;
    if (!text.empty() && text.back() == '=') pad = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
    const std::size_t bytes = text.size() / 4 * 3 - pad;
    if (bytes != expect)
        fail(path, "decodes to " + std::to_string(bytes) + " bytes, expected " + std::to_string(expect) +
                       " (rows × columns × 4 bytes of float32)");
    std::size_t o = 0;
    for (std::size_t i = 0; i < text.size(); i += 4) {
        std::uint32_t v = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            const char c = text[i + k];
            int d = table[static_cast<unsigned char>(c)];
            if (c == '=' && i + 4 == text.size() && k >= 4 - pad) d = 0;
            if (d < 0)
                fail(path, "not base64: character " + printable(std::string(1, c)) + " at offset " + std::to_string(i + k));
            v = (v << 6) | static_cast<std::uint32_t>(d);
        }
        const unsigned char b[3] = {static_cast<unsigned char>(v >> 16), static_cast<unsigned char>(v >> 8),
                                    static_cast<unsigned char>(v)};
        for (int k = 0; k < 3 && o < expect; ++k) out[o++] = b[k];
    }
}

// The compact form of a rows × cols matrix; `dtype` "float32" (4 bytes a value) or "uint8".
void read_compact(const Json& j, const std::string& path, const char* dtype, int rows, int cols, unsigned char* out,
                  std::size_t value_bytes) {
    check_keys(j, path, {"dtype", "shape", "base64"});
    const Json* dt = find(j, "dtype");
    if (!dt) fail(path + ".dtype", std::string("missing (\"") + dtype + "\")");
    const std::string given = get_string(*dt, path + ".dtype");
    if (given != dtype) fail(path + ".dtype", std::string("expected \"") + dtype + "\", got \"" + printable(given) + "\"");
    const Json* shape = find(j, "shape");
    if (!shape) fail(path + ".shape", "missing ([rows, columns])");
    if (!shape->is_array() || shape->size() != 2)
        fail(path + ".shape", "expected [rows, columns], got " + type_name(*shape));
    const long long r = get_int((*shape)[0], path + ".shape[0]"), c = get_int((*shape)[1], path + ".shape[1]");
    if (r != rows || c != cols)
        fail(path + ".shape", "expected [" + std::to_string(rows) + ", " + std::to_string(cols) + "], got [" +
                                  std::to_string(r) + ", " + std::to_string(c) + "]");
    const Json* b64 = find(j, "base64");
    if (!b64) fail(path + ".base64", "missing");
    if (!b64->is_string()) fail(path + ".base64", "expected a string, got " + type_name(*b64));
    base64_decode(b64->get_ref<const std::string&>(), path + ".base64", out,
                  static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols) * value_bytes);
}

// A matrix of exactly rows × cols numbers: rows of numbers, or the compact form.
Mat get_matrix(const Json& j, const std::string& path, int rows, int cols) {
    if (j.is_object() && !find(j, "dtype") && !find(j, "shape") && !find(j, "base64"))
        fail(path, "expected " + std::to_string(rows) + " rows of " + std::to_string(cols) +
                       " numbers, got an object (a matrix in the compact form has dtype, shape and base64)");
    if (j.is_object()) {
        static_assert(std::endian::native == std::endian::little, "the compact form is read as little-endian float32");
        Mat m(rows, cols);
        read_compact(j, path, "float32", rows, cols, reinterpret_cast<unsigned char*>(m.data()), sizeof(float));
        // Values are checked (finite, |x| ≤ 1e6) by validate, naming the cell.
        return m;
    }
    if (!j.is_array()) fail(path, "expected " + std::to_string(rows) + " rows of " + std::to_string(cols) + " numbers, got " + type_name(j));
    if (static_cast<long long>(j.size()) != rows)
        fail(path, "expected " + std::to_string(rows) + " rows of " + std::to_string(cols) + " numbers, got " +
                       std::to_string(j.size()) + " rows");
    Mat m(rows, cols);
    for (int r = 0; r < rows; ++r) {
        const Json& row = j[static_cast<std::size_t>(r)];
        const std::string rp = path + "[" + std::to_string(r) + "]";
        if (!row.is_array()) fail(rp, "expected a row of " + std::to_string(cols) + " numbers, got " + type_name(row));
        if (static_cast<long long>(row.size()) != cols)
            fail(rp, "expected " + std::to_string(cols) + " numbers, got " + std::to_string(row.size()));
        for (int c = 0; c < cols; ++c) m(r, c) = get_float(row[static_cast<std::size_t>(c)], rp + "[" + std::to_string(c) + "]");
    }
    return m;
}

void check_keys(const Json& obj, const std::string& path, std::initializer_list<const char*> known) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        bool ok = false;
        for (const char* k : known) ok = ok || it.key() == k;
        if (!ok) {
            std::string list;
            for (const char* k : known) list += std::string(list.empty() ? "" : ", ") + k;
            fail(join(path, it.key()), "unknown field (known: " + list + ")");
        }
    }
}

// Tokens from "tokens" (a list) or "text" (tokenized); counts them before anything else.
void read_sequence_tokens(const Json& obj, const std::string& path, Sequence& seq) {
    const Json* tokens = find(obj, "tokens");
    const Json* text = find(obj, "text");
    if (tokens && text) fail(path.empty() ? "tokens" : join(path, "tokens"), "give either \"tokens\" or \"text\", not both");
    if (!tokens && !text) fail(path.empty() ? "tokens" : join(path, "tokens"), "missing: give \"tokens\" (a list of strings) or \"text\"");
    if (tokens) {
        const std::string tp = join(path, "tokens");
        if (!tokens->is_array()) fail(tp, "expected a list of strings, got " + type_name(*tokens));
        if (tokens->size() > static_cast<std::size_t>(Limits::kMaxTokens))
            fail(tp, "expected at most " + std::to_string(Limits::kMaxTokens) + " tokens, got " + std::to_string(tokens->size()));
        std::vector<std::string> words;
        words.reserve(tokens->size());
        for (std::size_t i = 0; i < tokens->size(); ++i)
            words.push_back(get_string((*tokens)[i], tp + "[" + std::to_string(i) + "]"));
        seq.tokens = tokens_from_strings(words);
        seq.from_text = false;
    } else {
        seq.text = get_string(*text, join(path, "text"));
        seq.tokens = tokenize(seq.text, static_cast<std::size_t>(Limits::kMaxTokens));  // stops at the limit + 1
        seq.from_text = true;
        if (seq.tokens.size() > static_cast<std::size_t>(Limits::kMaxTokens))
            fail(join(path, "text"), "expected at most " + std::to_string(Limits::kMaxTokens) + " tokens, got more");
    }
}

Mask read_mask(const Json& j, int n, int m) {
    if (j.is_string()) {
        const std::string name = j.get<std::string>();
        if (name == "none") return Mask::none();
        if (name == "causal") return Mask::causal();
        auto t = mask_type_from_name(name);
        if (t) fail("mask", "\"" + printable(name) + "\" needs parameters: use {\"type\": \"" + name + "\", …}");
        fail("mask", "expected \"none\", \"causal\" or an object with \"type\", got \"" + printable(name) + "\"");
    }
    if (!j.is_object()) fail("mask", "expected a string or an object, got " + type_name(j));
    const Json* type = find(j, "type");
    if (!type) fail("mask.type", "missing (sliding_window, strided, fixed, matrix, causal or none)");
    const std::string name = get_string(*type, "mask.type");
    auto t = mask_type_from_name(name);
    if (!t) fail("mask.type", "expected none, causal, sliding_window, strided, fixed or matrix, got \"" + printable(name) + "\"");
    auto param = [&](const char* key) {
        check_keys(j, "mask", {"type", key});
        const Json* p = find(j, key);
        if (!p) fail(std::string("mask.") + key, "missing");
        return get_size(*p, std::string("mask.") + key, 1, Limits::kMaxTokens);
    };
    switch (*t) {
        case MaskType::None: check_keys(j, "mask", {"type"}); return Mask::none();
        case MaskType::Causal: check_keys(j, "mask", {"type"}); return Mask::causal();
        case MaskType::SlidingWindow: return Mask::sliding_window(param("width"));
        case MaskType::Strided: return Mask::strided(param("stride"));
        case MaskType::Fixed: return Mask::fixed(param("block"));
        case MaskType::Matrix: {
            check_keys(j, "mask", {"type", "allowed"});
            const Json* a = find(j, "allowed");
            if (!a) fail("mask.allowed", "missing");
            const std::string dims = std::to_string(n) + " rows of " + std::to_string(m) + " booleans";
            if (a->is_object()) {  // the compact form, dtype uint8 (0 or 1 a cell)
                std::vector<std::uint8_t> allowed(static_cast<std::size_t>(n) * static_cast<std::size_t>(m));
                read_compact(*a, "mask.allowed", "uint8", n, m, allowed.data(), 1);
                for (std::size_t k = 0; k < allowed.size(); ++k)
                    if (allowed[k] > 1)
                        fail("mask.allowed[" + std::to_string(k / static_cast<std::size_t>(std::max(m, 1))) + "][" +
                                 std::to_string(k % static_cast<std::size_t>(std::max(m, 1))) + "]",
                             "expected 0 or 1, got " + std::to_string(allowed[k]));
                return Mask::matrix(n, m, std::move(allowed));
            }
            if (!a->is_array()) fail("mask.allowed", "expected " + dims + ", got " + type_name(*a));
            if (static_cast<long long>(a->size()) != n)
                fail("mask.allowed", "expected " + dims + ", got " + std::to_string(a->size()) + " rows");
            std::vector<std::uint8_t> allowed(static_cast<std::size_t>(n) * static_cast<std::size_t>(m));
            for (int i = 0; i < n; ++i) {
                const Json& row = (*a)[static_cast<std::size_t>(i)];
                const std::string rp = "mask.allowed[" + std::to_string(i) + "]";
                if (!row.is_array() || static_cast<long long>(row.size()) != m)
                    fail(rp, "expected " + std::to_string(m) + " booleans, got " + type_name(row));
                for (int jj = 0; jj < m; ++jj) {
                    const Json& v = row[static_cast<std::size_t>(jj)];
                    const std::string vp = rp + "[" + std::to_string(jj) + "]";
                    if (v.is_boolean()) allowed[static_cast<std::size_t>(i) * m + jj] = v.get<bool>();
                    else if (v.is_number_integer() && (v.get<long long>() == 0 || v.get<long long>() == 1))
                        allowed[static_cast<std::size_t>(i) * m + jj] = static_cast<std::uint8_t>(v.get<long long>());
                    else fail(vp, "expected true or false, got " + type_name(v));
                }
            }
            return Mask::matrix(n, m, std::move(allowed));
        }
    }
    return Mask::none();
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Writing helpers
// ---------------------------------------------------------------------------------------------
Json float_json(float v) {
    // The shortest decimal for the float, as a double that prints the same digits.
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    return Json(std::strtod(std::string(buf, res.ptr).c_str(), nullptr));
}

// Writers never emit a non-finite number (nlohmann would write NaN and ±∞ as null): the error
// names the matrix and the cell.
std::string non_finite_name(float v) { return std::isnan(v) ? "NaN" : v > 0 ? "+infinity" : "-infinity"; }

void check_finite(const Mat& m, const std::string& name, bool minus_inf_ok = false) {
    if (m.allFinite()) return;
    for (Eigen::Index r = 0; r < m.rows(); ++r)
        for (Eigen::Index c = 0; c < m.cols(); ++c) {
            const float v = m(r, c);
            if (std::isfinite(v) || (minus_inf_ok && v == -std::numeric_limits<float>::infinity())) continue;
            fail(name + "[" + std::to_string(r) + "][" + std::to_string(c) + "]",
                 "is " + non_finite_name(v) + ": refusing to write a number that is not finite");
        }
}

// Scene files write matrices of more than this many values in the compact form (small lecture
// scenes stay readable as rows of numbers).
constexpr Eigen::Index kCompactAbove = 4096;

Json compact_json(const char* dtype, int rows, int cols, const unsigned char* data, std::size_t bytes) {
    Json j = Json::object();
    j["dtype"] = dtype;
    j["shape"] = Json::array({rows, cols});
    j["base64"] = base64_encode(data, bytes);
    return j;
}

// `compact`: scene files (above kCompactAbove values); exports are always rows of numbers.
Json matrix_json(const Mat& m, const std::string& name, bool compact = false) {
    check_finite(m, name);
    if (compact && m.size() > kCompactAbove)
        return compact_json("float32", static_cast<int>(m.rows()), static_cast<int>(m.cols()),
                            reinterpret_cast<const unsigned char*>(m.data()), static_cast<std::size_t>(m.size()) * sizeof(float));
    Json rows = Json::array();
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
        Json row = Json::array();
        for (Eigen::Index c = 0; c < m.cols(); ++c) row.push_back(float_json(m(r, c)));
        rows.push_back(std::move(row));
    }
    return rows;
}

Json mask_json(const Mask& mask, bool compact = false) {
    switch (mask.type) {
        case MaskType::None: return "none";
        case MaskType::Causal: return "causal";
        case MaskType::SlidingWindow: return Json{{"type", "sliding_window"}, {"width", mask.size}};
        case MaskType::Strided: return Json{{"type", "strided"}, {"stride", mask.size}};
        case MaskType::Fixed: return Json{{"type", "fixed"}, {"block", mask.size}};
        case MaskType::Matrix: {
            if (compact && static_cast<Eigen::Index>(mask.allowed.size()) > kCompactAbove)
                return Json{{"type", "matrix"},
                            {"allowed", compact_json("uint8", mask.rows, mask.cols, mask.allowed.data(), mask.allowed.size())}};
            Json rows = Json::array();
            for (int i = 0; i < mask.rows; ++i) {
                Json row = Json::array();
                for (int j = 0; j < mask.cols; ++j) row.push_back(mask.allowed[static_cast<std::size_t>(i) * mask.cols + j] != 0);
                rows.push_back(std::move(row));
            }
            return Json{{"type", "matrix"}, {"allowed", std::move(rows)}};
        }
    }
    return "none";
}

void write_sequence(Json& obj, const Sequence& seq, const std::string& path) {
    if (seq.from_text) obj["text"] = seq.text;
    else obj["tokens"] = token_texts(seq.tokens);
    if (seq.embeddings_given) obj["embeddings"] = matrix_json(seq.embeddings, path + "embeddings", true);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] Scene ⇄ JSON
// ---------------------------------------------------------------------------------------------
// Before the DOM is built: bounds the nesting depth (copying or printing a DOM recurses once per
// level, so 100,000 '[' would run out of stack) and the number of values (the DOM takes about
// 16 bytes per value, so a file of "0,0,0,…" could take 8× its size). One pass over the bytes.
void prescan_json(const std::string& text, int max_depth, std::size_t max_values) {
    int depth = 0;
    std::size_t values = 1;
    bool in_string = false, escaped = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        switch (c) {
            case '\0':  // the JSON parser would stop here and ignore whatever follows
                fail("", "not valid JSON: a NUL byte at offset " + std::to_string(i));
            case '"': in_string = true; break;
            case '[':
            case '{':
                if (++depth > max_depth)
                    fail("", "not valid JSON: nested more than " + std::to_string(max_depth) + " levels deep (at byte " +
                                 std::to_string(i) + ")");
                break;
            case ']':
            case '}': --depth; break;
            case ',': ++values; break;
            default: break;
        }
    }
    if (values > max_values)
        fail("", "the file holds more than " + std::to_string(max_values) + " values (arrays too long)");
}

namespace {

// The parser's callback: refuses a key given twice in one object (naming its JSON path) and a
// `view` object of more than kMaxViewValues values, while the document is being built.
class ParseChecks {
public:
    bool operator()(int /*depth*/, nlohmann::json::parse_event_t event, Json& parsed) {
        using E = nlohmann::json::parse_event_t;
        switch (event) {
            case E::object_start:
            case E::array_start:
                element();
                frames_.push_back(Frame{event == E::object_start, {}, {}, -1});
                break;
            case E::key: {
                Frame& f = frames_.back();
                const std::string& key = parsed.get_ref<const std::string&>();
                if (!f.keys.insert(key).second) fail(path_to(frames_.size() - 1, key), "given twice (duplicate key)");
                f.key = key;
                break;
            }
            case E::value: element(); break;
            case E::object_end:
            case E::array_end: frames_.pop_back(); break;
        }
        return true;
    }

private:
    struct Frame {
        bool object;
        std::set<std::string> keys;  // objects: the keys so far
        std::string key;             // objects: the current key
        long long index;             // arrays: the current element
    };
    void element() {
        if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
        if (frames_.size() >= 2 && frames_[0].object && frames_[0].key == "view" && ++view_values_ > kMaxViewValues)
            fail("view", "more than " + std::to_string(kMaxViewValues) + " values: the view object holds presets, at most " +
                             std::to_string(kMaxViewBytes >> 10) + " KiB of text");
    }
    // The path of frames [0, upto) with `key` appended.
    std::string path_to(std::size_t upto, const std::string& key) const {
        std::string p;
        for (std::size_t k = 0; k < upto; ++k) {
            const Frame& f = frames_[k];
            if (f.object) p = join(p, f.key);
            else p += "[" + std::to_string(f.index) + "]";
        }
        return join(p, key);
    }
    std::vector<Frame> frames_;
    std::size_t view_values_ = 0;
};

Scene scene_from_json_checked(const std::string& json_text);

}  // namespace

Scene scene_from_json(const std::string& json_text) {
    try {
        return scene_from_json_checked(json_text);
    } catch (const std::bad_alloc&) {
        throw SceneError("", "out of memory reading a scene of " + std::to_string(json_text.size() >> 20) +
                                 " MiB (nothing was changed)");
    }
}

namespace {
Scene scene_from_json_checked(const std::string& json_text) {
    prescan_json(json_text);
    Json doc;
    try {
        doc = Json::parse(json_text, ParseChecks());
    } catch (const nlohmann::json::exception& e) {
        std::string msg = e.what();
        // nlohmann's message starts "[json.exception.parse_error.101] parse error at line 1, column 2: …"
        auto pos = msg.find("] ");
        if (pos != std::string::npos) msg = msg.substr(pos + 2);
        throw SceneError("", "not valid JSON: " + printable(msg));
    }
    if (!doc.is_object()) fail("", "a scene file must be a JSON object, got " + type_name(doc));
    check_keys(doc, "", {"attnviz_scene", "title", "description", "tokens", "text", "d_model", "n_heads", "d_head", "mask",
                         "scale", "temperature", "positional", "seed", "embeddings", "heads", "W_O", "source", "view", "model"});
    const Json* version = find(doc, "attnviz_scene");
    if (!version) fail("attnviz_scene", "missing: a scene file starts with \"attnviz_scene\": 1");
    if (get_int(*version, "attnviz_scene") != 1)
        fail("attnviz_scene", "this is version " + version->dump() + "; this attnviz reads version 1");

    Scene s;
    if (const Json* t = find(doc, "title")) s.title = get_string(*t, "title");
    if (const Json* t = find(doc, "description")) s.description = get_string(*t, "description");
    read_sequence_tokens(doc, "", s.input);

    const Json* dm = find(doc, "d_model");
    if (!dm) fail("d_model", "missing (the embedding size, e.g. 8)");
    s.d_model = get_size(*dm, "d_model", 1, Limits::kMaxDModel);
    const Json* nh = find(doc, "n_heads");
    if (!nh) fail("n_heads", "missing (the number of heads, e.g. 2)");
    s.n_heads = get_size(*nh, "n_heads", 1, Limits::kMaxHeads);
    if (const Json* dh = find(doc, "d_head")) {
        s.d_head = get_size(*dh, "d_head", 1, Limits::kMaxDHead);
    } else {
        s.d_head = s.d_model / s.n_heads;
        if (s.d_head < 1) fail("d_head", "d_model / n_heads is below 1: give d_head explicitly");
    }

    if (const Json* src = find(doc, "source")) {
        if (!src->is_object()) fail("source", "expected an object with \"tokens\" or \"text\", got " + type_name(*src));
        check_keys(*src, "source", {"tokens", "text", "embeddings"});
        s.source.emplace();
        read_sequence_tokens(*src, "source", *s.source);
    }
    // Every size is known now: refuse absurd ones before allocating any matrix.
    check_sizes(s.n(), s.m(), s.d_model, s.n_heads, s.d_head);

    if (const Json* sc = find(doc, "scale")) s.scale = get_bool(*sc, "scale");
    if (const Json* t = find(doc, "temperature")) {
        if (!t->is_number()) fail("temperature", "expected a number, got " + type_name(*t));
        const double d = t->get<double>();
        if (!(d >= static_cast<double>(Limits::kMinTemperature)))
            fail("temperature", "expected at least 1e-6 (the smallest temperature), got " + printable(t->dump()));
        s.temperature = get_float(*t, "temperature");
    }
    if (const Json* p = find(doc, "positional")) {
        const std::string name = get_string(*p, "positional");
        auto pos = positional_from_name(name);
        if (!pos) fail("positional", "expected \"none\", \"sinusoidal\" or \"learned\", got \"" + printable(name) + "\"");
        s.positional = *pos;
    }
    if (const Json* sd = find(doc, "seed")) {
        if (sd->is_number_unsigned()) s.seed = sd->get<std::uint64_t>();
        else {
            const long long v = get_int(*sd, "seed");
            if (v < 0) fail("seed", "expected a whole number ≥ 0, got " + std::to_string(v));
            s.seed = static_cast<std::uint64_t>(v);
        }
    }
    if (const Json* mk = find(doc, "mask")) s.mask = read_mask(*mk, s.n(), s.m());

    if (const Json* e = find(doc, "embeddings")) {
        s.input.embeddings = get_matrix(*e, "embeddings", s.n(), s.d_model);
        s.input.embeddings_given = true;
    }
    if (s.source) {
        if (const Json* e = find(doc["source"], "embeddings")) {
            s.source->embeddings = get_matrix(*e, "source.embeddings", s.m(), s.d_model);
            s.source->embeddings_given = true;
        }
    }
    s.heads.resize(static_cast<std::size_t>(s.n_heads));
    if (const Json* hs = find(doc, "heads")) {
        if (!hs->is_array()) fail("heads", "expected a list of " + std::to_string(s.n_heads) + " heads, got " + type_name(*hs));
        if (static_cast<long long>(hs->size()) != s.n_heads)
            fail("heads", "expected " + std::to_string(s.n_heads) + " heads (n_heads), got " + std::to_string(hs->size()));
        for (int h = 0; h < s.n_heads; ++h) {
            const Json& hj = (*hs)[static_cast<std::size_t>(h)];
            const std::string hp = "heads[" + std::to_string(h) + "]";
            if (hj.is_null()) continue;  // drawn from the seed
            if (!hj.is_object()) fail(hp, "expected an object with W_Q, W_K, W_V (or null), got " + type_name(hj));
            check_keys(hj, hp, {"W_Q", "W_K", "W_V"});
            for (int p = 0; p < 3; ++p) {
                const char* name = projection_name(static_cast<Projection>(p));
                if (const Json* w = find(hj, name)) {
                    s.heads[static_cast<std::size_t>(h)].W[static_cast<std::size_t>(p)] =
                        get_matrix(*w, hp + "." + name, s.d_model, s.d_head);
                    s.heads[static_cast<std::size_t>(h)].given[static_cast<std::size_t>(p)] = true;
                }
            }
        }
    }
    if (const Json* wo = find(doc, "W_O")) {
        s.W_O = get_matrix(*wo, "W_O", s.n_heads * s.d_head, s.d_model);
        s.W_O_given = true;
    }
    if (const Json* v = find(doc, "view")) {
        if (!v->is_object()) fail("view", "expected an object, got " + type_name(*v));
        s.view_json = v->dump(-1, ' ', false, Json::error_handler_t::replace);
        if (s.view_json.size() > kMaxViewBytes)
            fail("view", std::to_string(s.view_json.size()) + " bytes of text, more than the " +
                             std::to_string(kMaxViewBytes >> 10) + " KiB limit (the view object holds presets)");
    }
    if (const Json* m = find(doc, "model")) {
        s.model = get_string(*m, "model");
        if (s.model.empty()) fail("model", "empty: name the GPT-2 folder the scene opens (relative to the scene file)");
        if (s.model.find('\0') != std::string::npos) fail("model", "a folder name cannot hold a NUL character");
    }
    fill_drawn(s);
    validate(s);
    return s;
}

std::string scene_json_text(const Scene& s, const std::string& model);

}  // namespace

std::string scene_model_folder(const std::string& model, const std::string& scene_path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path dir = fs::path(model);
    if (dir.is_relative()) dir = fs::absolute(fs::path(scene_path), ec).parent_path() / dir;
    dir = dir.lexically_normal();
    const std::string shown = dir.string();
    if (!fs::is_directory(dir, ec))
        fail("model", "\"" + printable(model) + "\": no folder " + printable(shown) +
                          " (the GPT-2 folder this scene opens, relative to the scene file)");
    if (!fs::is_regular_file(dir / "config.json", ec))
        fail("model", "\"" + printable(model) + "\": " + printable(shown) + " has no config.json (not a GPT-2 folder)");
    return shown;
}

std::string scene_to_json(const Scene& s) { return scene_json_text(s, s.model); }

namespace {
std::string scene_json_text(const Scene& s, const std::string& model) {
    Json doc;
    doc["attnviz_scene"] = 1;
    if (!s.title.empty()) doc["title"] = s.title;
    if (!s.description.empty()) doc["description"] = s.description;
    write_sequence(doc, s.input, "");
    doc["d_model"] = s.d_model;
    doc["n_heads"] = s.n_heads;
    doc["d_head"] = s.d_head;
    doc["mask"] = mask_json(s.mask, true);
    doc["scale"] = s.scale;
    if (s.temperature != 1.0f) doc["temperature"] = float_json(s.temperature);
    doc["positional"] = positional_name(s.positional);
    doc["seed"] = s.seed;
    if (s.source) {
        Json src;
        write_sequence(src, *s.source, "source.");
        doc["source"] = std::move(src);
    }
    bool any_head = false;
    for (const auto& hw : s.heads) any_head = any_head || hw.given[0] || hw.given[1] || hw.given[2];
    if (any_head) {
        Json heads = Json::array();
        for (std::size_t h = 0; h < s.heads.size(); ++h) {
            const auto& hw = s.heads[h];
            if (!(hw.given[0] || hw.given[1] || hw.given[2])) { heads.push_back(nullptr); continue; }
            Json hj = Json::object();
            for (int p = 0; p < 3; ++p) {
                const char* name = projection_name(static_cast<Projection>(p));
                if (hw.given[static_cast<std::size_t>(p)])
                    hj[name] = matrix_json(hw.W[static_cast<std::size_t>(p)], "heads[" + std::to_string(h) + "]." + name, true);
            }
            heads.push_back(std::move(hj));
        }
        doc["heads"] = std::move(heads);
    }
    if (s.W_O_given) doc["W_O"] = matrix_json(s.W_O, "W_O", true);
    if (!s.view_json.empty()) doc["view"] = Json::parse(s.view_json);
    if (!model.empty()) doc["model"] = model;
    return doc.dump(1, ' ', false, Json::error_handler_t::replace) + "\n";  // never throws on bad UTF-8
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] Files
// ---------------------------------------------------------------------------------------------
// Both go through core/file_io (regular files only on read; temporary + rename on write, through
// symlinks, keeping permissions; devices and FIFOs written in place), with its errors as SceneError.
std::string read_file(const std::string& path, std::size_t max_bytes) {
    try {
        return read_regular_file(path, max_bytes);
    } catch (const FileError& e) {
        throw SceneError("", e.what());
    }
}

Scene load_scene(const std::string& path) {
    try {
        const std::string text = read_file(path, kMaxSceneFileBytes);
        Scene s = scene_from_json(text);
        if (!s.model.empty()) s.model_dir = scene_model_folder(s.model, path);
        return s;
    } catch (const std::bad_alloc&) {
        throw SceneError("", "out of memory reading " + path + " (nothing was changed)");
    }
}

void write_file_atomic(const std::string& path, const std::string& contents) {
    try {
        write_file(path, contents);
    } catch (const FileError& e) {
        throw SceneError("", e.what());
    }
}

void save_scene(const Scene& s, const std::string& path) {
    // a model folder found at load stays the same folder: "model" is written relative to the new file
    std::string model = s.model;
    if (!s.model_dir.empty() && std::filesystem::path(s.model).is_relative()) {
        std::error_code ec;
        const auto from = std::filesystem::absolute(std::filesystem::path(path), ec).parent_path().lexically_normal();
        const auto rel = std::filesystem::path(s.model_dir).lexically_relative(from);
        model = rel.empty() ? s.model_dir : rel.generic_string();
    }
    write_file_atomic(path, scene_json_text(s, model));
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Export
// ---------------------------------------------------------------------------------------------
std::string format_float(float v) {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

std::string export_json(const Scene& s, const Forward& f) {
    Json doc;
    doc["title"] = s.title;
    doc["tokens"] = token_texts(s.input.tokens);
    if (s.source) doc["source_tokens"] = token_texts(s.source->tokens);
    doc["d_model"] = s.d_model;
    doc["n_heads"] = s.n_heads;
    doc["d_head"] = s.d_head;
    doc["mask"] = mask_json(s.mask);
    doc["scale"] = s.scale;
    doc["temperature"] = float_json(s.temperature);
    doc["logit_factor"] = float_json(f.logit_factor);
    doc["positional"] = positional_name(s.positional);
    doc["embeddings"] = matrix_json(f.E, "embeddings");
    if (s.source) doc["source_embeddings"] = matrix_json(f.X, "source_embeddings");
    {
        Mat allowed(s.n(), s.m());  // (n, m) 1 = the query may see the key
        for (int i = 0; i < s.n(); ++i)
            for (int j = 0; j < s.m(); ++j) allowed(i, j) = s.mask.allows(i, j) ? 1.0f : 0.0f;
        doc["allowed"] = matrix_json(allowed, "allowed");
    }
    doc["W_O"] = matrix_json(s.W_O, "W_O");
    Json heads = Json::array();
    for (std::size_t k = 0; k < f.heads.size(); ++k) {
        const auto& h = f.heads[k];
        const std::string hp = "heads[" + std::to_string(k) + "].";
        Json hj;
        if (k < s.heads.size()) {
            const HeadWeights& hw = s.heads[k];
            for (int p = 0; p < 3; ++p)
                hj[projection_name(static_cast<Projection>(p))] = matrix_json(hw.W[static_cast<std::size_t>(p)], hp + projection_name(static_cast<Projection>(p)));
            if (s.W_O.rows() >= static_cast<Eigen::Index>(k + 1) * s.d_head)
                hj["W_O"] = matrix_json(s.W_O.middleRows(static_cast<Eigen::Index>(k) * s.d_head, s.d_head), hp + "W_O");  // (d_head, d_model)
        }
        hj["Q"] = matrix_json(h.Q, hp + "Q");
        hj["K"] = matrix_json(h.K, hp + "K");
        hj["V"] = matrix_json(h.V, hp + "V");
        hj["scores"] = matrix_json(h.scores, hp + "scores");
        hj["pattern"] = matrix_json(h.pattern, hp + "pattern");
        hj["delta"] = matrix_json(h.delta, hp + "delta");
        heads.push_back(std::move(hj));
    }
    doc["heads"] = std::move(heads);
    doc["delta"] = matrix_json(f.delta, "delta");
    doc["output"] = matrix_json(f.output, "output");
    doc["fully_masked_rows"] = f.fully_masked_rows;
    return doc.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

namespace {
std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos && !s.empty() && s.front() != ' ' && s.back() != ' ') return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}
}  // namespace

std::vector<std::string> indexed_labels(const std::vector<std::string>& texts) {
    std::vector<std::string> out;
    out.reserve(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) out.push_back(std::to_string(i) + ":" + texts[i]);
    return out;
}

std::string matrix_csv(const Mat& m, const std::vector<std::string>* row_labels, const std::vector<std::string>* col_labels,
                       const std::string& corner, const std::string& name) {
    check_finite(m, name, true);  // −∞: a masked logit of the masked stage, written "-inf"
    auto label = [](const std::vector<std::string>* labels, Eigen::Index k) {
        if (labels && k < static_cast<Eigen::Index>(labels->size())) return csv_field((*labels)[static_cast<std::size_t>(k)]);
        return std::to_string(k);
    };
    std::string out = csv_field(corner);
    for (Eigen::Index c = 0; c < m.cols(); ++c) out += ',' + label(col_labels, c);
    out += '\n';
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
        out += label(row_labels, r);
        for (Eigen::Index c = 0; c < m.cols(); ++c) {
            out += ',';
            out += format_float(m(r, c));
        }
        out += '\n';
    }
    return out;
}

std::string matrix_npy(const Mat& m, const std::string& name) {
    check_finite(m, name);
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(m.rows()) + ", " +
                         std::to_string(m.cols()) + "), }";
    // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
    const std::size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::string out("\x93NUMPY\x01\x00", 8);
    out += static_cast<char>(header.size() & 0xFF);
    out += static_cast<char>((header.size() >> 8) & 0xFF);
    out += header;
    const std::size_t bytes = static_cast<std::size_t>(m.size()) * sizeof(float);
    const std::size_t at = out.size();
    out.resize(at + bytes);
    if (bytes) std::memcpy(out.data() + at, m.data(), bytes);  // row-major == C order; x86/ARM are little-endian
    return out;
}

}  // namespace attnviz
