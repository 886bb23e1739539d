// safetensors reader/writer: hand-built files whose bytes are worked out here, round trips, and
// every refusal (naming the file and the tensor).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "safetensors.hpp"

#include "helpers.hpp"

using namespace attnviz;

namespace {
namespace fs = std::filesystem;

using test::TempDir;

std::string u64le(std::uint64_t v) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
    return s;
}

// A file: 8-byte header length, the header text, the data bytes.
void write_raw(const std::string& path, const std::string& header, const std::string& data, std::uint64_t len_override = 0) {
    std::ofstream f(path, std::ios::binary);
    f << u64le(len_override ? len_override : header.size()) << header << data;
}

std::string f32_bytes(std::initializer_list<float> v) {
    std::string s;
    for (float x : v) {
        std::uint32_t u;
        std::memcpy(&u, &x, 4);
        for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
    }
    return s;
}

std::string u16_bytes(std::initializer_list<std::uint16_t> v) {
    std::string s;
    for (auto x : v) {
        s.push_back(static_cast<char>(x & 0xff));
        s.push_back(static_cast<char>(x >> 8));
    }
    return s;
}

// The error message of opening (and loading every tensor of) a file, or "" when it succeeds.
std::string refusal(const std::string& path) {
    try {
        SafetensorsFile f(path);
        for (const auto& t : f.tensors()) f.load_flat(t.name);
    } catch (const ModelError& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("safetensors: half and bfloat16 conversions, bit patterns worked out by hand") {
    CHECK(half_to_float(0x3c00) == 1.0f);
    CHECK(half_to_float(0xc000) == -2.0f);
    CHECK(half_to_float(0x7bff) == 65504.0f);
    CHECK(half_to_float(0x0001) == std::ldexp(1.0f, -24));  // smallest subnormal
    CHECK(half_to_float(0x03ff) == std::ldexp(1023.0f, -24));
    CHECK(half_to_float(0x0400) == std::ldexp(1.0f, -14));  // smallest normal
    CHECK(std::signbit(half_to_float(0x8000)));
    CHECK(std::isinf(half_to_float(0x7c00)));
    CHECK(std::isnan(half_to_float(0x7e00)));
    CHECK(float_to_half(1.0f) == 0x3c00);
    CHECK(float_to_half(-2.0f) == 0xc000);
    CHECK(float_to_half(1.0f / 3.0f) == 0x3555);             // 0.333251953125
    CHECK(float_to_half(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);      // tie → even (down)
    CHECK(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3c02);  // tie → even (up)
    CHECK(float_to_half(65504.0f) == 0x7bff);
    CHECK(float_to_half(65519.0f) == 0x7bff);
    CHECK(float_to_half(65520.0f) == 0x7c00);  // rounds to infinity
    CHECK(float_to_half(std::ldexp(1.0f, -24)) == 0x0001);
    CHECK(float_to_half(std::ldexp(1.0f, -25)) == 0x0000);          // tie → even (0)
    CHECK(float_to_half(std::ldexp(1.5f, -25)) == 0x0001);
    CHECK(float_to_half(std::ldexp(3.0f, -25)) == 0x0002);          // 1.5 subnormal steps: tie → even (2)
    CHECK(float_to_half(std::ldexp(1023.5f, -24)) == 0x0400);       // rounds up into the normals
    for (std::uint32_t h = 0; h < 0x7c00; ++h) CHECK_MESSAGE(float_to_half(half_to_float(static_cast<std::uint16_t>(h))) == h, h);
    CHECK(bf16_to_float(0x3f80) == 1.0f);
    CHECK(bf16_to_float(0x4049) == 3.140625f);
    CHECK(float_to_bf16(3.14159265f) == 0x4049);
    CHECK(float_to_bf16(1.0f + std::ldexp(1.0f, -8)) == 0x3f80);  // tie → even
}

TEST_CASE("safetensors: a hand-built file reads back (F32, F16, BF16, metadata, padding)") {
    TempDir dir("st_read");
    const std::string header =
        R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F16","shape":[3],"data_offsets":[24,30]},)"
        R"("a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"c":{"dtype":"BF16","shape":[1,1],"data_offsets":[30,32]}}   )";
    const std::string data = f32_bytes({1, 2, 3, -4, 5.5f, 0.25f}) + u16_bytes({0x3c00, 0xc000, 0x3555}) + u16_bytes({0x4049});
    write_raw(dir.file("m.safetensors"), header, data);
    SafetensorsFile f(dir.file("m.safetensors"));
    REQUIRE(f.tensors().size() == 3);
    CHECK(f.metadata().at("format") == "pt");
    const Mat a = f.load_matrix("a", 2, 3);
    CHECK(a(0, 0) == 1);
    CHECK(a(0, 2) == 3);
    CHECK(a(1, 0) == -4);
    CHECK(a(1, 1) == 5.5f);
    CHECK(a(1, 2) == 0.25f);
    const RowVec b = f.load_vector("b", 3);
    CHECK(b(0) == 1.0f);
    CHECK(b(1) == -2.0f);
    CHECK(b(2) == 0.333251953125f);
    CHECK(f.load_matrix("c")(0, 0) == 3.140625f);
    CHECK(f.find("d") == nullptr);
    // Wrong shapes asked for: the message names the tensor and both shapes.
    try {
        (void)f.load_matrix("a", 3, 2);
        FAIL("no error");
    } catch (const ModelError& e) {
        CHECK(std::string(e.what()).find("tensor a: shape [2, 3], expected [3, 2]") != std::string::npos);
        CHECK(e.tensor() == "a");
    }
    CHECK_THROWS_AS((void)f.load_vector("a"), ModelError);
    CHECK_THROWS_WITH_AS((void)f.load_flat("zz"), doctest::Contains("tensor zz: missing"), ModelError);
}

TEST_CASE("safetensors: the writer's bytes (8-byte aligned, space padded) and a round trip in F32 and F16") {
    TempDir dir("st_write");
    Mat w(2, 3);  // (2, 3)
    w << 1, -2, 0.5f, 3.25f, 1e-3f, -7;
    RowVec v(4);
    v << 0.1f, 0.2f, 0.3f, 65504.0f;
    const std::vector<TensorToWrite> ts = {{"w", {2, 3}, w.data()}, {"v", {4}, v.data()}};
    write_safetensors(dir.file("f32.safetensors"), ts, Dtype::F32, {{"k", "x"}});
    std::ifstream in(dir.file("f32.safetensors"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
    CHECK((8 + n) % 8 == 0);
    CHECK(bytes.size() == 8 + n + 4 * 10);
    const std::string header = bytes.substr(8, n);
    CHECK(header.find(R"("w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]})") != std::string::npos);
    CHECK(header.find(R"("v":{"dtype":"F32","shape":[4],"data_offsets":[24,40]})") != std::string::npos);
    CHECK(header.find(R"("__metadata__":{"k":"x"})") != std::string::npos);
    CHECK(bytes.substr(8 + n, 24) == f32_bytes({1, -2, 0.5f, 3.25f, 1e-3f, -7}));
    for (std::size_t i = header.find_last_not_of(' ') + 1; i < header.size(); ++i) CHECK(header[i] == ' ');

    SafetensorsFile f(dir.file("f32.safetensors"));
    CHECK(f.load_matrix("w", 2, 3) == w);
    CHECK(f.load_vector("v", 4) == v);

    write_safetensors(dir.file("f16.safetensors"), ts, Dtype::F16);
    SafetensorsFile h(dir.file("f16.safetensors"));
    CHECK(h.find("w")->dtype == Dtype::F16);
    const Mat wh = h.load_matrix("w", 2, 3);
    for (int i = 0; i < 6; ++i) CHECK(wh.data()[i] == half_to_float(float_to_half(w.data()[i])));
    CHECK(wh(0, 2) == 0.5f);
    CHECK(h.load_vector("v")(3) == 65504.0f);
    // No temporary file is left behind.
    int files = 0;
    for (const auto& e : fs::directory_iterator(dir.path)) files += e.is_regular_file();
    CHECK(files == 2);
}

TEST_CASE("safetensors: malformed files are refused with the file and the tensor named") {
    TempDir dir("st_bad");
    const std::string ok_entry = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
    const std::string data8 = f32_bytes({1, 2});
    const auto check = [&](const std::string& name, const std::string& expect_part) {
        const std::string p = dir.file(name);
        const std::string msg = refusal(p);
        CHECK_MESSAGE(msg.find(p) == 0, name << ": " << msg);
        CHECK_MESSAGE(msg.find(expect_part) != std::string::npos, name << ": " << msg);
    };
    {  // the good one loads
        write_raw(dir.file("good"), "{" + ok_entry + "}", data8);
        CHECK(refusal(dir.file("good")) == "");
    }
    {
        std::ofstream(dir.file("short"), std::ios::binary) << "abc";
        check("short", "truncated: 3 bytes");
        std::ofstream(dir.file("empty"), std::ios::binary) << "";
        check("empty", "truncated: 0 bytes");
    }
    write_raw(dir.file("len_past_end"), "{" + ok_entry + "}", data8, 5000);
    check("len_past_end", "header length 5000 bytes runs past the end");
    write_raw(dir.file("len_huge"), "{" + ok_entry + "}", data8, 200'000'000);
    check("len_huge", "over the limit of 100000000");
    write_raw(dir.file("not_json"), "{\"t\": [1, ", data8);
    check("not_json", "header is not valid JSON");
    write_raw(dir.file("not_object"), "[1, 2]", data8);
    check("not_object", "header is not a JSON object");
    write_raw(dir.file("truncated_data"), "{" + ok_entry + "}", data8.substr(0, 5));
    check("truncated_data", "tensor t: data_offsets [0, 8) run past the end of the data (5 bytes");
    write_raw(dir.file("past_end"), R"({"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data8);
    check("past_end", "tensor t: data_offsets [0, 16) run past the end");
    write_raw(dir.file("size_mismatch"), R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data8);
    check("size_mismatch", "tensor t: data_offsets [0, 8) hold 8 bytes but shape [3] of F32 needs 12");
    write_raw(dir.file("f16_mismatch"), R"({"t":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}})", data8);
    check("f16_mismatch", "hold 8 bytes but shape [2] of F16 needs 4");
    write_raw(dir.file("overlap"),
              R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", data8);
    check("overlap", "tensor b: data overlaps tensor a");
    write_raw(dir.file("backwards"), R"({"t":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", data8);
    check("backwards", "tensor t: data_offsets [8, 0) end before begin");
    write_raw(dir.file("dtype"), R"({"t":{"dtype":"F8_E9","shape":[2],"data_offsets":[0,8]}})", data8);
    check("dtype", "tensor t: unknown dtype \"F8_E9\"");
    write_raw(dir.file("no_shape"), R"({"t":{"dtype":"F32","data_offsets":[0,8]}})", data8);
    check("no_shape", "tensor t: missing shape");
    write_raw(dir.file("neg_shape"), R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data8);
    check("neg_shape", "tensor t: shape [-2] holds a value that is not a size");
    write_raw(dir.file("neg_offset"), R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[-1,8]}})", data8);
    check("neg_offset", "tensor t: data_offsets must be two non-negative integers");
    write_raw(dir.file("nan"), "{" + ok_entry + "}", f32_bytes({1, std::numeric_limits<float>::quiet_NaN()}));
    check("nan", "tensor t: non-finite value nan at flat index 1");
    write_raw(dir.file("inf16"), R"({"t":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", u16_bytes({0x7c00, 0x3c00}));
    check("inf16", "tensor t: non-finite value inf at flat index 0");
    write_raw(dir.file("int"), R"({"t":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", data8);
    check("int", "tensor t: dtype I64 is not a floating-point type");
    CHECK(refusal(dir.file("does_not_exist")).find("cannot open") != std::string::npos);
}
