// attnviz app — measurements (see measure.hpp).
#include "measure.hpp"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numbers>
#include <sstream>

namespace attnviz::app {

long long proc_stat_start_ticks(const std::string& stat_line) {
    const std::size_t close = stat_line.rfind(')');
    if (close == std::string::npos) return -1;
    std::istringstream rest(stat_line.substr(close + 1));
    // after the name: field 3 (state) … field 22 (starttime)
    std::string field;
    for (int k = 3; k <= 22; ++k)
        if (!(rest >> field)) return -1;
    if (field.empty() || !std::all_of(field.begin(), field.end(), [](char c) { return c >= '0' && c <= '9'; })) return -1;
    try {
        return std::stoll(field);
    } catch (...) {
        return -1;
    }
}

double ms_since_process_start() {
    timespec now{};
    if (clock_gettime(CLOCK_BOOTTIME, &now) != 0) return -1.0;
    std::ifstream in("/proc/self/stat");
    std::string line;
    if (!std::getline(in, line)) return -1.0;
    const long long ticks = proc_stat_start_ticks(line);
    const long hz = sysconf(_SC_CLK_TCK);
    if (ticks < 0 || hz <= 0) return -1.0;
    const double now_ms = static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) * 1e-6;
    return now_ms - static_cast<double>(ticks) * 1e3 / static_cast<double>(hz);
}

double process_cpu_ms() {
    timespec t{};
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) != 0) return 0.0;
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0.0;
    std::sort(values.begin(), values.end());
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
    return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

FrameStats frame_stats(const std::vector<double>& frame_ms, std::size_t skip) {
    FrameStats st;
    st.skipped = std::min(skip, frame_ms.size());
    const std::vector<double> steady(frame_ms.begin() + static_cast<std::ptrdiff_t>(st.skipped), frame_ms.end());
    st.frames = steady.size();
    if (steady.empty()) return st;
    st.median_ms = percentile(steady, 0.5);
    st.p95_ms = percentile(steady, 0.95);
    st.max_ms = *std::max_element(steady.begin(), steady.end());
    st.fps = st.median_ms > 0.0 ? 1000.0 / st.median_ms : 0.0;
    return st;
}

CellView animate_view(int frame, int rows, int cols, int period, float min_cells) {
    period = std::max(period, 1);
    const int f = ((frame % period) + period) % period;
    const double t = static_cast<double>(f) / static_cast<double>(period);
    const double two_pi = 2.0 * std::numbers::pi;
    const double zoom = 0.5 - 0.5 * std::cos(two_pi * t);  // 0 → 1 → 0
    const double W = std::max(cols, 1), H = std::max(rows, 1);
    const double w_end = std::min(static_cast<double>(min_cells), W), h_end = std::min(static_cast<double>(min_cells), H);
    const double w = W * std::pow(w_end / W, zoom), h = H * std::pow(h_end / H, zoom);
    const double cx = W * (0.5 + 0.3 * std::sin(two_pi * t)), cy = H * (0.5 + 0.3 * std::sin(2.0 * two_pi * t));
    const CellView v{static_cast<float>(cx - w / 2), static_cast<float>(cy - h / 2), static_cast<float>(cx + w / 2),
                     static_cast<float>(cy + h / 2)};
    return pan_view(v, 0.0f, 0.0f, rows, cols);  // kept inside the matrix
}

}  // namespace attnviz::app
