// attnviz dev — the window loop's dev-only hooks in one place, off the panels' code paths:
// --test-edit (an edit at start), --dump-state (the state as JSON whenever it changes), --soak
// (random edits, one per frame), --frame-stats and --animate-view (frame times, start-up
// milestones, the heatmap's pan/zoom path). The loop calls the Dev… functions below at fixed points;
// no panel knows about any of them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app_state.hpp"
#include "soak.hpp"
#include "window_options.hpp"

namespace attnviz::app {

struct DevHooks {
    const WindowOptions* opt = nullptr;
    bool soaking = false;
    SoakRun soak;
    std::string last_dump;                    // the state last written by --dump-state
    std::vector<double> marks;                // start-up milestones, ms since the process started
    std::vector<double> frame_ms;             // each frame's time
    double first_frame_ms = -1.0;
    std::uint64_t texture_version_start = 0, passes_start = 0;  // --animate-view: uploads must not grow, passes must
    double cpu_start_ms = 0.0;                // process CPU time when the measured frames begin
};

// Frames left out of --frame-stats: they build fonts and textures.
constexpr int kDevWarmupFrames = 3;

// A start-up milestone (at run_window, scene loaded, window open, fonts built, UI set up).
void DevMark(DevHooks& d);
// After the UI is set up (and autosave's recovery): --test-edit, then the soak's start.
void DevStart(AppState& s, const WindowOptions& opt, DevHooks& d);
// True while the loop should draw as fast as it can instead of waiting for input.
bool DevDrawsFlatOut(const DevHooks& d);
// Before the panels of frame `frame`: --animate-view moves the heatmap's view, the measured
// frames' counters start.
void DevFrameBegin(AppState& s, DevHooks& d, int frame);
// After the frame is rendered: the soak's next edit (false once every edit is done), then the
// state dump.
bool DevFrameRendered(AppState& s, DevHooks& d);
// After the swap: the frame's time; after the first frame with --frame-stats, the start-up line.
void DevFrameEnd(DevHooks& d, double frame_ms);
// At exit: --frame-stats' summary; the exit code (the soak's verdict, else 0).
int DevFinish(AppState& s, const DevHooks& d);
// --animate-view's step: the main heatmap shows animate_view(frame)'s cells (app/dev/measure.hpp).
void DevAnimateView(AppState& s, int frame);

}  // namespace attnviz::app
