// attnviz app — the window, and the same drawing off-screen (`attnviz render`).
#pragma once

#include <string>

#include "recovery.hpp"

namespace attnviz::app {

struct WindowOptions {
    std::string scene_path;   // empty: the default lecture scene
    int frames = 0;           // >0: quit after this many frames (tests, benchmarks)
    std::string screenshot;   // with frames: PNG of the last frame
    int width = 1280, height = 720;
    bool frame_stats = false; // print median / p95 frame time at exit
    std::string dump_state;   // write AppState::state_json() here whenever it changes
    float ui_scale = 0.0f;    // fonts and sizes ×k (projectors); 0 = the monitor's content scale
    ReliabilityOptions reliability;  // autosave, restore, soak (app/recovery.hpp)
    bool presentation = false;  // [lecture] start in the presentation view (F5)
    bool animate_view = false;  // move the main heatmap's view along a fixed pan/zoom path every frame (app/measure.hpp)
};

// Opens the window and runs until it is closed. Returns the process exit code.
int run_window(const WindowOptions& opt);

struct RenderOptions {
    std::string scene_path;
    std::string out;                 // PNG
    std::string view = "window";     // window | heatmap | grid | compare
    int head = 0;
    int width = 1600, height = 900;
    std::string stage = "pattern";   // raw | scaled | masked | pattern (heatmap view)
    float ui_scale = 1.0f;           // fonts and sizes ×k
    bool transpose = false;          // queries as columns
};
// Draws exactly what the window draws into an off-screen framebuffer and writes it as PNG
// (needs an X display for the GL context; Xvfb is fine). Returns the process exit code.
int run_render(const RenderOptions& opt);

// The default lecture scene: assets/scenes/ next to the executable (or in the source tree).
std::string default_scene_path();
std::string asset_path(const std::string& relative);
// $XDG_CONFIG_HOME/attnviz or ~/.config/attnviz (created); "" when neither is usable.
std::string config_dir();

}  // namespace attnviz::app
