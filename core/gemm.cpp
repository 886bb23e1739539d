// attnviz core — see gemm.hpp.
#include "gemm.hpp"

#include <algorithm>
#include <cstdint>

#include "parallel.hpp"

namespace attnviz {

void gemm_rows(const Eigen::Ref<const Mat>& A, const Eigen::Ref<const Mat>& B, const RowVec* bias, Eigen::Ref<Mat> C,
               int threads) {
    const int n = static_cast<int>(A.rows());
    const std::int64_t work = std::int64_t(n) * B.rows() * B.cols();
    const int t = work < 4'000'000 ? 1 : std::max(1, std::min(threads, n / 32));
    const int per = (n + t - 1) / t;
    parallel_for(t, t, [&](int k) {
        const int r0 = k * per, r1 = std::min(n, r0 + per);
        if (r1 <= r0) return;
        auto c = C.middleRows(r0, r1 - r0);
        c.noalias() = A.middleRows(r0, r1 - r0) * B;
        if (bias && bias->size()) c.rowwise() += *bias;
    });
}

}  // namespace attnviz
