// attnviz core — undo/redo (see history.hpp).
//
// [SECTION] Sizes
// [SECTION] A scene's small fields and its arrays
// [SECTION] Compact steps
// [SECTION] History
#include "history.hpp"

#include <algorithm>
#include <utility>

namespace attnviz {

// ---------------------------------------------------------------------------------------------
// [SECTION] Sizes
// ---------------------------------------------------------------------------------------------
namespace {
std::size_t mat_bytes(const Mat& m) { return static_cast<std::size_t>(m.size()) * sizeof(float); }
std::size_t tokens_bytes(const std::vector<Token>& tokens) {
    std::size_t b = 0;
    for (const auto& t : tokens) b += sizeof(Token) + t.text.size();
    return b;
}
std::size_t seq_bytes(const Sequence& q) { return q.text.size() + mat_bytes(q.embeddings) + tokens_bytes(q.tokens); }
}  // namespace

std::size_t scene_memory_bytes(const Scene& s) {
    std::size_t b = sizeof(Scene) + s.title.size() + s.description.size() + s.view_json.size() + seq_bytes(s.input);
    if (s.source) b += seq_bytes(*s.source);
    for (const auto& h : s.heads)
        for (const auto& w : h.W) b += mat_bytes(w);
    b += mat_bytes(s.W_O) + s.mask.allowed.size();
    return b;
}

std::size_t scene_fields_bytes(const Scene& s) {
    std::size_t b = sizeof(Scene) + s.title.size() + s.description.size() + s.view_json.size() + s.input.text.size() +
                    s.heads.size() * sizeof(HeadWeights);
    if (s.source) b += sizeof(Sequence) + s.source->text.size();
    return b;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] A scene's small fields and its arrays
// ---------------------------------------------------------------------------------------------
namespace {
// Everything a scene holds that grows with n, d_model or the heads.
struct Arrays {
    std::vector<Token> input_tokens, source_tokens;
    Mat input_rows, source_rows, W_O;            // (n, d_model), (m, d_model), (n_heads·d_head, d_model)
    std::vector<std::array<Mat, 3>> heads;       // n_heads × {W_Q, W_K, W_V}
    std::vector<std::uint8_t> allowed;           // an explicit mask's cells
};

// Moves the arrays of `s` into `a`, whose `heads` is already sized to s.heads.size() (the only
// allocation, done by the caller before anything moves). Leaves `s` with its small fields only.
void take_arrays(Scene& s, Arrays& a) noexcept {
    a.input_tokens.swap(s.input.tokens);
    a.input_rows.swap(s.input.embeddings);
    if (s.source) {
        a.source_tokens.swap(s.source->tokens);
        a.source_rows.swap(s.source->embeddings);
    }
    for (std::size_t h = 0; h < s.heads.size(); ++h) std::swap(a.heads[h], s.heads[h].W);
    a.W_O.swap(s.W_O);
    a.allowed.swap(s.mask.allowed);
}

// The inverse, into a scene of the same number of heads (and the same kind: self / cross).
void put_arrays(Scene& s, Arrays& a) noexcept {
    s.input.tokens.swap(a.input_tokens);
    s.input.embeddings.swap(a.input_rows);
    if (s.source) {
        s.source->tokens.swap(a.source_tokens);
        s.source->embeddings.swap(a.source_rows);
    }
    for (std::size_t h = 0; h < s.heads.size() && h < a.heads.size(); ++h) std::swap(s.heads[h].W, a.heads[h]);
    s.W_O.swap(a.W_O);
    s.mask.allowed.swap(a.allowed);
}

Sequence sequence_fields(const Sequence& q) {
    Sequence o;
    o.text = q.text;
    o.from_text = q.from_text;
    o.embeddings_given = q.embeddings_given;
    return o;
}

// A copy of `s` without its arrays. Every member of Scene that is not one of Arrays must be
// copied here (tests/test_history.cpp trips when Scene's size changes).
Scene scene_fields(const Scene& s) {
    Scene o;
    o.title = s.title;
    o.description = s.description;
    o.input = sequence_fields(s.input);
    if (s.source) o.source = sequence_fields(*s.source);
    o.d_model = s.d_model;
    o.n_heads = s.n_heads;
    o.d_head = s.d_head;
    o.mask.type = s.mask.type;
    o.mask.size = s.mask.size;
    o.mask.rows = s.mask.rows;
    o.mask.cols = s.mask.cols;
    o.scale = s.scale;
    o.temperature = s.temperature;
    o.positional = s.positional;
    o.seed = s.seed;
    o.heads.resize(s.heads.size());
    for (std::size_t h = 0; h < s.heads.size(); ++h) o.heads[h].given = s.heads[h].given;
    o.W_O_given = s.W_O_given;
    o.view_json = s.view_json;
    o.model = s.model;
    o.model_dir = s.model_dir;
    return o;
}

// Replaces the small fields of `to` by those of `from` (`from` has no arrays; same heads count).
void exchange_fields(Scene& to, Scene& from) {
    Arrays a;
    a.heads.resize(to.heads.size());
    take_arrays(to, a);
    std::swap(to, from);
    put_arrays(to, a);
}

bool same_token(const Token& a, const Token& b) { return a.offset == b.offset && a.length == b.length && a.text == b.text; }

// [lo, hi): the positions where two token lists of one length differ (lo == hi: none).
std::pair<int, int> differing_range(const std::vector<Token>& a, const std::vector<Token>& b) {
    const int n = static_cast<int>(std::min(a.size(), b.size()));
    int lo = 0;
    while (lo < n && same_token(a[static_cast<std::size_t>(lo)], b[static_cast<std::size_t>(lo)])) ++lo;
    if (lo == n) return {n, n};
    int hi = n;
    while (hi > lo && same_token(a[static_cast<std::size_t>(hi - 1)], b[static_cast<std::size_t>(hi - 1)])) --hi;
    return {lo, hi};
}

void copy_differing(std::vector<Token>& to, const std::vector<Token>& from) {
    const auto [lo, hi] = differing_range(to, from);
    std::copy(from.begin() + lo, from.begin() + hi, to.begin() + lo);
}

// Adds to `held` (= before[from, from + held.size()) as it was first) the tokens of `before` in
// the range where `before` and `after` differ, so that `held` covers both ranges.
void merge_tokens(int& from, std::vector<Token>& held, const std::vector<Token>& before, const std::vector<Token>& after) {
    const auto [lo, hi] = differing_range(before, after);
    if (lo >= hi) return;
    if (held.empty()) {
        from = lo;
        held.assign(before.begin() + lo, before.begin() + hi);
        return;
    }
    const int end = from + static_cast<int>(held.size());
    const int a = std::min(from, lo), b = std::max(end, hi);
    std::vector<Token> out;
    out.reserve(static_cast<std::size_t>(b - a));
    for (int i = a; i < b; ++i)
        out.push_back(i >= from && i < end ? std::move(held[static_cast<std::size_t>(i - from)])
                                           : before[static_cast<std::size_t>(i)]);
    from = a;
    held = std::move(out);
}
}  // namespace

void follow_change(Scene& to, const Scene& from, const SceneChange& change) {
    using Kind = SceneChange::Kind;
    if (change.kind == Kind::Other || to.n() != from.n() || to.m() != from.m() || to.heads.size() != from.heads.size() ||
        to.cross() != from.cross()) {
        to = from;
        return;
    }
    copy_differing(to.input.tokens, from.input.tokens);
    if (from.source) copy_differing(to.source->tokens, from.source->tokens);
    if (change.kind == Kind::Token) to.input.embeddings.row(change.index) = from.input.embeddings.row(change.index);
    if (change.kind == Kind::HeadWeights)
        to.heads[static_cast<std::size_t>(change.index)].W = from.heads[static_cast<std::size_t>(change.index)].W;
    if (change.kind == Kind::Output) to.W_O = from.W_O;
    Scene fields = scene_fields(from);
    exchange_fields(to, fields);
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Compact steps
// ---------------------------------------------------------------------------------------------
std::size_t History::step_bytes(const Step& st) {
    if (st.full) return scene_memory_bytes(*st.full);
    std::size_t b = scene_fields_bytes(st.fields) + mat_bytes(st.row_values) + st.rows.size() * sizeof(int) +
                    st.heads.size() * sizeof(int) + tokens_bytes(st.tokens) + tokens_bytes(st.source_tokens);
    for (const auto& w : st.head_values) b += mat_bytes(w[0]) + mat_bytes(w[1]) + mat_bytes(w[2]);
    if (st.has_W_O) b += mat_bytes(st.W_O);
    return b;
}

History::Step History::compact_step(const Scene& before, const Scene& after, const SceneChange& change) {
    using Kind = SceneChange::Kind;
    Step st;
    st.fields = scene_fields(before);
    st.n = before.n();
    st.m = before.m();
    st.d_model = before.d_model;
    st.n_heads = before.n_heads;
    st.d_head = before.d_head;
    merge_tokens(st.tokens_from, st.tokens, before.input.tokens, after.input.tokens);
    if (before.source && after.source)
        merge_tokens(st.source_tokens_from, st.source_tokens, before.source->tokens, after.source->tokens);
    if (change.kind == Kind::Token) {
        st.rows = {change.index};
        st.row_values = before.input.embeddings.row(change.index);
    } else if (change.kind == Kind::HeadWeights) {
        st.heads = {change.index};
        st.head_values = {before.heads[static_cast<std::size_t>(change.index)].W};
    } else if (change.kind == Kind::Output) {
        st.has_W_O = true;
        st.W_O = before.W_O;
    }
    st.bytes = step_bytes(st);
    return st;
}

bool History::fits(const Step& st, const Scene& s) {
    if (st.full) return true;
    if (s.n() != st.n || s.m() != st.m || s.d_model != st.d_model || s.n_heads != st.n_heads || s.d_head != st.d_head ||
        static_cast<int>(s.heads.size()) != st.n_heads || s.cross() != st.fields.cross() ||
        s.input.embeddings.rows() != st.n || s.input.embeddings.cols() != st.d_model)
        return false;
    if (st.tokens_from + st.tokens.size() > s.input.tokens.size()) return false;
    if (s.source && st.source_tokens_from + st.source_tokens.size() > s.source->tokens.size()) return false;
    for (const int r : st.rows)
        if (r < 0 || r >= st.n) return false;
    for (std::size_t k = 0; k < st.heads.size(); ++k) {
        const int h = st.heads[k];
        if (h < 0 || h >= st.n_heads) return false;
        for (int p = 0; p < 3; ++p)
            if (s.heads[static_cast<std::size_t>(h)].W[static_cast<std::size_t>(p)].rows() !=
                    st.head_values[k][static_cast<std::size_t>(p)].rows() ||
                s.heads[static_cast<std::size_t>(h)].W[static_cast<std::size_t>(p)].cols() !=
                    st.head_values[k][static_cast<std::size_t>(p)].cols())
                return false;
    }
    if (st.has_W_O && (s.W_O.rows() != st.W_O.rows() || s.W_O.cols() != st.W_O.cols())) return false;
    return true;
}

void History::swap_into(Step& st, Scene& current) {
    Arrays a;
    a.heads.resize(current.heads.size());  // the one allocation, before anything changes
    for (std::size_t k = 0; k < st.rows.size(); ++k)
        current.input.embeddings.row(st.rows[k]).swap(st.row_values.row(static_cast<Eigen::Index>(k)));
    for (std::size_t k = 0; k < st.heads.size(); ++k)
        std::swap(current.heads[static_cast<std::size_t>(st.heads[k])].W, st.head_values[k]);
    if (st.has_W_O) current.W_O.swap(st.W_O);
    std::swap_ranges(st.tokens.begin(), st.tokens.end(), current.input.tokens.begin() + st.tokens_from);
    if (current.source)
        std::swap_ranges(st.source_tokens.begin(), st.source_tokens.end(),
                         current.source->tokens.begin() + st.source_tokens_from);
    take_arrays(current, a);
    std::swap(current, st.fields);
    put_arrays(current, a);
    st.bytes = step_bytes(st);
}

void History::join(Step& st, const Scene& before, const Scene& after, const SceneChange& change) {
    using Kind = SceneChange::Kind;
    if (st.full) return;  // it already holds the whole state before the run
    if (change.kind == Kind::Other || !fits(st, before) || !fits(st, after)) {
        // The run now changes more than parts: the state before it, whole.
        Scene first = before;
        if (fits(st, first)) swap_into(st, first);
        st = Step{};
        st.full = std::move(first);
        st.bytes = step_bytes(st);
        return;
    }
    merge_tokens(st.tokens_from, st.tokens, before.input.tokens, after.input.tokens);
    if (before.source && after.source)
        merge_tokens(st.source_tokens_from, st.source_tokens, before.source->tokens, after.source->tokens);
    if (change.kind == Kind::Token && std::find(st.rows.begin(), st.rows.end(), change.index) == st.rows.end()) {
        st.row_values.conservativeResize(st.row_values.rows() + 1, st.d_model);
        st.row_values.row(st.row_values.rows() - 1) = before.input.embeddings.row(change.index);
        st.rows.push_back(change.index);
    } else if (change.kind == Kind::HeadWeights &&
               std::find(st.heads.begin(), st.heads.end(), change.index) == st.heads.end()) {
        st.heads.push_back(change.index);
        st.head_values.push_back(before.heads[static_cast<std::size_t>(change.index)].W);
    } else if (change.kind == Kind::Output && !st.has_W_O) {
        st.has_W_O = true;
        st.W_O = before.W_O;
    }
    st.bytes = step_bytes(st);
}

// ---------------------------------------------------------------------------------------------
// [SECTION] History
// ---------------------------------------------------------------------------------------------
void History::push(Scene before, const std::string& key, Clock::time_point now) {
    // Any new edit makes the redo steps unreachable.
    for (const auto& st : redo_) bytes_ -= st.bytes;
    redo_.clear();
    const bool joins = !key.empty() && key == last_key_ && !undo_.empty() && now - last_time_ <= opt_.coalesce_window;
    last_key_ = key;
    last_time_ = now;
    if (joins) {
        // The step already holds the state before the first edit of this run; a compact one is
        // made whole (this push does not say what the edit changed).
        Step& top = undo_.back();
        if (!top.full) {
            bytes_ -= top.bytes;
            join(top, before, before, SceneChange{SceneChange::Kind::Other, -1});
            bytes_ += top.bytes;
            trim();
        }
        return;
    }
    Step st;
    st.full = std::move(before);
    st.bytes = step_bytes(st);
    add_step(std::move(st));
}

void History::push(const Scene& before, const Scene& after, const SceneChange& change, const std::string& key,
                   Clock::time_point now) {
    for (const auto& st : redo_) bytes_ -= st.bytes;
    redo_.clear();
    const bool joins = !key.empty() && key == last_key_ && !undo_.empty() && now - last_time_ <= opt_.coalesce_window;
    last_key_ = key;
    last_time_ = now;
    if (joins) {
        Step& top = undo_.back();
        bytes_ -= top.bytes;
        join(top, before, after, change);
        bytes_ += top.bytes;
        trim();
        return;
    }
    if (change.kind == SceneChange::Kind::Other || before.n() != after.n() || before.m() != after.m() ||
        before.heads.size() != after.heads.size() || before.cross() != after.cross()) {
        Step st;
        st.full = before;
        st.bytes = step_bytes(st);
        add_step(std::move(st));
        return;
    }
    add_step(compact_step(before, after, change));
}

void History::add_step(Step st) {
    bytes_ += st.bytes;
    undo_.push_back(std::move(st));
    trim();
}

bool History::step_back(std::deque<Step>& from, std::deque<Step>& to, Scene& current) {
    if (from.empty()) return false;
    Step st = std::move(from.back());
    from.pop_back();
    bytes_ -= st.bytes;
    last_key_.clear();
    if (st.full) {
        Step other;
        other.full = std::move(current);
        other.bytes = step_bytes(other);
        current = std::move(*st.full);
        bytes_ += other.bytes;
        to.push_back(std::move(other));
    } else {
        if (!fits(st, current)) {  // not the scene this step was recorded after
            clear();
            return false;
        }
        swap_into(st, current);  // the step now holds what takes `current` back
        bytes_ += st.bytes;
        to.push_back(std::move(st));
    }
    trim();
    return true;
}

bool History::undo(Scene& current) { return step_back(undo_, redo_, current); }

bool History::redo(Scene& current) { return step_back(redo_, undo_, current); }

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

std::string typing_key(const std::string& field, const std::string& text) {
    int words = 0;
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    for (std::size_t i = 1; i < text.size(); ++i)
        if (space(text[i]) && !space(text[i - 1])) ++words;
    return field + "#" + std::to_string(words);
}

}  // namespace attnviz
