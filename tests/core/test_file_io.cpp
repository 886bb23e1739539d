// core/file_io: writes never replace what the user did not ask to replace; reads refuse
// non-regular files before they can block.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>
#include <vector>

#include "file_io.hpp"
#include "scene_io.hpp"
#include "helpers.hpp"

using namespace attnviz;
namespace fs = std::filesystem;

namespace {
using test::TempDir;

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void put(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

struct stat stat_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st;
}

// Names in the folder other than `keep` (a leftover temporary would show up here).
std::vector<std::string> others(const TempDir& d, std::initializer_list<std::string> keep) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(d.path)) {
        const std::string n = e.path().filename().string();
        if (std::find(keep.begin(), keep.end(), n) == keep.end()) out.push_back(n);
    }
    return out;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const FileError& e) {
        return e.what();
    }
    return "(no error)";
}
}  // namespace

TEST_CASE("write_file replaces a regular file's content and keeps its mode 0600") {
    TempDir d;
    const std::string f = d / "scene.json";
    put(f, "old content that is longer than the new");
    REQUIRE(::chmod(f.c_str(), 0600) == 0);
    const ino_t old_inode = stat_of(f).st_ino;
    write_file(f, "new");
    CHECK(slurp(f) == "new");
    CHECK((stat_of(f).st_mode & 07777) == 0600);
    CHECK(stat_of(f).st_ino != old_inode);  // a new file renamed over the old one, not written in place
    CHECK(others(d, {"scene.json"}).empty());
}

TEST_CASE("write_file keeps odd modes and, as root, the owner and group") {
    TempDir d;
    const std::string f = d / "a.csv";
    put(f, "x");
    REQUIRE(::chmod(f.c_str(), 0640) == 0);
    if (::geteuid() == 0) REQUIRE(::chown(f.c_str(), 1234, 5678) == 0);
    write_file(f, "y");
    CHECK((stat_of(f).st_mode & 07777) == 0640);
    if (::geteuid() == 0) {
        CHECK(stat_of(f).st_uid == 1234u);
        CHECK(stat_of(f).st_gid == 5678u);
    }
}

TEST_CASE("write_file creates a new file with 0666 less the umask") {
    TempDir d;
    const mode_t old_mask = ::umask(027);
    write_file(d / "new.json", "{}");
    ::umask(old_mask);
    CHECK(slurp(d / "new.json") == "{}");
    CHECK((stat_of(d / "new.json").st_mode & 07777) == 0640);
    CHECK(others(d, {"new.json"}).empty());
}

TEST_CASE("write_file through a symlink chain updates the final target and keeps the links") {
    TempDir d;
    fs::create_directory(d.path / "real");
    put(d / "real/target.json", "old");
    REQUIRE(::chmod((d / "real/target.json").c_str(), 0600) == 0);
    fs::create_symlink("real/target.json", d.path / "link1");  // relative to the link's folder
    fs::create_symlink(d / "link1", d.path / "link2");        // absolute
    write_file(d / "link2", "new");
    CHECK(fs::is_symlink(d.path / "link1"));
    CHECK(fs::is_symlink(d.path / "link2"));
    CHECK(fs::read_symlink(d.path / "link1") == "real/target.json");
    CHECK(slurp(d / "real/target.json") == "new");
    CHECK((stat_of(d / "real/target.json").st_mode & 07777) == 0600);
    CHECK(others(d, {"real", "link1", "link2"}).empty());
    for (const auto& e : fs::directory_iterator(d.path / "real")) CHECK(e.path().filename() == "target.json");

    // A dangling link gets its target created; the link stays.
    fs::create_symlink("made.json", d.path / "dangling");
    write_file(d / "dangling", "made");
    CHECK(fs::is_symlink(d.path / "dangling"));
    CHECK(slurp(d / "made.json") == "made");
}

TEST_CASE("write_file refuses a directory and a socket-like special file, touching nothing") {
    TempDir d;
    fs::create_directory(d.path / "dir");
    const std::string e = error_of([&] { write_file(d / "dir", "x"); });
    CHECK(e.find(d / "dir") != std::string::npos);
    CHECK(e.find("is a directory") != std::string::npos);
    CHECK(fs::is_directory(d.path / "dir"));
    CHECK(fs::is_empty(d.path / "dir"));
}

TEST_CASE("write_file to /dev/full fails with the OS reason and leaves the device a device") {
    struct stat before {};
    if (::stat("/dev/full", &before) != 0 || !S_ISCHR(before.st_mode)) return;  // no /dev/full here
    const std::string e = error_of([] { write_file("/dev/full", "data"); });
    CHECK(e.find("/dev/full") != std::string::npos);
    CHECK(e.find(std::strerror(ENOSPC)) != std::string::npos);
    const struct stat after = stat_of("/dev/full");
    CHECK(S_ISCHR(after.st_mode));
    CHECK(after.st_rdev == before.st_rdev);
    CHECK(after.st_ino == before.st_ino);
    // /dev/null takes the bytes and stays a character device.
    write_file("/dev/null", "data");
    CHECK(S_ISCHR(stat_of("/dev/null").st_mode));
}

TEST_CASE("write_file to a FIFO: no reader is an error at once; with a reader the bytes arrive") {
    TempDir d;
    const std::string fifo = d / "pipe";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto t0 = std::chrono::steady_clock::now();
    const std::string e = error_of([&] { write_file(fifo, "x"); });
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
    CHECK(e.find("no process is reading it") != std::string::npos);
    CHECK(S_ISFIFO(stat_of(fifo).st_mode));

    const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    REQUIRE(reader >= 0);
    write_file(fifo, "through the pipe");
    char buf[64] = {};
    const ssize_t n = ::read(reader, buf, sizeof buf);
    ::close(reader);
    CHECK(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0) == "through the pipe");
    CHECK(S_ISFIFO(stat_of(fifo).st_mode));
}

TEST_CASE("a write that fails half way (file size limit, which binds root too) leaves the old file") {
    TempDir d;
    const std::string f = d / "figure.png";
    const std::string old(100, 'o');
    put(f, old);
    struct rlimit keep {};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &keep) == 0);
    auto* old_handler = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a killed process
    struct rlimit small = keep;
    small.rlim_cur = 4096;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    const std::string e = error_of([&] { write_file(f, std::string(10000, 'n')); });
    ::setrlimit(RLIMIT_FSIZE, &keep);
    std::signal(SIGXFSZ, old_handler);
    CHECK(e.find(f) != std::string::npos);
    CHECK(e.find(std::strerror(EFBIG)) != std::string::npos);
    CHECK(slurp(f) == old);
    CHECK(others(d, {"figure.png"}).empty());  // the temporary is gone
}

TEST_CASE("write_file into a missing folder names the path and the reason") {
    TempDir d;
    const std::string e = error_of([&] { write_file(d / "no/such/out.json", "x"); });
    CHECK(e.find(d / "no/such/out.json") != std::string::npos);
    CHECK(e.find(std::strerror(ENOENT)) != std::string::npos);
}

TEST_CASE("read_regular_file refuses a FIFO with no writer at once, a directory, and a device") {
    TempDir d;
    const std::string fifo = d / "scene.json";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto t0 = std::chrono::steady_clock::now();
    const std::string e = error_of([&] { (void)read_regular_file(fifo, 1 << 20); });
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
    CHECK(e == fifo + " is a FIFO, not a regular file");
    CHECK(error_of([&] { (void)read_regular_file(d.path.string(), 1 << 20); }) == d.path.string() + " is a directory, not a regular file");
    CHECK(error_of([] { (void)read_regular_file("/dev/zero", 1 << 20); }) == "/dev/zero is a character device, not a regular file");
    CHECK(error_of([&] { (void)read_regular_file(d / "missing", 1 << 20); }) ==
          "cannot open " + (d / "missing") + ": " + std::strerror(ENOENT));
}

TEST_CASE("read_regular_file reads a file fully, follows a symlink, and refuses one over the limit naming its size") {
    TempDir d;
    std::string big(70000, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + 3);
    put(d / "big.bin", big);
    fs::create_symlink("big.bin", d.path / "link");
    CHECK(read_regular_file(d / "link", 70000) == big);
    CHECK(error_of([&] { (void)read_regular_file(d / "big.bin", 69999); }) ==
          (d / "big.bin") + " is 70000 bytes, more than the 69999 bytes limit");
    put(d / "empty", "");
    CHECK(read_regular_file(d / "empty", 10).empty());
}

TEST_CASE("same_file: device and inode, through links") {
    TempDir d;
    put(d / "a", "1");
    put(d / "b", "1");
    fs::create_symlink("a", d.path / "to_a");
    fs::create_hard_link(d.path / "a", d.path / "hard_a");
    CHECK(same_file(d / "a", d / "to_a"));
    CHECK(same_file(d / "a", d / "hard_a"));
    CHECK(same_file(d / "a", d.path.string() + "/./a"));
    CHECK_FALSE(same_file(d / "a", d / "b"));
    CHECK_FALSE(same_file(d / "a", d / "missing"));
}

TEST_CASE("save_scene (Save, Ctrl+S, autosave) writes through a symlink and keeps 0600; load_scene refuses a FIFO") {
    TempDir d;
    const Scene s = make_scene({"x"}, 4, 1, 4, 3);
    save_scene(s, d / "lecture.json");
    REQUIRE(::chmod((d / "lecture.json").c_str(), 0600) == 0);
    fs::create_symlink("lecture.json", d.path / "opened_as.json");
    Scene edited = s;
    set_text(edited, "a b c");
    save_scene(edited, d / "opened_as.json");
    CHECK(fs::is_symlink(d.path / "opened_as.json"));
    CHECK((stat_of(d / "lecture.json").st_mode & 07777) == 0600);
    CHECK(load_scene(d / "lecture.json").input.text == "a b c");

    REQUIRE(::mkfifo((d / "fifo.json").c_str(), 0600) == 0);
    CHECK_THROWS_WITH_AS((void)load_scene(d / "fifo.json"), doctest::Contains("is a FIFO, not a regular file"), SceneError);
}
