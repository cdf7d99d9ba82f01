// File plumbing for the snapshot store: atomic writes (a temporary file in
// the same directory, written in full, fsync, rename over the final name,
// fsync of the directory), bounded reads, the store's lock, and crash
// points for power-cut tests. Every call blocks on the disk: worker
// threads (or start-up) only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "util/error.h"

namespace cr16::migration {

/// Every temporary file the store writes starts with this; listings ignore
/// such names and a writer holding the store's lock removes leftovers.
inline constexpr const char* kTemporaryPrefix = ".tmp-";

/// A directory kept open (its fd anchors every *at() call). Movable.
class Directory {
 public:
  Directory() = default;
  /// Opens `path`; with `create`, makes it first when missing (its parent
  /// must exist). Errors name the path.
  static Expected<Directory> open(const std::string& path, bool create);
  ~Directory();
  Directory(Directory&& other) noexcept;
  Directory& operator=(Directory&& other) noexcept;
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  /// "path/name", for messages.
  std::string child(const std::string& name) const { return path_ + "/" + name; }

  /// The names in the directory (no "." or ".."; temporaries included).
  Expected<std::vector<std::string>> list() const;
  /// fsync of the directory itself: makes renames and unlinks in it durable.
  Error sync() const;

 private:
  Directory(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

/// Writes `parts` (concatenated) as `name` in `directory`, atomically: a
/// reader sees either the old file or the whole new one, before and after a
/// crash, never a mix or a prefix. `crash_tag` names the crash points this
/// write passes ("pack", "manifest"; see crash_point()). Blocking.
Error write_file_atomic(const Directory& directory, const std::string& name,
                        std::span<const std::span<const uint8_t>> parts, const char* crash_tag);

/// write_file_atomic() in steps, so that two files' syncs can overlap:
/// create() opens the temporary, write() fills it, sync() makes its contents
/// durable and closes it, commit() renames it into place and syncs the
/// directory. Destroyed before commit(), it removes the temporary. Movable;
/// one thread at a time.
class AtomicFile {
 public:
  static Expected<AtomicFile> create(const Directory& directory, std::string name,
                                     const char* crash_tag);
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  ~AtomicFile();

  Error write(std::span<const std::span<const uint8_t>> parts);
  Error sync();
  Error commit();

 private:
  AtomicFile(const Directory& directory, std::string name, std::string temporary, int fd,
             const char* crash_tag)
      : directory_(&directory),
        name_(std::move(name)),
        temporary_(std::move(temporary)),
        fd_(fd),
        crash_tag_(crash_tag) {}
  std::string what() const;

  const Directory* directory_;
  std::string name_;
  std::string temporary_;  // empty once committed (or moved from)
  int fd_;
  const char* crash_tag_;
};

/// Reads the whole file `name` in `directory`, refusing one larger than
/// `limit` bytes. Blocking.
Expected<std::vector<uint8_t>> read_whole_file(const Directory& directory, const std::string& name,
                                               size_t limit);

/// Removes `name` from `directory` (no error when it is already gone).
Error remove_file(const Directory& directory, const std::string& name);

/// Removes every temporary file (kTemporaryPrefix) in `directory`: what a
/// writer killed mid-write left behind. Only under the store's exclusive
/// lock, when no other writer can be active. Errors are ignored.
void remove_temporaries(const Directory& directory);

/// The store's advisory lock (flock on a file): shared for readers,
/// exclusive for writers, so two processes using one store take turns.
/// Waits for the lock: worker threads only. Released by the destructor.
class StoreLock {
 public:
  enum class Mode : uint8_t { kShared, kExclusive };
  /// Locks `name` in `directory` (created when missing). A store on a
  /// read-only file system cannot hold a lock file: a shared lock then
  /// succeeds without one (nobody can write there either).
  static Expected<StoreLock> acquire(const Directory& directory, const std::string& name,
                                     Mode mode);
  StoreLock() = default;
  ~StoreLock();
  StoreLock(StoreLock&& other) noexcept;
  StoreLock& operator=(StoreLock&& other) noexcept;

 private:
  explicit StoreLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

/// Power-cut tests: when the environment variable CR16_SNAPSHOT_CRASH_AT
/// equals "TAG:POINT" (e.g. "pack:half-written"), the process kills itself
/// with SIGKILL at that point, as a power cut would stop it. Points of
/// write_file_atomic: "half-written" (half the bytes in the temporary
/// file), "before-sync", "before-rename", "before-directory-sync". Does
/// nothing otherwise.
void crash_point(const char* tag, const char* point);

}  // namespace cr16::migration
