// attnviz session — one worker thread for work longer than a frame (long-sequence builds, overviews,
// exact tiles), so the UI never freezes.
//
// Jobs have a kind (a small int; a smaller kind runs first). Submitting a job of a kind replaces
// the queued one of that kind (the latest request wins: a pan asks for a new tile before the old
// one started) and asks the running one of that kind to stop. Every job gets a Progress (core's
// tiles.hpp): it reports `done/total` and watches `cancel`. The UI thread reads `current()` for a
// progress bar and calls `cancel()` for the Cancel button.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tiles.hpp"

namespace attnviz::app {

class JobRunner {
public:
    using Fn = std::function<void(Progress&)>;
    JobRunner();
    ~JobRunner();  // cancels what runs, drops what is queued, joins the thread
    JobRunner(const JobRunner&) = delete;
    JobRunner& operator=(const JobRunner&) = delete;

    void submit(int kind, std::string label, Fn fn);
    void cancel(int kind);   // drops the queued job of this kind, asks the running one to stop
    void cancel_all_and_wait();  // the same for every kind; on return nothing is queued or running
    void wait_idle();        // until nothing is queued or running (jobs finish normally)
    bool busy() const;
    bool busy(int kind) const;

    struct Status {
        bool running = false;
        int kind = -1;
        std::string label;
        double fraction = 0.0;
        int queued = 0;
    };
    Status current() const;
    // The errors of jobs that threw since the last call ("label: message"), oldest first. A job
    // that throws ends there; the window shows its error on the status line.
    std::vector<std::string> take_errors();

private:
    struct Job {
        int kind = 0;
        std::string label;
        Fn fn;
    };
    void loop();

    mutable std::mutex mu_;
    std::condition_variable cv_;       // work arrived / stop
    std::condition_variable idle_cv_;  // a job finished
    std::deque<Job> queue_;
    bool stop_ = false;
    bool running_ = false;
    int running_kind_ = -1;
    std::string running_label_;
    std::vector<std::string> errors_;   // of jobs that threw, not yet taken
    std::shared_ptr<Progress> progress_;  // of the running job
    std::thread thread_;
};

}  // namespace attnviz::app
