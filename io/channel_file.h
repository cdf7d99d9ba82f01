// The file channel: a regular file, pipe or character device by fd or path,
// seekable when the fd is, with positional I/O and asynchronous reads and
// writes through the loop (io_uring submissions on that backend).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "io/channel.h"

namespace cr16::io {

class FileChannel final : public Channel {
 public:
  /// Opens `path` with open(2) `flags` (O_CLOEXEC is added) and `mode`.
  static Expected<std::unique_ptr<FileChannel>> open(const std::string& path, int flags,
                                                     mode_t mode = 0600);
  /// Wraps `fd`; the channel owns it from now on.
  static Expected<std::unique_ptr<FileChannel>> from_fd(int fd);
  /// Duplicates the caller's `fd` (which the caller keeps) and owns the copy.
  static Expected<std::unique_ptr<FileChannel>> from_dup(int fd);

  ~FileChannel() override;

  /// The fd owned by the channel, -1 after close().
  int fd() const { return fd_.get(); }

  /// Reads `length` bytes at `offset` without blocking the loop; `done`
  /// runs on the loop thread with the byte count (0 at end of file). The
  /// buffer and the channel must stay valid until then.
  void read_at_async(Loop& loop, void* buffer, size_t length, uint64_t offset,
                     std::function<void(Expected<size_t>)> done);
  /// Writes `length` bytes at `offset`; same rules as read_at_async().
  void write_at_async(Loop& loop, const void* buffer, size_t length, uint64_t offset,
                      std::function<void(Expected<size_t>)> done);

  Error close() override;
  Expected<uint64_t> seek(int64_t offset, int whence) override;
  /// fdatasync() for files (kCompleted); kNothingQueued for pipes.
  Expected<FlushResult> flush() override;

 protected:
  IoResult do_readv(std::span<const iovec> iov, std::vector<UniqueFd>* fds,
                    uint32_t flags) override;
  IoResult do_writev(std::span<const iovec> iov, std::span<const int> fds, uint32_t flags) override;
  IoResult do_preadv(std::span<const iovec> iov, uint64_t offset) override;
  IoResult do_pwritev(std::span<const iovec> iov, uint64_t offset) override;
  Error do_set_blocking(bool blocking) override;
  // Regular files are always ready (epoll refuses them): watches on them
  // are fd-less ready watches; pipes and devices are watched through the fd.
  int read_fd() const override { return regular_ ? -1 : fd_.get(); }
  int write_fd() const override { return regular_ ? -1 : fd_.get(); }

 private:
  explicit FileChannel(int fd);
  Error closed_error() const;

  UniqueFd fd_;
  bool regular_ = false;
};

}  // namespace cr16::io
