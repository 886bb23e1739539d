#pragma once
// Files are written, never replaced by accident; files are read only when they are regular files.
// (POSIX; the standard library only in this header.)
//
// write_file(path, bytes) — what happens depends on what `path` names (following symlinks):
//   absent, or a regular file  → the bytes go to a temporary file in the target's own folder
//                                 (".NAME.tmp-…"), every write is checked, the temporary is
//                                 fsync'ed and closed (checked), then renamed over the target. An
//                                 existing target's permission bits and (where the process may)
//                                 owner and group are copied to the temporary first. On any
//                                 failure the target is untouched and the temporary removed.
//   a symlink (chain)          → followed to its final target, which gets the new content as
//                                 above; the link stays a link. A dangling link creates its target.
//   a character device or FIFO → written directly: opened without O_CREAT/O_TRUNC (so /dev/null,
//                                 /dev/full, /dev/stdout, `>(gzip)` behave as with a shell `>`),
//                                 every write checked, close checked; never replaced by a regular
//                                 file. A FIFO is opened non-blocking: with no reader that is an
//                                 error at once ("no process is reading it"), never a hang.
//   a directory, socket, block device or anything else → refused, nothing written.
// Hard links: a regular file with several names gets a new inode under this name only (the
// other names keep the old content), like most editors' safe save.
// Every error is a FileError whose message names the path and the OS reason.
//
// read_regular_file(path, max_bytes) — refuses anything but a regular file before reading it
// (stat, then open non-blocking and fstat again, so a FIFO with no writer never blocks), refuses a
// file over max_bytes naming its size, and reads it fully with checked reads.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace attnviz {

class FileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

void write_file(const std::string& path, std::string_view bytes);  // throws FileError

std::string read_regular_file(const std::string& path, std::size_t max_bytes);  // throws FileError

// Writes all of `bytes` to standard output (after flushing C stdio) with checked writes; throws
// FileError ("standard output: No space left on device") when any write fails.
void write_stdout(std::string_view bytes);

// True when both paths exist and (after following symlinks) are the same file (device + inode).
bool same_file(const std::string& a, const std::string& b);

// "a FIFO", "a directory", "a character device", … for messages; "a regular file" for S_IFREG.
std::string file_kind_name(unsigned mode);

}  // namespace attnviz
