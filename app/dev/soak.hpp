// attnviz app — soak test: N random edits through the same paths as the UI (AppState::edit with
// core's editing API, undo/redo, scene switches), one per rendered frame, watching GL errors and
// resident memory. `attnviz --soak N [--soak-seed S]`.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "app_state.hpp"

namespace attnviz::app {

// One random edit (or undo/redo, scene switch, selection change, deliberately invalid edit).
// Returns whether the scene changed.
bool SoakStep(AppState& s, std::mt19937& rng);

// Resident memory of this process in KiB (from /proc/self/statm); -1 if unknown.
long ResidentKiB();

struct SoakRun {
    int target = 0;              // edits to apply
    int done = 0;                // steps taken
    int applied = 0, refused = 0;
    long gl_errors = 0;          // glGetError() results other than GL_NO_ERROR
    long rss_after_100 = -1;     // KiB after the first 100 edits
    long rss_end = -1;
    std::mt19937 rng;
    Scene baseline;              // the starting scene: memory is measured with it shown again
    int settle = 0;              // frames left to draw the baseline before measuring

};

// Before the loop: a history of 100 steps. Memory is measured twice in the same state — the
// starting scene shown again, the history cleared, freed heap returned (malloc_trim) — after
// the first 100 edits and after the last, so that growth between them means a leak, not the
// size of whatever scene the random edits ended on.
void SoakBegin(AppState& s, SoakRun& run, int edits, unsigned seed);
// Each frame, after rendering: counts GL errors, records memory, applies the next edit.
// Returns false when all edits are done.
bool SoakFrame(AppState& s, SoakRun& run);
// Prints the numbers; returns the exit code (1 on a GL error or > 10 % memory growth).
int SoakFinish(const SoakRun& run);

}  // namespace attnviz::app
