// Scene files: round trips, and every kind of malformed file gets an error naming the field.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine.hpp"
#include "helpers.hpp"
#include "scene_io.hpp"

using namespace attnviz;

namespace {
const char* kSmall = R"({
  "attnviz_scene": 1, "title": "small",
  "tokens": ["a", "fluffy", "blue", "creature"],
  "d_model": 4, "n_heads": 2, "d_head": 2,
  "mask": "causal", "scale": true, "positional": "none", "seed": 7
})";

std::string error_of(const std::string& json) {
    try {
        scene_from_json(json);
    } catch (const SceneError& e) {
        return e.what();
    }
    return "(no error)";
}

void check_same(const Scene& a, const Scene& b) {
    CHECK(a.title == b.title);
    CHECK(a.description == b.description);
    CHECK(token_texts(a.input.tokens) == token_texts(b.input.tokens));
    CHECK(a.input.text == b.input.text);
    CHECK(a.d_model == b.d_model);
    CHECK(a.n_heads == b.n_heads);
    CHECK(a.d_head == b.d_head);
    CHECK(a.mask == b.mask);
    CHECK(a.scale == b.scale);
    CHECK(a.temperature == b.temperature);
    CHECK(a.positional == b.positional);
    CHECK(a.seed == b.seed);
    CHECK_MAT(a.input.embeddings, b.input.embeddings, 0.0f);
    for (int h = 0; h < a.n_heads; ++h)
        for (int p = 0; p < 3; ++p) CHECK_MAT(a.heads[h].W[p], b.heads[h].W[p], 0.0f);
    CHECK_MAT(a.W_O, b.W_O, 0.0f);
    CHECK(a.cross() == b.cross());
    if (a.cross() && b.cross()) {
        CHECK(token_texts(a.source->tokens) == token_texts(b.source->tokens));
        CHECK_MAT(a.source->embeddings, b.source->embeddings, 0.0f);
    }
}
}  // namespace

TEST_CASE("a small scene loads with the sizes and options it names") {
    const Scene s = scene_from_json(kSmall);
    CHECK(s.title == "small");
    CHECK(s.n() == 4);
    CHECK(s.d_model == 4);
    CHECK(s.n_heads == 2);
    CHECK(s.d_head == 2);
    CHECK(s.mask.type == MaskType::Causal);
    CHECK(s.W_O.rows() == 4);
    CHECK(s.heads[1].W[kKey].rows() == 4);
    CHECK(s.heads[1].W[kKey].cols() == 2);
}

TEST_CASE("d_head defaults to d_model / n_heads (and may be set freely)") {
    Scene s = scene_from_json(R"({"attnviz_scene":1,"tokens":["x"],"d_model":12,"n_heads":3})");
    CHECK(s.d_head == 4);
    s = scene_from_json(R"({"attnviz_scene":1,"tokens":["x"],"d_model":96,"n_heads":3,"d_head":8})");
    CHECK(s.d_head == 8);
}

TEST_CASE("\"text\" is tokenized") {
    const Scene s = scene_from_json(R"({"attnviz_scene":1,"text":"Hello, world!","d_model":4,"n_heads":1})");
    CHECK(token_texts(s.input.tokens) == std::vector<std::string>{"Hello", ",", "world", "!"});
}

TEST_CASE("round trip is lossless: drawn weights, edited weights, every mask, cross-attention") {
    Scene s = scene_from_json(kSmall);
    check_same(s, scene_from_json(scene_to_json(s)));

    set_weight(s, 1, kValue, 2, 1, 0.1f);
    set_weight(s, 0, kQuery, 0, 0, -1.0f / 3.0f);
    set_output_weight(s, 3, 3, 1e-7f);
    set_embedding(s, 2, 1, 123456.789f);
    set_temperature(s, 0.7f);
    set_positional(s, Positional::Sinusoidal);
    s.description = "line one\nline \"two\" — ünïcode";
    check_same(s, scene_from_json(scene_to_json(s)));

    for (const Mask& m : {Mask::none(), Mask::sliding_window(2), Mask::strided(3), Mask::fixed(2),
                          Mask::matrix(4, 4, {1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 1})}) {
        set_mask(s, m);
        check_same(s, scene_from_json(scene_to_json(s)));
    }
    set_mask(s, Mask::none());
    set_source_text(s, "le chat noir");
    check_same(s, scene_from_json(scene_to_json(s)));
    s.source->embeddings(1, 2) = 0.25f;
    s.source->embeddings_given = true;
    const Scene back = scene_from_json(scene_to_json(s));
    check_same(s, back);
    CHECK(back.source->embeddings(1, 2) == 0.25f);
}

TEST_CASE("save is atomic and load reads it back") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("attnviz_io_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string path = (dir / "scene.json").string();
    Scene s = scene_from_json(kSmall);
    set_weight(s, 0, kKey, 1, 1, 0.5f);
    save_scene(s, path);
    check_same(s, load_scene(path));
    std::size_t files = 0;
    for (auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
    CHECK(files == 1);  // no temporary left behind
    fs::remove_all(dir);
}

TEST_CASE("malformed files: the error names the JSON path and what was expected") {
    struct Case {
        const char* json;
        const char* expected;
    };
    const Case cases[] = {
        {R"({"attnviz_scene":1,"tokens":["a","b"],"d_model":8,"n_heads":2,"d_head":4,
            "heads":[null,{"W_K":[[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4]]}]})",
         "heads[1].W_K: expected 8 rows of 4 numbers, got 7 rows"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":2,"n_heads":1,"embeddings":[[1,2,3]]})",
         "embeddings[0]: expected 2 numbers, got 3"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":2,"n_heads":1,"embeddings":[[1,"x"]]})",
         "embeddings[0][1]: expected a number, got a string"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":2,"n_heads":1,"embeddings":[[1,1e999]]})",
         "not valid JSON"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":2,"n_heads":1,"W_O":[[1,2],[3,4]]})",
         "W_O: expected 2 rows of 2 numbers, got 2 rows"},  // d_head=2 → W_O is 2×2: accepted below
        {R"({"attnviz_scene":1,"tokens":"a b","d_model":2,"n_heads":1})", "tokens: expected a list of strings, got a string"},
        {R"({"attnviz_scene":1,"tokens":["a",3],"d_model":2,"n_heads":1})", "tokens[1]: expected a string, got a number"},
        {R"({"attnviz_scene":1,"tokens":["a"],"n_heads":1})", "d_model: missing"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":"8","n_heads":1})", "d_model: expected a whole number, got a string"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":8.5,"n_heads":1})", "d_model: expected a whole number, got a number"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":0,"n_heads":1})", "d_model: expected 1..16384, got 0"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":8,"n_heads":-2})", "n_heads: expected 1..256, got -2"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":2,"n_heads":4})", "d_head: d_model / n_heads is below 1"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":2,"n_heads":1,"mask":"diagonal"})", "mask: expected \"none\", \"causal\""},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":2,"n_heads":1,"mask":{"type":"strided"}})", "mask.stride: missing"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":2,"n_heads":1,"mask":{"type":"sliding_window","width":0}})",
         "mask.width: expected 1..32768, got 0"},
        {R"({"attnviz_scene":1,"tokens":["a","b"],"d_model":2,"n_heads":1,"mask":{"type":"matrix","allowed":[[true,false]]}})",
         "mask.allowed: expected 2 rows of 2 booleans, got 1 rows"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":2,"n_heads":1,"positional":"rotary"})", "positional: expected \"none\""},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":2,"n_heads":1,"scale":"yes"})", "scale: expected true or false"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":2,"n_heads":1,"temperature":0})", "temperature: expected at least 1e-6"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":2,"n_heads":1,"heads":[]})", "heads: expected 1 heads (n_heads), got 0"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":2,"n_heads":1,"heads":[{"W_X":[]}]})", "heads[0].W_X: unknown field"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":2,"n_heads":1,"colour":"red"})", "colour: unknown field"},
        {R"({"attnviz_scene":2,"tokens":["a"],"d_model":2,"n_heads":1})", "attnviz_scene: this is version 2"},
        {R"({"tokens":["a"],"d_model":2,"n_heads":1})", "attnviz_scene: missing"},
        {R"({"attnviz_scene":1,"d_model":2,"n_heads":1})", "tokens: missing"},
        {R"({"attnviz_scene":1,"tokens":["a"],"text":"a","d_model":2,"n_heads":1})", "tokens: give either"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":2,"n_heads":1,"source":{"tokens":["x"],"embeddings":[[1]]}})",
         "source.embeddings[0]: expected 2 numbers, got 1"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":2,"n_heads":1,"seed":-1})", "seed: expected a whole number ≥ 0"},
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":16384,"n_heads":256,"d_head":16384})", "the weights would need"},
        {R"({"attnviz_scene":1,"tokens":["a","b")", "not valid JSON"},
        {"\x01\x02garbage\xff", "not valid JSON"},
        {"", "not valid JSON"},
        {"[1,2,3]", "a scene file must be a JSON object, got an array of 3"},
    };
    for (const auto& c : cases) {
        const std::string err = error_of(c.json);
        if (std::string(c.expected).rfind("W_O: expected 2 rows", 0) == 0) {
            CHECK(err == "(no error)");  // the 2×2 W_O is the right shape
            continue;
        }
        CHECK_MESSAGE(err.find(c.expected) != std::string::npos, "for " << c.json << "\n  got: " << err);
    }
}

TEST_CASE("a 10^9-token scene is refused by its sizes before anything is allocated") {
    // 40,000 tokens (over the limit) as text: refused by count.
    std::string many = R"({"attnviz_scene":1,"d_model":2,"n_heads":1,"tokens":[)";
    for (int i = 0; i < 40000; ++i) many += (i ? ",\"w\"" : "\"w\"");
    many += "]}";
    CHECK(error_of(many).find("tokens: expected at most 32768 tokens, got 40000") != std::string::npos);
    // 32,768 tokens and 256 heads: a valid scene (explored tile by tile), but a full forward pass
    // would need 2 TiB for the patterns (256 · 32768² · 2 · 4 B): forward() refuses it first.
    std::string big = R"({"attnviz_scene":1,"d_model":256,"n_heads":256,"d_head":1,"text":")";
    for (int i = 0; i < 32768; ++i) big += "w ";
    big += "\"}";
    CHECK(error_of(big) == "(no error)");
    const Scene s = scene_from_json(big);
    CHECK_THROWS_WITH_AS(forward(s), doctest::Contains("for the patterns, more than the"), SceneError);
}

TEST_CASE("export JSON holds every intermediate; CSV and NumPy writers") {
    const Scene s = scene_from_json(kSmall);
    const Forward f = forward(s);
    const std::string js = export_json(s, f);
    for (const char* key : {"\"tokens\"", "\"embeddings\"", "\"heads\"", "\"Q\"", "\"K\"", "\"V\"", "\"scores\"", "\"pattern\"",
                            "\"delta\"", "\"output\""})
        CHECK_MESSAGE(js.find(key) != std::string::npos, key);

    const std::vector<std::string> labels = {"a", "b,c"};
    const std::string csv = matrix_csv(test::mat({{0.5f, 0.25f}, {1, 0}}), &labels, &labels, "query\\key");
    CHECK(csv == "query\\key,a,\"b,c\"\na,0.5,0.25\n\"b,c\",1,0\n");
    // no labels: a header row and a first column all the same, of indices
    CHECK(matrix_csv(test::mat({{1, 2, 3}})) == "row\\column,0,1,2\n0,1,2,3\n");
    const std::vector<std::string> rows = indexed_labels({"the", "the", "cat"});
    CHECK(rows == std::vector<std::string>{"0:the", "1:the", "2:cat"});
    CHECK(matrix_csv(test::mat({{1, 2}, {3, 4}, {5, 6}}), &rows, nullptr, "token\\dim") == "token\\dim,0,1\n0:the,1,2\n1:the,3,4\n2:cat,5,6\n");

    const std::string npy = matrix_npy(test::mat({{1, 2, 3}, {4, 5, 6}}));
    CHECK(npy.substr(0, 6) == "\x93NUMPY");
    const std::size_t header_len = static_cast<unsigned char>(npy[8]) | (static_cast<unsigned char>(npy[9]) << 8);
    CHECK((10 + header_len) % 64 == 0);
    CHECK(npy.find("'shape': (2, 3)") != std::string::npos);
    CHECK(npy.size() == 10 + header_len + 6 * 4);
    float last = 0;
    std::memcpy(&last, npy.data() + npy.size() - 4, 4);
    CHECK(last == 6.0f);
}

TEST_CASE("every shipped scene loads") {
    namespace fs = std::filesystem;
    int count = 0;
    for (const auto& e : fs::directory_iterator(ATTNVIZ_SCENES)) {
        if (e.path().extension() != ".json") continue;
        ++count;
        CHECK_NOTHROW(load_scene(e.path().string()));
    }
    CHECK(count >= 1);
}

// The exported JSON alone is enough to recompute the layer: E (and the source's X), each head's
// W_Q, W_K, W_V and its rows of W_O, the logit factor and the mask cell by cell. Recomputed here
// with plain double loops and compared with the exported output.
namespace {
using Rows = std::vector<std::vector<double>>;
Rows rows_of(const nlohmann::json& j) {
    Rows r;
    for (const auto& row : j) {
        r.emplace_back();
        for (const auto& v : row) r.back().push_back(v.get<double>());
    }
    return r;
}
Rows matmul(const Rows& a, const Rows& b) {
    Rows c(a.size(), std::vector<double>(b.empty() ? 0 : b[0].size(), 0.0));
    for (std::size_t i = 0; i < a.size(); ++i)
        for (std::size_t k = 0; k < b.size(); ++k)
            for (std::size_t j = 0; j < b[0].size(); ++j) c[i][j] += a[i][k] * b[k][j];
    return c;
}
void check_recompute(const Scene& s) {
    const Forward f = forward(s);
    const auto doc = nlohmann::json::parse(export_json(s, f));
    const Rows E = rows_of(doc["embeddings"]);
    const Rows X = doc.contains("source_embeddings") ? rows_of(doc["source_embeddings"]) : E;
    const Rows allowed = rows_of(doc["allowed"]);
    const double factor = doc["logit_factor"].get<double>();
    const std::size_t n = E.size(), m = X.size(), d = E[0].size();
    REQUIRE(allowed.size() == n);
    REQUIRE(allowed[0].size() == m);
    Rows out = E;
    REQUIRE(doc["heads"].size() == static_cast<std::size_t>(s.n_heads));
    for (const auto& h : doc["heads"]) {
        const Rows Q = matmul(E, rows_of(h["W_Q"])), K = matmul(X, rows_of(h["W_K"])), V = matmul(X, rows_of(h["W_V"]));
        const Rows WO = rows_of(h["W_O"]);  // (d_head, d_model)
        REQUIRE(WO.size() == Q[0].size());
        for (std::size_t i = 0; i < n; ++i) {
            std::vector<double> logit(m, 0.0), p(m, 0.0);
            double mx = -INFINITY, sum = 0;
            for (std::size_t j = 0; j < m; ++j) {
                for (std::size_t c = 0; c < Q[0].size(); ++c) logit[j] += Q[i][c] * K[j][c];
                logit[j] *= factor;
                if (allowed[i][j] != 0) mx = std::max(mx, logit[j]);
            }
            for (std::size_t j = 0; j < m; ++j)
                if (allowed[i][j] != 0) sum += (p[j] = std::exp(logit[j] - mx));
            std::vector<double> z(Q[0].size(), 0.0);  // Σ_j p_j V_j
            for (std::size_t j = 0; j < m; ++j)
                for (std::size_t c = 0; c < z.size(); ++c) z[c] += (sum > 0 ? p[j] / sum : 0.0) * V[j][c];
            for (std::size_t c = 0; c < z.size(); ++c)
                for (std::size_t k = 0; k < d; ++k) out[i][k] += z[c] * WO[c][k];
        }
    }
    const Rows exported = rows_of(doc["output"]);
    double worst = 0;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t k = 0; k < d; ++k) worst = std::max(worst, std::fabs(out[i][k] - exported[i][k]));
    INFO("largest difference " << worst);
    CHECK(worst < 1e-4);
    // and W_O as a whole is there too: its rows per head are the heads' W_O
    CHECK(rows_of(doc["W_O"]).size() == static_cast<std::size_t>(s.n_heads * s.d_head));
}
}  // namespace

TEST_CASE("export JSON: one file holds everything needed to recompute the output (drawn weights included)") {
    Scene s = make_scene({"the", "cat", "sat", "on", "the", "mat"}, 8, 2, 4, 11);
    s.mask = Mask::causal();
    s.positional = Positional::Sinusoidal;
    s.temperature = 0.7f;
    fill_drawn(s);
    check_recompute(s);
    s.mask = Mask::sliding_window(2);
    check_recompute(s);
    // cross-attention: keys and values from a source of another length
    Scene c = make_scene({"a", "b", "c"}, 6, 3, 2, 5);
    c.source = Sequence{};
    c.source->tokens = tokens_from_strings({"x", "y", "z", "w", "v"});
    fill_drawn(c);
    check_recompute(c);
}

TEST_CASE("scene files: \"model\" names a GPT-2 folder relative to the scene file; a missing one is named") {
    test::TempDir dir("scene_model");
    namespace fs = std::filesystem;
    const std::string with_model =
        std::string(kSmall).substr(0, std::string(kSmall).rfind('}')) + R"(, "model": "../models/tiny")" + "\n}";
    fs::create_directories(dir.path / "scenes");
    const std::string scene_path = dir.file("scenes/trained.json");
    { std::ofstream(scene_path) << with_model; }

    // parsed from text: the field as written, not resolved
    const Scene parsed = scene_from_json(with_model);
    CHECK(parsed.model == "../models/tiny");
    CHECK(parsed.model_dir.empty());
    CHECK(scene_from_json(kSmall).model.empty());

    // the folder is missing: the error names the field, the text and the folder it looked for
    std::string err;
    try {
        load_scene(scene_path);
    } catch (const SceneError& e) {
        err = e.what();
        CHECK(e.path() == "model");
    }
    INFO(err);
    CHECK(err.find("model: \"../models/tiny\"") == 0);
    CHECK(err.find((dir.path / "models" / "tiny").string()) != std::string::npos);

    // a folder without config.json is not a GPT-2 folder
    fs::create_directories(dir.path / "models" / "tiny");
    err.clear();
    try {
        load_scene(scene_path);
    } catch (const SceneError& e) {
        err = e.what();
    }
    CHECK(err.find("has no config.json") != std::string::npos);

    // present: resolved against the scene file's folder (not the working directory)
    { std::ofstream(dir.file("models/tiny/config.json")) << "{}"; }
    const Scene s = load_scene(scene_path);
    CHECK(s.model == "../models/tiny");
    CHECK(s.model_dir == (dir.path / "models" / "tiny").lexically_normal().string());

    // written back as given; saved elsewhere, it is rewritten to name the same folder
    CHECK(scene_from_json(scene_to_json(s)).model == "../models/tiny");
    fs::create_directories(dir.path / "a" / "b");
    save_scene(s, dir.file("a/b/copy.json"));
    const Scene copy = load_scene(dir.file("a/b/copy.json"));
    CHECK(copy.model == "../../models/tiny");
    CHECK(copy.model_dir == s.model_dir);

    // wrong kinds of value
    const std::string base = std::string(kSmall).substr(0, std::string(kSmall).rfind('}'));
    CHECK(error_of(base + R"(, "model": ""})").find("model: empty") == 0);
    CHECK(error_of(base + R"(, "model": 3})").find("model:") == 0);
}
