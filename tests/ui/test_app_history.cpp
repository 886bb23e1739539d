// AppState::edit, undo and redo with core's compact history: the scene comes back bit for bit,
// `committed` always equals the scene between edits, an edit that throws half way changes nothing,
// and the forward pass (or, in long mode, the statistics) matches the scene after every step.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "app_state.hpp"
#include "helpers.hpp"
#include "long_view.hpp"
#include "scene_compare.hpp"
#include "ui_helpers.hpp"

using namespace attnviz;
using namespace attnviz::app;
using attnviz::test::check_forward_is_full_recompute;

namespace {

// A random edit through the app (one word, spacing, a weight, W_O, an embedding, a title, the
// mask, the head count, a word inserted); keyed like the panels key their continuous edits.
bool random_app_edit(AppState& s, std::mt19937& rng) {
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    const char* words[] = {"owl", "cat", "a", "forest", "blue", "it"};
    auto toks = token_texts(s.scene.input.tokens);
    switch (pick(8)) {
        case 0:
            toks[static_cast<std::size_t>(pick(static_cast<int>(toks.size())))] = words[pick(6)];
            return s.edit("tokens", [&](Scene& x) { set_tokens(x, toks); });
        case 1: {
            toks[static_cast<std::size_t>(pick(static_cast<int>(toks.size())))] = words[pick(6)];
            std::string text;
            for (const auto& t : toks) text += t + (pick(3) ? " " : "  ");
            return s.edit("text", [&](Scene& x) { set_text(x, text); });
        }
        case 2:
            return s.edit("weights", [&](Scene& x) {
                set_weight(x, pick(x.n_heads), static_cast<Projection>(pick(3)), pick(x.d_model), pick(x.d_head),
                           static_cast<float>(pick(100)) / 50.0f - 1.0f);
            });
        case 3: return s.edit([&](Scene& x) { set_output_weight(x, pick(static_cast<int>(x.W_O.rows())), pick(x.d_model), 0.5f); });
        case 4: return s.edit([&](Scene& x) { set_embedding(x, pick(x.n()), pick(x.d_model), -0.75f); });
        case 5: return s.edit([&](Scene& x) { x.title = words[pick(6)]; });
        case 6: return s.edit([&](Scene& x) { set_mask(x, pick(2) ? Mask::causal() : Mask::none()); });
        default:
            if (pick(2)) return s.edit([&](Scene& x) { set_n_heads(x, 1 + pick(3)); });
            toks.insert(toks.begin() + pick(static_cast<int>(toks.size()) + 1), words[pick(6)]);
            return s.edit("text", [&](Scene& x) { set_tokens(x, toks); });
    }
}
}  // namespace

TEST_CASE("app: random edits, then undo all and redo all: the scenes bit for bit, the forward pass a full recompute") {
    for (unsigned seed = 1; seed <= 4; ++seed) {
        CAPTURE(seed);
        std::mt19937 rng(seed);
        AppState s;
        Scene start = make_scene({"a", "fluffy", "blue", "creature", "roamed", "the", "verdant", "forest"}, 16, 3, 4, 11);
        set_mask(start, Mask::causal());
        s.set_scene(start, "");
        for (int e = 0; e < 40; ++e) {
            REQUIRE(random_app_edit(s, rng));
            CHECK_SAME_SCENE(s.committed, s.scene);
        }
        check_forward_is_full_recompute(s);
        const Scene end = s.scene;
        while (s.undo()) CHECK_SAME_SCENE(s.committed, s.scene);
        CHECK_SAME_SCENE(s.scene, start);
        check_forward_is_full_recompute(s);
        while (s.redo()) CHECK_SAME_SCENE(s.committed, s.scene);
        CHECK_SAME_SCENE(s.scene, end);
        check_forward_is_full_recompute(s);
    }
}

TEST_CASE("app: an edit that throws after a first change leaves the scene, the history and the view as they were") {
    AppState s;
    s.set_scene(make_scene({"one", "two", "three"}, 8, 2, 4, 3), "");
    REQUIRE(s.edit([](Scene& x) { set_weight(x, 0, kQuery, 0, 0, 0.5f); }));
    const Scene before = s.scene;
    const std::size_t steps = s.history.undo_size();
    const std::uint64_t generation = s.generation;
    CHECK_FALSE(s.edit([](Scene& x) {
        set_weight(x, 1, kKey, 1, 1, 2.0f);  // applied …
        set_n_heads(x, 0);                    // … then refused
    }));
    CHECK(s.status_is_error);
    CHECK(s.status.find("n_heads") != std::string::npos);
    CHECK_SAME_SCENE(s.scene, before);
    CHECK_SAME_SCENE(s.committed, before);
    CHECK(s.history.undo_size() == steps);
    CHECK(s.generation == generation);
    // a word changed in place: only its row differs from before, and one undo brings it back
    auto toks = token_texts(s.scene.input.tokens);
    toks[1] = "zwei";
    REQUIRE(s.edit([&](Scene& x) { set_tokens(x, toks); }));
    CHECK(s.history.last_step_compact());
    for (int i = 0; i < 3; ++i)
        if (i != 1) CHECK(s.scene.input.embeddings.row(i) == before.input.embeddings.row(i));
    CHECK(RowVec(s.scene.input.embeddings.row(1)) == token_embedding("zwei", 3, 8));
    REQUIRE(s.undo());
    CHECK_SAME_SCENE(s.scene, before);
}

TEST_CASE("app: long mode — a word edited, undone and redone updates the statistics in place to the scene's") {
    std::vector<std::string> words;
    for (int i = 0; i < 2100; ++i) words.push_back(test::word("w", i % 397));
    Scene sc = make_scene(words, 48, 12, 4, 5);
    set_mask(sc, Mask::causal());
    REQUIRE_FALSE(fits_full_forward(sc, Limits::kLiveForwardBytes));
    AppState s;
    s.set_scene(sc, "");
    REQUIRE(s.long_mode);
    s.long_view->jobs.wait_idle();
    words[700] = "zzzz";  // as long as "w303": no other token moves
    REQUIRE(s.edit([&](Scene& x) { set_tokens(x, words); }));
    CHECK(s.history.last_step_compact());
    CHECK(s.history.last_step_bytes() < 4096);  // the row, the token, the small fields: no snapshot
    // the statistics follow at once (no rebuild on the worker), as do undo and redo
    for (int step = 0; step < 3; ++step) {
        auto t = s.long_view->ready(s.generation);
        REQUIRE(t);
        PatternTiles fresh;
        REQUIRE(fresh.build(s.scene));
        for (const auto& [h, i, j] : {std::array<int, 3>{2, 700, 700}, {2, 700, 3}, {7, 1800, 700}, {11, 2099, 1}})
            CHECK(t->cell(h, i, j) == doctest::Approx(fresh.cell(h, i, j)).epsilon(1e-5));
        if (step == 0) {
            REQUIRE(s.undo());
            CHECK_SAME_SCENE(s.scene, sc);
        } else if (step == 1) {
            REQUIRE(s.redo());
            CHECK(s.scene.input.tokens[700].text == "zzzz");
        }
    }
}

TEST_CASE("app: a scene replaced without recompute() is taken as it is by the next edit (undo goes back to it)") {
    AppState s;
    s.set_scene(make_scene({"a", "b"}, 8, 2, 4, 1), "");
    s.history.clear();
    s.scene = make_scene({"one", "two", "three"}, 8, 2, 4, 2);  // behind the app's back
    const Scene replaced = s.scene;
    REQUIRE(s.edit([](Scene& x) { set_weight(x, 0, kValue, 1, 1, 0.25f); }));
    REQUIRE(s.undo());
    CHECK_SAME_SCENE(s.scene, replaced);
}
