// attnviz — entry point: parse the command line, run the chosen command (the window among them).
#include <cstdlib>  // defines __GLIBC__ on glibc systems
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "cli.hpp"
#include "window.hpp"

namespace attnviz::app {
// Every recomputation (an edit, a model's forward pass) allocates its matrices afresh — 0.5 GB for
// GPT-2 small at 1,024 tokens — while the view still shows the previous result. With glibc's
// default settings the freed blocks go back to the kernel (heap top trimmed, large blocks
// unmapped), so the next pass page-faults and zero-fills every page again: 40 % of a gpt2-small
// forward at n = 1,024 (docs/performance.md). Blocks up to 32 MB now come from the heap and freed
// memory is kept (up to 1 GB at the heap's top) for the next pass. Peak memory is unchanged.
void keep_freed_memory() {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}
}  // namespace attnviz::app

int main(int argc, char** argv) {
    attnviz::app::keep_freed_memory();
    attnviz::app::WindowEntry window;
    window.run_window = attnviz::app::run_window;
    window.run_render = attnviz::app::run_render;
    return attnviz::app::run_cli(argc, argv, window);
}
