// Test helpers: matrix comparison that prints the largest difference and where it is.
#pragma once

#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>

#include "model.hpp"
#include "types.hpp"

namespace attnviz::test {

// A fresh folder of its own under the system's temporary directory (mkdtemp: two in one process
// never share it), removed with everything in it at the end.
struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const char* tag = "test") {
        std::string templ = (std::filesystem::temp_directory_path() / (std::string("attnviz_") + tag + "_XXXXXX")).string();
        if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed for " + templ);
        path = templ;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return (path / name).string(); }
    std::string operator/(const std::string& name) const { return file(name); }
};

// A GPT-2-shaped model configuration for tests (ln_eps 1e-5 as GPT-2's).
inline ModelConfig model_config(int vocab, int n_ctx, int d_model, int layers, int heads, bool mlp) {
    ModelConfig c;
    c.vocab_size = vocab;
    c.n_ctx = n_ctx;
    c.d_model = d_model;
    c.n_layers = layers;
    c.n_heads = heads;
    c.mlp = mlp;
    c.ln_eps = 1e-5f;
    return c;
}

inline Mat mat(std::initializer_list<std::initializer_list<float>> rows) {
    Mat m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows.begin()->size()));
    Eigen::Index r = 0;
    for (auto row : rows) {
        Eigen::Index c = 0;
        for (float v : row) m(r, c++) = v;
        ++r;
    }
    return m;
}

// prefix + number (appending: GCC 12 warns falsely about "literal" + std::string at -O3).
inline std::string word(const char* prefix, long long number) {
    std::string w = prefix;
    w += std::to_string(number);
    return w;
}

// Empty string when a ≈ b; otherwise a message with the largest difference and its index.
inline std::string compare(const Mat& a, const Mat& b, float tol) {
    std::ostringstream os;
    if (a.rows() != b.rows() || a.cols() != b.cols()) {
        os << "shape " << a.rows() << "x" << a.cols() << " vs " << b.rows() << "x" << b.cols();
        return os.str();
    }
    float worst = 0;
    Eigen::Index wr = 0, wc = 0;
    for (Eigen::Index r = 0; r < a.rows(); ++r)
        for (Eigen::Index c = 0; c < a.cols(); ++c) {
            const float d = std::fabs(a(r, c) - b(r, c));
            if (!(d <= worst)) { worst = d; wr = r; wc = c; }
        }
    if (worst <= tol) return "";
    os << "largest difference " << worst << " at [" << wr << "][" << wc << "]: " << a(wr, wc) << " vs " << b(wr, wc);
    return os.str();
}

}  // namespace attnviz::test

#define CHECK_MAT(a, b, tol)                                       \
    do {                                                           \
        const std::string msg_ = ::attnviz::test::compare(a, b, tol); \
        CHECK_MESSAGE(msg_.empty(), msg_);                         \
    } while (0)
