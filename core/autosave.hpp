// attnviz core — autosave and crash recovery, one session file per running instance.
//
// A scene whose given matrices are large (≥ 2²⁰ values in one) is written in a compact form,
// autosave-<id>.bin: its JSON without those matrices, then the matrices as raw float32 (256 MiB of
// weights: a 256 MiB file written straight from the matrices, not 1.2 GB of decimal text).
//
// Every change is handed to `schedule`, which returns at once; a worker thread writes the newest
// scene once changes pause (`quiet`, longer for a large scene: see quiet_for), and never later
// than `max_delay` after the first unsaved change, atomically (temp file, fsync, rename: a crash
// mid-save leaves the previous file whole).
//
// Sessions. Each instance has an id (its pid and start time, "<pid>-<ms since 1970>") and, in the
// state folder, a session file `session-<id>.lock` that it holds an exclusive flock on while it
// runs, its autosave `autosave-<id>.json` and `autosave-<id>.path` (the file the scene came
// from). The kernel drops the flock when the process dies (a kill -9, a crash, a zombie that has
// not been reaped yet: its files are already closed), so a session file that can be locked by
// someone else is a crashed session; one that cannot is a live instance, whose files are never
// touched. No pid is trusted (a recycled pid or a zombie hid crashes before). `start` finds every
// crashed session with an autosave and claims it (holds its lock) until `release` — two instances
// starting together cannot offer the same crash twice.
//
// A clean exit (`finish_clean`) removes this session's files; with keep_as_discarded its last
// autosave becomes `discarded.json` (and `discarded.path`): changes the user chose to discard stay
// recoverable until a later session saves a document (`drop_discarded`).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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
        // A large scene waits longer between saves: at least its bytes / this rate (see quiet_for).
        double bytes_per_ms = 50.0e3;                      // 50 MB/s of scene: 256 MiB → ~5 s apart
    };
    // A session found by `start`: crashed (its lock was free) or discarded at a clean exit.
    struct Found {
        std::string id;            // the session's id ("discarded" for the discarded copy)
        std::string state_path;    // its autosaved scene
        std::string scene_path;    // the file that scene was loaded from / saved to ("" if none)
        bool discarded = false;    // the user discarded these changes at a clean exit
    };

    explicit Autosave(Options o);
    // Writes what is pending, stops the worker, closes the session file (its lock goes: the
    // session then reads as crashed — call finish_clean for a clean exit).
    ~Autosave();
    Autosave(const Autosave&) = delete;
    Autosave& operator=(const Autosave&) = delete;

    // Creates the directory and this session's locked session file; returns every crashed
    // session that has an autosave (claimed: their locks are held until `release`), oldest
    // first, then the discarded copy when there is one. Throws SceneError (path "") if the
    // directory cannot be created or written.
    std::vector<Found> start();
    // Queues a copy of the scene for saving; returns at once.
    void schedule(const Scene& s, const std::string& scene_path = {});
    // Is a scene scheduled and not yet written? (callers may wait to hand over the next one)
    bool busy() const;
    // Blocks until everything scheduled is on disk.
    void flush();
    // A clean exit: pending work is written when keep_as_discarded (else dropped: nothing of it is
    // needed), then this session's files are removed; with keep_as_discarded its last autosave is
    // kept as the discarded copy. Crashed sessions still claimed are released untouched.
    void finish_clean(bool keep_as_discarded = false);
    // Forget a found session: its files are removed (restored or declined), its lock released.
    // With keep_as_discarded a crashed session's autosave becomes the discarded copy instead.
    void release(const Found& f, bool keep_as_discarded = false);
    // A document was saved: the discarded copy is no longer kept.
    void drop_discarded();
    // The autosaved scene of this session (throws SceneError when missing or unreadable).
    Scene load_state() const;
    static Scene load(const Found& f);
    // An autosave file: JSON (autosave-<id>.json), or the compact form of a large scene
    // (autosave-<id>.bin: the scene's JSON without its large matrices, then those matrices as
    // float32; see autosave.cpp). Throws SceneError.
    static Scene load_file(const std::string& path);

    std::string id() const { return id_; }
    std::string state_path() const;    // <dir>/autosave-<id>.json (.bin in the compact form)
    std::string session_path() const;  // <dir>/session-<id>.lock
    std::string discarded_path() const;  // <dir>/discarded.json
    std::uint64_t saves() const;       // scenes written so far
    std::string last_error() const;    // "" when the last save worked
    // How long edits must pause before a scene of `bytes` is written.
    std::chrono::milliseconds quiet_for(std::size_t bytes) const;

private:
    void run();
    void write(Scene& s, const std::string& scene_path);  // may take s's matrices

    Options opt_;
    std::string id_;
    int lock_fd_ = -1;
    std::vector<std::pair<std::string, int>> claimed_;  // crashed sessions' ids and the lock fds we hold
    std::thread worker_;
    mutable std::mutex mu_;
    std::condition_variable wake_, done_;
    std::unique_ptr<Scene> pending_;
    std::string pending_path_;
    std::chrono::steady_clock::time_point first_change_{}, last_change_{};
    bool writing_ = false, flushing_ = false, stop_ = false;
    std::uint64_t saves_ = 0;
    std::string error_;
};

}  // namespace attnviz
