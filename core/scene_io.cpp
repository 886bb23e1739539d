#include "scene_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

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

std::string join(const std::string& parent, const std::string& key) { return parent.empty() ? key : parent + "." + key; }

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

// A matrix of exactly rows × cols numbers.
Mat get_matrix(const Json& j, const std::string& path, int rows, int cols) {
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
        if (t) fail("mask", "\"" + name + "\" needs parameters: use {\"type\": \"" + name + "\", …}");
        fail("mask", "expected \"none\", \"causal\" or an object with \"type\", got \"" + name + "\"");
    }
    if (!j.is_object()) fail("mask", "expected a string or an object, got " + type_name(j));
    const Json* type = find(j, "type");
    if (!type) fail("mask.type", "missing (sliding_window, strided, fixed, matrix, causal or none)");
    const std::string name = get_string(*type, "mask.type");
    auto t = mask_type_from_name(name);
    if (!t) fail("mask.type", "expected none, causal, sliding_window, strided, fixed or matrix, got \"" + name + "\"");
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

Json matrix_json(const Mat& m) {
    Json rows = Json::array();
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
        Json row = Json::array();
        for (Eigen::Index c = 0; c < m.cols(); ++c) row.push_back(float_json(m(r, c)));
        rows.push_back(std::move(row));
    }
    return rows;
}

Json mask_json(const Mask& mask) {
    switch (mask.type) {
        case MaskType::None: return "none";
        case MaskType::Causal: return "causal";
        case MaskType::SlidingWindow: return Json{{"type", "sliding_window"}, {"width", mask.size}};
        case MaskType::Strided: return Json{{"type", "strided"}, {"stride", mask.size}};
        case MaskType::Fixed: return Json{{"type", "fixed"}, {"block", mask.size}};
        case MaskType::Matrix: {
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

void write_sequence(Json& obj, const Sequence& seq) {
    if (seq.from_text) obj["text"] = seq.text;
    else obj["tokens"] = token_texts(seq.tokens);
    if (seq.embeddings_given) obj["embeddings"] = matrix_json(seq.embeddings);
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

Scene scene_from_json(const std::string& json_text) {
    prescan_json(json_text);
    Json doc;
    try {
        doc = Json::parse(json_text);
    } catch (const nlohmann::json::exception& e) {
        std::string msg = e.what();
        // nlohmann's message starts "[json.exception.parse_error.101] parse error at line 1, column 2: …"
        auto pos = msg.find("] ");
        if (pos != std::string::npos) msg = msg.substr(pos + 2);
        throw SceneError("", "not valid JSON: " + msg);
    }
    if (!doc.is_object()) fail("", "a scene file must be a JSON object, got " + type_name(doc));
    check_keys(doc, "", {"attnviz_scene", "title", "description", "tokens", "text", "d_model", "n_heads", "d_head", "mask",
                         "scale", "temperature", "positional", "seed", "embeddings", "heads", "W_O", "source", "view"});
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
        s.temperature = get_float(*t, "temperature");
        if (!(s.temperature > 0.0f)) fail("temperature", "expected a positive number, got " + t->dump());
    }
    if (const Json* p = find(doc, "positional")) {
        const std::string name = get_string(*p, "positional");
        auto pos = positional_from_name(name);
        if (!pos) fail("positional", "expected \"none\", \"sinusoidal\" or \"learned\", got \"" + name + "\"");
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
        s.view_json = v->dump();
    }
    fill_drawn(s);
    validate(s);
    return s;
}

std::string scene_to_json(const Scene& s) {
    Json doc;
    doc["attnviz_scene"] = 1;
    if (!s.title.empty()) doc["title"] = s.title;
    if (!s.description.empty()) doc["description"] = s.description;
    write_sequence(doc, s.input);
    doc["d_model"] = s.d_model;
    doc["n_heads"] = s.n_heads;
    doc["d_head"] = s.d_head;
    doc["mask"] = mask_json(s.mask);
    doc["scale"] = s.scale;
    if (s.temperature != 1.0f) doc["temperature"] = float_json(s.temperature);
    doc["positional"] = positional_name(s.positional);
    doc["seed"] = s.seed;
    if (s.source) {
        Json src;
        write_sequence(src, *s.source);
        doc["source"] = std::move(src);
    }
    bool any_head = false;
    for (const auto& hw : s.heads) any_head = any_head || hw.given[0] || hw.given[1] || hw.given[2];
    if (any_head) {
        Json heads = Json::array();
        for (const auto& hw : s.heads) {
            if (!(hw.given[0] || hw.given[1] || hw.given[2])) { heads.push_back(nullptr); continue; }
            Json hj = Json::object();
            for (int p = 0; p < 3; ++p)
                if (hw.given[static_cast<std::size_t>(p)])
                    hj[projection_name(static_cast<Projection>(p))] = matrix_json(hw.W[static_cast<std::size_t>(p)]);
            heads.push_back(std::move(hj));
        }
        doc["heads"] = std::move(heads);
    }
    if (s.W_O_given) doc["W_O"] = matrix_json(s.W_O);
    if (!s.view_json.empty()) doc["view"] = Json::parse(s.view_json);
    return doc.dump(1, ' ', false, Json::error_handler_t::replace) + "\n";  // never throws on bad UTF-8
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Files
// ---------------------------------------------------------------------------------------------
std::string read_file(const std::string& path, std::size_t max_bytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw SceneError("", "cannot open " + path + ": " + std::strerror(errno));
    in.seekg(0, std::ios::end);
    const auto size = in.tellg();
    if (size < 0) throw SceneError("", "cannot read " + path);
    if (static_cast<std::size_t>(size) > max_bytes)
        throw SceneError("", path + " is " + std::to_string(static_cast<std::size_t>(size) >> 20) + " MiB, more than the " +
                                 std::to_string(max_bytes >> 20) + " MiB limit");
    in.seekg(0);
    std::string data(static_cast<std::size_t>(size), '\0');
    in.read(data.data(), size);
    if (!in) throw SceneError("", "cannot read " + path);
    return data;
}

Scene load_scene(const std::string& path) {
    const std::string text = read_file(path, kMaxSceneFileBytes);
    return scene_from_json(text);
}

void write_file_atomic(const std::string& path, const std::string& contents) {
    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw SceneError("", "cannot write " + tmp + ": " + std::strerror(errno));
    std::size_t done = 0;
    while (done < contents.size()) {
        const ssize_t w = ::write(fd, contents.data() + done, contents.size() - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw SceneError("", "cannot write " + tmp + ": " + std::strerror(err));
        }
        done += static_cast<std::size_t>(w);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw SceneError("", "cannot flush " + tmp + ": " + std::strerror(err));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw SceneError("", "cannot rename " + tmp + " to " + path + ": " + std::strerror(err));
    }
    // Make the rename itself durable.
    std::string dir = path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
    if (dir.empty()) dir = ".";
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

void save_scene(const Scene& s, const std::string& path) { write_file_atomic(path, scene_to_json(s)); }

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
    doc["embeddings"] = matrix_json(f.E);
    if (s.source) doc["source_embeddings"] = matrix_json(f.X);
    Json heads = Json::array();
    for (const auto& h : f.heads) {
        Json hj;
        hj["Q"] = matrix_json(h.Q);
        hj["K"] = matrix_json(h.K);
        hj["V"] = matrix_json(h.V);
        hj["scores"] = matrix_json(h.scores);
        hj["pattern"] = matrix_json(h.pattern);
        hj["delta"] = matrix_json(h.delta);
        heads.push_back(std::move(hj));
    }
    doc["heads"] = std::move(heads);
    doc["delta"] = matrix_json(f.delta);
    doc["output"] = matrix_json(f.output);
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

std::string matrix_csv(const Mat& m, const std::vector<std::string>* row_labels, const std::vector<std::string>* col_labels) {
    std::string out;
    if (col_labels) {
        out += row_labels ? "query\\key" : "";
        for (Eigen::Index c = 0; c < m.cols(); ++c) {
            if (c > 0 || row_labels) out += ',';
            out += csv_field(c < static_cast<Eigen::Index>(col_labels->size()) ? (*col_labels)[static_cast<std::size_t>(c)] : "");
        }
        out += '\n';
    }
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
        if (row_labels) out += csv_field(r < static_cast<Eigen::Index>(row_labels->size()) ? (*row_labels)[static_cast<std::size_t>(r)] : "");
        for (Eigen::Index c = 0; c < m.cols(); ++c) {
            if (c > 0 || row_labels) out += ',';
            out += format_float(m(r, c));
        }
        out += '\n';
    }
    return out;
}

std::string matrix_npy(const Mat& m) {
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
