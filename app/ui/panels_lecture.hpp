// attnviz app — lecture mode: the step-by-step math panel and the presentation view (F5).
//
// Hook-up (app/ui/window.cpp calls these):
//   (the projector fonts lecture.big_font / mid_font are built with the UI's: app/ui/fonts.cpp)
//   after loading the scene:         FindLectureScenes(app);
//   every frame, after NewFrame:     HandleLectureKeys(app);
//                                    if (app.lecture.presentation) DrawPresentation(app);
//                                    else { ...the normal panels...; DrawMathPanel(app); }
// All numbers come from core (explain_query); these functions only lay them out.
#pragma once

#include "app_state.hpp"

namespace attnviz::app {

// The lecture scenes: assets/scenes/*.json in name order; marks the open one.
void FindLectureScenes(AppState& app);
// Opens lecture scene `index` (wraps around), applying its "view" presets (head, query, stage).
// Returns false (and sets the status message) when it cannot be loaded. With `deck` (the
// presentation view's PgDn/PgUp) the scene is shown in place of the user's document, which is put
// aside and comes back when the presentation ends (AppState::present_scene / end_deck); without,
// it replaces the document (ask first: AppState::request_switch).
bool OpenLectureScene(AppState& app, int index, bool deck = false);

// Selects the scene's "view" presets (head, query) and recomputes.
void ApplyViewPresets(AppState& app);

// F5 toggles the presentation view; outside text fields, ←/→ step the math, ↑/↓ pick the query.
void HandleLectureKeys(AppState& app);

// The explanation of the selected head and query, recomputed only when the selection or the
// numbers changed; nullptr when no query is selected.
const QueryExplanation* CurrentExplanation(AppState& app);
// Moves the math panel to `step` (clamped to 1..8); the heatmap stage follows when enabled.
void SetMathStep(AppState& app, int step);
// The heatmap stage that shows a math step: 2 raw scores, 3 scaled, 4 masked, else the pattern.
Stage StageForStep(int step);

void DrawMathPanel(AppState& app);
void DrawPresentation(AppState& app);

}  // namespace attnviz::app
