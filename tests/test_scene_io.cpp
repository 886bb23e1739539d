// Scene files: round trips, and every kind of malformed file gets an error naming the field.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

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
        {R"({"attnviz_scene":1,"tokens":["a"],"d_model":2,"n_heads":1,"temperature":0})", "temperature: expected a positive number"},
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
    const std::string csv = matrix_csv(test::mat({{0.5f, 0.25f}, {1, 0}}), &labels, &labels);
    CHECK(csv == "query\\key,a,\"b,c\"\na,0.5,0.25\n\"b,c\",1,0\n");

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
