// attnviz session — autosave and crash recovery: the calls the window loop makes (no window code;
// the "Restore previous session?" popup and the File → Recover menu are app/ui/panel_recovery.cpp).
//
//   RecoveryInit(s, opt)   after the scene is loaded: starts autosave (core's Autosave, its own
//                          thread, one session file per instance), finds every crashed session
//                          and the discarded copy, restores the newest crash with --restore
//   RecoveryAutosave(s)    each frame: hands changes to autosave (a large scene only once edits
//                          have paused for Autosave::quiet_for(its bytes): the copy is made once
//                          per pause, not once per edit); drops the discarded copy after a save
//   RecoveryFrame(s)       (app/ui) RecoveryAutosave, then the popup when sessions crashed
//   RecoveryShutdown(s)    on a normal exit: a quit that discarded changes keeps its last
//                          autosave as the discarded copy; otherwise this session's files go
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "autosave.hpp"

#include "app_state.hpp"
#include "window_options.hpp"

namespace attnviz::app {

// What recovery keeps between frames (lives in AppState::recovery).
struct Recovery {
    std::unique_ptr<Autosave> autosave;
    std::vector<Autosave::Found> found;   // crashed sessions (oldest first), then the discarded copy
    std::vector<std::pair<Autosave::Found, std::uint64_t>> restored;  // released once our own save passes this count
    std::uint64_t saved_revision = 0;     // the revision last handed to autosave
    std::uint64_t seen_revision = 0;      // the revision when the last change was noticed
    std::chrono::steady_clock::time_point last_change{};
    std::uint64_t seen_saves = 0;         // AppState::saves when last looked
    bool offer = false;                   // the popup is (to be) shown
    bool popup_opened = false;
    std::size_t crashed_count() const;
};

void RecoveryInit(AppState& s, const ReliabilityOptions& opt);
void RecoveryAutosave(AppState& s);
void RecoveryFrame(AppState& s);  // app/ui/panel_recovery.cpp
void RecoveryShutdown(AppState& s);

// Replaces the document by found session `index`'s autosaved scene (not an undo step: the
// history is cleared; marked modified, with the file it came from as its path). Its files are
// removed once this session has autosaved it. Returns whether it worked.
bool RecoveryRestore(AppState& s, std::size_t index);
// The newest crashed session (what --restore restores); -1 when none.
int RecoveryNewestCrash(const AppState& s);
// The user declined found session `index`: a crash's autosave becomes the discarded copy (still
// recoverable until a document is saved); the discarded copy itself is dropped.
void RecoveryDecline(AppState& s, std::size_t index);
// A line describing found session `index` for the popup and the menu.
std::string RecoveryLabel(const AppState& s, std::size_t index);

}  // namespace attnviz::app
