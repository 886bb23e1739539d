// attnviz session — what the command line asks of the window: its options, plain structs (no
// window code), so the headless command line (app/cli/) can parse them without linking the window.
#pragma once

#include <string>

namespace attnviz::app {

struct ReliabilityOptions {
    std::string state_dir;       // "" = $XDG_STATE_HOME/attnviz or ~/.local/state/attnviz
    bool autosave = true;        // --no-autosave turns it off
    bool restore = false;        // --restore: restore a crashed session's scene without asking
    std::string test_edit;       // --test-edit TEXT: set the text through AppState::edit at start (app/dev/dev_hooks.hpp)
    int soak = 0;                // --soak N: N random edits, one per frame, then exit (see app/dev/soak.hpp)
    unsigned soak_seed = 1;
};

struct WindowOptions {
    std::string scene_path;   // empty: the default lecture scene
    int frames = 0;           // >0: quit after this many frames (tests, benchmarks)
    std::string screenshot;   // with frames: PNG of the last frame
    int width = 1280, height = 720;
    bool frame_stats = false; // print median / p95 frame time at exit
    std::string dump_state;   // write AppState::state_json() here whenever it changes
    float ui_scale = 0.0f;    // fonts and sizes ×k (projectors); 0 = the monitor's content scale
    ReliabilityOptions reliability;  // autosave, restore, soak (app/session/recovery.hpp)
    bool presentation = false;  // [lecture] start in the presentation view (F5)
    int math_step = 0;                // > 0: start the step-by-step math at this step (1..8)
    bool animate_view = false;  // move the main heatmap's view along a fixed pan/zoom path every frame (app/dev/measure.hpp)
    std::string model_dir;      // --model DIR: a GPT-2 folder as the document (app/session/model_doc.hpp)
    std::string model_text;     // --text: its text (default: a short sentence)
};

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

// The window's entry points, handed to the command line by main() (null when the program was
// built without the window: ATTNVIZ_BUILD_APP=OFF).
struct WindowEntry {
    int (*run_window)(const WindowOptions&) = nullptr;
    int (*run_render)(const RenderOptions&) = nullptr;
};

}  // namespace attnviz::app
