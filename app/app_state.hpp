// attnviz app — the one UI state struct. Free functions take it by reference.
//
// The scene and its forward pass come from core; the app only keeps what the user is looking at
// (selection, view options) and never computes attention itself.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine.hpp"
#include "incremental.hpp"
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
    bool auto_range = false;        // weights: colour range from the data instead of 0..1
    float font_size = 18.0f;
};

struct Selection {
    int head = 0;       // selected head
    int query = -1;     // selected query row (-1: none)
    int key = -1;       // selected key column (-1: none)
    int hover_query = -1, hover_key = -1;  // hovered cell this frame (any view)
    int shown_hover_query = -1, shown_hover_key = -1;  // last frame's hover: what views outline now
};

// A PNG of a screen rectangle (pixels, top-left origin), written after the frame is drawn.
struct PngExport {
    std::string path;
    float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

struct Recovery;  // app/recovery.cpp
struct LongView;  // app/long_view.hpp

struct AppState {
    // -- the document --
    Scene scene;
    std::string scene_path;          // where it was loaded from / saved to
    bool modified = false;
    // -- derived from the scene by core --
    Forward fwd;                     // updated after every edit (only what the edit changed)
    Forward fwd_unmasked;            // the same scene without a mask (compare view; empty when unmasked)
    // Long sequences: when a full Forward would not fit Limits::kLiveForwardBytes, `fwd` stays
    // empty and the heatmap and grid read core's PatternTiles through `long_view`
    // (app/long_view.hpp; opaque here).
    bool long_mode = false;
    std::shared_ptr<LongView> long_view;
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
    Scene committed;                 // the scene as of the last edit, undo, redo or recompute
    std::uint64_t revision = 0;      // +1 on every change of the scene (autosave watches it)
    LectureState lecture;            // [lecture] math panel, presentation view, lecture scenes

    // -- window and panel state (UI only; no GL or ImGui types here) --
    std::uint64_t generation = 0;    // +1 on every recompute: views re-upload when it changes
    bool show_files = true;
    int workspace = 0;               // 0: attention patterns, 1: embeddings & weights
    bool quit_requested = false;
    bool reset_layout = false;       // place every panel at its default rectangle next frame
    int animate_view_frame = -1;     // --animate-view: this frame's number (the heatmap's view follows animate_view()); -1 = off
    std::string text_input;          // tokens panel: the text box while it is being edited
    std::string source_input;        // tokens panel: the source text box
    int token_edit = -1;             // tokens panel: the chip being edited (-1: none)
    std::string token_edit_text;
    std::string path_input;          // files panel: the path field
    std::vector<std::string> recent; // most recent first
    std::string config_dir;          // where imgui.ini and recent.txt live ("" = none)
    std::string export_dir = ".";    // where panel exports go
    std::vector<PngExport> png_exports;  // pending screen captures (the window writes them)
    // Screen rectangles (x0, y0, x1, y1) of the main controls, by name ("model.heads",
    // "tokens.text", "mask.causal", …): written to the state dump so scripts can drive the window.
    std::map<std::string, std::array<float, 4>> ui_rects;
    // The heatmap widgets and other GPU-backed views (defined by the panels; opaque here).
    struct Views;
    std::shared_ptr<Views> views;

    // Every edit of the scene goes through here: runs `f(scene)`; on SceneError the scene is
    // restored and the message shown; on success the step goes on the undo stack, the scene is
    // marked modified and what the edit changed is recomputed. Returns whether it was applied.
    template <class F>
    bool edit(F&& f) {
        return edit(std::string(), std::forward<F>(f));
    }
    // The same, for a continuous edit (a slider drag): edits with the same `key` in quick
    // succession become one undo step.
    //
    // No copy of the scene is made: `f` edits it in place (core's editing functions change
    // nothing when they throw), and `committed` — the scene as of the last edit — is what the
    // edit is compared with (classify_change), recorded from (History keeps only what a one-token,
    // one-head or W_O edit replaced) and restored from when `f` throws after a partial change.
    template <class F>
    bool edit(const std::string& key, F&& f) {
        check_committed();
        try {
            f(scene);
        } catch (const SceneError& e) {
            scene = committed;  // `f` may have applied a first edit before a second one threw
            set_error(e.what());
            return false;
        }
        commit(key);
        return true;
    }
    // Records the change from `committed` to `scene` (undo step, `committed` follows) and updates
    // what depends on it. edit() calls it after `f`.
    void commit(const std::string& key = {});
    // A safety net for code that replaced `scene` without recompute(): when the sizes of
    // `committed` no longer match the scene's, recompute() (O(1) otherwise).
    void check_committed();
    bool undo();
    bool redo();
    bool can_undo() const { return history.can_undo(); }
    bool can_redo() const { return history.can_redo(); }

    // The scene was replaced or changed directly (not through edit): `committed` takes it as it
    // is, and everything derived from it is recomputed.
    void recompute();
    // Recompute everything derived from the scene (`committed` already equals it).
    void rebuild();
    // Update what an edit changed (core's classify_change of the scene before and after): one
    // token or one head's weights are updated in place (core/incremental.hpp), anything else is
    // recomputed.
    void apply_change(const SceneChange& change);
    // The forward pass without the mask (the compare view): `fwd` itself when there is no mask.
    const Forward& unmasked() const { return scene.mask.type == MaskType::None ? fwd : fwd_unmasked; }
    // Clamp the selection to the scene's sizes.
    void clamp_selection();
    // Replace the document (after a load): no undo history, not modified.
    void set_scene(Scene s, const std::string& path);
    // Open / save a scene file; errors go to the status line and the current scene is kept.
    bool open_file(const std::string& path);
    bool save_file(const std::string& path);
    // "attnviz — <title>* (<file>)"
    std::string window_title() const;
    // A JSON summary of the state (tokens, sizes, mask, selection, …) for tests and scripts.
    std::string state_json() const;
    // Recent files: kept in <config_dir>/recent.txt, most recent first, at most 10.
    void add_recent(const std::string& path);
    void load_recent();
    void save_recent() const;
    // Autosave and crash recovery (app/recovery.cpp; opaque here).
    std::shared_ptr<Recovery> recovery;

    void set_error(const std::string& msg) { status = msg; status_is_error = true; }
    void set_info(const std::string& msg) { status = msg; status_is_error = false; }
};

}  // namespace attnviz::app
