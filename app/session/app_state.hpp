// attnviz app — the one UI state struct. Free functions take it by reference.
//
// The scene and its forward pass come from core; the app only keeps what the user is looking at
// (selection, view options) and never computes attention itself.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "document.hpp"
#include "engine.hpp"
#include "file_browser.hpp"
#include "incremental.hpp"
#include "lecture_state.hpp"  // [lecture]
#include "pattern_source.hpp"
#include "plots_view.hpp"
#include "history.hpp"
#include "scene.hpp"
#include "wide_chars.hpp"

namespace attnviz::app {

// View options that persist (saved with imgui.ini-like settings later): a plain struct.
struct ViewOptions {
    Stage stage = Stage::Pattern;   // which stage the heatmap shows
    bool transpose = false;         // queries as columns (as in the 3Blue1Brown lecture)
    int colormap = 0;               // index into the colormap list
    bool show_values = true;        // numbers in cells when they fit
    bool auto_range = false;        // weights: colour range from the data instead of 0..1
    bool auto_range_forced = false; // long mode switched auto_range on (it goes off when long mode ends)
    float font_size = 18.0f;
    bool figure_dark = false;       // "Export SVG": dark theme (light text on a dark background)
    bool log_scale = false;         // weights coloured by their log (sink-aware colour)
    bool exclude_first = false;     // weights' colour range without the first key (the attention sink)
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

// The user's document, put aside while the presentation deck shows lecture scenes (document.hpp).
struct StashedDocument {
    Scene scene;
    std::string scene_path;
    bool modified = false;
    History history;
    DocumentOrigin origin;
    Selection sel;
    int lecture_index = -1;
    int math_step = 1;
    std::string text_input, source_input;
};

struct Recovery;  // app/session/recovery.cpp
class ModelDoc;   // app/session/model_doc.hpp
struct LongView;  // app/session/long_state.hpp
struct TrainWorkspace;  // app/session/train_session.hpp

struct AppState {
    // -- the document --
    Scene scene;
    std::string scene_path;          // where it was loaded from / saved to
    bool modified = false;
    DocumentOrigin origin;           // the text, title and description as opened or last saved
    PendingSwitch pending_switch;    // a switch of document waiting for "unsaved changes?" (document.hpp)
    std::shared_ptr<StashedDocument> stashed;  // the user's document while the deck presents lecture scenes
    bool discarded_changes = false;  // the user chose Discard for unsaved changes and nothing was opened since (recovery keeps a copy at quit)
    std::uint64_t saves = 0;         // documents saved so far (recovery drops the discarded copy after one)
    // A GPT-2 model folder opened in the window (app/session/model_doc.hpp): while set, it is the
    // document and views read its selected layer through patterns(); null while a hand-made scene
    // is the document.
    std::shared_ptr<ModelDoc> model;
    // -- derived from the scene by core --
    Forward fwd;                     // updated after every edit (only what the edit changed)
    Forward fwd_unmasked;            // the same scene without a mask (compare view; empty when unmasked)
    // Long sequences: when a full Forward would not fit Limits::kLiveForwardBytes, `fwd` stays
    // empty and the heatmap and grid read core's PatternTiles through `long_view`
    // (app/session/long_state.hpp; opaque here).
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
    bool show_next_token = true, show_model_view = true;  // while a model is open

    // -- the plot and editor panels' options and caches (app/session/plots_view.hpp) --
    PlotsView plots;
    // -- undo/redo: core's bounded snapshot history (coalesces continuous edits by key) --
    History history;
    Scene committed;                 // the scene as of the last edit, undo, redo or recompute
    std::uint64_t revision = 0;      // +1 on every change of the scene (autosave watches it)
    LectureState lecture;            // [lecture] math panel, presentation view, lecture scenes

    // -- window and panel state (UI only; no GL or ImGui types here) --
    std::uint64_t generation = 0;    // +1 on every recompute: views re-upload when it changes
    bool show_files = true;
    bool show_help = false;          // Help: keys and mouse (F1)
    int workspace = 0;               // 0: attention patterns, 1: embeddings & weights, 2: step-by-step math, 3: train,
                                     // 4: model analysis (while a model is open; app/ui/panels.hpp Workspace)
    // The Train workspace: a small model trained live on its own worker thread (made when first shown).
    std::shared_ptr<TrainWorkspace> train;
    bool quit_requested = false;     // confirmed: the window closes (ask with request_quit())
    bool reset_layout = false;       // place every panel at its default rectangle next frame
    // Where each panel is, as fractions (x, y, w, h) of the window when it was last a usable size:
    // after a resize the panels are put back at the same fractions of the new size (a window
    // shrunk to 100×100 and restored does not leave them piled at the top left).
    std::map<std::string, std::array<float, 4>> panel_layout;
    float layout_display_w = 0, layout_display_h = 0;  // the display size the panels were last placed for
    bool layout_usable = true;       // the display is large enough for the layout (imgui.ini is saved only then)
    std::string text_input;          // tokens panel: the text box while it is being edited
    std::string source_input;        // tokens panel: the source text box
    int token_edit = -1;             // tokens panel: the chip being edited (-1: none)
    std::string token_edit_text;
    WideChars wide_chars;            // characters above U+FFFF in the 16-bit text fields (wide_chars.hpp)
    std::string glyph_text;          // text a panel will draw beyond the scene's (file names): the font atlas covers it
    std::string title_input;         // tokens panel: the title field while it is being edited
    std::string description_input;   // tokens panel: the description field
    std::string path_input;          // files panel: the path field
    std::string path_input_for;      // the document path the field was last set from (it follows the document)
    FileBrowser browser;             // the Open / Save as browser (app/session/file_browser.hpp)
    std::vector<std::string> recent; // most recent first
    std::string config_dir;          // where imgui.ini and recent.txt live ("" = none)
    std::string export_dir = ".";    // where panel exports go
    std::vector<PngExport> png_exports;  // pending screen captures (the window writes them)
    // Screen rectangles (x0, y0, x1, y1) of the main controls, by name ("model.heads",
    // "tokens.text", "mask.causal", …): written to the state dump so scripts can drive the window.
    std::map<std::string, std::array<float, 4>> ui_rects;
    // The analysis panels of a model (head labels, interventions, logit lens): their options and
    // results, computed on their own worker (app/session/model_analysis.hpp; made while a model is open).
    std::shared_ptr<class ModelAnalysis> analysis;
    bool show_head_labels = false, show_interventions = false, show_logit_lens = false;
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
        if (model) {
            set_error("a model is open: its weights are read-only here (edits are for hand-made scenes)");
            return false;
        }
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
    // The text box (field "text") or the source text box (field "source") as typed so far: one
    // edit per keystroke, undone a word at a time (core's typing_key) or after a pause.
    bool type_text(const std::string& field, const std::string& text);
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
    // Where views read the scene's attention patterns (core/pattern_source.hpp): the full forward
    // pass, or in long mode core's PatternTiles once their statistics are ready (null while they
    // are being built or updated). Views ask it and never branch on long mode; a view that needs
    // every pattern at once asks patterns()->full().
    std::shared_ptr<const PatternSource> patterns() const;
    // The forward pass without the mask (the compare view): `fwd` itself when there is no mask.
    const Forward& unmasked() const { return scene.mask.type == MaskType::None ? fwd : fwd_unmasked; }
    // Clamp the selection to the scene's sizes.
    void clamp_selection();
    // Replace the document (after a load): no undo history, not modified.
    void set_scene(Scene s, const std::string& path);
    // Open / save a scene file; errors go to the status line and the current scene is kept.
    // open_file replaces the document at once (use request_open to ask about unsaved changes first).
    // save_file never writes into the bundled lecture scenes (paths.hpp is_bundled_path): a save
    // there becomes a save into the documents folder (documents_dir()), and the document follows it.
    bool open_file(const std::string& path);
    bool save_file(const std::string& path);
    // Save to the document's own path; an untitled document or a lecture scene is saved into the
    // documents folder under a new name. Returns whether it was written.
    bool save_current();
    // A new untitled scene (a short sentence, drawn weights); undo history cleared.
    void new_scene();

    // -- a GPT-2 model folder as the document (app/session/model_doc.hpp) --
    // Loads the folder and makes it the document (the hand-made scene is put aside, unmodified).
    // A malformed folder: the error (naming the file and tensor) on the status line, the current
    // document kept. Returns whether it opened. request_open_model asks about unsaved changes first.
    bool open_model(const std::string& dir, const std::string& text = "");
    bool request_open_model(const std::string& dir);
    // Closes the model: a new untitled scene is the document (opening a scene file, a new scene or
    // the presentation deck also close the model).
    void close_model();
    // Once a frame: adopts finished forward passes (generation +1 when one was adopted) and shows
    // their errors. True when something changed.
    bool poll_model();
    // While a model is the document, `scene`, `fwd` and `fwd_unmasked` mirror its selected layer
    // (a read-only stand-in: tokens = the model's pieces, the residual stream x_l as embeddings,
    // the layer's per-head slices of W_qkv and its W_o, the layer's mask) so that every view that
    // reads the scene's sizes, mask and labels shows the layer; patterns() reads the layer itself.
    // Called by poll_model when a result or the selected layer changed. Views never edit it:
    // edit() refuses while a model is open.
    void sync_model_view();
    int model_view_layer = -1;                 // the layer `scene` mirrors (-1: none yet)
    std::uint64_t model_view_generation = 0;   // the ModelDoc generation it mirrors

    // -- switching documents (document.hpp) --
    // Runs `perform` now when there is nothing unsaved; else keeps it pending until
    // resolve_unsaved. Returns whether it ran now. The deck is ended first (the user's document is
    // the one the question is about).
    bool request_switch(const std::string& what, std::function<void()> perform);
    bool request_open(const std::string& path);
    bool request_new();
    bool request_quit();
    // The user's answer: Save (then switch, only when the save worked), Discard (switch), Cancel.
    void resolve_unsaved(UnsavedChoice choice);
    // The unsaved changes to ask about: the user's document (put aside by the deck, or shown).
    bool has_unsaved_changes() const { return stashed ? stashed->modified : modified; }

    // -- the presentation deck (document.hpp) --
    // Shows lecture scene `scene` (loaded from `path`) in place of the user's document, putting the
    // document aside the first time.
    void present_scene(Scene scene, const std::string& path);
    // Puts the user's document back (nothing when the deck is not showing).
    void end_deck();
    bool deck_active() const { return stashed != nullptr; }

    // -- what the document shows --
    // The text was changed while the title was kept: the file's title and description describe
    // another sentence.
    bool diverged() const;
    // The title to show: the scene's, "Untitled (from <title>)" when diverged, "untitled" when none.
    std::string display_title() const;
    // The description to show ("" when diverged).
    std::string display_description() const;
    // A file-name stem for exports: the file's stem, or "untitled" (diverged or no file).
    std::string export_stem() const;
    // "attnviz — <title>* (<file>)"
    std::string window_title() const;
    // A JSON summary of the state (tokens, sizes, mask, selection, …) for tests and scripts.
    std::string state_json() const;
    // Recent files: kept in <config_dir>/recent.txt, most recent first, at most 10.
    void add_recent(const std::string& path);
    void load_recent();
    void save_recent() const;
    // Autosave and crash recovery (app/session/recovery.cpp; opaque here).
    std::shared_ptr<Recovery> recovery;

    void set_error(const std::string& msg) { status = msg; status_is_error = true; }
    // A successful edit clears an error left on the status line.
    void clear_error() {
        if (status_is_error) status.clear();
        status_is_error = false;
    }
    void set_info(const std::string& msg) { status = msg; status_is_error = false; }
};

}  // namespace attnviz::app
