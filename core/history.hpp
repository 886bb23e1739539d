// attnviz core — undo/redo of scene edits.
//
// Whole-scene snapshots (a scene is small next to its forward pass), bounded by count and by bytes:
// the oldest steps are dropped first. Continuous edits — a slider dragged over many frames — carry
// a key ("heads[0].W_Q[2][1]"); a push with the same key as the previous one, within
// `coalesce_window` of it, joins that step, so one drag is one undo step.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>

#include "scene.hpp"

namespace attnviz {

// Approximate bytes a scene holds (matrices, tokens, mask, text).
std::size_t scene_memory_bytes(const Scene& s);

class History {
public:
    using Clock = std::chrono::steady_clock;

    struct Options {
        std::size_t max_steps = 500;
        std::size_t max_bytes = std::size_t(512) << 20;  // undo + redo snapshots together
        Clock::duration coalesce_window = std::chrono::milliseconds(750);
    };

    History() = default;
    explicit History(Options o) : opt_(o) {}

    // Records `before`, the scene as it was before an edit that has just been applied. With a
    // non-empty key equal to the previous push's key, within the window, the edit joins that step
    // (the older snapshot is kept). Any push clears the redo steps.
    void push(Scene before, const std::string& key = {}, Clock::time_point now = Clock::now());
    // The next push starts a new step even with the same key (e.g. the mouse was released).
    void break_coalescing() { last_key_.clear(); }

    // Replace `current` by the previous (next) state; `current` goes to the other stack.
    // Return false (changing nothing) when there is nothing to undo (redo).
    bool undo(Scene& current);
    bool redo(Scene& current);

    bool can_undo() const { return !undo_.empty(); }
    bool can_redo() const { return !redo_.empty(); }
    std::size_t undo_size() const { return undo_.size(); }
    std::size_t redo_size() const { return redo_.size(); }
    std::size_t bytes() const { return bytes_; }
    void clear();
    const Options& options() const { return opt_; }

private:
    struct Step {
        Scene scene;
        std::size_t bytes = 0;
    };
    void trim();

    Options opt_;
    std::deque<Step> undo_, redo_;  // back() is the most recent
    std::size_t bytes_ = 0;
    std::string last_key_;
    Clock::time_point last_time_{};
};

}  // namespace attnviz
