// attnviz bench — times the engine on a drawn scene: full forward, one-token edit, GEMMs alone, and
// the forward's share of the machine's GEMM rate measured in the same run.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "types.hpp"  // Mat

namespace attnviz::app {

struct BenchArgs {
    int n = 1024;
    int d_model = 768;
    int heads = 12;
    std::string mask = "none";  // none, causal, sliding_window:W
    int repeat = 5;
    int threads = 0;            // 0 = every core
    bool json = false;
    bool tiles_only = false;    // long sequences: only the on-demand path (no n² Forward)
};

// Prints the medians (text, or one JSON object with --json). Returns the process exit code.
int run_bench(const BenchArgs& a);

// The machine's GEMM rate: one (size, size)·(size, size) float32 Eigen product, rows split over
// `threads` threads (gemm_rows, as the forward passes' projections). Both benches — the single
// layer and --gpt2-shape — time it right before each forward (interleaved: this machine's speed
// drifts by tens of percent over seconds) and report the median of the forward's per-pair shares.
class GemmRate {
public:
    GemmRate(int size, int threads);  // draws A and B and runs once (warm-up)
    void run();
    double gflops_of(double ms) const;  // the rate of one run that took `ms`

private:
    int size_, threads_;
    Mat A_, B_, C_;  // (size, size)
};

// Median wall time in ms of `repeat` calls of fn.
template <class F>
double median_ms(int repeat, F&& fn) {
    std::vector<double> ms;
    for (int r = 0; r < repeat; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        fn();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

// The process's peak resident set so far, in MB.
double peak_rss_mb();

}  // namespace attnviz::app
