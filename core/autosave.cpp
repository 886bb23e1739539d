#include "autosave.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "scene_io.hpp"

namespace attnviz {

std::string default_state_dir() {
    if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/attnviz";
    if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/state/attnviz";
    return {};
}

Autosave::Autosave(Options o) : opt_(std::move(o)) {}

Autosave::~Autosave() {
    if (!worker_.joinable()) return;
    {
        std::lock_guard lk(mu_);
        stop_ = true;
    }
    wake_.notify_all();
    worker_.join();
}

std::string Autosave::state_path() const { return opt_.dir + "/autosave.json"; }
std::string Autosave::marker_path() const { return opt_.dir + "/session.pid"; }

Autosave::Previous Autosave::start() {
    namespace fs = std::filesystem;
    if (opt_.dir.empty()) throw SceneError("", "no state directory (set XDG_STATE_HOME or HOME)");
    std::error_code ec;
    fs::create_directories(opt_.dir, ec);
    if (ec) throw SceneError("", "cannot create " + opt_.dir + ": " + ec.message());
    Previous prev;
    prev.has_state = fs::exists(state_path(), ec);
    if (prev.has_state) {
        try {
            prev.scene_path = read_file(opt_.dir + "/autosave.path", 4096);
        } catch (const SceneError&) {
        }
    }
    try {
        const std::string pid_text = read_file(marker_path(), 64);
        const long pid = std::strtol(pid_text.c_str(), nullptr, 10);
        // Crashed: the marker is there and no process has that id (or it is this one: a reused id).
        const bool alive = pid > 0 && pid != ::getpid() && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
        prev.crashed = !alive;
    } catch (const SceneError&) {
        prev.crashed = false;  // no marker: the last session ended cleanly (or there was none)
    }
    write_file_atomic(marker_path(), std::to_string(::getpid()) + "\n");
    worker_ = std::thread([this] { run(); });
    return prev;
}

void Autosave::schedule(const Scene& s, const std::string& scene_path) {
    {
        std::lock_guard lk(mu_);
        const auto now = std::chrono::steady_clock::now();
        if (!pending_) first_change_ = now;
        last_change_ = now;
        pending_ = s;
        pending_path_ = scene_path;
    }
    wake_.notify_all();
}

void Autosave::flush() {
    std::unique_lock lk(mu_);
    if (!worker_.joinable()) return;
    flushing_ = true;
    wake_.notify_all();
    done_.wait(lk, [&] { return !pending_ && !writing_; });
    flushing_ = false;
}

void Autosave::finish_clean() {
    flush();
    std::error_code ec;
    std::filesystem::remove(marker_path(), ec);
}

Scene Autosave::load_state() const { return load_scene(state_path()); }

std::uint64_t Autosave::saves() const {
    std::lock_guard lk(mu_);
    return saves_;
}

std::string Autosave::last_error() const {
    std::lock_guard lk(mu_);
    return error_;
}

void Autosave::run() {
    std::unique_lock lk(mu_);
    for (;;) {
        wake_.wait(lk, [&] { return stop_ || pending_.has_value(); });
        if (!pending_) return;  // stopping with nothing left to write
        // Debounce: wait for a pause in the edits, but not past max_delay after the first one.
        while (!stop_ && !flushing_) {
            const auto due = std::min(last_change_ + opt_.quiet, first_change_ + opt_.max_delay);
            if (std::chrono::steady_clock::now() >= due) break;
            wake_.wait_until(lk, due);
        }
        Scene s = std::move(*pending_);
        const std::string path = std::move(pending_path_);
        pending_.reset();
        writing_ = true;
        lk.unlock();
        write(s, path);
        lk.lock();
        writing_ = false;
        done_.notify_all();
    }
}

void Autosave::write(const Scene& s, const std::string& scene_path) {
    std::string err;
    try {
        write_file_atomic(opt_.dir + "/autosave.path", scene_path);
        write_file_atomic(state_path(), scene_to_json(s));
    } catch (const SceneError& e) {
        err = e.what();
    }
    std::lock_guard lk(mu_);
    error_ = err;
    if (err.empty()) ++saves_;
}

}  // namespace attnviz
