#include "hw/flash_backing.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace cr16 {
namespace {

Error write_all_at(int fd, const uint8_t* data, size_t length, off_t offset) {
  while (length > 0) {
    ssize_t written = pwrite(fd, data, length, offset);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return Error::from_errno("write", errno);
    if (written == 0) return Error("write: no progress", EIO);
    data += written;
    length -= static_cast<size_t>(written);
    offset += written;
  }
  return Error();
}

// Takes a lock on the whole file without waiting — exclusive for a writer,
// shared for a -snapshot reader: an open file description lock (it belongs
// to this open, not the process, so a second open elsewhere in this process
// conflicts too), or flock() where OFD locks are not supported. Returns the
// errno of the failure, 0 on success.
int lock_file(int fd, bool exclusive) {
  struct flock lock {};
  lock.l_type = exclusive ? F_WRLCK : F_RDLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;  // the whole file, however it grows
  if (fcntl(fd, F_OFD_SETLK, &lock) == 0) return 0;
  if (errno != EINVAL) return errno;
  if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0) return 0;
  return errno;
}

std::string size_text(uint64_t bytes) {
  std::string text = std::to_string(bytes) + " bytes";
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) {
    text += " (" + std::to_string(bytes >> 20) + " MiB)";
  } else if (bytes >= 1024 && bytes % 1024 == 0) {
    text += " (" + std::to_string(bytes >> 10) + " KiB)";
  }
  return text;
}

}  // namespace

FlashBacking::FlashBacking(int fd, std::string path, uint32_t size, FlashBackingMode mode)
    : fd_(fd), path_(std::move(path)), size_(size), mode_(mode) {
  if (mode_ == FlashBackingMode::kOverlay) overlay_blocks_.assign(size_ / kBlockSize + 1, false);
}

Expected<std::unique_ptr<FlashBacking>> FlashBacking::open(const std::string& path, uint32_t size,
                                                           bool create_missing,
                                                           FlashBackingMode mode,
                                                           const std::string& kind) {
  const std::string what = kind + " '" + path + "'";
  const bool overlay = mode == FlashBackingMode::kOverlay;
  // O_NONBLOCK: a FIFO or a device under that name must not make us wait;
  // only regular files are accepted below.
  const int flags = (overlay ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  bool created = false;
  int fd = ::open(path.c_str(), flags);
  if (fd < 0 && errno == ENOENT && create_missing && overlay) {
    // Nothing to read and nothing will be written: an erased overlay.
    return std::unique_ptr<FlashBacking>(new FlashBacking(-1, path, size, mode));
  }
  if (fd < 0 && errno == ENOENT && create_missing) {
    fd = ::open(path.c_str(), flags | O_CREAT | O_EXCL, 0644);
    created = fd >= 0;
    if (fd < 0 && errno == EEXIST) fd = ::open(path.c_str(), flags);  // lost a race: use it
  }
  if (fd < 0) {
    Error error = Error::from_errno(what, errno);
    if (errno == ENOENT) {
      return Error(error.message() +
                   " (an existing image is needed; create=on makes a new erased one)");
    }
    return error;
  }
  auto fail = [&](Error error) -> Error {
    if (created) ::unlink(path.c_str());
    ::close(fd);
    return error;
  };
  struct stat info {};
  if (fstat(fd, &info) != 0) return fail(Error::from_errno(what, errno));
  if (!S_ISREG(info.st_mode)) return fail(Error(what + ": not a regular file"));
  if (int flags_now = fcntl(fd, F_GETFL); flags_now >= 0) {
    fcntl(fd, F_SETFL, flags_now & ~O_NONBLOCK);
  }
  if (int error = lock_file(fd, !overlay); error != 0) {
    if (error == EAGAIN || error == EACCES || error == EWOULDBLOCK) {
      return fail(Error(what + ": the image is in use by another process (it holds a lock on " +
                        "it); two machines cannot share one flash image"));
    }
    return fail(Error::from_errno(what + ": cannot lock the image", error));
  }
  if (created) {
    std::vector<uint8_t> erased(size, 0xFF);
    if (Error error = write_all_at(fd, erased.data(), erased.size(), 0); !error.ok()) {
      return fail(error.with_context(what + ": creating the image"));
    }
  } else if (static_cast<uint64_t>(info.st_size) != size) {
    return fail(Error(what + ": the image is " + size_text(static_cast<uint64_t>(info.st_size)) +
                      " but the flash needs exactly " + size_text(size) +
                      "; refusing to resize it"));
  }
  return std::unique_ptr<FlashBacking>(new FlashBacking(fd, path, size, mode));
}

FlashBacking::~FlashBacking() {
  Error error = flush();
  if (!error.ok()) std::fprintf(stderr, "cr16-system: %s\n", error.message().c_str());
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_writer_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

Error FlashBacking::read(std::span<uint8_t> out) {
  if (fd_ < 0) {  // an overlay over a missing file: erased
    std::fill(out.begin(), out.end(), 0xFF);
    return Error();
  }
  size_t have = 0;
  size_t want = std::min<size_t>(out.size(), size_);
  while (have < want) {
    ssize_t got = pread(fd_, out.data() + have, want - have, static_cast<off_t>(have));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Error::from_errno("reading pflash '" + path_ + "'", errno);
    if (got == 0) return Error("pflash '" + path_ + "': the image shrank while being read");
    have += static_cast<size_t>(got);
  }
  return Error();
}

void FlashBacking::requeue_failed_locked() {
  for (auto& [offset, contents] : failed_) queued_.try_emplace(offset, std::move(contents));
  failed_.clear();
}

void FlashBacking::changed(const uint8_t* array, uint32_t offset, uint32_t length) {
  if (length == 0 || offset >= size_) return;
  uint64_t end = std::min<uint64_t>(uint64_t{offset} + length, size_);
  uint32_t first = offset / kBlockSize * kBlockSize;
  if (overlay()) {
    // The in-memory array is the overlay: only note which blocks it covers.
    std::lock_guard lock(mutex_);
    for (uint64_t block = first; block < end; block += kBlockSize) {
      overlay_blocks_[block / kBlockSize] = true;
    }
    return;
  }
  {
    std::lock_guard lock(mutex_);
    for (uint64_t block = first; block < end; block += kBlockSize) {
      uint32_t at = static_cast<uint32_t>(block);
      uint32_t bytes = std::min<uint32_t>(kBlockSize, size_ - at);
      queued_[at].assign(array + at, array + at + bytes);
    }
    requeue_failed_locked();
    if (!writer_.joinable()) writer_ = std::thread([this] { writer_main(); });
  }
  wake_writer_.notify_one();
}

void FlashBacking::writer_main() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_writer_.wait(lock, [this] { return stop_ || !queued_.empty(); });
    if (queued_.empty()) return;  // stopping with nothing left
    Blocks batch;
    batch.swap(queued_);
    writing_ = true;
    in_flight_bytes_ = 0;
    for (const auto& [offset, contents] : batch) in_flight_bytes_ += contents.size();
    lock.unlock();
    Blocks unsaved;
    std::string error_text;
    for (auto& [offset, contents] : batch) {
      Error error = write_all_at(fd_, contents.data(), contents.size(), offset);
      if (!error.ok()) {
        error_text = error.message();
        unsaved.emplace(offset, std::move(contents));
      }
    }
    lock.lock();
    writing_ = false;
    in_flight_bytes_ = 0;
    needs_sync_ = true;
    if (!unsaved.empty()) {
      last_error_ = error_text;
      // A newer copy queued meanwhile supersedes the failed one.
      for (auto& [offset, contents] : unsaved) {
        if (!queued_.contains(offset)) failed_[offset] = std::move(contents);
      }
      if (!error_reported_) {
        error_reported_ = true;
        std::fprintf(stderr,
                     "cr16-system: pflash '%s': cannot save flash changes (%s); the guest keeps "
                     "running with them in memory and saving is retried\n",
                     path_.c_str(), error_text.c_str());
      }
    }
    writer_idle_.notify_all();
  }
}

Error FlashBacking::flush() {
  std::unique_lock lock(mutex_);
  requeue_failed_locked();
  if (!queued_.empty()) {
    if (!writer_.joinable()) writer_ = std::thread([this] { writer_main(); });
    wake_writer_.notify_one();
  }
  writer_idle_.wait(lock, [this] { return queued_.empty() && !writing_; });
  if (!failed_.empty()) {
    size_t bytes = 0;
    for (const auto& [offset, contents] : failed_) bytes += contents.size();
    return Error("pflash '" + path_ + "': " + std::to_string(bytes) +
                 " bytes of flash changes could not be saved (" + last_error_ + ")");
  }
  if (needs_sync_) {
    needs_sync_ = false;
    if (fdatasync(fd_) != 0 && errno != EINVAL) {
      return Error::from_errno("pflash '" + path_ + "': syncing the image", errno);
    }
  }
  return Error();
}

size_t FlashBacking::overlay_bytes() {
  std::lock_guard lock(mutex_);
  size_t blocks = 0;
  for (bool changed : overlay_blocks_) blocks += changed;
  return std::min<size_t>(blocks * kBlockSize, size_);
}

size_t FlashBacking::unsaved_bytes() {
  std::lock_guard lock(mutex_);
  size_t bytes = in_flight_bytes_;
  for (const auto& [offset, contents] : queued_) bytes += contents.size();
  for (const auto& [offset, contents] : failed_) bytes += contents.size();
  return bytes;
}

}  // namespace cr16
