#include "autosave.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <fstream>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "history.hpp"  // scene_memory_bytes
#include "scene_io.hpp"

namespace attnviz {

namespace fs = std::filesystem;

std::string default_state_dir() {
    if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/attnviz";
    if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/state/attnviz";
    return {};
}

namespace {
constexpr const char* kSessionPrefix = "session-";
constexpr const char* kSessionSuffix = ".lock";

// Opens `path` and takes an exclusive flock without waiting: the fd, or -1 when another open file
// holds the lock (a live session) or the file cannot be opened.
int try_lock(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return -1;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

void remove_quietly(const std::string& path) {
    std::error_code ec;
    fs::remove(path, ec);
}

// <base>.json or <base>.bin, whichever exists ("" when neither).
std::string existing_state(const std::string& base) {
    std::error_code ec;
    if (fs::exists(base + ".json", ec)) return base + ".json";
    if (fs::exists(base + ".bin", ec)) return base + ".bin";
    return {};
}

// Moves <from>.json / .bin to <to>.json / .bin (whichever exists), removing the other form at <to>.
void move_state(const std::string& from, const std::string& to) {
    std::error_code ec;
    const std::string f = existing_state(from);
    if (f.empty()) return;
    const std::string ext = f.substr(f.size() - 5) == ".json" ? ".json" : ".bin";
    remove_quietly(to + (ext == ".json" ? ".bin" : ".json"));
    fs::rename(f, to + ext, ec);
}

// ---- The compact form for large scenes (autosave only): a scene whose given matrices hold at
// least kBinaryFromValues values is written as
//   "attnviz-autosave 1\n", u64 n, n bytes of scene JSON (those matrices left out, as if drawn),
//   then per matrix: u32 name length, name ("input.embeddings", "source.embeddings",
//   "heads.<h>.<W_Q|W_K|W_V>", "W_O"), u64 rows, u64 cols, rows·cols float32 (row-major, this
//   machine's byte order: the file never leaves the machine).
// Written straight from the matrices: no text of 16 million numbers is ever built.
constexpr const char* kBinaryMagic = "attnviz-autosave 1\n";
constexpr std::size_t kBinaryFromValues = std::size_t(1) << 20;  // 4 MiB of float32

struct NamedMatrix {
    std::string name;
    Mat* m;
    bool* given;
};
std::vector<NamedMatrix> given_matrices(Scene& s) {
    std::vector<NamedMatrix> out;
    if (s.input.embeddings_given) out.push_back({"input.embeddings", &s.input.embeddings, &s.input.embeddings_given});
    if (s.source && s.source->embeddings_given) out.push_back({"source.embeddings", &s.source->embeddings, &s.source->embeddings_given});
    for (std::size_t h = 0; h < s.heads.size(); ++h)
        for (int p = 0; p < 3; ++p)
            if (s.heads[h].given[static_cast<std::size_t>(p)])
                out.push_back({"heads." + std::to_string(h) + "." + projection_name(static_cast<Projection>(p)),
                               &s.heads[h].W[static_cast<std::size_t>(p)], &s.heads[h].given[static_cast<std::size_t>(p)]});
    if (s.W_O_given) out.push_back({"W_O", &s.W_O, &s.W_O_given});
    return out;
}

void write_all(int fd, const void* data, std::size_t n, const std::string& path) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            throw SceneError("", "cannot write " + path + ": " + std::strerror(errno));
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

// Writes `s` (which it may take matrices from: the autosave's own copy) in the compact form,
// atomically (temporary file, fsync, rename).
void write_binary(Scene& s, const std::string& path) {
    std::vector<std::pair<std::string, Mat>> big;
    for (NamedMatrix& nm : given_matrices(s))
        if (static_cast<std::size_t>(nm.m->size()) >= kBinaryFromValues) {
            big.emplace_back(nm.name, std::move(*nm.m));
            *nm.m = Mat();
            *nm.given = false;
        }
    const std::string json = scene_to_json(s);
    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw SceneError("", "cannot write " + tmp + ": " + std::strerror(errno));
    try {
        write_all(fd, kBinaryMagic, std::strlen(kBinaryMagic), tmp);
        const std::uint64_t n = json.size();
        write_all(fd, &n, sizeof n, tmp);
        write_all(fd, json.data(), json.size(), tmp);
        for (const auto& [name, m] : big) {
            const std::uint32_t len = static_cast<std::uint32_t>(name.size());
            const std::uint64_t rows = static_cast<std::uint64_t>(m.rows()), cols = static_cast<std::uint64_t>(m.cols());
            write_all(fd, &len, sizeof len, tmp);
            write_all(fd, name.data(), name.size(), tmp);
            write_all(fd, &rows, sizeof rows, tmp);
            write_all(fd, &cols, sizeof cols, tmp);
            write_all(fd, m.data(), static_cast<std::size_t>(m.size()) * sizeof(float), tmp);
        }
        if (::fsync(fd) != 0) throw SceneError("", "cannot flush " + tmp + ": " + std::strerror(errno));
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw SceneError("", "cannot write " + path + ": " + std::strerror(err));
    }
}

Scene read_binary(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw SceneError("", "cannot read " + path);
    std::string magic(std::strlen(kBinaryMagic), '\0');
    std::uint64_t n = 0;
    if (!in.read(magic.data(), static_cast<std::streamsize>(magic.size())) || magic != kBinaryMagic ||
        !in.read(reinterpret_cast<char*>(&n), sizeof n) || n > (std::uint64_t(1) << 30))
        throw SceneError("", path + ": not an attnviz autosave");
    std::string json(static_cast<std::size_t>(n), '\0');
    if (!in.read(json.data(), static_cast<std::streamsize>(n))) throw SceneError("", path + ": cut short");
    Scene s = scene_from_json(json);
    for (;;) {
        std::uint32_t len = 0;
        if (!in.read(reinterpret_cast<char*>(&len), sizeof len)) break;  // the end
        if (len > 64) throw SceneError("", path + ": bad matrix record");
        std::string name(len, '\0');
        std::uint64_t rows = 0, cols = 0;
        if (!in.read(name.data(), len) || !in.read(reinterpret_cast<char*>(&rows), sizeof rows) ||
            !in.read(reinterpret_cast<char*>(&cols), sizeof cols))
            throw SceneError("", path + ": cut short");
        bool placed = false;
        // the matrix of that name in the scene (drawn by the loader at its shape): overwrite it
        Mat* target = nullptr;
        bool* given = nullptr;
        if (name == "input.embeddings") target = &s.input.embeddings, given = &s.input.embeddings_given;
        else if (name == "source.embeddings" && s.source) target = &s.source->embeddings, given = &s.source->embeddings_given;
        else if (name == "W_O") target = &s.W_O, given = &s.W_O_given;
        else
            for (std::size_t h = 0; h < s.heads.size() && !target; ++h)
                for (int p = 0; p < 3; ++p)
                    if (name == "heads." + std::to_string(h) + "." + projection_name(static_cast<Projection>(p))) {
                        target = &s.heads[h].W[static_cast<std::size_t>(p)];
                        given = &s.heads[h].given[static_cast<std::size_t>(p)];
                    }
        if (target && static_cast<std::uint64_t>(target->rows()) == rows && static_cast<std::uint64_t>(target->cols()) == cols) {
            if (!in.read(reinterpret_cast<char*>(target->data()), static_cast<std::streamsize>(rows * cols * sizeof(float))))
                throw SceneError("", path + ": cut short in " + name);
            for (Eigen::Index i = 0; i < target->size(); ++i)
                if (!std::isfinite(target->data()[i])) throw SceneError("", path + ": " + name + " holds a number that is not finite");
            *given = true;
            placed = true;
        }
        if (!placed) throw SceneError("", path + ": " + name + " does not fit the scene");
    }
    return s;
}
}  // namespace

Autosave::Autosave(Options o) : opt_(std::move(o)) {}

Autosave::~Autosave() {
    if (worker_.joinable()) {
        {
            std::lock_guard lk(mu_);
            stop_ = true;
        }
        wake_.notify_all();
        worker_.join();
    }
    for (auto& c : claimed_) ::close(c.second);
    if (lock_fd_ >= 0) ::close(lock_fd_);  // the session file stays: read as crashed unless finish_clean ran
}

std::string Autosave::state_path() const { return opt_.dir + "/autosave-" + id_ + ".json"; }
std::string Autosave::session_path() const { return opt_.dir + "/" + kSessionPrefix + id_ + kSessionSuffix; }
std::string Autosave::discarded_path() const { return opt_.dir + "/discarded.json"; }

std::chrono::milliseconds Autosave::quiet_for(std::size_t bytes) const {
    const auto by_size = std::chrono::milliseconds(static_cast<long long>(static_cast<double>(bytes) / opt_.bytes_per_ms));
    return std::max(opt_.quiet, by_size);
}

std::vector<Autosave::Found> Autosave::start() {
    if (opt_.dir.empty()) throw SceneError("", "no state directory (set XDG_STATE_HOME or HOME)");
    std::error_code ec;
    fs::create_directories(opt_.dir, ec);
    if (ec) throw SceneError("", "cannot create " + opt_.dir + ": " + ec.message());
    const auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
    // A new file (O_EXCL): two instances in one process within one millisecond get "-2", "-3", …
    for (int k = 1; lock_fd_ < 0 && k < 100; ++k) {
        id_ = std::to_string(::getpid()) + "-" + std::to_string(since_epoch.count()) + (k > 1 ? "-" + std::to_string(k) : "");
        const int fd = ::open(session_path().c_str(), O_RDWR | O_CLOEXEC | O_CREAT | O_EXCL, 0600);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            const int err = errno;
            if (fd >= 0) ::close(fd);
            throw SceneError("", "cannot create or lock " + session_path() + ": " + std::strerror(err));
        }
        lock_fd_ = fd;
    }
    if (lock_fd_ < 0) throw SceneError("", "cannot create a session file in " + opt_.dir);
    const std::string info = "pid " + std::to_string(::getpid()) + "\n";
    if (::write(lock_fd_, info.data(), info.size()) < 0) {
        // the lock is what counts; the text is for people reading the folder
    }

    // Every other session file: locked by a live instance (leave it), or free (its process died).
    std::vector<std::pair<long long, std::string>> dead;  // (autosave's write time, id)
    for (const auto& e : fs::directory_iterator(opt_.dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind(kSessionPrefix, 0) != 0 || name.size() <= std::strlen(kSessionPrefix) + std::strlen(kSessionSuffix) ||
            name.compare(name.size() - std::strlen(kSessionSuffix), std::string::npos, kSessionSuffix) != 0)
            continue;
        const std::string id = name.substr(std::strlen(kSessionPrefix), name.size() - std::strlen(kSessionPrefix) - std::strlen(kSessionSuffix));
        if (id == id_) continue;
        const int fd = try_lock(e.path().string());
        if (fd < 0) continue;  // a live instance (or unreadable): never touched
        const std::string state = existing_state(opt_.dir + "/autosave-" + id);
        if (state.empty()) {  // crashed before its first autosave: nothing to offer
            remove_quietly(opt_.dir + "/autosave-" + id + ".path");
            remove_quietly(e.path().string());
            ::close(fd);
            continue;
        }
        claimed_.emplace_back(id, fd);
        const auto t = fs::last_write_time(state, ec);
        dead.emplace_back(static_cast<long long>(t.time_since_epoch().count()), id);
    }
    std::sort(dead.begin(), dead.end());  // oldest first
    std::vector<Found> found;
    for (const auto& d : dead) {
        Found f;
        f.id = d.second;
        f.state_path = existing_state(opt_.dir + "/autosave-" + f.id);
        try {
            f.scene_path = read_file(opt_.dir + "/autosave-" + f.id + ".path", 4096);
        } catch (const SceneError&) {
        }
        found.push_back(std::move(f));
    }
    if (const std::string d = existing_state(opt_.dir + "/discarded"); !d.empty()) {
        Found f;
        f.id = "discarded";
        f.state_path = d;
        f.discarded = true;
        try {
            f.scene_path = read_file(opt_.dir + "/discarded.path", 4096);
        } catch (const SceneError&) {
        }
        found.push_back(std::move(f));
    }
    worker_ = std::thread([this] { run(); });
    return found;
}

void Autosave::schedule(const Scene& s, const std::string& scene_path) {
    auto copy = std::make_unique<Scene>(s);  // outside the lock: the worker is never held up by it
    {
        std::lock_guard lk(mu_);
        const auto now = std::chrono::steady_clock::now();
        if (!pending_) first_change_ = now;
        last_change_ = now;
        pending_ = std::move(copy);
        pending_path_ = scene_path;
    }
    wake_.notify_all();
}

bool Autosave::busy() const {
    std::lock_guard lk(mu_);
    return pending_ != nullptr || writing_;
}

void Autosave::flush() {
    std::unique_lock lk(mu_);
    if (!worker_.joinable()) return;
    flushing_ = true;
    wake_.notify_all();
    done_.wait(lk, [&] { return !pending_ && !writing_; });
    flushing_ = false;
}

void Autosave::finish_clean(bool keep_as_discarded) {
    if (keep_as_discarded) {
        flush();
    } else {
        {
            std::lock_guard lk(mu_);
            pending_.reset();  // a clean exit needs none of it: never wait for a large write
        }
        flush();  // waits only for a write already under way
    }
    if (worker_.joinable()) {
        {
            std::lock_guard lk(mu_);
            stop_ = true;
        }
        wake_.notify_all();
        worker_.join();
    }
    std::error_code ec;
    if (keep_as_discarded && !existing_state(opt_.dir + "/autosave-" + id_).empty()) {
        move_state(opt_.dir + "/autosave-" + id_, opt_.dir + "/discarded");
        fs::rename(opt_.dir + "/autosave-" + id_ + ".path", opt_.dir + "/discarded.path", ec);
    }
    remove_quietly(state_path());
    remove_quietly(opt_.dir + "/autosave-" + id_ + ".bin");
    remove_quietly(opt_.dir + "/autosave-" + id_ + ".path");
    for (auto& c : claimed_) ::close(c.second);  // crashed sessions not yet answered: offered next time
    claimed_.clear();
    remove_quietly(session_path());
    if (lock_fd_ >= 0) ::close(lock_fd_);
    lock_fd_ = -1;
}

void Autosave::release(const Found& f, bool keep_as_discarded) {
    if (f.discarded) {
        if (!keep_as_discarded) drop_discarded();
        return;
    }
    std::error_code ec;
    const std::string base = opt_.dir + "/autosave-" + f.id;
    if (keep_as_discarded) {
        move_state(base, opt_.dir + "/discarded");
        fs::rename(base + ".path", opt_.dir + "/discarded.path", ec);
    }
    remove_quietly(base + ".json");
    remove_quietly(base + ".bin");
    remove_quietly(base + ".path");
    remove_quietly(opt_.dir + "/" + kSessionPrefix + f.id + kSessionSuffix);
    for (auto it = claimed_.begin(); it != claimed_.end(); ++it)
        if (it->first == f.id) {
            ::close(it->second);
            claimed_.erase(it);
            break;
        }
}

void Autosave::drop_discarded() {
    remove_quietly(discarded_path());
    remove_quietly(opt_.dir + "/discarded.bin");
    remove_quietly(opt_.dir + "/discarded.path");
}

Scene Autosave::load_state() const {
    const std::string p = existing_state(opt_.dir + "/autosave-" + id_);
    if (p.empty()) throw SceneError("", "no autosave at " + state_path());
    return load_file(p);
}
Scene Autosave::load(const Found& f) { return load_file(f.state_path); }

Scene Autosave::load_file(const std::string& path) {
    if (path.size() > 4 && path.compare(path.size() - 4, 4, ".bin") == 0) return read_binary(path);
    return load_scene(path);
}

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
        wake_.wait(lk, [&] { return stop_ || pending_ != nullptr; });
        if (!pending_) return;  // stopping with nothing left to write
        // Debounce: wait for a pause in the edits, but not past max_delay after the first one.
        while (!stop_ && !flushing_ && pending_) {
            const auto due = std::min(last_change_ + opt_.quiet, first_change_ + opt_.max_delay);
            if (std::chrono::steady_clock::now() >= due) break;
            wake_.wait_until(lk, due);
        }
        if (!pending_) continue;  // dropped (a clean exit)
        std::unique_ptr<Scene> s = std::move(pending_);
        const std::string path = std::move(pending_path_);
        writing_ = true;
        lk.unlock();
        write(*s, path);  // may take the copy's matrices
        s.reset();  // freed off the lock
        lk.lock();
        writing_ = false;
        done_.notify_all();
    }
}

void Autosave::write(Scene& s, const std::string& scene_path) {
    std::string err;
    try {
        std::size_t largest = 0;
        for (const NamedMatrix& nm : given_matrices(s)) largest = std::max(largest, static_cast<std::size_t>(nm.m->size()));
        const std::string base = opt_.dir + "/autosave-" + id_;
        if (largest >= kBinaryFromValues) {  // the compact form: no 1 GB of decimal text
            write_binary(s, base + ".bin");
            write_file_atomic(base + ".path", scene_path);
            remove_quietly(base + ".json");
        } else {
            write_file_atomic(state_path(), scene_to_json(s));
            write_file_atomic(base + ".path", scene_path);
            remove_quietly(base + ".bin");
        }
    } catch (const std::exception& e) {  // nothing may escape the worker thread (std::bad_alloc included)
        err = e.what();
    }
    std::lock_guard lk(mu_);
    error_ = err;
    if (err.empty()) ++saves_;
}

}  // namespace attnviz
