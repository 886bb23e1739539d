// The Open / Save as browser (app/session/file_browser + app/ui/file_browser) in headless ImGui
// frames: folders and *.json only, odd names shown safely and opened by their real bytes, places,
// typed paths, Save as never replacing a file without asking; the Files panel's path field
// shows the document's path, not a path that failed.
#include <doctest/doctest.h>
#include <imgui.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "app_state.hpp"
#include "file_browser.hpp"
#include "panels.hpp"
#include "scene_io.hpp"
#include "ui_helpers.hpp"

using namespace attnviz;
using namespace attnviz::app;
using attnviz::test::HeadlessImGui;
namespace fs = std::filesystem;

namespace {
using test::TempDir;
std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
// A folder with: b_dir/, a.json (scene 3), bad\xFF.json (scene 1, a non-UTF-8 name), notes.txt,
// .hidden.json, gone.json (a broken link), 猫.json (scene 3).
void fill(const fs::path& d) {
    fs::create_directories(d / "b_dir");
    fs::copy_file(fs::path(ATTNVIZ_SCENES) / "03_why_positions.json", d / "a.json");
    fs::copy_file(fs::path(ATTNVIZ_SCENES) / "01_adjectives_update_nouns.json", d / "bad\xFF.json");
    fs::copy_file(fs::path(ATTNVIZ_SCENES) / "03_why_positions.json", d / "\xE7\x8C\xAB.json");
    std::ofstream(d / "notes.txt") << "not a scene";
    std::ofstream(d / ".hidden.json") << "{}";
    fs::create_symlink(d / "nowhere.json", d / "gone.json");
}
}  // namespace

TEST_CASE("browser model: folders first, then *.json by name; odd bytes shown as U+FFFD; unreadable folders say why") {
    TempDir t;
    fill(t.path);
    FileBrowser b;
    browser_list(b, t.path);
    CHECK(b.error == "");
    REQUIRE(b.entries.size() == 4);
    CHECK(b.entries[0].name == "b_dir");
    CHECK(b.entries[0].is_dir);
    CHECK(b.entries[1].name == "a.json");
    CHECK(b.entries[2].name == "bad\xEF\xBF\xBD.json");                 // shown with U+FFFD …
    CHECK(b.entries[2].path.filename().native() == "bad\xFF.json");     // … opened by its real bytes
    CHECK(b.entries[3].name == "\xE7\x8C\xAB.json");
    browser_list(b, t.path / "missing");
    CHECK(b.entries.empty());
    CHECK(b.error.find("cannot read missing") == 0);
    browser_list(b, t.path / "a.json");  // a file is not a folder
    CHECK(b.entries.empty());
    CHECK(!b.error.empty());
    // a typed path: absolute as typed, relative to the folder shown, ~ for home
    b.dir = t.path;
    CHECK(browser_target(b, "x/y.json") == t.path / "x/y.json");
    CHECK(browser_target(b, "/etc/z.json") == fs::path("/etc/z.json"));
}

TEST_CASE("browser model: places are home, documents, the lecture scenes and the recent files' folders, each once") {
    TempDir t;
    fs::create_directories(t.path / "docs");
    fs::create_directories(t.path / "work");
    const char* old_home = std::getenv("HOME");
    const std::string saved_home = old_home ? old_home : "";
    ::setenv("HOME", t.path.c_str(), 1);
    ::setenv("XDG_DOCUMENTS_DIR", (t.path / "docs").c_str(), 1);
    const auto places = browser_places({(t.path / "work" / "a.json").string(), (t.path / "work" / "b.json").string(), "/no/such/dir/c.json"});
    ::unsetenv("XDG_DOCUMENTS_DIR");
    ::setenv("HOME", saved_home.c_str(), 1);
    REQUIRE(places.size() == 4);
    CHECK(places[0].label == "home");
    CHECK(places[1].label == "documents");
    CHECK(places[1].path == t.path / "docs");
    CHECK(places[2].label == "lecture scenes");
    CHECK(places[3].label == "work");
}

TEST_CASE("browser window: open by clicking, by a typed path, an odd name; Save as asks before replacing") {
    TempDir t;
    fill(t.path);
    HeadlessImGui ui;
    AppState s;
    s.set_scene(load_scene((t.path / "a.json").string()), (t.path / "a.json").string());
    auto frames = [&](int n) {
        for (int k = 0; k < n; ++k) ui.frame(s);
    };
    auto click = [&](const std::string& name) {
        REQUIRE_MESSAGE(s.ui_rects.count(name), name);
        ui.click(s, HeadlessImGui::centre(s.ui_rects[name]));
    };
    OpenFileBrowser(s, false);
    frames(2);
    CHECK(s.browser.dir == t.path);
    // the odd name: click it, Open → the file with the \xFF byte is the document
    click("browser.entry:bad\xEF\xBF\xBD.json");
    click("browser.ok");
    CHECK(s.scene_path == (t.path / "bad\xFF.json").string());
    CHECK(!s.browser.open);
    frames(1);
    CHECK(s.scene.title == load_scene((t.path / "bad\xFF.json").string()).title);
    // into a folder, then a typed relative path back up
    OpenFileBrowser(s, false);
    frames(2);
    click("browser.entry:b_dir");
    CHECK(s.browser.dir == t.path / "b_dir");
    s.browser.file_name = "../\xE7\x8C\xAB.json";
    frames(1);
    click("browser.ok");
    CHECK(fs::equivalent(s.scene_path, t.path / "\xE7\x8C\xAB.json"));
    // Save as: a new name gets .json; an existing file is replaced only after "Replace"
    OpenFileBrowser(s, true);
    frames(2);
    s.browser.file_name = "mine";
    click("browser.ok");
    CHECK(fs::exists(t.path / "mine.json"));
    CHECK(s.scene_path == (t.path / "mine.json").string());
    const std::string before = slurp(t.path / "a.json");
    s.scene.title = "edited";
    OpenFileBrowser(s, true);
    frames(2);
    s.browser.file_name = "a.json";
    click("browser.ok");
    CHECK(s.browser.confirm_replace);
    CHECK(slurp(t.path / "a.json") == before);  // not yet
    frames(1);
    click("browser.replace");
    CHECK(slurp(t.path / "a.json") != before);
    CHECK(load_scene((t.path / "a.json").string()).title == "edited");
    // a folder that cannot be read: the browser says so, nothing crashes
    OpenFileBrowser(s, false);
    frames(2);
    s.browser.file_name = (t.path / "missing").string();
    click("browser.ok");  // not a folder and not a file: open fails with the path in the message
    CHECK(s.status_is_error);
    click("browser.cancel");
    CHECK(!s.browser.open);
}

TEST_CASE("files panel: the path field shows the document's path, not a path that failed") {
    TempDir t;
    fill(t.path);
    HeadlessImGui ui;
    AppState s;
    s.show_files = true;
    s.set_scene(load_scene((t.path / "a.json").string()), (t.path / "a.json").string());
    ui.frame(s);
    ui.frame(s);
    CHECK(s.path_input == (t.path / "a.json").string());
    s.path_input = (t.path / "nope.json").string();
    REQUIRE(s.ui_rects.count("files.open"));
    ui.click(s, HeadlessImGui::centre(s.ui_rects["files.open"]));
    CHECK(s.status_is_error);
    CHECK(s.scene_path == (t.path / "a.json").string());
    CHECK(s.path_input == (t.path / "a.json").string());  // back to the document's path
    // opening another file: the field follows
    s.open_file((t.path / "\xE7\x8C\xAB.json").string());
    ui.frame(s);
    CHECK(s.path_input == (t.path / "\xE7\x8C\xAB.json").string());
}

TEST_CASE("files panel: Save of an untitled document at a typed path of an existing file asks before replacing it") {
    TempDir t;
    fill(t.path);
    HeadlessImGui ui;
    AppState s;
    s.show_files = true;
    s.new_scene();  // untitled
    REQUIRE(s.scene_path.empty());
    ui.frame(s);
    ui.frame(s);
    const std::string before = slurp(t.path / "a.json");
    s.path_input = (t.path / "a.json").string();  // e.g. left by a recent file's open that was cancelled
    REQUIRE(s.ui_rects.count("files.save"));
    ui.click(s, HeadlessImGui::centre(s.ui_rects["files.save"]));
    CHECK(slurp(t.path / "a.json") == before);  // nothing written yet: Save as, at the typed path
    CHECK(s.browser.open);
    CHECK(s.browser.mode == FileBrowser::Mode::SaveAs);
    CHECK(s.browser.dir == t.path);
    CHECK(s.browser.file_name == "a.json");
    CHECK(s.scene_path.empty());
    ui.frame(s);
    ui.frame(s);
    REQUIRE(s.ui_rects.count("browser.ok"));
    ui.click(s, HeadlessImGui::centre(s.ui_rects["browser.ok"]));
    CHECK(s.browser.confirm_replace);  // asks
    CHECK(slurp(t.path / "a.json") == before);
}
