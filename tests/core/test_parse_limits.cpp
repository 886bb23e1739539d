// The scene parser's edges (issue 9): bytes after a NUL, duplicate keys, the view cap, messages
// that say the limit, writers that refuse non-finite numbers, and the compact base64 form.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <limits>
#include <string>

#include "engine.hpp"
#include "figure.hpp"
#include "helpers.hpp"
#include "scene_io.hpp"

using namespace attnviz;

namespace {

const std::string kSmall =
    R"({"attnviz_scene":1,"d_model":2,"n_heads":1,"tokens":["a","b"],"embeddings":[[1,2],[3,4]]})";

// The SceneError's whole message ("" when none was thrown).
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const SceneError& e) {
        return e.what();
    }
    return "";
}

std::string path_of(const std::string& json) {
    try {
        scene_from_json(json);
    } catch (const SceneError& e) {
        return e.path();
    }
    return "(no error)";
}

// Little-endian float32 bytes of `values`, base64 (RFC 4648) — written out here, not by the code.
std::string b64(const std::vector<float>& values) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string bytes(values.size() * 4, '\0');
    std::memcpy(bytes.data(), values.data(), bytes.size());
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        if (i + 2 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 2]);
        out += t[(v >> 18) & 63];
        out += t[(v >> 12) & 63];
        out += i + 1 < bytes.size() ? t[(v >> 6) & 63] : '=';
        out += i + 2 < bytes.size() ? t[v & 63] : '=';
    }
    return out;
}

}  // namespace

TEST_CASE("parser: bytes after a NUL are an error naming the offset") {
    CHECK_NOTHROW(scene_from_json(kSmall));
    const std::string with_nul = kSmall + std::string(1, '\0') + "{garbage";
    CHECK(error_of([&] { scene_from_json(with_nul); }).find("NUL byte at offset " + std::to_string(kSmall.size())) !=
          std::string::npos);
    // Also a NUL right after a valid document and nothing else.
    CHECK(!error_of([&] { scene_from_json(kSmall + std::string(1, '\0')); }).empty());
}

TEST_CASE("parser: a key given twice is an error naming its JSON path") {
    CHECK(path_of(R"({"attnviz_scene":1,"d_model":2,"d_model":3,"n_heads":1,"tokens":["a"]})") == "d_model");
    CHECK(path_of(R"({"attnviz_scene":1,"d_model":1,"n_heads":2,"tokens":["a"],)"
                  R"("heads":[null,{"W_Q":[[1]],"W_Q":[[2]]}]})") == "heads[1].W_Q");
    CHECK(path_of(R"({"attnviz_scene":1,"d_model":1,"n_heads":1,"tokens":["a"],"view":{"x":[1,{"k":1,"k":2}]}})") ==
          "view.x[1].k");
    CHECK(error_of([&] { scene_from_json(R"({"attnviz_scene":1,"attnviz_scene":1})"); }).find("given twice") !=
          std::string::npos);
    // The same key in two different objects is fine.
    CHECK_NOTHROW(scene_from_json(R"({"attnviz_scene":1,"d_model":1,"n_heads":1,"tokens":["a"],)"
                                  R"("view":{"a":{"k":1},"b":{"k":1}}})"));
}

TEST_CASE("parser: the view object is capped (values and text), naming view") {
    std::string many = R"({"attnviz_scene":1,"d_model":1,"n_heads":1,"tokens":["a"],"view":{"z":[)";
    for (std::size_t k = 0; k <= kMaxViewValues; ++k) many += k ? ",0" : "0";
    many += "]}}";
    const std::string msg = error_of([&] { scene_from_json(many); });
    CHECK(msg.rfind("view: more than 65536 values", 0) == 0);
    std::string long_text = R"({"attnviz_scene":1,"d_model":1,"n_heads":1,"tokens":["a"],"view":{"note":")" +
                            std::string(kMaxViewBytes + 1, 'x') + "\"}}";
    CHECK(path_of(long_text) == "view");
    // A plain-array file of more values than the limit is refused before anything is parsed.
    CHECK(kMaxJsonValues == 8388608);
}

TEST_CASE("parser: messages say the limit and never carry raw control bytes") {
    const std::string tiny = R"({"attnviz_scene":1,"d_model":1,"n_heads":1,"tokens":["a"],"temperature":5e-324})";
    CHECK(error_of([&] { scene_from_json(tiny); }) ==
          "temperature: expected at least 1e-6 (the smallest temperature), got 5e-324");
    Scene s = make_scene({"a"}, 2, 1, 2, 1);
    CHECK(error_of([&] { set_temperature(s, 1e-9f); }) == "temperature: expected a finite number ≥ 1e-6, got 1e-09");
    CHECK(error_of([&] { set_embedding(s, 0, 0, 2e6f); }).find("got 2e+06") != std::string::npos);
    const std::string odd_key = std::string(R"({"attnviz_scene":1,"a\u0000b":1})");
    const std::string msg = error_of([&] { scene_from_json(odd_key); });
    CHECK(msg.find("a\\x00b: unknown field") == 0);
    CHECK(msg.find('\0') == std::string::npos);
    // Bytes that are not UTF-8 in a parse error are escaped too.
    const std::string bad = error_of([&] { scene_from_json(std::string("\xFF\xFE{\x01")); });
    CHECK(bad.find('\xFF') == std::string::npos);
    CHECK(bad.find("\\xFF") != std::string::npos);
}

TEST_CASE("parser: a directory given as a scene says so") {
    const std::string dir = std::filesystem::temp_directory_path().string();
    CHECK(error_of([&] { load_scene(dir); }) == dir + " is a directory, not a regular file");
}

TEST_CASE("compact form: float32 base64 reads back bit-exactly; the writer uses it above 4096 values") {
    // Values a decimal round trip would also keep, and some it need not: -0, subnormal, 1e6.
    const std::vector<float> v = {1.5f, -0.0f, 1e-45f, 1e6f, -3.25f, 0.1f};
    const std::string json = R"({"attnviz_scene":1,"d_model":3,"n_heads":1,"tokens":["a","b"],)"
                             R"("embeddings":{"dtype":"float32","shape":[2,3],"base64":")" + b64(v) + R"("}})";
    const Scene s = scene_from_json(json);
    REQUIRE(s.input.embeddings.rows() == 2);
    for (int k = 0; k < 6; ++k) {
        CAPTURE(k);
        CHECK(std::memcmp(&s.input.embeddings.data()[k], &v[static_cast<std::size_t>(k)], 4) == 0);
    }
    // Small matrices are written as rows of numbers; big ones compactly, and read back bit-exactly.
    CHECK(scene_to_json(s).find("base64") == std::string::npos);
    Scene big = make_scene(std::vector<std::string>(70, "t"), 64, 1, 64, 3);  // 70 × 64 = 4480 values
    big.input.embeddings = Mat::Random(70, 64) * 1e5f;
    big.input.embeddings(3, 5) = -0.0f;
    big.input.embeddings(4, 6) = 1.17549435e-38f / 3.0f;  // subnormal
    big.input.embeddings_given = true;
    set_weight_matrix(big, 0, kQuery, Mat::Random(64, 64));  // 4096 values: still rows of numbers
    const std::string text = scene_to_json(big);
    CHECK(text.find(R"("embeddings": {)") != std::string::npos);
    CHECK(text.find(R"("dtype": "float32")") != std::string::npos);
    CHECK(text.find(R"("shape": [)") != std::string::npos);
    CHECK(text.find(R"("W_Q": [)") != std::string::npos);
    const Scene back = scene_from_json(text);
    CHECK(std::memcmp(back.input.embeddings.data(), big.input.embeddings.data(), 70 * 64 * 4) == 0);
    CHECK(back.heads[0].W[kQuery] == big.heads[0].W[kQuery]);
    CHECK(scene_to_json(back) == text);
}

TEST_CASE("compact form: a big matrix mask round-trips as uint8") {
    std::vector<std::uint8_t> allowed(80 * 80);
    for (std::size_t k = 0; k < allowed.size(); ++k) allowed[k] = (k * 7) % 3 == 0;
    Scene s = make_scene(std::vector<std::string>(80, "t"), 4, 1, 4, 1);
    set_mask(s, Mask::matrix(80, 80, allowed));
    const std::string text = scene_to_json(s);
    CHECK(text.find(R"("dtype": "uint8")") != std::string::npos);
    CHECK(scene_from_json(text).mask == s.mask);
}

TEST_CASE("compact form: malformed base64, shape, length or dtype are refused with the path") {
    const std::vector<float> v = {1, 2, 3, 4, 5, 6};
    auto scene = [](const std::string& emb) {
        return R"({"attnviz_scene":1,"d_model":3,"n_heads":1,"tokens":["a","b"],"embeddings":)" + emb + "}";
    };
    auto compact = [](const std::string& dtype, const std::string& shape, const std::string& data) {
        return R"({"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"base64":")" + data + R"("})";
    };
    CHECK_NOTHROW(scene_from_json(scene(compact("float32", "[2,3]", b64(v)))));
    CHECK(path_of(scene(compact("float64", "[2,3]", b64(v)))) == "embeddings.dtype");
    CHECK(path_of(scene(compact("float32", "[3,2]", b64(v)))) == "embeddings.shape");
    CHECK(path_of(scene(compact("float32", "[2]", b64(v)))) == "embeddings.shape");
    CHECK(path_of(scene(compact("float32", "[2,3]", b64({1, 2, 3, 4, 5})))) == "embeddings.base64");  // too short
    std::string broken = b64(v);
    broken[5] = '!';
    CHECK(error_of([&] { scene_from_json(scene(compact("float32", "[2,3]", broken))); }) ==
          "embeddings.base64: not base64: character ! at offset 5");
    CHECK(path_of(scene(compact("float32", "[2,3]", b64(v).substr(1))))  == "embeddings.base64");  // not a multiple of 4
    CHECK(path_of(scene(R"({"dtype":"float32","shape":[2,3],"base64":")" + b64(v) + R"(","extra":1})")) ==
          "embeddings.extra");
    // NaN bits are refused by the scene checks, naming the cell.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    CHECK(path_of(scene(compact("float32", "[2,3]", b64({1, 2, 3, 4, nan, 6})))) == "embeddings[1][1]");
}

TEST_CASE("writers: a number that is not finite is an error naming the matrix and cell") {
    Scene s = make_scene({"a", "b"}, 2, 1, 2, 1);
    Forward f = forward(s);
    CHECK_NOTHROW(export_json(s, f));
    f.heads[0].pattern(1, 0) = std::numeric_limits<float>::quiet_NaN();
    CHECK(error_of([&] { export_json(s, f); }) ==
          "heads[0].pattern[1][0]: is NaN: refusing to write a number that is not finite");
    f.heads[0].pattern(1, 0) = 0.5f;
    f.output(0, 1) = std::numeric_limits<float>::infinity();
    CHECK(error_of([&] { export_json(s, f); }).rfind("output[0][1]: is +infinity", 0) == 0);
    Mat m = Mat::Zero(2, 2);
    m(1, 1) = std::numeric_limits<float>::quiet_NaN();
    CHECK(error_of([&] { matrix_csv(m, nullptr, nullptr, "row\\column", "pattern"); }).rfind("pattern[1][1]: is NaN", 0) == 0);
    CHECK(error_of([&] { matrix_npy(m, "scores"); }).rfind("scores[1][1]: is NaN", 0) == 0);
    // −∞ is a masked logit of the masked stage: CSV writes it, NumPy export refuses it.
    m(1, 1) = -std::numeric_limits<float>::infinity();
    CHECK(matrix_csv(m).find("-inf") != std::string::npos);
    CHECK(error_of([&] { matrix_npy(m, "masked"); }).rfind("masked[1][1]: is -infinity", 0) == 0);
    HeatmapFigure fig;
    fig.values = attnviz::test::mat({{0.5f, std::numeric_limits<float>::quiet_NaN()}, {1, 0}});
    CHECK(error_of([&] { heatmap_svg(fig); }).rfind("values[0][1]: is NaN", 0) == 0);
    fig.allowed = {1, 0, 1, 1};  // a NaN in a masked cell is not drawn: fine
    CHECK_NOTHROW(heatmap_svg(fig));
}
