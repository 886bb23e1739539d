#include "dev_hooks.hpp"

#include <cstdio>
#include <iostream>

#include "measure.hpp"
#include "panels.hpp"
#include "scene.hpp"
#include "scene_io.hpp"  // write_file_atomic

namespace attnviz::app {

void DevMark(DevHooks& d) { d.marks.push_back(ms_since_process_start()); }

void DevStart(AppState& s, const WindowOptions& opt, DevHooks& d) {
    d.opt = &opt;
    if (!opt.reliability.test_edit.empty()) s.edit([&](Scene& x) { set_text(x, opt.reliability.test_edit); });
    d.soaking = opt.reliability.soak > 0;
    if (d.soaking) SoakBegin(s, d.soak, opt.reliability.soak, opt.reliability.soak_seed);
}

bool DevDrawsFlatOut(const DevHooks& d) { return d.opt && (d.opt->frames > 0 || d.soaking || d.opt->animate_view); }

void DevAnimateView(AppState& s, int frame) {
    HeatmapView& hv = views(s).heatmap;
    if (hv.rows > 0 && hv.cols > 0) hv.view = animate_view(frame, hv.rows, hv.cols);
}

void DevFrameBegin(AppState& s, DevHooks& d, int frame) {
    if (d.opt->animate_view) DevAnimateView(s, frame);
    if (frame == kDevWarmupFrames) {
        d.texture_version_start = views(s).heatmap.texture_version;
        d.passes_start = views(s).heatmap.render_passes;
        d.cpu_start_ms = process_cpu_ms();
    }
}

bool DevFrameRendered(AppState& s, DevHooks& d) {
    const bool soak_more = !d.soaking || SoakFrame(s, d.soak);  // one random edit per rendered frame
    if (!d.opt->dump_state.empty()) {
        if (std::string j = s.state_json(); j != d.last_dump) {
            try {
                write_file_atomic(d.opt->dump_state, j + "\n");
            } catch (const SceneError& e) {
                std::cerr << "attnviz: --dump-state: " << e.what() << "\n";
            }
            d.last_dump = std::move(j);
        }
    }
    return soak_more;
}

void DevFrameEnd(DevHooks& d, double frame_ms) {
    d.frame_ms.push_back(frame_ms);
    if (d.frame_ms.size() != 1) return;
    d.first_frame_ms = ms_since_process_start();
    if (!d.opt->frame_stats) return;
    double m[5] = {-1, -1, -1, -1, -1};
    for (std::size_t k = 0; k < 5 && k < d.marks.size(); ++k) m[k] = d.marks[k];
    // at once (flushed), so a script can time the launch to this line from outside
    std::printf("first_frame_ms %.1f  (since the process started; at run_window %.1f, scene loaded %.1f, window open %.1f, "
                "fonts built %.1f, UI set up %.1f, first frame %.1f ms to draw)\n",
                d.first_frame_ms, m[0], m[1], m[2], m[3], m[4], d.frame_ms.front());
    std::fflush(stdout);
}

int DevFinish(AppState& s, const DevHooks& d) {
    if (d.opt->frame_stats) {
        // the first frames build fonts and textures: report them apart
        const FrameStats st = frame_stats(d.frame_ms, static_cast<std::size_t>(kDevWarmupFrames));
        const double cpu_per_frame = st.frames > 0 ? (process_cpu_ms() - d.cpu_start_ms) / static_cast<double>(st.frames) : 0.0;
        std::printf("frames %zu  median %.2f ms  p95 %.2f ms  max %.2f ms  (first %zu frames excluded)  fps %.1f  first_frame_ms %.1f"
                    "  cpu_ms_per_frame %.2f",
                    st.frames, st.median_ms, st.p95_ms, st.max_ms, st.skipped, st.fps, d.first_frame_ms, cpu_per_frame);
        if (d.opt->animate_view) {
            // over the measured frames: texture uploads (should be 0) and colour passes (one per frame)
            const HeatmapView& hv = views(s).heatmap;
            std::printf("  heatmap %dx%d  texture_version %llu -> %llu  colour_passes %llu", hv.rows, hv.cols,
                        static_cast<unsigned long long>(d.texture_version_start), static_cast<unsigned long long>(hv.texture_version),
                        static_cast<unsigned long long>(hv.render_passes - d.passes_start));
        }
        std::printf("\n");
        std::fflush(stdout);
    }
    return d.soaking ? SoakFinish(d.soak) : 0;
}

}  // namespace attnviz::app
