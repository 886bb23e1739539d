// Autosave: debounced writes off the calling thread, atomic files, crash marker.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "autosave.hpp"
#include "scene_io.hpp"

using namespace attnviz;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {
struct TempDir {
    fs::path path;
    TempDir() {
        char buf[] = "/tmp/attnviz-autosave-XXXXXX";
        path = ::mkdtemp(buf);
    }
    ~TempDir() { fs::remove_all(path); }
};
Scene scene_with(const std::string& text) {
    Scene s = make_scene({"x"}, 4, 1, 4, 3);
    set_text(s, text);
    return s;
}
}  // namespace

TEST_CASE("state directory follows XDG_STATE_HOME, then HOME") {
    const char* old_x = std::getenv("XDG_STATE_HOME");
    const char* old_h = std::getenv("HOME");
    const std::string keep_x = old_x ? old_x : "", keep_h = old_h ? old_h : "";
    ::setenv("XDG_STATE_HOME", "/xdg/state", 1);
    CHECK(default_state_dir() == "/xdg/state/attnviz");
    ::unsetenv("XDG_STATE_HOME");
    ::setenv("HOME", "/home/lecturer", 1);
    CHECK(default_state_dir() == "/home/lecturer/.local/state/attnviz");
    if (old_x) ::setenv("XDG_STATE_HOME", keep_x.c_str(), 1);
    if (old_h) ::setenv("HOME", keep_h.c_str(), 1);
    else ::unsetenv("HOME");
}

TEST_CASE("a burst of edits is saved once, within a second, and reads back exactly") {
    TempDir dir;
    Autosave a({(dir.path / "state").string()});
    const auto prev = a.start();
    CHECK_FALSE(prev.crashed);
    CHECK_FALSE(prev.has_state);
    CHECK(fs::exists(a.marker_path()));
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) a.schedule(scene_with("edit number " + std::to_string(i)), "lecture.json");
    const auto queued = std::chrono::steady_clock::now() - t0;
    CHECK(queued < 500ms);  // schedule never waits for the disk
    // Poll for the file: it must appear within a second of the first change.
    while (!fs::exists(a.state_path()) && std::chrono::steady_clock::now() - t0 < 3s) std::this_thread::sleep_for(10ms);
    const auto took = std::chrono::steady_clock::now() - t0;
    REQUIRE(fs::exists(a.state_path()));
    CHECK(took < 1s);
    a.flush();
    CHECK(a.saves() == 1);  // 20 edits, one write
    CHECK(a.last_error().empty());
    const Scene back = a.load_state();
    CHECK(token_texts(back.input.tokens) == std::vector<std::string>{"edit", "number", "19"});
    CHECK(scene_to_json(back) == scene_to_json(scene_with("edit number 19")));
    // No temporary files are left behind.
    int files = 0;
    for (const auto& e : fs::directory_iterator(dir.path / "state")) {
        CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
        ++files;
    }
    CHECK(files == 3);  // autosave.json, autosave.path, session.pid
}

TEST_CASE("a session that ends cleanly is not offered for restore; one that was killed is") {
    TempDir dir;
    const std::string d = (dir.path / "s").string();
    {
        Autosave a({d});
        a.start();
        a.schedule(scene_with("first session"), "/tmp/lecture.json");
        a.finish_clean();
        CHECK_FALSE(fs::exists(a.marker_path()));
    }
    {
        Autosave b({d});
        const auto prev = b.start();
        CHECK_FALSE(prev.crashed);
        CHECK(prev.has_state);
        b.schedule(scene_with("second session"));
        b.flush();
        // No finish_clean: as if killed. Fake a dead process id in the marker.
    }
    write_file_atomic(d + "/session.pid", "999999999\n");
    {
        Autosave c({d});
        const auto prev = c.start();
        CHECK(prev.crashed);
        CHECK(prev.has_state);
        CHECK(prev.scene_path.empty());  // the second session's scene had no file
        CHECK(token_texts(c.load_state().input.tokens) == std::vector<std::string>{"second", "session"});
        c.finish_clean();
    }
    // A marker naming a live process (this one's parent) is another running instance, not a crash.
    write_file_atomic(d + "/session.pid", std::to_string(::getppid()) + "\n");
    Autosave e({d});
    CHECK_FALSE(e.start().crashed);
}

TEST_CASE("an unwritable state directory is reported, not fatal") {
    Autosave a({"/proc/attnviz-cannot-exist"});
    CHECK_THROWS_AS(a.start(), SceneError);
    Autosave none({""});
    CHECK_THROWS_WITH_AS(none.start(), doctest::Contains("no state directory"), SceneError);
}
