// attnviz app — lecture mode: the step-by-step math panel and the presentation view (F5).
//
// Hook-up (window.cpp, marked `// [lecture hook]`):
//   after adding the default font:   InitLectureFonts(app, base_px);   (before the first frame)
//   after loading the scene:         FindLectureScenes(app);
//   every frame, after NewFrame:     HandleLectureKeys(app);
//                                    if (app.lecture.presentation) DrawPresentation(app);
//                                    else { ...the normal panels...; DrawMathPanel(app); }
// All numbers come from core (explain_query); these functions only lay them out.
#pragma once

#include "app_state.hpp"

namespace attnviz::app {

// Merges the math glyphs (Greek, √, −, ∞, arrows, …) into the font added last (the default UI
// font, `base_px`), then adds the projector fonts (lecture.big_font_px and ~0.7 of it). Call
// once, before the font atlas is built (before the first NewFrame).
void InitLectureFonts(AppState& app, float base_px);

// The lecture scenes: assets/scenes/*.json in name order; marks the open one.
void FindLectureScenes(AppState& app);
// Opens lecture scene `index` (wraps around), applying its "view" presets (head, query, stage).
// Returns false (and sets the status message) when it cannot be loaded.
bool OpenLectureScene(AppState& app, int index);

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
