// attnviz bench — times the engine on a drawn scene: full forward, one-token edit, GEMMs alone.
#pragma once

#include <string>

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

}  // namespace attnviz::app
