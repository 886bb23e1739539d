#include "history.hpp"

namespace attnviz {

namespace {
std::size_t mat_bytes(const Mat& m) { return static_cast<std::size_t>(m.size()) * sizeof(float); }
std::size_t seq_bytes(const Sequence& q) {
    std::size_t b = q.text.size() + mat_bytes(q.embeddings);
    for (const auto& t : q.tokens) b += sizeof(Token) + t.text.size();
    return b;
}
}  // namespace

std::size_t scene_memory_bytes(const Scene& s) {
    std::size_t b = sizeof(Scene) + s.title.size() + s.description.size() + s.view_json.size() + seq_bytes(s.input);
    if (s.source) b += seq_bytes(*s.source);
    for (const auto& h : s.heads)
        for (const auto& w : h.W) b += mat_bytes(w);
    b += mat_bytes(s.W_O) + s.mask.allowed.size();
    return b;
}

void History::push(Scene before, const std::string& key, Clock::time_point now) {
    // Any new edit makes the redo steps unreachable.
    for (const auto& st : redo_) bytes_ -= st.bytes;
    redo_.clear();
    const bool join = !key.empty() && key == last_key_ && !undo_.empty() && now - last_time_ <= opt_.coalesce_window;
    last_key_ = key;
    last_time_ = now;
    if (join) return;  // the step already holds the state before the first edit of this run
    const std::size_t b = scene_memory_bytes(before);
    undo_.push_back({std::move(before), b});
    bytes_ += b;
    trim();
}

bool History::undo(Scene& current) {
    if (undo_.empty()) return false;
    Step prev = std::move(undo_.back());
    undo_.pop_back();
    const std::size_t b = scene_memory_bytes(current);
    redo_.push_back({std::move(current), b});
    bytes_ += b;
    bytes_ -= prev.bytes;
    current = std::move(prev.scene);
    last_key_.clear();
    trim();
    return true;
}

bool History::redo(Scene& current) {
    if (redo_.empty()) return false;
    Step next = std::move(redo_.back());
    redo_.pop_back();
    const std::size_t b = scene_memory_bytes(current);
    undo_.push_back({std::move(current), b});
    bytes_ += b;
    bytes_ -= next.bytes;
    current = std::move(next.scene);
    last_key_.clear();
    trim();
    return true;
}

void History::clear() {
    undo_.clear();
    redo_.clear();
    bytes_ = 0;
    last_key_.clear();
}

void History::trim() {
    // Oldest undo steps go first, then the redo steps furthest away.
    while (!undo_.empty() && (undo_.size() + redo_.size() > opt_.max_steps || bytes_ > opt_.max_bytes)) {
        bytes_ -= undo_.front().bytes;
        undo_.pop_front();
    }
    while (!redo_.empty() && (redo_.size() > opt_.max_steps || bytes_ > opt_.max_bytes)) {
        bytes_ -= redo_.front().bytes;
        redo_.pop_front();
    }
}

}  // namespace attnviz
