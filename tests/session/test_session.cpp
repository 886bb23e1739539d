// The session layer without a window (no ImGui, no GL in this executable): worker jobs report
// what throws, AppState edits, undoes and redoes a scene, long mode builds its statistics.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "app_state.hpp"
#include "engine.hpp"
#include "jobs.hpp"
#include "long_state.hpp"
#include "scene_io.hpp"

using namespace attnviz;
using namespace attnviz::app;

TEST_CASE("a worker job that throws reports its error (label: message) once, and the worker goes on") {
    JobRunner jobs;
    jobs.submit(0, "overview of head 2", [](Progress&) { throw std::runtime_error("out of memory for the tile"); });
    jobs.wait_idle();
    const auto errors = jobs.take_errors();
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == "overview of head 2: out of memory for the tile");
    CHECK(jobs.take_errors().empty());  // taken once
    int ran = 0;
    jobs.submit(0, "next", [&](Progress&) { ran = 7; });
    jobs.wait_idle();
    CHECK(ran == 7);
    CHECK(jobs.take_errors().empty());  // a job that returns normally reports nothing
}

TEST_CASE("long_report_errors puts a failed job's error on the status line") {
    AppState s;
    long_state(s).jobs.submit(LongView::kDetail, "exact tile", [](Progress&) { throw std::runtime_error("bad block"); });
    long_state(s).jobs.wait_idle();
    CHECK(s.status.empty());
    long_report_errors(s);
    CHECK(s.status == "exact tile: bad block");
    CHECK(s.status_is_error);
}

TEST_CASE("typing is undone a word at a time: 'the quick brown fox' char by char is at most 4 undo steps") {
    AppState s;
    s.set_scene(make_scene({"a", "b"}, 8, 2, 4, 3), "");
    const std::string sentence = "the quick brown fox";
    for (std::size_t k = 1; k <= sentence.size(); ++k) REQUIRE(s.type_text("text", sentence.substr(0, k)));
    CHECK(s.scene.input.text == sentence);
    CHECK(s.history.undo_size() <= 4);
    // each undo goes back exactly to the end of the previous word, then to the text before typing
    for (const char* expected : {"the quick brown", "the quick", "the"}) {
        REQUIRE(s.undo());
        CHECK(s.scene.input.text == expected);
    }
    REQUIRE(s.undo());
    CHECK(s.scene.input.text != "the");
    CHECK(s.scene.n() == 2);
    CHECK(!s.can_undo());
    // and redo goes forward word by word
    REQUIRE(s.redo());
    CHECK(s.scene.input.text == "the");
    // backspace within a word joins the word's step; the source box has its own steps
    CHECK(typing_key("text", "the qu") == typing_key("text", "the quick"));
    CHECK(typing_key("text", "the") != typing_key("text", "the "));
    CHECK(typing_key("text", "the") != typing_key("source", "the"));
}

TEST_CASE("AppState edits, undoes and redoes a scene with no window") {
    AppState s;
    s.set_scene(load_scene(std::string(ATTNVIZ_SCENES) + "/01_adjectives_update_nouns.json"), "lecture.json");
    const std::string before = s.scene.input.text;
    REQUIRE(s.fwd.heads.size() == static_cast<std::size_t>(s.scene.n_heads));
    REQUIRE(s.edit([](Scene& x) { set_text(x, "a fluffy blue creature"); }));
    CHECK(s.scene.input.text == "a fluffy blue creature");
    CHECK(s.modified);
    // the forward pass follows the edit: pattern rows of the new tokens
    CHECK(s.fwd.heads[0].pattern.rows() == s.scene.n());
    REQUIRE(s.undo());
    CHECK(s.scene.input.text == before);
    REQUIRE(s.redo());
    CHECK(s.scene.input.text == "a fluffy blue creature");
    // a refused edit changes nothing and says why
    CHECK_FALSE(s.edit([](Scene& x) {
        set_text(x, "half way");
        throw SceneError("", "the second part failed");
    }));
    CHECK(s.scene.input.text == "a fluffy blue creature");
    CHECK(s.status == "the second part failed");
    CHECK(s.status_is_error);
}

// "Go to token" in long texts (app/session/long_state.hpp): by index, by text, the next match.
TEST_CASE("go to token: an index, a word (exact first, then containing it), the next match wrapping around") {
    const auto tokens = attnviz::tokens_from_strings({"the", "cat", "sat", "on", "the", "mat", "category"});
    CHECK(find_token(tokens, "5") == 5);
    CHECK(find_token(tokens, " 0 ") == 0);
    CHECK(find_token(tokens, "7") == -1);          // past the end
    CHECK(find_token(tokens, "the") == 0);
    CHECK(find_token(tokens, "the", 0) == 4);      // the next one
    CHECK(find_token(tokens, "the", 4) == 0);      // wraps around
    CHECK(find_token(tokens, "cat", 1) == 1);      // exact matches before containing ones: only one "cat"
    CHECK(find_token(tokens, "ateg") == 6);        // containing
    CHECK(find_token(tokens, "dog") == -1);
    CHECK(find_token(tokens, "") == -1);
}
