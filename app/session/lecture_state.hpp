// attnviz app — what lecture mode remembers (the math panel's step, presentation view, the
// lecture scene list). A member of AppState (`app.lecture`); no ImGui header here.
#pragma once

#include <string>
#include <vector>

#include "explain.hpp"
#include "figure.hpp"

struct ImFont;

namespace attnviz::app {

struct LectureState {
    // -- step-by-step math panel --
    bool show_math = true;
    int math_step = 1;                 // 1..8, the step the panel (and presentation) is at
    bool stage_follows_step = true;    // the heatmap shows the stage of the current step
    int scrolled_to_step = 0;          // the panel scrolled to this step already
    // -- presentation view (F5) --
    bool presentation = false;
    bool light_theme = true;           // high-contrast light colours for projectors
    int colormap = 2;                  // app/gfx Colormap index (the window's list): Cividis, colour-blind and projector safe
    float ui_scale = 1.0f;             // --ui-scale (or the monitor's): presentation text grows with it
    float big_font_px = 40.0f;         // the title's size at 1600×900 and ui scale 1
    float font_built_px = 40.0f;       // the size the big font was built at (its glyphs are scaled from it)
    ImFont* big_font = nullptr;        // built with the UI font (app/ui/fonts.cpp) (nullptr: none)
    ImFont* mid_font = nullptr;
    // -- the lecture scenes (assets/scenes/*.json, in order) --
    std::vector<std::string> scene_files;
    int scene_index = -1;              // which of them is open (-1: another file)
    // -- the explanation of the selected query, recomputed when the selection or numbers change --
    QueryExplanation explanation;
    bool explanation_valid = false;
};

}  // namespace attnviz::app
