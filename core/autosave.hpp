// attnviz core — autosave and crash recovery.
//
// Every change is handed to `schedule`, which returns at once; a worker thread writes the newest
// scene once changes pause (`quiet`), and never later than `max_delay` after the first unsaved
// change, atomically (temp file, fsync, rename: a crash mid-save leaves the previous file whole).
// A session marker (the process id) is written at `start` and removed by `finish_clean`: finding
// it at the next start, with its process gone, means the last session crashed or was killed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "scene.hpp"

namespace attnviz {

// $XDG_STATE_HOME/attnviz, else $HOME/.local/state/attnviz; "" when neither is set.
std::string default_state_dir();

class Autosave {
public:
    struct Options {
        std::string dir;                                   // the state directory (created)
        std::chrono::milliseconds quiet{300};              // save once edits pause this long …
        std::chrono::milliseconds max_delay{900};          // … or this long after the first change
    };
    // What `start` found from the previous session.
    struct Previous {
        bool crashed = false;      // its marker is there and its process is gone
        bool has_state = false;    // an autosaved scene exists
        std::string scene_path;    // the file that scene was loaded from / saved to ("" if none)
    };

    explicit Autosave(Options o);
    ~Autosave();  // writes what is pending, stops the worker; leaves the marker (see finish_clean)
    Autosave(const Autosave&) = delete;
    Autosave& operator=(const Autosave&) = delete;

    // Creates the directory, looks at the previous session's marker, writes this session's.
    // Throws SceneError (path "") if the directory cannot be created or written.
    Previous start();
    // Queues a copy of the scene for saving; returns at once.
    void schedule(const Scene& s, const std::string& scene_path = {});
    // Blocks until everything scheduled is on disk.
    void flush();
    // flush(), then removes the session marker: the next start sees a clean exit.
    void finish_clean();
    // The autosaved scene (throws SceneError when missing or unreadable).
    Scene load_state() const;

    std::string state_path() const;   // <dir>/autosave.json
    std::string marker_path() const;  // <dir>/session.pid
    std::uint64_t saves() const;      // scenes written so far
    std::string last_error() const;   // "" when the last save worked

private:
    void run();
    void write(const Scene& s, const std::string& scene_path);

    Options opt_;
    std::thread worker_;
    mutable std::mutex mu_;
    std::condition_variable wake_, done_;
    std::optional<Scene> pending_;
    std::string pending_path_;
    std::chrono::steady_clock::time_point first_change_{}, last_change_{};
    bool writing_ = false, flushing_ = false, stop_ = false;
    std::uint64_t saves_ = 0;
    std::string error_;
};

}  // namespace attnviz
