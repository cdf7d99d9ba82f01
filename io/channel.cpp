// Channel base: argument checks, defaults for optional operations, watches,
// waiting, and the *_all helpers.
#include "io/channel.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>

namespace cr16::io {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

size_t iov_size(std::span<const iovec> iov) {
  size_t total = 0;
  for (const iovec& entry : iov) total += entry.iov_len;
  return total;
}

IoResult Channel::readv(std::span<const iovec> iov, std::vector<UniqueFd>* fds, uint32_t flags) {
  if ((flags & kReadMsgPeek) && !has_feature(kFeatureReadMsgPeek)) {
    return Error("channel '" + name_ + "' does not support MSG_PEEK reads", ENOTSUP);
  }
  if (fds != nullptr && !has_feature(kFeatureFdPass)) {
    return Error("channel '" + name_ + "' does not support receiving file descriptors", ENOTSUP);
  }
  return do_readv(iov, fds, flags);
}

IoResult Channel::writev(std::span<const iovec> iov, std::span<const int> fds, uint32_t flags) {
  if (!fds.empty() && !has_feature(kFeatureFdPass)) {
    return Error("channel '" + name_ + "' does not support passing file descriptors", ENOTSUP);
  }
  if (flags & kWriteZeroCopy) {
    if (!has_feature(kFeatureWriteZeroCopy)) {
      return Error("channel '" + name_ + "' does not support zero-copy writes", ENOTSUP);
    }
    if (!fds.empty()) {
      return Error("zero-copy writes cannot pass file descriptors", EINVAL);
    }
  }
  return do_writev(iov, fds, flags);
}

IoResult Channel::read(void* buffer, size_t length, uint32_t flags) {
  iovec entry{buffer, length};
  return readv({&entry, 1}, nullptr, flags);
}

IoResult Channel::write(const void* buffer, size_t length, uint32_t flags) {
  iovec entry{const_cast<void*>(buffer), length};
  return writev({&entry, 1}, {}, flags);
}

IoResult Channel::preadv(std::span<const iovec> iov, uint64_t offset) {
  if (!has_feature(kFeatureSeekable)) {
    return Error("channel '" + name_ + "' is not seekable", ESPIPE);
  }
  return do_preadv(iov, offset);
}

IoResult Channel::pwritev(std::span<const iovec> iov, uint64_t offset) {
  if (!has_feature(kFeatureSeekable)) {
    return Error("channel '" + name_ + "' is not seekable", ESPIPE);
  }
  return do_pwritev(iov, offset);
}

IoResult Channel::do_preadv(std::span<const iovec>, uint64_t) {
  return Error("channel '" + name_ + "' does not support positional reads", ENOTSUP);
}

IoResult Channel::do_pwritev(std::span<const iovec>, uint64_t) {
  return Error("channel '" + name_ + "' does not support positional writes", ENOTSUP);
}

Error Channel::set_blocking(bool blocking) {
  Error error = do_set_blocking(blocking);
  if (error.ok()) blocking_ = blocking;
  return error;
}

Error Channel::shutdown(ShutdownDirection) {
  return Error("channel '" + name_ + "' does not support shutdown", ENOTSUP);
}

Error Channel::set_cork(bool) {
  return Error();
}

Error Channel::set_delay(bool) {
  return Error();
}

Expected<uint64_t> Channel::seek(int64_t, int) {
  return Error("channel '" + name_ + "' is not seekable", ESPIPE);
}

Expected<FlushResult> Channel::flush() {
  return FlushResult::kNothingQueued;
}

Loop::WatchId Channel::create_watch(Loop& loop, uint32_t conditions, WatchCallback callback) {
  int in_fd = read_fd();
  int out_fd = write_fd();
  auto adapter = [callback = std::move(callback)](int, uint32_t revents) {
    return callback(revents);
  };
  if (in_fd < 0 && out_fd < 0) {
    return loop.add_ready_watch(conditions & (kIn | kOut), std::move(adapter));
  }
  if (in_fd == out_fd) return loop.add_watch(in_fd, conditions, std::move(adapter));
  return loop.add_watch_pair(in_fd, out_fd, conditions, std::move(adapter));
}

bool Channel::ready_now(uint32_t conditions) const {
  const int in_fd = (conditions & kIn) ? read_fd() : -1;
  const int out_fd = (conditions & kOut) ? write_fd() : -1;
  if (in_fd < 0 && out_fd < 0) return true;
  pollfd fds[2];
  nfds_t count = 0;
  if (in_fd >= 0) fds[count++] = {in_fd, POLLIN, 0};
  if (out_fd >= 0) fds[count++] = {out_fd, POLLOUT, 0};
  if (::poll(fds, count, 0) <= 0) return false;
  // An error or hang-up counts as ready: the read or write reports it.
  for (nfds_t i = 0; i < count; ++i) {
    if (fds[i].revents == 0) return false;
  }
  return true;
}

Error Channel::wait(uint32_t conditions, Loop* loop) {
  int in_fd = read_fd();
  int out_fd = write_fd();
  if (in_fd < 0 && out_fd < 0) return Error();
  if (loop != nullptr) {
    bool ready = false;
    Loop::WatchId id = create_watch(*loop, conditions, [&ready](uint32_t) {
      ready = true;
      return false;
    });
    while (!ready) {
      if (!loop->run_once(-1)) {
        loop->remove_watch(id);
        return Error("main loop quit while waiting on channel '" + name_ + "'", ECANCELED);
      }
    }
    return Error();
  }
  pollfd fds[2];
  nfds_t count = 0;
  if (in_fd == out_fd) {
    fds[count++] = {
        in_fd,
        static_cast<short>(((conditions & kIn) ? POLLIN : 0) | ((conditions & kOut) ? POLLOUT : 0)),
        0};
  } else {
    if (in_fd >= 0 && (conditions & kIn)) fds[count++] = {in_fd, POLLIN, 0};
    if (out_fd >= 0 && (conditions & kOut)) fds[count++] = {out_fd, POLLOUT, 0};
  }
  if (count == 0) return Error();
  while (::poll(fds, count, -1) < 0) {
    if (errno != EINTR) return Error::from_errno("poll on channel '" + name_ + "'", errno);
  }
  return Error();
}

namespace {

/// Drops the first `consumed` bytes from a working copy of an iovec array.
void advance_iov(std::vector<iovec>& iov, size_t& first, size_t consumed) {
  while (consumed > 0 && first < iov.size()) {
    size_t take = std::min(consumed, iov[first].iov_len);
    iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + take;
    iov[first].iov_len -= take;
    consumed -= take;
    if (iov[first].iov_len == 0) ++first;
  }
  while (first < iov.size() && iov[first].iov_len == 0) ++first;
}

}  // namespace

Error write_all(Channel& channel, std::span<const iovec> iov, Loop* loop, std::span<const int> fds,
                uint32_t flags) {
  std::vector<iovec> remaining(iov.begin(), iov.end());
  size_t first = 0;
  advance_iov(remaining, first, 0);
  bool fds_sent = fds.empty();
  while (first < remaining.size() || !fds_sent) {
    std::span<const iovec> current(remaining.data() + first, remaining.size() - first);
    IoResult result = channel.writev(current, fds_sent ? std::span<const int>() : fds, flags);
    if (result.is_error()) return result.error();
    if (result.is_would_block()) {
      Error error = channel.wait(kOut, loop);
      if (!error.ok()) return error;
      continue;
    }
    fds_sent = true;
    advance_iov(remaining, first, result.count());
  }
  return Error();
}

Error write_all(Channel& channel, const void* buffer, size_t length, Loop* loop, uint32_t flags) {
  iovec entry{const_cast<void*>(buffer), length};
  return write_all(channel, {&entry, 1}, loop, {}, flags);
}

Expected<bool> read_all_or_eof(Channel& channel, std::span<const iovec> iov, Loop* loop,
                               std::vector<UniqueFd>* fds) {
  std::vector<iovec> remaining(iov.begin(), iov.end());
  size_t first = 0;
  advance_iov(remaining, first, 0);
  size_t total = iov_size(iov);
  size_t received = 0;
  while (first < remaining.size()) {
    std::span<const iovec> current(remaining.data() + first, remaining.size() - first);
    IoResult result = channel.readv(current, fds);
    if (result.is_error()) return result.error();
    if (result.is_would_block()) {
      Error error = channel.wait(kIn, loop);
      if (!error.ok()) return error;
      continue;
    }
    if (result.is_eof()) {
      if (received == 0) return false;
      return Error("unexpected end of file on channel '" + channel.name() + "' after " +
                       std::to_string(received) + " of " + std::to_string(total) + " bytes",
                   EPIPE);
    }
    received += result.count();
    advance_iov(remaining, first, result.count());
  }
  return true;
}

Error read_all(Channel& channel, std::span<const iovec> iov, Loop* loop,
               std::vector<UniqueFd>* fds) {
  Expected<bool> result = read_all_or_eof(channel, iov, loop, fds);
  if (!result) return result.error();
  if (!*result && iov_size(iov) > 0) {
    return Error("unexpected end of file on channel '" + channel.name() + "'", EPIPE);
  }
  return Error();
}

Error read_all(Channel& channel, void* buffer, size_t length, Loop* loop) {
  iovec entry{buffer, length};
  return read_all(channel, {&entry, 1}, loop);
}

}  // namespace cr16::io
