#include "migration/snapshot_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string_view>
#include <utility>

namespace cr16::migration {
namespace {

// Writes bytes [begin, end) of the concatenation of `parts`, many parts per
// writev() call (pages of guest memory arrive as one part each).
Error write_range(int fd, std::span<const std::span<const uint8_t>> parts, size_t begin, size_t end,
                  const std::string& what) {
  constexpr size_t kBatch = 512;  // below IOV_MAX (1024)
  size_t part = 0;
  size_t part_start = 0;  // offset of parts[part] in the concatenation
  while (begin < end) {
    while (part < parts.size() && part_start + parts[part].size() <= begin) {
      part_start += parts[part].size();
      ++part;
    }
    iovec vectors[kBatch];
    size_t count = 0;
    size_t offset = begin - part_start;
    size_t batch_bytes = 0;
    for (size_t p = part; p < parts.size() && count < kBatch && begin + batch_bytes < end; ++p) {
      size_t length = std::min(parts[p].size() - offset, end - begin - batch_bytes);
      if (length > 0) {
        vectors[count].iov_base = const_cast<uint8_t*>(parts[p].data() + offset);
        vectors[count].iov_len = length;
        ++count;
        batch_bytes += length;
      }
      offset = 0;
    }
    ssize_t written = ::writev(fd, vectors, static_cast<int>(count));
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return Error::from_errno("writing " + what, errno);
    if (written == 0) return Error("writing " + what + ": no progress", EIO);
    begin += static_cast<size_t>(written);
  }
  return Error();
}

std::string temporary_name(const std::string& name) {
  uint64_t random = 0;
  if (getrandom(&random, sizeof random, GRND_NONBLOCK) != sizeof random) {
    random = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&random)) ^
             static_cast<uint64_t>(time(nullptr));
  }
  char suffix[40];
  std::snprintf(suffix, sizeof suffix, "-%d-%016" PRIx64, static_cast<int>(getpid()), random);
  return std::string(kTemporaryPrefix) + name + suffix;
}

}  // namespace

void crash_point(const char* tag, const char* point) {
  static const char* wanted = std::getenv("CR16_SNAPSHOT_CRASH_AT");
  if (wanted == nullptr) return;
  std::string here = std::string(tag) + ":" + point;
  if (here == wanted) {
    // A power cut: nothing after this point happens, no destructor, no flush.
    ::kill(::getpid(), SIGKILL);
  }
}

// ---- Directory

Expected<Directory> Directory::open(const std::string& path, bool create) {
  if (path.empty()) return Error("empty directory name");
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create) {
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      return Error::from_errno("creating directory '" + path + "'", errno);
    }
    fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      // The new entry in the parent must survive a crash too.
      std::string parent = path;
      while (parent.size() > 1 && parent.back() == '/') parent.pop_back();
      size_t slash = parent.rfind('/');
      parent = slash == std::string::npos ? "." : slash == 0 ? "/" : parent.substr(0, slash);
      int parent_fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (parent_fd >= 0) {
        ::fsync(parent_fd);
        ::close(parent_fd);
      }
    }
  }
  if (fd < 0) return Error::from_errno("directory '" + path + "'", errno);
  return Directory(fd, path);
}

Directory::~Directory() {
  if (fd_ >= 0) ::close(fd_);
}

Directory::Directory(Directory&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

Directory& Directory::operator=(Directory&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

Expected<std::vector<std::string>> Directory::list() const {
  int fd = ::openat(fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error::from_errno("listing '" + path_ + "'", errno);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int error = errno;
    ::close(fd);
    return Error::from_errno("listing '" + path_ + "'", error);
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  int error = errno;
  ::closedir(dir);
  if (error != 0) return Error::from_errno("listing '" + path_ + "'", error);
  return names;
}

Error Directory::sync() const {
  if (::fsync(fd_) != 0 && errno != EINVAL) {
    return Error::from_errno("syncing directory '" + path_ + "'", errno);
  }
  return Error();
}

// ---- Files

Expected<AtomicFile> AtomicFile::create(const Directory& directory, std::string name,
                                        const char* crash_tag) {
  std::string temporary = temporary_name(name);
  int fd = ::openat(directory.fd(), temporary.c_str(),
                    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    return Error::from_errno("creating a temporary file for '" + directory.child(name) + "'",
                             errno);
  }
  return AtomicFile(directory, std::move(name), std::move(temporary), fd, crash_tag);
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : directory_(other.directory_),
      name_(std::move(other.name_)),
      temporary_(std::exchange(other.temporary_, std::string())),
      fd_(std::exchange(other.fd_, -1)),
      crash_tag_(other.crash_tag_) {}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!temporary_.empty()) ::unlinkat(directory_->fd(), temporary_.c_str(), 0);
}

std::string AtomicFile::what() const {
  return "'" + directory_->child(name_) + "'";
}

Error AtomicFile::write(std::span<const std::span<const uint8_t>> parts) {
  size_t total = 0;
  for (std::span<const uint8_t> part : parts) total += part.size();
  if (Error error = write_range(fd_, parts, 0, total / 2, what()); !error.ok()) return error;
  crash_point(crash_tag_, "half-written");
  return write_range(fd_, parts, total / 2, total, what());
}

Error AtomicFile::sync() {
  crash_point(crash_tag_, "before-sync");
  if (::fsync(fd_) != 0) return Error::from_errno("syncing " + what(), errno);
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) return Error::from_errno("closing " + what(), errno);
  return Error();
}

Error AtomicFile::commit() {
  crash_point(crash_tag_, "before-rename");
  if (::renameat(directory_->fd(), temporary_.c_str(), directory_->fd(), name_.c_str()) != 0) {
    return Error::from_errno("renaming the new " + what() + " into place", errno);
  }
  temporary_.clear();
  crash_point(crash_tag_, "before-directory-sync");
  return directory_->sync();
}

Error write_file_atomic(const Directory& directory, const std::string& name,
                        std::span<const std::span<const uint8_t>> parts, const char* crash_tag) {
  Expected<AtomicFile> file = AtomicFile::create(directory, name, crash_tag);
  if (!file) return file.error();
  if (Error error = file->write(parts); !error.ok()) return error;
  if (Error error = file->sync(); !error.ok()) return error;
  return file->commit();
}

Expected<std::vector<uint8_t>> read_whole_file(const Directory& directory, const std::string& name,
                                               size_t limit) {
  const std::string what = "'" + directory.child(name) + "'";
  int fd = ::openat(directory.fd(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return Error::from_errno(what, errno);
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return Error(what + ": not a regular file");
  }
  if (static_cast<uint64_t>(info.st_size) > limit) {
    ::close(fd);
    return Error(what + ": " + std::to_string(info.st_size) + " bytes, more than the " +
                 std::to_string(limit) + " a file of this kind may have");
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(info.st_size));
  size_t have = 0;
  while (have < bytes.size()) {
    ssize_t got = ::pread(fd, bytes.data() + have, bytes.size() - have, static_cast<off_t>(have));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int error = errno;
      ::close(fd);
      return Error::from_errno("reading " + what, error);
    }
    if (got == 0) break;  // shrank meanwhile: what is there is what we check
    have += static_cast<size_t>(got);
  }
  ::close(fd);
  bytes.resize(have);
  return bytes;
}

Error remove_file(const Directory& directory, const std::string& name) {
  if (::unlinkat(directory.fd(), name.c_str(), 0) != 0 && errno != ENOENT) {
    return Error::from_errno("removing '" + directory.child(name) + "'", errno);
  }
  return Error();
}

void remove_temporaries(const Directory& directory) {
  Expected<std::vector<std::string>> names = directory.list();
  if (!names) return;
  for (const std::string& name : *names) {
    if (name.starts_with(kTemporaryPrefix)) ::unlinkat(directory.fd(), name.c_str(), 0);
  }
}

// ---- StoreLock

Expected<StoreLock> StoreLock::acquire(const Directory& directory, const std::string& name,
                                       Mode mode) {
  const bool exclusive = mode == Mode::kExclusive;
  int fd = ::openat(directory.fd(), name.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0 && !exclusive && (errno == EROFS || errno == EACCES)) {
    fd = ::openat(directory.fd(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return StoreLock();  // read-only store without a lock file
  }
  if (fd < 0) return Error::from_errno("opening the lock '" + directory.child(name) + "'", errno);
  while (::flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
    if (errno == EINTR) continue;
    int error = errno;
    ::close(fd);
    return Error::from_errno("locking '" + directory.child(name) + "'", error);
  }
  return StoreLock(fd);
}

StoreLock::~StoreLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

StoreLock::StoreLock(StoreLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

StoreLock& StoreLock::operator=(StoreLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

}  // namespace cr16::migration
