// attnviz app — Help (F1, and the Help menu): every shortcut and mouse gesture of the window and
// the presentation view, as the key handling in app/ui implements them (window.cpp
// keyboard_shortcuts, lecture.cpp HandleLectureKeys, presentation.cpp handle_keys, heatmap.cpp's
// canvas, the plot panels' clicks). Keep this list and the handlers together.
#pragma once

#include <string>
#include <vector>

#include "app_state.hpp"

namespace attnviz::app {

struct HelpEntry {
    const char* where;    // "Everywhere", "Step-by-step math", "Presentation (F5)", "Heatmaps", …
    const char* keys;     // "Ctrl+Z"
    const char* action;   // "undo (typing is undone a word at a time)"
};
const std::vector<HelpEntry>& help_entries();

// F1 toggles the help window (any time, presentation included).
void HandleHelpKey(AppState& s);
// The help window, drawn over whatever the frame shows while s.show_help is set.
void DrawHelpWindow(AppState& s);
// The Help menu of the main menu bar (BeginMainMenuBar must be open).
void HelpMenu(AppState& s);

}  // namespace attnviz::app
