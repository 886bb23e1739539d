// The user's document is never lost or mixed up (no window): every switch of document and quit
// waits for Save / Discard / Cancel when there are unsaved changes; opening clears the undo
// history (undo never brings back other content under the new path); lecture scenes are
// read-only (a save becomes a copy in the documents folder); the presentation deck puts the
// document aside and gives it back; a diverged lecture scene shows "Untitled (from …)".
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "app_state.hpp"
#include "paths.hpp"
#include "scene_io.hpp"

using namespace attnviz;
using namespace attnviz::app;
namespace fs = std::filesystem;

namespace {

std::string lecture(const char* name) { return std::string(ATTNVIZ_SCENES) + "/" + name; }

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A fresh folder under the temp dir; $XDG_DOCUMENTS_DIR points into it while the object lives.
struct TempDocuments {
    fs::path root;
    std::string old;
    bool had_old = false;
    TempDocuments() {
        root = fs::temp_directory_path() / ("attnviz_docs_" + std::to_string(::getpid()) + "_" + std::to_string(std::rand()));
        fs::create_directories(root);
        if (const char* o = std::getenv("XDG_DOCUMENTS_DIR")) had_old = true, old = o;
        ::setenv("XDG_DOCUMENTS_DIR", (root / "Documents").c_str(), 1);
    }
    ~TempDocuments() {
        if (had_old) ::setenv("XDG_DOCUMENTS_DIR", old.c_str(), 1);
        else ::unsetenv("XDG_DOCUMENTS_DIR");
        std::error_code ec;
        fs::remove_all(root, ec);
    }
};

// A document opened from a lecture scene, with a typed sentence (modified, several undo steps).
void open_and_type(AppState& s, const std::string& path) {
    REQUIRE(s.open_file(path));
    for (const char* t : {"my", "my own", "my own sentence"}) REQUIRE(s.edit([&](Scene& x) { set_text(x, t); }));
    REQUIRE(s.modified);
    REQUIRE(s.history.undo_size() == 3);
}

}  // namespace

TEST_CASE("quit and open wait for Save / Discard / Cancel when there are unsaved changes") {
    TempDocuments docs;
    AppState s;
    REQUIRE(s.open_file(lecture("01_adjectives_update_nouns.json")));
    // nothing unsaved: quit at once
    CHECK(s.request_quit());
    CHECK(s.quit_requested);
    s.quit_requested = false;

    open_and_type(s, lecture("01_adjectives_update_nouns.json"));
    CHECK_FALSE(s.request_quit());  // asks
    CHECK_FALSE(s.quit_requested);
    CHECK(s.pending_switch.active());
    CHECK(s.pending_switch.what == "quit");
    s.resolve_unsaved(UnsavedChoice::Cancel);  // Cancel: the window stays, the document as it was
    CHECK_FALSE(s.quit_requested);
    CHECK_FALSE(s.pending_switch.active());
    CHECK(s.scene.input.text == "my own sentence");
    CHECK(s.modified);

    // Open asks too; nothing is replaced before the answer
    const std::string other = lecture("06_multi_head.json");
    CHECK_FALSE(s.request_open(other));
    CHECK(s.scene.input.text == "my own sentence");
    CHECK(s.scene_path == lecture("01_adjectives_update_nouns.json"));
    s.resolve_unsaved(UnsavedChoice::Discard);
    CHECK_FALSE(s.discarded_changes);  // another document is open: nothing for a quit to keep
    CHECK(s.scene_path == other);
    CHECK(s.scene.input.text == load_scene(other).input.text);
    CHECK_FALSE(s.modified);

    // New asks; Discard starts an untitled scene
    REQUIRE(s.edit([](Scene& x) { set_text(x, "changed again"); }));
    CHECK_FALSE(s.request_new());
    s.resolve_unsaved(UnsavedChoice::Discard);
    CHECK(s.scene_path.empty());
    CHECK(s.scene.title.empty());
    CHECK(s.display_title() == "untitled");
    CHECK_FALSE(s.modified);
    CHECK_FALSE(s.can_undo());

    // a quit that discards: marked, so recovery keeps the changes as the discarded copy
    REQUIRE(s.edit([](Scene& x) { set_text(x, "last words"); }));
    CHECK_FALSE(s.request_quit());
    s.resolve_unsaved(UnsavedChoice::Discard);
    CHECK(s.quit_requested);
    CHECK(s.discarded_changes);
}

TEST_CASE("Save in the question saves first, then switches; a failed save switches nothing") {
    TempDocuments docs;
    AppState s;
    s.new_scene();
    REQUIRE(s.edit([](Scene& x) { set_text(x, "a sentence of mine"); }));
    CHECK_FALSE(s.request_quit());
    s.resolve_unsaved(UnsavedChoice::Save);  // untitled: saved into the documents folder
    CHECK(s.quit_requested);
    const fs::path saved = docs.root / "Documents" / "untitled.json";
    REQUIRE(fs::exists(saved));
    CHECK(load_scene(saved.string()).input.text == "a sentence of mine");
    CHECK(s.scene_path == saved.string());
    CHECK_FALSE(s.modified);

    // a save that fails (the folder became a file) keeps the question's switch from happening
    AppState t;
    t.new_scene();
    REQUIRE(t.edit([](Scene& x) { set_text(x, "unsaved words"); }));
    fs::remove_all(docs.root / "Documents");
    std::ofstream(docs.root / "Documents") << "not a folder";
    CHECK_FALSE(t.request_quit());
    t.resolve_unsaved(UnsavedChoice::Save);
    CHECK_FALSE(t.quit_requested);
    CHECK(t.status_is_error);
    CHECK(t.modified);
    CHECK(t.scene.input.text == "unsaved words");
}

TEST_CASE("opening is not an undo step: after open, undo cannot bring back the old content under the new path") {
    TempDocuments docs;
    AppState s;
    const std::string a = lecture("01_adjectives_update_nouns.json"), b = lecture("06_multi_head.json");
    const std::string b_bytes = file_bytes(b);
    open_and_type(s, a);
    s.request_open(b);
    s.resolve_unsaved(UnsavedChoice::Discard);
    REQUIRE(s.scene_path == b);
    CHECK_FALSE(s.can_undo());
    CHECK_FALSE(s.undo());  // nothing happens
    CHECK(s.scene.input.text == load_scene(b).input.text);
    CHECK(s.scene_path == b);
    // an edit, undo, redo: content and path stay together
    REQUIRE(s.edit([](Scene& x) { set_text(x, "a cross edit"); }));
    REQUIRE(s.undo());
    CHECK(s.scene.input.text == load_scene(b).input.text);
    CHECK_FALSE(s.undo());
    REQUIRE(s.redo());
    CHECK(s.scene.input.text == "a cross edit");
    // Ctrl+S on a lecture scene: a copy in the documents folder, the bundled file untouched
    REQUIRE(s.save_current());
    CHECK(file_bytes(b) == b_bytes);
    const fs::path copy = docs.root / "Documents" / "untitled.json";  // diverged: its title is no longer the lecture's
    CHECK(s.scene_path == copy.string());
    REQUIRE(fs::exists(copy));
    const Scene reread = load_scene(copy.string());
    CHECK(reread.input.text == "a cross edit");
    CHECK(reread.title == "Untitled (from " + load_scene(b).title + ")");
    CHECK(reread.description.empty());
    CHECK_FALSE(s.modified);
}

TEST_CASE("lecture scenes are read-only whatever the spelling of their path") {
    TempDocuments docs;
    const std::string a = asset_path("assets/scenes/06_multi_head.json");
    CHECK(is_bundled_path(a));
    CHECK(is_bundled_path(asset_path("assets/scenes/../scenes/06_multi_head.json")));
    CHECK(is_bundled_path(asset_path("assets/scenes/new_file_that_does_not_exist.json")));
    const fs::path link = docs.root / "link.json";
    fs::create_symlink(a, link);
    CHECK(is_bundled_path(link.string()));
    CHECK_FALSE(is_bundled_path((docs.root / "mine.json").string()));
    CHECK_FALSE(is_bundled_path(""));

    // Save as onto a lecture scene (through the symlink): a copy named after it, nothing written into assets
    const std::string bytes = file_bytes(a);
    AppState s;
    REQUIRE(s.open_file(a));
    REQUIRE(s.edit([](Scene& x) { x.title = "My heads"; }));
    REQUIRE(s.save_file(link.string()));
    CHECK(file_bytes(a) == bytes);
    CHECK(fs::is_symlink(link));
    CHECK(s.scene_path == (docs.root / "Documents" / "06_multi_head.json").string());
    CHECK(load_scene(s.scene_path).title == "My heads");
    // a second copy does not overwrite the first
    REQUIRE(s.save_file(a));
    CHECK(s.scene_path == (docs.root / "Documents" / "06_multi_head-2.json").string());
    CHECK(file_bytes(a) == bytes);
}

TEST_CASE("the presentation deck shows lecture scenes without touching the user's document") {
    AppState s;
    open_and_type(s, lecture("01_adjectives_update_nouns.json"));
    const std::string path = s.scene_path;
    const auto undo_steps = s.history.undo_size();
    s.sel.query = 1;
    // PgDn twice: two lecture scenes shown in its place
    s.present_scene(load_scene(lecture("04_masking_next_token.json")), lecture("04_masking_next_token.json"));
    CHECK(s.deck_active());
    CHECK(s.scene.input.text == load_scene(lecture("04_masking_next_token.json")).input.text);
    CHECK_FALSE(s.modified);
    CHECK_FALSE(s.can_undo());
    s.present_scene(load_scene(lecture("06_multi_head.json")), lecture("06_multi_head.json"));
    CHECK(s.scene_path == lecture("06_multi_head.json"));
    // a deck scene can be played with (P, +/-); it is not the user's document
    REQUIRE(s.edit([](Scene& x) { set_temperature(x, 2.0f); }));
    CHECK(s.has_unsaved_changes());  // the stashed document's changes are what counts
    // F5: the document is back, unchanged, with its undo history
    s.end_deck();
    CHECK_FALSE(s.deck_active());
    CHECK(s.scene.input.text == "my own sentence");
    CHECK(s.scene_path == path);
    CHECK(s.modified);
    CHECK(s.history.undo_size() == undo_steps);
    CHECK(s.sel.query == 1);
    CHECK(s.fwd.heads[0].pattern.rows() == s.scene.n());
    REQUIRE(s.undo());
    CHECK(s.scene.input.text == "my own");
    // Quit from inside the deck asks about the user's document
    REQUIRE(s.redo());
    s.present_scene(load_scene(lecture("04_masking_next_token.json")), lecture("04_masking_next_token.json"));
    CHECK_FALSE(s.request_quit());
    CHECK_FALSE(s.deck_active());
    CHECK(s.scene.input.text == "my own sentence");
    s.resolve_unsaved(UnsavedChoice::Cancel);
    CHECK_FALSE(s.quit_requested);
}

TEST_CASE("a lecture scene with the user's own sentence shows what it is") {
    AppState s;
    const Scene lec = load_scene(lecture("06_multi_head.json"));
    REQUIRE(s.open_file(lecture("06_multi_head.json")));
    REQUIRE_FALSE(lec.title.empty());
    REQUIRE_FALSE(lec.description.empty());
    CHECK(s.display_title() == lec.title);
    CHECK(s.display_description() == lec.description);
    CHECK(s.export_stem() == "06_multi_head");
    REQUIRE(s.edit([](Scene& x) { set_text(x, "pizza is great"); }));
    CHECK(s.diverged());
    CHECK(s.display_title() == "Untitled (from " + lec.title + ")");
    CHECK(s.display_description().empty());
    CHECK(s.export_stem() == "untitled");
    CHECK(s.window_title().find("Untitled (from ") != std::string::npos);
    // undo: the lecture's own sentence, title and description again
    REQUIRE(s.undo());
    CHECK(s.display_title() == lec.title);
    CHECK(s.display_description() == lec.description);
    // the user names it: the name is shown, the description they write is shown
    REQUIRE(s.redo());
    REQUIRE(s.edit("title", [](Scene& x) { x.title = "Pizza"; }));
    CHECK(s.display_title() == "Pizza");
    REQUIRE(s.edit("description", [](Scene& x) { x.description = "what pizza attends to"; }));
    CHECK(s.display_description() == "what pizza attends to");
    REQUIRE(s.undo());  // the title and description edits are undo steps
    CHECK(s.scene.description == lec.description);
}

TEST_CASE("the state dump is valid UTF-8 even when the status line holds raw bytes") {
    AppState s;
    s.new_scene();
    s.set_error(std::string("parse error at \xff\xfe{\x00\"a", 17) + "\xc3");
    std::string dump;
    REQUIRE_NOTHROW(dump = s.state_json());
    const auto j = nlohmann::json::parse(dump);  // parses: valid UTF-8
    const std::string status = j["status"].get<std::string>();
    CHECK(status.find("\xEF\xBF\xBD") != std::string::npos);  // U+FFFD in place of the bad bytes
    CHECK(status.rfind("parse error at ", 0) == 0);
}

TEST_CASE("a red error on the status line clears on the next successful edit") {
    AppState s;
    s.new_scene();
    CHECK_FALSE(s.edit([](Scene& x) { set_d_head(x, -3); }));
    REQUIRE(s.status_is_error);
    REQUIRE_FALSE(s.status.empty());
    REQUIRE(s.edit([](Scene& x) { set_text(x, "fine now"); }));
    CHECK_FALSE(s.status_is_error);
    CHECK(s.status.empty());
    // an info message is not cleared by an edit
    s.set_info("saved x");
    REQUIRE(s.edit([](Scene& x) { set_text(x, "fine again"); }));
    CHECK(s.status == "saved x");
}

TEST_CASE("auto range, switched on by long mode, goes off again when long mode ends; the user's own choice stays") {
    AppState s;
    std::vector<std::string> words;
    for (int i = 0; i < 4200; ++i) words.push_back("w" + std::to_string(i % 397));
    Scene big = make_scene(words, 16, 2, 4, 5);
    REQUIRE_FALSE(fits_full_forward(big, Limits::kLiveForwardBytes));  // 2 · 4200² · 4 B · 2 ≈ 282 MB
    REQUIRE_FALSE(s.view.auto_range);
    s.set_scene(big, "");
    CHECK(s.long_mode);
    CHECK(s.view.auto_range);
    s.new_scene();
    CHECK_FALSE(s.long_mode);
    CHECK_FALSE(s.view.auto_range);  // 0.46 is drawn as 0.46 of 0..1 again
    // switched on by the user: kept through long mode and after
    s.view.auto_range = true;
    s.set_scene(big, "");
    s.new_scene();
    CHECK(s.view.auto_range);
}
