// attnviz core — one matrix product split by rows over threads: what the GPT-2 forward pass and the
// single attention layer use for their projections, and what `attnviz bench` times as the
// machine's GEMM rate.
#pragma once

#include "types.hpp"

namespace attnviz {

// C = A·B (+ bias on every row when `bias` is given and non-empty). A (n, k), B (k, m), C (n, m).
// Each thread takes one contiguous slab of rows (at least 32), so B is packed once per thread;
// products under 4·10⁶ multiply-adds stay on the caller's thread (starting a thread costs ~50 µs).
void gemm_rows(const Eigen::Ref<const Mat>& A, const Eigen::Ref<const Mat>& B, const RowVec* bias, Eigen::Ref<Mat> C,
               int threads);

}  // namespace attnviz
