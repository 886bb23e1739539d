// attnviz session — the worker thread (see jobs.hpp).
#include "jobs.hpp"

#include <algorithm>
#include <exception>

namespace attnviz::app {

JobRunner::JobRunner() : thread_([this] { loop(); }) {}

JobRunner::~JobRunner() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
        queue_.clear();
        if (progress_) progress_->cancel = true;
    }
    cv_.notify_all();
    thread_.join();
}

void JobRunner::submit(int kind, std::string label, Fn fn) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.erase(std::remove_if(queue_.begin(), queue_.end(), [&](const Job& j) { return j.kind == kind; }), queue_.end());
        if (running_ && running_kind_ == kind && progress_) progress_->cancel = true;
        queue_.push_back({kind, std::move(label), std::move(fn)});
    }
    cv_.notify_all();
}

void JobRunner::cancel(int kind) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.erase(std::remove_if(queue_.begin(), queue_.end(), [&](const Job& j) { return j.kind == kind; }), queue_.end());
    if (running_ && running_kind_ == kind && progress_) progress_->cancel = true;
}

void JobRunner::cancel_all_and_wait() {
    std::unique_lock<std::mutex> lock(mu_);
    queue_.clear();
    if (running_ && progress_) progress_->cancel = true;
    idle_cv_.wait(lock, [&] { return !running_; });
}

void JobRunner::wait_idle() {
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait(lock, [&] { return !running_ && queue_.empty(); });
}

bool JobRunner::busy() const {
    std::lock_guard<std::mutex> lock(mu_);
    return running_ || !queue_.empty();
}

bool JobRunner::busy(int kind) const {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_ && running_kind_ == kind) return true;
    return std::any_of(queue_.begin(), queue_.end(), [&](const Job& j) { return j.kind == kind; });
}

std::vector<std::string> JobRunner::take_errors() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out = std::move(errors_);
    errors_.clear();
    return out;
}

JobRunner::Status JobRunner::current() const {
    std::lock_guard<std::mutex> lock(mu_);
    Status s;
    s.running = running_;
    s.kind = running_kind_;
    s.label = running_label_;
    s.fraction = progress_ ? progress_->fraction() : 0.0;
    s.queued = static_cast<int>(queue_.size());
    return s;
}

void JobRunner::loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        // the smallest kind first; among equals, the oldest
        auto it = std::min_element(queue_.begin(), queue_.end(), [](const Job& a, const Job& b) { return a.kind < b.kind; });
        Job job = std::move(*it);
        queue_.erase(it);
        running_ = true;
        running_kind_ = job.kind;
        running_label_ = job.label;
        progress_ = std::make_shared<Progress>();
        auto progress = progress_;
        lock.unlock();
        std::string error;
        try {
            job.fn(*progress);
        } catch (const std::exception& e) {
            error = job.label + ": " + e.what();  // nothing may escape the thread: the UI shows it
        } catch (...) {
            error = job.label + ": unknown error";
        }
        job.fn = nullptr;  // what it captured goes now, on this thread
        lock.lock();
        if (!error.empty()) errors_.push_back(std::move(error));
        running_ = false;
        running_kind_ = -1;
        running_label_.clear();
        progress_.reset();
        idle_cv_.notify_all();
    }
}

}  // namespace attnviz::app
