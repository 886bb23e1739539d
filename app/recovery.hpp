// attnviz app — autosave, crash recovery and undo keys: the calls the window loop makes.
//
//   RecoveryInit(s, opt)   after the scene is loaded: starts autosave (core's Autosave, its own
//                          thread), notices a crashed last session, restores it with --restore
//   HandleUndoKeys(s)      each frame after NewFrame: Ctrl+Z undo, Ctrl+Y / Ctrl+Shift+Z redo
//   RecoveryFrame(s)       each frame after every panel, just before ImGui::Render(): hands
//                          every change to autosave; draws the "Restore previous session?" popup
//                          when the last session crashed (last, because ImGui 1.86 asserts when a
//                          window is begun after a modal popup in the same frame: imgui#4920)
//   RecoveryShutdown(s)    on a normal exit: writes what is pending, marks the exit as clean
#pragma once

#include <string>

#include "app_state.hpp"

namespace attnviz::app {

struct ReliabilityOptions {
    std::string state_dir;       // "" = $XDG_STATE_HOME/attnviz or ~/.local/state/attnviz
    bool autosave = true;        // --no-autosave turns it off
    bool restore = false;        // --restore: restore a crashed session's scene without asking
    std::string test_edit;       // --test-edit TEXT: set the text through AppState::edit at start
    int soak = 0;                // --soak N: N random edits, one per frame, then exit (see soak.hpp)
    unsigned soak_seed = 1;
};

// What recovery keeps between frames (lives in AppState::recovery).
struct Recovery;

void RecoveryInit(AppState& s, const ReliabilityOptions& opt);
void RecoveryFrame(AppState& s);
void RecoveryShutdown(AppState& s);
void HandleUndoKeys(AppState& s);

// Replaces the scene by the autosaved one (an undoable edit). Returns whether it worked.
bool RecoveryRestore(AppState& s);

}  // namespace attnviz::app
