// attnviz app — what `--frame-stats` measures (issue 5, targets 4 and 5): the time from the
// process's real start to the first frame, frame-time statistics, and the fixed pan/zoom path
// that `--animate-view` moves the main heatmap along. Pure functions (no GL), tested in ui_tests.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "heatmap.hpp"

namespace attnviz::app {

// The process's start time from one line of /proc/<pid>/stat: field 22, in clock ticks since
// boot. The command name (field 2) sits in parentheses and may itself hold spaces and ')', so
// fields are counted from the *last* ')'. Returns -1 when the line is malformed.
long long proc_stat_start_ticks(const std::string& stat_line);

// Milliseconds since the kernel started this process (not since main()): CLOCK_BOOTTIME now
// minus the start time in /proc/self/stat. The kernel keeps that start time in whole clock ticks
// (sysconf(_SC_CLK_TCK), 100 per second on Linux), so the value reads up to one tick (10 ms) long.
// Returns a negative number where /proc is not available.
double ms_since_process_start();

// CPU time this process (all its threads, llvmpipe's rasterizer threads included) has used, in
// ms. Over a run of frames it depends less on other jobs sharing the cores than wall-clock time.
double process_cpu_ms();

// Nearest-rank percentile, p in (0, 1]: the smallest value with at least p of the values at or
// below it. 0 for no values.
double percentile(std::vector<double> values, double p);

struct FrameStats {
    std::size_t frames = 0;  // frames counted (after the skipped warm-up frames)
    std::size_t skipped = 0;
    double median_ms = 0, p95_ms = 0, max_ms = 0;
    double fps = 0;          // 1000 / median
};
// Statistics of `frame_ms` without its first `skip` frames (they build fonts and textures).
FrameStats frame_stats(const std::vector<double>& frame_ms, std::size_t skip);

// --animate-view: the view at frame `frame` of a fixed path that repeats every `period` frames.
// Zoom: the view's width and height shrink geometrically from the whole matrix (frame 0) to
// `min_cells` × `min_cells` cells (frame period / 2) and grow back, following
// 1/2 − cos(2π t)/2 (t = frame / period) in log size. Pan: the centre runs a Lissajous figure,
// x = cols · (1/2 + 0.3 sin 2πt), y = rows · (1/2 + 0.3 sin 4πt); the view is then kept inside
// the matrix. With an even period every frame differs from the one before (on a matrix larger
// than `min_cells`), so the heatmap's colour pass runs every frame; the data never changes.
constexpr int kAnimatePeriod = 120;
constexpr float kAnimateMinCells = 64.0f;
CellView animate_view(int frame, int rows, int cols, int period = kAnimatePeriod, float min_cells = kAnimateMinCells);

}  // namespace attnviz::app
