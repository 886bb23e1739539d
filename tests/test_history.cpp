// Undo/redo: snapshots, coalescing of continuous edits, bounds on steps and bytes.
#include <doctest/doctest.h>

#include "history.hpp"

using namespace attnviz;
using namespace std::chrono_literals;

namespace {
Scene base() { return make_scene({"a", "b", "c"}, 4, 2, 2, 1); }
float w00(const Scene& s) { return s.heads[0].W[kQuery](0, 0); }
}  // namespace

TEST_CASE("undo and redo walk the edits back and forth") {
    History h;
    Scene s = base();
    const float original = w00(s);
    for (int v = 1; v <= 3; ++v) {
        h.push(s);
        set_weight(s, 0, kQuery, 0, 0, static_cast<float>(v));
    }
    CHECK(h.undo_size() == 3);
    CHECK(h.undo(s));
    CHECK(w00(s) == 2.0f);
    CHECK(h.undo(s));
    CHECK(h.undo(s));
    CHECK(w00(s) == original);
    CHECK_FALSE(h.undo(s));  // nothing left: unchanged
    CHECK(w00(s) == original);
    CHECK(h.redo(s));
    CHECK(w00(s) == 1.0f);
    CHECK(h.redo(s));
    CHECK(h.redo(s));
    CHECK(w00(s) == 3.0f);
    CHECK_FALSE(h.redo(s));
    // A new edit after an undo drops the redo steps.
    h.undo(s);
    h.push(s);
    set_weight(s, 0, kQuery, 0, 0, 9.0f);
    CHECK_FALSE(h.can_redo());
    h.undo(s);
    CHECK(w00(s) == 2.0f);
}

TEST_CASE("a slider drag with one key is one undo step; a pause or another key starts a new one") {
    History h;
    Scene s = base();
    const float original = w00(s);
    const auto t0 = History::Clock::time_point{} + 10s;
    // 60 frames of dragging, 16 ms apart: 960 ms in all, but never 750 ms between two.
    for (int f = 0; f < 60; ++f) {
        h.push(s, "heads[0].W_Q[0][0]", t0 + f * 16ms);
        set_weight(s, 0, kQuery, 0, 0, 0.1f * static_cast<float>(f + 1));
    }
    CHECK(h.undo_size() == 1);
    // Another key right away: a new step.
    h.push(s, "temperature", t0 + 60 * 16ms);
    set_temperature(s, 2.0f);
    CHECK(h.undo_size() == 2);
    // The same first key again after a pause of 2 s: a new step.
    h.push(s, "heads[0].W_Q[0][0]", t0 + 3s);
    set_weight(s, 0, kQuery, 0, 0, -1.0f);
    CHECK(h.undo_size() == 3);
    h.undo(s);
    CHECK(w00(s) == doctest::Approx(6.0f));
    h.undo(s);
    CHECK(s.temperature == 1.0f);
    h.undo(s);
    CHECK(w00(s) == original);  // the whole drag undone at once
    // Edits without a key never join.
    History k;
    k.push(s, "", t0);
    k.push(s, "", t0 + 1ms);
    CHECK(k.undo_size() == 2);
    // break_coalescing (mouse released) splits a run with the same key.
    History b;
    b.push(s, "x", t0);
    b.break_coalescing();
    b.push(s, "x", t0 + 1ms);
    CHECK(b.undo_size() == 2);
}

TEST_CASE("history is bounded by steps and by bytes, oldest first") {
    History::Options o;
    o.max_steps = 5;
    History h(o);
    Scene s = base();
    for (int v = 0; v < 12; ++v) {
        h.push(s);
        set_weight(s, 0, kQuery, 0, 0, static_cast<float>(v));
    }
    CHECK(h.undo_size() == 5);
    while (h.undo(s)) {}
    CHECK(w00(s) == 6.0f);  // the 5 newest steps remain: the states before edits 7..11 (values 6..10)

    // Bytes: one snapshot of a 3-token, d_model 4 scene is a few hundred bytes; 100 KB of history
    // holds far fewer than 200 snapshots of a 64-token, d_model 64 scene (each > 16 KB of embeddings).
    std::vector<std::string> toks(64, "t");
    Scene big = make_scene(toks, 64, 2, 32, 1);
    const std::size_t one = scene_memory_bytes(big);
    CHECK(one > 64 * 64 * 4);  // at least the embeddings
    History::Options ob;
    ob.max_bytes = 100 * 1024;
    History hb(ob);
    for (int i = 0; i < 200; ++i) hb.push(big);
    CHECK(hb.bytes() <= ob.max_bytes);
    CHECK(hb.undo_size() == ob.max_bytes / one);
    CHECK(hb.bytes() == hb.undo_size() * one);
    hb.clear();
    CHECK(hb.bytes() == 0);
    CHECK_FALSE(hb.can_undo());
}
