// File channel.
#include "io/channel_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/pipe_write.h"

namespace cr16::io {

namespace {

IoResult io_result(ssize_t result, const char* what, const std::string& name) {
  if (result > 0) return IoResult::bytes(static_cast<size_t>(result));
  if (result == 0) return IoResult::eof();
  if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::would_block();
  return Error::from_errno(std::string(what) + " on '" + name + "'", errno);
}

}  // namespace

FileChannel::FileChannel(int fd) : fd_(fd) {
  struct stat info;
  regular_ = fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
  if (lseek(fd, 0, SEEK_CUR) >= 0) add_features(kFeatureSeekable);
  set_name("file fd " + std::to_string(fd));
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0 && (flags & O_NONBLOCK)) (void)set_blocking(false);
}

FileChannel::~FileChannel() {
  (void)close();
}

Expected<std::unique_ptr<FileChannel>> FileChannel::open(const std::string& path, int flags,
                                                         mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return Error::from_errno("cannot open '" + path + "'", errno);
  std::unique_ptr<FileChannel> channel(new FileChannel(fd));
  channel->set_name(path);
  return channel;
}

Expected<std::unique_ptr<FileChannel>> FileChannel::from_fd(int fd) {
  if (fcntl(fd, F_GETFD) < 0) return Error::from_errno("invalid fd " + std::to_string(fd), errno);
  return std::unique_ptr<FileChannel>(new FileChannel(fd));
}

Expected<std::unique_ptr<FileChannel>> FileChannel::from_dup(int fd) {
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return Error::from_errno("cannot duplicate fd " + std::to_string(fd), errno);
  return std::unique_ptr<FileChannel>(new FileChannel(copy));
}

Error FileChannel::closed_error() const {
  return Error("file channel '" + name() + "' is closed", EBADF);
}

IoResult FileChannel::do_readv(std::span<const iovec> iov, std::vector<UniqueFd>*, uint32_t) {
  if (!fd_.valid()) return closed_error();
  if (iov_size(iov) == 0) return IoResult::bytes(0);
  ssize_t result;
  do {
    result = ::readv(fd_.get(), iov.data(), static_cast<int>(iov.size()));
  } while (result < 0 && errno == EINTR);
  return io_result(result, "readv", name());
}

IoResult FileChannel::do_writev(std::span<const iovec> iov, std::span<const int>, uint32_t) {
  if (!fd_.valid()) return closed_error();
  if (iov_size(iov) == 0) return IoResult::bytes(0);
  ssize_t result =
      detail::writev_without_sigpipe(fd_.get(), iov.data(), static_cast<int>(iov.size()));
  if (result == 0) return IoResult::bytes(0);
  return io_result(result, "writev", name());
}

IoResult FileChannel::do_preadv(std::span<const iovec> iov, uint64_t offset) {
  if (!fd_.valid()) return closed_error();
  if (iov_size(iov) == 0) return IoResult::bytes(0);
  ssize_t result;
  do {
    result =
        ::preadv(fd_.get(), iov.data(), static_cast<int>(iov.size()), static_cast<off_t>(offset));
  } while (result < 0 && errno == EINTR);
  return io_result(result, "preadv", name());
}

IoResult FileChannel::do_pwritev(std::span<const iovec> iov, uint64_t offset) {
  if (!fd_.valid()) return closed_error();
  if (iov_size(iov) == 0) return IoResult::bytes(0);
  ssize_t result;
  do {
    result =
        ::pwritev(fd_.get(), iov.data(), static_cast<int>(iov.size()), static_cast<off_t>(offset));
  } while (result < 0 && errno == EINTR);
  if (result == 0) return IoResult::bytes(0);
  return io_result(result, "pwritev", name());
}

Error FileChannel::do_set_blocking(bool blocking) {
  if (!fd_.valid()) return closed_error();
  int flags = fcntl(fd_.get(), F_GETFL);
  if (flags < 0) return Error::from_errno("fcntl(F_GETFL)", errno);
  flags = blocking ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK);
  if (fcntl(fd_.get(), F_SETFL, flags) < 0) return Error::from_errno("fcntl(F_SETFL)", errno);
  return Error();
}

void FileChannel::read_at_async(Loop& loop, void* buffer, size_t length, uint64_t offset,
                                std::function<void(Expected<size_t>)> done) {
  loop.submit_read(fd_.get(), buffer, length, offset, std::move(done));
}

void FileChannel::write_at_async(Loop& loop, const void* buffer, size_t length, uint64_t offset,
                                 std::function<void(Expected<size_t>)> done) {
  loop.submit_write(fd_.get(), buffer, length, offset, std::move(done));
}

Error FileChannel::close() {
  if (!fd_.valid()) return Error();
  if (::close(fd_.release()) < 0 && errno != EINTR) return Error::from_errno("close", errno);
  return Error();
}

Expected<uint64_t> FileChannel::seek(int64_t offset, int whence) {
  if (!fd_.valid()) return closed_error();
  off_t position = lseek(fd_.get(), static_cast<off_t>(offset), whence);
  if (position < 0) return Error::from_errno("lseek on '" + name() + "'", errno);
  return static_cast<uint64_t>(position);
}

Expected<FlushResult> FileChannel::flush() {
  if (!fd_.valid()) return closed_error();
  if (!regular_) return FlushResult::kNothingQueued;
  if (fdatasync(fd_.get()) < 0) return Error::from_errno("fdatasync on '" + name() + "'", errno);
  return FlushResult::kCompleted;
}

}  // namespace cr16::io
