// attnviz app — the one UI state struct. Free functions take it by reference.
//
// The scene and its forward pass come from core; the app only keeps what the user is looking at
// (selection, view options) and never computes attention itself.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine.hpp"
#include "lecture_state.hpp"  // [lecture]
#include "plots_view.hpp"
#include "history.hpp"
#include "scene.hpp"

namespace attnviz::app {

// View options that persist (saved with imgui.ini-like settings later): a plain struct.
struct ViewOptions {
    Stage stage = Stage::Pattern;   // which stage the heatmap shows
    bool transpose = false;         // queries as columns (as in the 3Blue1Brown lecture)
    int colormap = 0;               // index into the colormap list
    bool show_values = true;        // numbers in cells when they fit
    float font_size = 18.0f;
};

struct Selection {
    int head = 0;       // selected head
    int query = -1;     // selected query row (-1: none)
    int key = -1;       // selected key column (-1: none)
    int hover_query = -1, hover_key = -1;  // hovered cell this frame (any view)
};

struct AppState {
    // -- the document --
    Scene scene;
    std::string scene_path;          // where it was loaded from / saved to
    bool modified = false;
    // -- derived from the scene by core --
    Forward fwd;                     // recomputed after every edit
    Forward fwd_unmasked;            // the same scene without a mask (compare view)
    // -- what the user looks at --
    Selection sel;
    ViewOptions view;
    std::string status;              // last message (errors in red)
    bool status_is_error = false;
    // -- panels shown --
    bool show_tokens = true, show_model = true, show_heatmap = true, show_grid = true, show_compare = true,
         show_shift = true, show_qk = true, show_weights = true, show_inspector = true;

    // -- the plot and editor panels' options and caches (app/plots_view.hpp) --
    PlotsView plots;
    // -- undo/redo: core's bounded snapshot history (coalesces continuous edits by key) --
    History history;
    std::uint64_t revision = 0;      // +1 on every change of the scene (autosave watches it)
    LectureState lecture;            // [lecture] math panel, presentation view, lecture scenes

    // Every edit of the scene goes through here: runs `f(scene)`; on SceneError the scene is
    // restored and the message shown; on success the old scene goes on the undo stack, the scene
    // is marked modified and everything is recomputed. Returns whether the edit was applied.
    template <class F>
    bool edit(F&& f) {
        return edit(std::string(), std::forward<F>(f));
    }
    // The same, for a continuous edit (a slider drag): edits with the same `key` in quick
    // succession become one undo step.
    template <class F>
    bool edit(const std::string& key, F&& f) {
        Scene before = scene;
        try {
            f(scene);
        } catch (const SceneError& e) {
            scene = std::move(before);
            set_error(e.what());
            return false;
        }
        history.push(std::move(before), key);
        modified = true;
        recompute();
        return true;
    }
    bool undo();
    bool redo();
    bool can_undo() const { return history.can_undo(); }
    bool can_redo() const { return history.can_redo(); }

    // Recompute everything derived from the scene (call after every edit).
    void recompute();
    // Clamp the selection to the scene's sizes.
    void clamp_selection();
    void set_error(const std::string& msg) { status = msg; status_is_error = true; }
    void set_info(const std::string& msg) { status = msg; status_is_error = false; }
};

}  // namespace attnviz::app
