// A minimal stream channel over one socket fd, for the TLS and websock
// channel tests: they need "any master channel" and must not depend on the
// socket channel's own tests or features.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <utility>

#include "io/channel.h"

namespace cr16::io::testing {

class FdStreamChannel : public Channel {
 public:
  explicit FdStreamChannel(int fd) : fd_(fd) {
    set_features(kFeatureShutdown);
    set_name("test-fd-" + std::to_string(fd));
  }

  /// A connected pair of AF_UNIX stream channels (both blocking).
  static std::pair<std::unique_ptr<FdStreamChannel>, std::unique_ptr<FdStreamChannel>> pair() {
    int fds[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return {};
    return {std::make_unique<FdStreamChannel>(fds[0]), std::make_unique<FdStreamChannel>(fds[1])};
  }

  Error close() override {
    fd_.reset();
    return Error();
  }
  Error shutdown(ShutdownDirection direction) override {
    const int how = direction == ShutdownDirection::kRead    ? SHUT_RD
                    : direction == ShutdownDirection::kWrite ? SHUT_WR
                                                             : SHUT_RDWR;
    if (::shutdown(fd_.get(), how) != 0) return Error::from_errno("shutdown", errno);
    return Error();
  }

 protected:
  IoResult do_readv(std::span<const iovec> iov, std::vector<UniqueFd>*, uint32_t) override {
    if (!fd_.valid()) return Error("closed", EBADF);
    for (;;) {
      const ssize_t got = ::readv(fd_.get(), iov.data(), static_cast<int>(iov.size()));
      if (got > 0) return IoResult::bytes(static_cast<size_t>(got));
      if (got == 0) return iov_size(iov) == 0 ? IoResult::bytes(0) : IoResult::eof();
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::would_block();
      return Error::from_errno("readv", errno);
    }
  }
  IoResult do_writev(std::span<const iovec> iov, std::span<const int>, uint32_t) override {
    if (!fd_.valid()) return Error("closed", EBADF);
    msghdr message{};
    message.msg_iov = const_cast<iovec*>(iov.data());
    message.msg_iovlen = iov.size();
    for (;;) {
      const ssize_t sent = ::sendmsg(fd_.get(), &message, MSG_NOSIGNAL);
      if (sent >= 0) return IoResult::bytes(static_cast<size_t>(sent));
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::would_block();
      return Error::from_errno("sendmsg", errno);
    }
  }
  Error do_set_blocking(bool blocking) override {
    const int flags = ::fcntl(fd_.get(), F_GETFL);
    if (flags < 0) return Error::from_errno("fcntl", errno);
    if (::fcntl(fd_.get(), F_SETFL, blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK) < 0) {
      return Error::from_errno("fcntl", errno);
    }
    return Error();
  }
  int read_fd() const override { return fd_.get(); }
  int write_fd() const override { return fd_.get(); }

 private:
  UniqueFd fd_;
};

}  // namespace cr16::io::testing
