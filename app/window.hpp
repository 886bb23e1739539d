// attnviz app — the window.
#pragma once

#include <string>

namespace attnviz::app {

struct WindowOptions {
    std::string scene_path;   // empty: the default lecture scene
    int frames = 0;           // >0: quit after this many frames (tests, benchmarks)
    std::string screenshot;   // with frames: PNG of the last frame
    int width = 1280, height = 720;
    bool presentation = false;  // [lecture] start in the presentation view (F5)
};

// Opens the window and runs until it is closed. Returns the process exit code.
int run_window(const WindowOptions& opt);

// The default lecture scene: assets/scenes/ next to the executable (or in the source tree).
std::string default_scene_path();
std::string asset_path(const std::string& relative);

}  // namespace attnviz::app
