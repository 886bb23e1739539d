// attnviz core — undo/redo of scene edits.
//
// Bounded by count and by bytes: the oldest steps are dropped first. Continuous edits — a slider
// dragged over many frames, a word typed letter by letter — carry a key ("heads[0].W_Q[2][1]"); a
// push with the same key as the previous one, within `coalesce_window` of it, joins that step, so
// one drag is one undo step.
//
// A step is either
//   - compact: what an edit replaced, for an edit that classify_change (edit_kind.hpp) calls None,
//     Token, HeadWeights or Output — the token's embedding row, the head's W_Q/W_K/W_V, W_O, the
//     tokens whose text or place in the text changed — plus the scene's small fields (title, text,
//     flags, settings; no matrices). At n = 32,768 and d_model = 768 a one-word step holds ~0.9 MB
//     when the word's length changed in the middle of the text (the tokens after it moved), a few
//     kB when it did not, instead of a ~110 MB snapshot; or
//   - a full snapshot of the scene before the edit (anything else: sizes, mask, seed, several
//     tokens, …, and push(Scene)).
// Undo swaps a compact step's contents with the scene's (the step then holds what redo needs), so
// undo and redo of one word cost O(d_model + the tokens that moved), and restore bit for bit.
//
// A compact step only describes the scene it was recorded after: undo(current) expects `current` to
// be the scene as it was after the last step (true when every change goes through the history).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "edit_kind.hpp"
#include "scene.hpp"

namespace attnviz {

// Approximate bytes a scene holds (matrices, tokens, mask, text).
std::size_t scene_memory_bytes(const Scene& s);
// The same, without its arrays (embeddings, tokens, weights, W_O, an explicit mask's cells): what a
// compact step keeps of the scene besides the parts an edit replaced.
std::size_t scene_fields_bytes(const Scene& s);

// Makes `to` equal `from`, where change = classify_change(to, from): copies only what that kind of
// change can have touched (the token's row, the head's matrices, W_O, the tokens that differ, the
// small fields), or the whole scene for Kind::Other. The app keeps its last committed scene this
// way, so an edit never copies the whole scene.
void follow_change(Scene& to, const Scene& from, const SceneChange& change);

// The coalescing key of a text field's edit, so that typing is undone word by word: `field` and
// the number of words begun in `text` (a word begins at a space that follows a non-space).
// "the" → "text#0", "the q" … "the quick" → "text#1": the space that starts the next word starts
// a new undo step. With History's time window, a pause also starts one.
std::string typing_key(const std::string& field, const std::string& text);

class History {
public:
    using Clock = std::chrono::steady_clock;

    struct Options {
        std::size_t max_steps = 500;
        std::size_t max_bytes = std::size_t(512) << 20;  // undo + redo steps together
        Clock::duration coalesce_window = std::chrono::milliseconds(1000);  // a pause this long starts a new step
    };

    History() = default;
    explicit History(Options o) : opt_(o) {}

    // Records `before`, the scene as it was before an edit that has just been applied, as a full
    // snapshot. With a non-empty key equal to the previous push's key, within the window, the edit
    // joins that step (the older state is kept). Any push clears the redo steps.
    void push(Scene before, const std::string& key = {}, Clock::time_point now = Clock::now());
    // Records the edit from `before` to `after` (the scene now), where
    // change = classify_change(before, after): compactly for None / Token / HeadWeights / Output,
    // else as a full snapshot of `before`. Keys join steps as above; a compact step that is joined
    // by an edit of another token, head or W_O grows to hold that too, and becomes a full snapshot
    // when an edit of another kind joins it.
    void push(const Scene& before, const Scene& after, const SceneChange& change, const std::string& key = {},
              Clock::time_point now = Clock::now());
    // The next push starts a new step even with the same key (e.g. the mouse was released).
    void break_coalescing() { last_key_.clear(); }

    // Replace `current` by the previous (next) state; what `current` was goes to the other stack.
    // Return false (changing nothing) when there is nothing to undo (redo). A compact step whose
    // sizes do not match `current` (the scene was replaced behind the history's back) cannot be
    // applied: the history is cleared and false returned.
    bool undo(Scene& current);
    bool redo(Scene& current);

    bool can_undo() const { return !undo_.empty(); }
    bool can_redo() const { return !redo_.empty(); }
    std::size_t undo_size() const { return undo_.size(); }
    std::size_t redo_size() const { return redo_.size(); }
    std::size_t bytes() const { return bytes_; }  // what the undo and redo steps hold
    // The most recent undo step: its bytes and whether it is compact (0 / false when none).
    std::size_t last_step_bytes() const { return undo_.empty() ? 0 : undo_.back().bytes; }
    bool last_step_compact() const { return !undo_.empty() && !undo_.back().full; }
    void clear();
    const Options& options() const { return opt_; }

private:
    struct Step {
        std::optional<Scene> full;  // a full snapshot, or else the compact parts below:
        Scene fields;               // the small fields (every array empty; see scene_fields_bytes)
        int n = 0, m = 0, d_model = 0, n_heads = 0, d_head = 0;  // the sizes the step applies to
        std::vector<int> rows;      // input embedding rows held, and their values (rows.size(), d_model)
        Mat row_values;
        std::vector<int> heads;     // heads held, and their W_Q, W_K, W_V
        std::vector<std::array<Mat, 3>> head_values;
        bool has_W_O = false;
        Mat W_O;
        int tokens_from = 0;        // input.tokens[tokens_from, tokens_from + tokens.size())
        std::vector<Token> tokens;
        int source_tokens_from = 0;  // source->tokens[…]
        std::vector<Token> source_tokens;
        std::size_t bytes = 0;
    };
    static std::size_t step_bytes(const Step& st);
    static Step compact_step(const Scene& before, const Scene& after, const SceneChange& change);
    static void swap_into(Step& st, Scene& current);  // exchanges the step's contents with the scene's
    static bool fits(const Step& st, const Scene& s);
    void join(Step& st, const Scene& before, const Scene& after, const SceneChange& change);
    bool step_back(std::deque<Step>& from, std::deque<Step>& to, Scene& current);
    void add_step(Step st);
    void trim();

    Options opt_;
    std::deque<Step> undo_, redo_;  // back() is the most recent
    std::size_t bytes_ = 0;
    std::string last_key_;
    Clock::time_point last_time_{};
};

}  // namespace attnviz
