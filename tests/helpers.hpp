// Test helpers: matrix comparison that prints the largest difference and where it is.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>

#include "types.hpp"

namespace attnviz::test {

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
