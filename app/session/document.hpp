// attnviz session — what belongs to the user's document, and the guard in front of replacing it.
//
// Every switch of document (open a file, a recent file, a lecture scene, New) and quitting goes
// through AppState::request_switch: with unsaved changes it waits for the user's choice
// (Save / Discard / Cancel; the window draws the question, app/ui/panel_unsaved.cpp), and the switch
// happens only after that choice. Opening a document clears the undo history: opening is not an
// undo step, so undo can never bring back other content under the new path.
//
// The presentation view's lecture deck (PgDn/PgUp) is its own thing: the first page turn puts the
// user's document aside (a StashedDocument, moved, not copied), the deck's scenes are shown in its
// place, and leaving the presentation puts the user's document back as it was, undo history included.
#pragma once

#include <functional>
#include <string>

#include "history.hpp"
#include "scene.hpp"

namespace attnviz::app {

// A switch of document waiting for the user's answer to "unsaved changes?".
struct PendingSwitch {
    std::string what;               // "quit", "open 06_multi_head.json", "new scene", … (for the dialog)
    std::function<void()> perform;  // does the switch (empty: nothing is pending)
    bool active() const { return static_cast<bool>(perform); }
};

enum class UnsavedChoice { Save, Discard, Cancel };

// Where a document came from: the text and title it had when it was opened or last saved. A
// scene whose text was changed while its title was not ("diverged") no longer shows the title and
// description of the file it came from (AppState::display_title).
struct DocumentOrigin {
    std::string text;
    std::string title;
    std::string description;
};

}  // namespace attnviz::app
