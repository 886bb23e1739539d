// The measurements behind --frame-stats and --animate-view (app/dev/measure.hpp): the process start
// time parsed from /proc, percentiles, and the fixed pan/zoom path, against values worked out by
// hand from the formulas in measure.hpp.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "measure.hpp"

using namespace attnviz::app;

namespace {
// A /proc/<pid>/stat line whose field 22 (starttime) is `start`; `name` goes in parentheses.
std::string stat_line(const std::string& name, const std::string& start) {
    // (appending: GCC 12 warns falsely about "literal" + std::string at -O3)
    std::string line = "4242 (";
    line.append(name).append(") S");  // fields 1-3
    for (int k = 4; k <= 21; ++k) line.append(" ").append(std::to_string(k * 10));
    line.append(" ").append(start).append(" 123456789 55 18446744073709551615");  // 22, 23 (vsize), 24, 25
    return line;
}
}  // namespace

TEST_CASE("process start time: field 22 of /proc/<pid>/stat, counted after the last ')'") {
    CHECK(proc_stat_start_ticks(stat_line("attnviz", "987654")) == 987654);
    // a command name with spaces and parentheses does not shift the fields
    CHECK(proc_stat_start_ticks(stat_line("a) (b c) d", "31337")) == 31337);
    CHECK(proc_stat_start_ticks(stat_line("x", "0")) == 0);
    // malformed: no name, too few fields, not a number
    CHECK(proc_stat_start_ticks("4242 attnviz S 1 2 3") == -1);
    CHECK(proc_stat_start_ticks("4242 (attnviz) S 1 2 3") == -1);
    CHECK(proc_stat_start_ticks(stat_line("attnviz", "12x4")) == -1);
    CHECK(proc_stat_start_ticks(stat_line("attnviz", "-5")) == -1);
    CHECK(proc_stat_start_ticks("") == -1);
}

TEST_CASE("time since the process started: positive, and it advances with the clock") {
    const double a = ms_since_process_start();
    REQUIRE(a >= 0.0);
    CHECK(a < 10 * 60 * 1000.0);  // this test process started minutes ago at most
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const double b = ms_since_process_start();
    // the start time is fixed, so the difference is the time slept (plus scheduling)
    CHECK(b - a >= 49.0);
    CHECK(b - a < 2000.0);
}

TEST_CASE("nearest-rank percentiles and frame statistics") {
    std::vector<double> v;
    for (int i = 20; i >= 1; --i) v.push_back(i);  // 20 … 1, unsorted order
    // ceil(0.5 · 20) = rank 10 → 10; ceil(0.95 · 20) = rank 19 → 19; rank ≥ 1
    CHECK(percentile(v, 0.5) == 10.0);
    CHECK(percentile(v, 0.95) == 19.0);
    CHECK(percentile(v, 1.0) == 20.0);
    CHECK(percentile(v, 0.001) == 1.0);
    CHECK(percentile({}, 0.5) == 0.0);
    CHECK(percentile({7.0}, 0.95) == 7.0);
    // three slow warm-up frames are left out
    std::vector<double> frames = {500.0, 300.0, 100.0};
    frames.insert(frames.end(), v.begin(), v.end());
    const FrameStats st = frame_stats(frames, 3);
    CHECK(st.frames == 20);
    CHECK(st.skipped == 3);
    CHECK(st.median_ms == 10.0);
    CHECK(st.p95_ms == 19.0);
    CHECK(st.max_ms == 20.0);
    CHECK(st.fps == doctest::Approx(100.0));
    const FrameStats few = frame_stats({40.0, 50.0}, 3);
    CHECK(few.frames == 0);
    CHECK(few.skipped == 2);
    CHECK(few.fps == 0.0);
}

namespace {
void check_view(const CellView& v, float x0, float y0, float x1, float y1) {
    CHECK(v.x0 == doctest::Approx(x0).epsilon(1e-5));
    CHECK(v.y0 == doctest::Approx(y0).epsilon(1e-5));
    CHECK(v.x1 == doctest::Approx(x1).epsilon(1e-5));
    CHECK(v.y1 == doctest::Approx(y1).epsilon(1e-5));
}
}  // namespace

TEST_CASE("animate_view: whole matrix → 64 × 64 cells → whole matrix, panning on a Lissajous path") {
    const int n = 4096;
    // frame 0 (t = 0): zoom 0 → the whole matrix
    check_view(animate_view(0, n, n), 0, 0, 4096, 4096);
    // frame 30 (t = 1/4): zoom 1/2 → √(4096 · 64) = 512 cells; centre x = 4096 · 0.8 = 3276.8,
    // y = 4096 · (0.5 + 0.3 sin π) = 2048
    check_view(animate_view(30, n, n), 3276.8f - 256, 2048 - 256, 3276.8f + 256, 2048 + 256);
    // frame 60 (t = 1/2): 64 × 64 cells around the middle
    check_view(animate_view(60, n, n), 2016, 2016, 2080, 2080);
    // frame 90 (t = 3/4): 512 cells again, centre x = 4096 · 0.2 = 819.2
    check_view(animate_view(90, n, n), 819.2f - 256, 1792, 819.2f + 256, 2304);
    // the path repeats every 120 frames
    check_view(animate_view(150, n, n), 3276.8f - 256, 1792, 3276.8f + 256, 2304);
    // every frame differs from the one before and stays inside the matrix
    CellView prev = animate_view(0, n, n);
    for (int f = 1; f <= 240; ++f) {
        const CellView v = animate_view(f, n, n);
        CHECK_MESSAGE((v.x0 != prev.x0 || v.y0 != prev.y0 || v.x1 != prev.x1 || v.y1 != prev.y1), "frame ", f, " repeats the view of frame ", f - 1);
        CHECK(v.x0 >= 0.0f);
        CHECK(v.y0 >= 0.0f);
        CHECK(v.x1 <= 4096.0f);
        CHECK(v.y1 <= 4096.0f);
        CHECK(v.width() >= 64.0f * 0.9999f);
        prev = v;
    }
}

TEST_CASE("animate_view on a wide matrix and on a matrix smaller than 64 cells") {
    // 100 rows × 4096 columns at frame 60: 64 × 64 cells, centred at (2048, 50)
    check_view(animate_view(60, 100, 4096), 2016, 18, 2080, 82);
    // 10 × 12: never zooms below the matrix itself, so every frame shows all of it
    for (int f = 0; f < 120; ++f) check_view(animate_view(f, 10, 12), 0, 0, 12, 10);
}
