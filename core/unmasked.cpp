#include "unmasked.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace attnviz {

Mat unmasked_pattern_rows(const PatternTiles& t, int head, int row0, int rows) {
    if (head < 0 || head >= t.n_heads()) throw std::out_of_range("head " + std::to_string(head) + " is not 0.." + std::to_string(t.n_heads() - 1));
    if (row0 < 0 || rows < 0 || row0 + rows > t.n())
        throw std::out_of_range("rows " + std::to_string(row0) + ".." + std::to_string(row0 + rows) + " are not inside 0.." + std::to_string(t.n()));
    const HeadStats& hs = t.head(head);
    const int m = t.m();
    Mat out(rows, m);                                    // (rows, m)
    std::vector<std::uint8_t> every(static_cast<std::size_t>(m), 1);
    std::vector<float> logits(static_cast<std::size_t>(m));
    constexpr int kBlock = 256;                          // scores a block of rows at a time
    for (int b = 0; b < rows; b += kBlock) {
        const int br = std::min(kBlock, rows - b);
        const Mat scores = hs.Q.middleRows(row0 + b, br) * hs.K.transpose();  // (br, m) q_i·k_j
        for (int i = 0; i < br; ++i) {
            for (int j = 0; j < m; ++j) logits[static_cast<std::size_t>(j)] = scores(i, j) * t.logit_factor();
            float mx = 0, sum = 0;
            masked_softmax_row(logits.data(), every.data(), m, out.row(b + i).data(), &mx, &sum);
        }
    }
    return out;
}

}  // namespace attnviz
