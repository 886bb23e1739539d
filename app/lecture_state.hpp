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
    Colormap colormap = Colormap::Cividis;  // colour-blind and projector safe
    float big_font_px = 40.0f;
    ImFont* big_font = nullptr;        // built at start by InitLectureFonts (nullptr: none)
    ImFont* mid_font = nullptr;
    // -- the lecture scenes (assets/scenes/*.json, in order) --
    std::vector<std::string> scene_files;
    int scene_index = -1;              // which of them is open (-1: another file)
    // -- the explanation of the selected query, recomputed when the selection or numbers change --
    QueryExplanation explanation;
    bool explanation_valid = false;
};

}  // namespace attnviz::app
