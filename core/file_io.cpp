#include "file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <random>

// [SECTION] Helpers
// [SECTION] Reading
// [SECTION] Writing: direct (devices, FIFOs), through a temporary (regular files)
// [SECTION] Standard output, same_file

namespace attnviz {
namespace {

// ---------------------------------------------------------------------------------------------
// [SECTION] Helpers
// ---------------------------------------------------------------------------------------------
std::string os_reason(int err) { return std::strerror(err); }

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
    throw FileError(what + " " + path + ": " + os_reason(err));
}

std::string size_text(unsigned long long bytes) {
    if (bytes < (1ull << 20)) return std::to_string(bytes) + " bytes";
    return std::to_string(bytes >> 20) + " MiB";
}

std::string folder_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::string name_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Follows a chain of symlinks at the last component (the folders on the way are the kernel's
// business): "link" → "target" relative to the link's folder. Stops at the first non-link or
// missing name (a dangling link yields the name it points to). Throws after 40 links (a loop).
std::string final_target(const std::string& path) {
    std::string p = path;
    for (int hops = 0; hops < 40; ++hops) {
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
        std::string target(4096, '\0');
        const ssize_t n = ::readlink(p.c_str(), target.data(), target.size());
        if (n < 0) fail("cannot follow the symlink", p, errno);
        target.resize(static_cast<std::size_t>(n));
        if (target.empty()) throw FileError("cannot follow the symlink " + p + ": it is empty");
        p = target[0] == '/' ? target : folder_of(p) + "/" + target;
    }
    fail("cannot follow the symlink", path, ELOOP);
}

// Writes every byte; returns 0 or the errno of the failing write.
int write_all(int fd, std::string_view bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (w == 0) return EIO;  // a write that makes no progress would loop forever
        done += static_cast<std::size_t>(w);
    }
    return 0;
}

std::string temporary_name(const std::string& folder, const std::string& name) {
    static std::atomic<unsigned> counter{0};
    thread_local std::mt19937_64 rng{std::random_device{}() ^
                                     static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
    // Keep the temporary's name under NAME_MAX (255) whatever the target's length.
    const std::string stem = name.size() > 180 ? name.substr(0, 180) : name;
    char suffix[64];
    std::snprintf(suffix, sizeof suffix, ".tmp-%d-%u-%08llx", static_cast<int>(::getpid()), counter.fetch_add(1),
                  static_cast<unsigned long long>(rng() & 0xffffffffull));
    return folder + "/." + stem + suffix;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Writing: direct (devices, FIFOs), through a temporary (regular files)
// ---------------------------------------------------------------------------------------------
void write_direct(const std::string& path, std::string_view bytes) {
    // No O_CREAT, no O_TRUNC: the node is written, never replaced. O_NONBLOCK so that a FIFO with
    // no reader is ENXIO at once instead of a hang; blocking writes are restored right after.
    const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENXIO) throw FileError("cannot write " + path + ": it is a FIFO and no process is reading it");
        fail("cannot open", path, errno);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
        ::close(fd);  // replaced between the stat and the open: write nothing rather than in place
        throw FileError("cannot write " + path + ": it changed while being opened");
    }
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    if (const int err = write_all(fd, bytes)) {
        ::close(fd);
        fail("cannot write", path, err);
    }
    if (::close(fd) != 0) fail("cannot write", path, errno);
}

void write_replacing(const std::string& requested, std::string_view bytes) {
    const std::string target = final_target(requested);  // the link stays; its target is replaced
    struct stat old {};
    const bool exists = ::stat(target.c_str(), &old) == 0;
    if (exists && !S_ISREG(old.st_mode))  // a link chain that ends at something else
        throw FileError("cannot write " + requested + ": it is " + file_kind_name(old.st_mode) + ", not a regular file");

    const std::string folder = folder_of(target);
    std::string tmp;
    int fd = -1;
    for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
        tmp = temporary_name(folder, name_of(target));
        // A new file gets 0666 less the umask, as with a shell `>`; an existing one its own mode (below).
        fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, exists ? 0600 : 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0)
        throw FileError("cannot write " + requested + ": cannot create a temporary file in " + folder + ": " + os_reason(errno));

    const auto abandon = [&](const std::string& what, int err) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw FileError("cannot write " + requested + ": " + what + os_reason(err));
    };
    if (exists) {
        // Owner first (chown may clear set-id bits), then the mode. Without the privilege to give a
        // file away (not root), keep at least the group when we may; the owner is then us.
        if (::fchown(fd, old.st_uid, old.st_gid) != 0) (void)::fchown(fd, static_cast<uid_t>(-1), old.st_gid);
        if (::fchmod(fd, old.st_mode & 07777) != 0) abandon("cannot set the permissions: ", errno);
    }
    if (const int err = write_all(fd, bytes)) abandon("", err);
    if (::fsync(fd) != 0) abandon("", errno);
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw FileError("cannot write " + requested + ": " + os_reason(err));
    }
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw FileError("cannot replace " + requested + ": " + os_reason(err));
    }
    // Make the rename itself durable (best effort: some file systems refuse fsync on a folder).
    const int dfd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)::fsync(dfd);
        ::close(dfd);
    }
}

}  // namespace

std::string file_kind_name(unsigned mode) {
    switch (mode & S_IFMT) {
        case S_IFREG: return "a regular file";
        case S_IFDIR: return "a directory";
        case S_IFIFO: return "a FIFO";
        case S_IFCHR: return "a character device";
        case S_IFBLK: return "a block device";
        case S_IFSOCK: return "a socket";
        case S_IFLNK: return "a symlink";
        default: return "a special file";
    }
}

void write_file(const std::string& path, std::string_view bytes) {
    if (path.empty()) throw FileError("cannot write to an empty path");
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        // Absent (or a dangling symlink): create it. Anything else (EACCES, ENOTDIR, ELOOP) is the error.
        if (errno != ENOENT) fail("cannot write", path, errno);
        write_replacing(path, bytes);
        return;
    }
    if (S_ISREG(st.st_mode)) return write_replacing(path, bytes);
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) return write_direct(path, bytes);
    throw FileError("cannot write " + path + ": it is " + file_kind_name(st.st_mode) + ", not a regular file");
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Reading
// ---------------------------------------------------------------------------------------------
std::string read_regular_file(const std::string& path, std::size_t max_bytes) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) fail("cannot open", path, errno);
    if (!S_ISREG(st.st_mode)) throw FileError(path + " is " + file_kind_name(st.st_mode) + ", not a regular file");
    // Non-blocking: if a FIFO was swapped in after the stat, the open still returns at once.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) fail("cannot open", path, errno);
    struct stat fst {};
    if (::fstat(fd, &fst) != 0) {
        const int err = errno;
        ::close(fd);
        fail("cannot read", path, err);
    }
    if (!S_ISREG(fst.st_mode)) {
        ::close(fd);
        throw FileError(path + " is " + file_kind_name(fst.st_mode) + ", not a regular file");
    }
    const auto size = static_cast<unsigned long long>(fst.st_size);
    const auto too_big = [&](unsigned long long n) {
        ::close(fd);
        return FileError(path + " is " + size_text(n) + ", more than the " + size_text(max_bytes) + " limit");
    };
    if (size > max_bytes) throw too_big(size);
    std::string data;
    data.resize(static_cast<std::size_t>(size));
    std::size_t done = 0;
    for (;;) {
        if (done == data.size()) {
            // The file may have grown since the fstat: keep reading, within the limit.
            if (data.size() >= max_bytes + std::size_t{1}) throw too_big(data.size());
            data.resize(std::min<std::size_t>(max_bytes + std::size_t{1}, data.size() + 65536));
        }
        const ssize_t r = ::read(fd, data.data() + done, data.size() - done);
        if (r < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            ::close(fd);
            fail("cannot read", path, err);
        }
        if (r == 0) break;
        done += static_cast<std::size_t>(r);
    }
    ::close(fd);
    if (done > max_bytes) throw FileError(path + " is " + size_text(done) + ", more than the " + size_text(max_bytes) + " limit");
    data.resize(done);
    return data;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Standard output, same_file
// ---------------------------------------------------------------------------------------------
void write_stdout(std::string_view bytes) {
    if (std::fflush(stdout) != 0) throw FileError(std::string("cannot write to standard output: ") + os_reason(errno));
    if (const int err = write_all(STDOUT_FILENO, bytes)) throw FileError("cannot write to standard output: " + os_reason(err));
}

bool same_file(const std::string& a, const std::string& b) {
    struct stat sa {}, sb {};
    if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace attnviz
