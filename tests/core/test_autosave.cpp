// Autosave: debounced writes off the calling thread, atomic files, one locked session file per
// instance (a crash is a session file whose lock is free), the discarded copy.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <thread>

#include "autosave.hpp"
#include "scene_io.hpp"
#include "helpers.hpp"

using namespace attnviz;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {
using test::TempDir;
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
    const auto found = a.start();
    CHECK(found.empty());
    CHECK(fs::exists(a.session_path()));
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
    CHECK(files == 3);  // autosave-<id>.json, autosave-<id>.path, session-<id>.lock
}

TEST_CASE("a session that ends cleanly is not offered for restore; one whose lock is gone (killed) is") {
    TempDir dir;
    const std::string d = (dir.path / "s").string();
    {
        Autosave a({d});
        a.start();
        a.schedule(scene_with("first session"), "/tmp/lecture.json");
        a.finish_clean();
        CHECK_FALSE(fs::exists(a.session_path()));
        CHECK_FALSE(fs::exists(a.state_path()));
    }
    std::string second_id;
    {
        Autosave b({d});
        CHECK(b.start().empty());  // the clean exit left nothing to offer
        b.schedule(scene_with("second session"));
        b.flush();
        second_id = b.id();
        // No finish_clean: as if killed. Closing the session file drops its lock, as the kernel
        // does when a process dies (whatever became of its pid).
    }
    {
        Autosave c({d});
        const auto found = c.start();
        REQUIRE(found.size() == 1);
        CHECK(found[0].id == second_id);
        CHECK_FALSE(found[0].discarded);
        CHECK(found[0].scene_path.empty());  // the second session's scene had no file
        CHECK(token_texts(Autosave::load(found[0]).input.tokens) == std::vector<std::string>{"second", "session"});
        // not answered: a clean exit leaves it to be offered again
        c.finish_clean();
    }
    Autosave e({d});
    const auto again = e.start();
    REQUIRE(again.size() == 1);
    e.release(again[0]);  // restored (or declined for good): its files go
    e.finish_clean();
    Autosave f({d});
    CHECK(f.start().empty());
    int files = 0;
    for (const auto& x : fs::directory_iterator(d)) (void)x, ++files;
    CHECK(files == 1);  // f's own session file only
}

TEST_CASE("two live instances on one state folder: separate files, neither offered as crashed, a crash of one offered") {
    TempDir dir;
    const std::string d = (dir.path / "s").string();
    Autosave a({d});
    CHECK(a.start().empty());
    // (two instances in one process, even within one millisecond, get different ids)
    auto b = std::make_unique<Autosave>(Autosave::Options{d});
    CHECK(b->start().empty());  // a is alive (its lock is held): not a crash
    CHECK(a.id() != b->id());
    CHECK(a.state_path() != b->state_path());
    a.schedule(scene_with("instance a"));
    b->schedule(scene_with("instance b"));
    a.flush();
    b->flush();
    CHECK(token_texts(a.load_state().input.tokens) == std::vector<std::string>{"instance", "a"});
    CHECK(token_texts(b->load_state().input.tokens) == std::vector<std::string>{"instance", "b"});
    const std::string b_id = b->id();
    b.reset();  // b "crashes" while a runs on
    Autosave c({d});
    const auto found = c.start();
    REQUIRE(found.size() == 1);  // b's session only: a is alive
    CHECK(found[0].id == b_id);
    CHECK(token_texts(Autosave::load(found[0]).input.tokens) == std::vector<std::string>{"instance", "b"});
    // a fourth instance starting now does not offer the crash c has claimed
    Autosave e({d});
    CHECK(e.start().empty());
    CHECK(token_texts(a.load_state().input.tokens) == std::vector<std::string>{"instance", "a"});  // untouched
    e.finish_clean();
    c.finish_clean();
    a.finish_clean();
}

TEST_CASE("a quit that discards changes keeps them as the discarded copy until a document is saved") {
    TempDir dir;
    const std::string d = (dir.path / "s").string();
    {
        Autosave a({d});
        a.start();
        a.schedule(scene_with("changes I discarded"), "/tmp/mine.json");
        a.finish_clean(/*keep_as_discarded=*/true);
        CHECK_FALSE(fs::exists(a.session_path()));
        CHECK(fs::exists(a.discarded_path()));
    }
    {
        Autosave b({d});
        const auto found = b.start();
        REQUIRE(found.size() == 1);
        CHECK(found[0].discarded);
        CHECK(found[0].scene_path == "/tmp/mine.json");
        CHECK(token_texts(Autosave::load(found[0]).input.tokens) == std::vector<std::string>{"changes", "I", "discarded"});
        b.finish_clean();  // no save in this session: still kept
    }
    Autosave c({d});
    REQUIRE(c.start().size() == 1);
    c.drop_discarded();  // a document was saved
    CHECK_FALSE(fs::exists(c.discarded_path()));
    c.finish_clean();
}

TEST_CASE("a clean exit without discarding does not wait for a pending write") {
    TempDir dir;
    Autosave::Options o{(dir.path / "s").string()};
    o.quiet = 10s;  // the pending scene would wait 10 s for a pause
    o.max_delay = 10s;
    Autosave a(o);
    a.start();
    a.schedule(scene_with("never needed"));
    const auto t0 = std::chrono::steady_clock::now();
    a.finish_clean();
    CHECK(std::chrono::steady_clock::now() - t0 < 1s);
    CHECK_FALSE(fs::exists(a.state_path()));
}

TEST_CASE("a large scene waits longer between autosaves") {
    Autosave a({"/tmp/unused"});
    CHECK(a.quiet_for(1000) == 300ms);
    CHECK(a.quiet_for(std::size_t(256) << 20) > 5000ms);  // 256 MiB at 50 MB/s
}

TEST_CASE("a scene with large given matrices is autosaved compactly (float32, no decimal text) and reads back bit for bit") {
    TempDir dir;
    const std::string d = (dir.path / "s").string();
    Scene big = make_scene({"a", "b", "c"}, 1024, 1, 1024, 7);  // W_Q, W_K, W_V: 1024 × 1024 = 2^20 values each
    Mat w_q = Mat::Zero(1024, 1024);                         // (d_model, d_head), by hand: w[i][j] = i − j/3
    for (int i = 0; i < 1024; ++i)
        for (int j = 0; j < 1024; ++j) w_q(i, j) = static_cast<float>(i) - static_cast<float>(j) / 3.0f;
    set_weight_matrix(big, 0, kQuery, w_q);
    set_embedding(big, 1, 5, 0.25f);  // small given matrices stay in the JSON
    std::string id;
    {
        Autosave a({d});
        a.start();
        a.schedule(big, "/tmp/big.json");
        a.flush();
        REQUIRE(a.last_error().empty());
        id = a.id();
        const fs::path bin = dir.path / "s" / ("autosave-" + id + ".bin");
        REQUIRE(fs::exists(bin));
        CHECK_FALSE(fs::exists(a.state_path()));  // no .json beside it
        // 4 MiB of float32 plus the JSON of the rest (3 × 1024 embedding values as text)
        CHECK(fs::file_size(bin) > std::size_t(4) << 20);
        CHECK(fs::file_size(bin) < (std::size_t(4) << 20) + 200000);
        const Scene back = a.load_state();
        CHECK(back.heads[0].given[0]);
        CHECK_FALSE(back.heads[0].given[1]);
        CHECK(back.heads[0].W[0] == w_q);                 // exactly: float32 bytes
        CHECK(back.heads[0].W[1] == big.heads[0].W[1]);   // drawn from the seed again
        CHECK(back.input.embeddings(1, 5) == 0.25f);
        CHECK(scene_to_json(back) == scene_to_json(big));
        // as if killed
    }
    Autosave c({d});
    const auto found = c.start();
    REQUIRE(found.size() == 1);
    CHECK(found[0].state_path.size() > 4);
    CHECK(found[0].state_path.substr(found[0].state_path.size() - 4) == ".bin");
    CHECK(found[0].scene_path == "/tmp/big.json");
    CHECK(Autosave::load(found[0]).heads[0].W[0] == w_q);
    c.release(found[0], /*keep_as_discarded=*/true);  // declined: the compact file becomes the discarded copy
    CHECK(fs::exists(dir.path / "s" / "discarded.bin"));
    c.finish_clean();
    // a cut file is an error naming it, not a crash
    const std::string cut = (dir.path / "cut.bin").string();
    {
        std::ifstream in(dir.path / "s" / "discarded.bin", std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    }
    CHECK_THROWS_WITH_AS(Autosave::load_file(cut), doctest::Contains("cut short"), SceneError);
}

TEST_CASE("an unwritable state directory is reported, not fatal") {
    Autosave a({"/proc/attnviz-cannot-exist"});
    CHECK_THROWS_AS(a.start(), SceneError);
    Autosave none({""});
    CHECK_THROWS_WITH_AS(none.start(), doctest::Contains("no state directory"), SceneError);
}
