// Undo/redo: snapshots and compact steps (exact after any sequence of edits), coalescing of
// continuous edits, bounds on steps and bytes.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "edit_kind.hpp"
#include "helpers.hpp"
#include "history.hpp"
#include "scene_compare.hpp"

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
    // 60 frames of dragging, 16 ms apart: 960 ms in all, but never 1 s between two.
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

// ---------------------------------------------------------------------------------------------
// Compact steps: an edit of one token, one head or W_O keeps only what it replaced
// ---------------------------------------------------------------------------------------------
namespace {
const char* const kWords[] = {"cat", "dog", "a", "the", "blue", "verdant", "forest", "ox", "zebra", "it", "ran", "far"};

std::string join_words(const std::vector<std::string>& w, const std::string& sep) {
    std::string out;
    for (std::size_t i = 0; i < w.size(); ++i) out += (i ? sep : "") + w[i];
    return out;
}

// One random edit of `s` (every kind classify_change knows, and size changes). Returns the key a
// continuous edit would carry ("" for none). May throw SceneError (e.g. a mask too wide): the test
// then checks that nothing changed.
std::string random_edit(Scene& s, std::mt19937& rng) {
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    auto value = [&] { return static_cast<float>(pick(2001) - 1000) / 250.0f; };
    auto word = [&] { return std::string(kWords[pick(12)]); };
    std::vector<std::string> words = token_texts(s.input.tokens);
    const int n = s.n();
    switch (pick(20)) {
        case 0:  // one token of a list
        case 1:
            if (n > 0) words[static_cast<std::size_t>(pick(n))] = word();
            set_tokens(s, words);
            return pick(2) ? "tokens" : "";
        case 2:  // one word of a text, typed (the offsets of the words after it move)
        case 3:
            if (n > 0) words[static_cast<std::size_t>(pick(n))] = word();
            set_text(s, join_words(words, pick(4) ? " " : "  "));
            return "text";
        case 4:  // the text's spacing alone
            set_text(s, join_words(words, pick(2) ? "   " : " "));
            return "text";
        case 5:  // a word inserted or removed while typing: the sizes change
            if (n > 1 && pick(2)) words.erase(words.begin() + pick(n));
            else words.insert(words.begin() + pick(n + 1), word());
            set_text(s, join_words(words, " "));
            return "text";
        case 6:  // one embedding value (the embeddings become given)
            if (n > 0) set_embedding(s, pick(n), pick(s.d_model), value());
            return pick(2) ? "embedding" : "";
        case 7:  // one weight of one head: a slider drag over heads
        case 8:
            set_weight(s, pick(s.n_heads), static_cast<Projection>(pick(3)), pick(s.d_model), pick(s.d_head), value());
            return "weights";
        case 9: {  // a whole matrix
            Mat w = Mat::Constant(s.d_model, s.d_head, value());
            set_weight_matrix(s, pick(s.n_heads), static_cast<Projection>(pick(3)), w);
            return "";
        }
        case 10:
            set_output_weight(s, pick(static_cast<int>(s.W_O.rows())), pick(s.d_model), value());
            return pick(2) ? "weights" : "W_O";
        case 11:  // title, description, view: nothing the forward pass reads
            s.title = "title " + word();
            if (pick(2)) s.view_json = "{\"head\": " + std::to_string(pick(3)) + "}";
            return "";
        case 12:  // scale and temperature both changed, the logits' factor the same: kind None
            if (s.scale) {
                set_scale(s, false);
                set_temperature(s, std::sqrt(static_cast<float>(s.d_head)) * s.temperature);
            } else {
                set_temperature(s, pick(2) ? 1.0f : 0.5f);
            }
            return "";
        case 13: set_mask(s, pick(2) ? Mask::causal() : Mask::sliding_window(1 + pick(3))); return "";
        case 14: set_n_heads(s, 1 + pick(4)); return "";
        case 15: set_d_model(s, 4 * (1 + pick(3))); return "";
        case 16:
            if (s.source && pick(2)) clear_source(s);
            else set_source_text(s, join_words({word(), word(), word()}, " "));
            return "";
        case 17: set_seed(s, static_cast<std::uint64_t>(pick(5))); return "";
        case 18:  // two tokens at once
            if (n > 1) {
                words[0] = word() + "x";
                words[static_cast<std::size_t>(n - 1)] = word() + "y";
            }
            set_tokens(s, words);
            return "tokens";
        default:  // an explicit mask
            if (pick(2)) {
                std::vector<std::uint8_t> cells(static_cast<std::size_t>(n) * s.m(), 1);
                set_mask(s, Mask::matrix(n, s.m(), cells));
            } else {
                set_positional(s, pick(2) ? Positional::Sinusoidal : Positional::None);
            }
            return "";
    }
}
}  // namespace

TEST_CASE("random edits of every kind, coalesced runs included: undo all gives the start exactly, redo all the end") {
    using namespace std::chrono_literals;
    for (unsigned seed = 1; seed <= 12; ++seed) {
        CAPTURE(seed);
        std::mt19937 rng(seed);
        Scene s = make_scene({"the", "cat", "sat", "on", "the", "mat", "and", "ran"}, 8, 3, 4, 5);
        History h;
        Scene mirror = s;               // what the app keeps as `committed`
        std::vector<Scene> checkpoints;  // the scene before each undo step
        std::string last_key;
        auto now = History::Clock::time_point{} + 100s;
        auto last_time = now;
        int compact = 0, kinds[5] = {};
        for (int e = 0; e < 160; ++e) {
            now += (rng() % 8 == 0) ? 2s : 16ms;  // now and then a pause: a new step
            const Scene before = s;
            std::string key;
            try {
                key = random_edit(s, rng);
            } catch (const SceneError&) {
                CHECK_SAME_SCENE(s, before);  // a refused edit changed nothing
                continue;
            }
            const SceneChange change = classify_change(mirror, s);
            ++kinds[static_cast<int>(change.kind)];
            const bool joins = !key.empty() && key == last_key && !checkpoints.empty() && now - last_time <= 1000ms;
            h.push(mirror, s, change, key, now);
            if (!joins) checkpoints.push_back(before);
            last_key = key;
            last_time = now;
            compact += h.last_step_compact() ? 1 : 0;
            follow_change(mirror, s, change);
            CHECK_SAME_SCENE(mirror, s);
            REQUIRE(h.undo_size() == checkpoints.size());
        }
        // every kind was tried, and many steps were compact
        for (int k = 0; k < 5; ++k) CHECK(kinds[k] > 0);
        CHECK(compact > 20);
        const Scene end = s;
        const std::size_t bytes = h.bytes();
        for (std::size_t k = checkpoints.size(); k-- > 0;) {
            REQUIRE(h.undo(s));
            CHECK_SAME_SCENE(s, checkpoints[k]);
        }
        CHECK_FALSE(h.undo(s));
        CHECK(h.redo_size() == checkpoints.size());
        for (std::size_t k = 1; k <= checkpoints.size(); ++k) {
            REQUIRE(h.redo(s));
            CHECK_SAME_SCENE(s, k < checkpoints.size() ? checkpoints[k] : end);
        }
        CHECK_FALSE(h.redo(s));
        CHECK(h.bytes() == bytes);  // the same steps hold the same contents again
        // Half way back, then a new edit: the redo steps are gone, the undo steps still exact.
        const std::size_t half = checkpoints.size() / 2;
        for (std::size_t k = checkpoints.size(); k > half; --k) REQUIRE(h.undo(s));
        CHECK_SAME_SCENE(s, checkpoints[half]);
        mirror = s;
        const Scene before = s;
        set_weight(s, 0, kKey, 0, 0, 0.125f);
        h.push(mirror, s, classify_change(mirror, s), "", now + 10s);
        CHECK_FALSE(h.can_redo());
        REQUIRE(h.undo(s));
        CHECK_SAME_SCENE(s, before);
        for (std::size_t k = half; k-- > 0;) {
            REQUIRE(h.undo(s));
            CHECK_SAME_SCENE(s, checkpoints[k]);
        }
    }
}

TEST_CASE("a compact step holds what the edit replaced: its bytes, and the limits count them") {
    std::vector<std::string> words;
    for (int i = 0; i < 64; ++i) words.push_back(test::word("w", i));
    const Scene start = make_scene(words, 64, 2, 32, 1);
    const std::size_t snapshot = scene_memory_bytes(start);  // > 64·64·4 embeddings + 2·3·64·32·4 weights
    const std::size_t fields = scene_fields_bytes(start);
    CHECK(fields < 1024);  // no arrays
    History h;
    Scene s = start;

    // one weight of head 1: the head's three 64×32 matrices and its index
    Scene before = s;
    set_weight(s, 1, kValue, 3, 4, 2.0f);
    h.push(before, s, classify_change(before, s));
    CHECK(h.last_step_compact());
    CHECK(h.last_step_bytes() == fields + 3 * 64 * 32 * 4 + sizeof(int));
    // one word, same length ("w10" → "x10"): its row, its index, the one token that differs
    before = s;
    words[10] = "x10";
    set_tokens(s, words);
    h.push(before, s, classify_change(before, s));
    CHECK(h.last_step_compact());
    CHECK(h.last_step_bytes() == fields + 64 * 4 + sizeof(int) + sizeof(Token) + 3);
    // W_O: (2·32) × 64
    before = s;
    set_output_weight(s, 0, 0, 1.0f);
    h.push(before, s, classify_change(before, s));
    const std::size_t fields_given = scene_fields_bytes(s);  // the same size: flags only changed
    CHECK(h.last_step_bytes() == fields_given + 64 * 64 * 4);
    // a new d_model: a full snapshot of the scene before
    before = s;
    set_d_model(s, 32);
    h.push(before, s, classify_change(before, s));
    CHECK_FALSE(h.last_step_compact());
    CHECK(h.last_step_bytes() == scene_memory_bytes(before));
    CHECK(h.bytes() == fields + 3 * 64 * 32 * 4 + sizeof(int) + fields + 64 * 4 + sizeof(int) + sizeof(Token) + 3 +
                           fields_given + 64 * 64 * 4 + scene_memory_bytes(before));
    // undo moves each step to the redo side: the compact ones keep their size (the same parts, the
    // other values), the snapshot becomes one of the scene it replaced
    const std::size_t total = h.bytes();
    const Scene last = s;
    while (h.undo(s)) {}
    CHECK(h.bytes() == total - scene_memory_bytes(before) + scene_memory_bytes(last));
    CHECK_SAME_SCENE(s, start);

    // A byte limit of 10 one-word steps keeps the 10 newest; the oldest go first.
    History::Options o;
    const std::size_t one = fields + 64 * 4 + sizeof(int) + sizeof(Token) + 3;
    o.max_bytes = 10 * one + one / 2;
    History small(o);
    s = start;
    words = token_texts(s.input.tokens);
    std::vector<Scene> states;
    for (int i = 0; i < 30; ++i) {
        before = s;
        states.push_back(before);
        words[static_cast<std::size_t>(i)] = test::word("y", 10 + i);  // same length as "w" + i for i ≥ 10
        if (words[static_cast<std::size_t>(i)].size() != before.input.tokens[static_cast<std::size_t>(i)].text.size())
            words[static_cast<std::size_t>(i)] = std::string(before.input.tokens[static_cast<std::size_t>(i)].text.size(), 'z');
        set_tokens(s, words);
        small.push(before, s, classify_change(before, s));
    }
    CHECK(small.undo_size() == 10);
    CHECK(small.bytes() == 10 * one);
    while (small.undo(s)) {}
    CHECK_SAME_SCENE(s, states[20]);
    // 512 MiB of one-word steps at this size is far more than max_steps: the step count rules
    CHECK(History::Options{}.max_bytes / one > History::Options{}.max_steps);
    CHECK(snapshot > 40 * one);
}

TEST_CASE("a compact step does not apply to a scene of other sizes: the history is cleared, the scene kept") {
    History h;
    Scene s = make_scene({"a", "b", "c"}, 4, 2, 2, 1);
    Scene before = s;
    set_weight(s, 0, kQuery, 0, 0, 3.0f);
    h.push(before, s, classify_change(before, s));
    Scene other = make_scene({"a", "b"}, 4, 2, 2, 1);  // replaced behind the history's back
    const Scene kept = other;
    CHECK_FALSE(h.undo(other));
    CHECK_SAME_SCENE(other, kept);
    CHECK_FALSE(h.can_undo());
    CHECK(h.bytes() == 0);
}

TEST_CASE("a full push with the key of a compact run makes the run's step whole") {
    using namespace std::chrono_literals;
    History h;
    Scene s = make_scene({"a", "b", "c"}, 4, 2, 2, 1);
    const Scene start = s;
    const auto t0 = History::Clock::time_point{} + 10s;
    Scene before = s;
    set_weight(s, 1, kKey, 1, 1, 5.0f);
    h.push(before, s, classify_change(before, s), "drag", t0);
    CHECK(h.last_step_compact());
    h.push(s, "drag", t0 + 16ms);  // the old call: a snapshot of the scene before this edit
    set_n_heads(s, 3);
    CHECK(h.undo_size() == 1);
    CHECK_FALSE(h.last_step_compact());
    REQUIRE(h.undo(s));
    CHECK_SAME_SCENE(s, start);
}

// If this fails, Scene gained or lost a member: copy it in history.cpp's scene_fields() (or list it
// among the arrays there), add it to tests/scene_compare.hpp, then update the size here.
TEST_CASE("Scene's members are the ones history.cpp copies") {
#if defined(__GLIBCXX__) && defined(__x86_64__)
    CHECK(sizeof(Scene) == 496);  // + model, model_dir (a lecture scene that opens a GPT-2 folder), copied at line 113
    CHECK(sizeof(Sequence) == 96);
    CHECK(sizeof(Mask) == 40);
    CHECK(sizeof(HeadWeights) == 80);
#endif
}
