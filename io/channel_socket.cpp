// Socket channel: creation, connect/listen/accept, reads and writes with fd
// passing. Zero-copy completion handling is in channel_socket_zerocopy.cpp.
#include "io/channel_socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace cr16::io {

namespace {

uint32_t stream_features(int family) {
  uint32_t features = kFeatureShutdown | kFeatureReadMsgPeek;
  if (family == AF_UNIX) features |= kFeatureFdPass;
  return features;
}

Expected<int> socket_family(int fd) {
  int type = 0;
  socklen_t length = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) < 0) {
    return Error::from_errno("fd " + std::to_string(fd) + " is not a socket", errno);
  }
  sockaddr_storage storage{};
  length = sizeof storage;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) < 0) {
    return Error::from_errno("getsockname", errno);
  }
  return static_cast<int>(storage.ss_family);
}

/// Resolves a TCP address to a getaddrinfo list (caller frees).
Expected<addrinfo*> resolve_inet(const SocketAddress& address, bool passive) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = address.family == SocketAddress::Family::kIpv4   ? AF_INET
                    : address.family == SocketAddress::Family::kIpv6 ? AF_INET6
                                                                     : AF_UNSPEC;
  hints.ai_flags = AI_ADDRCONFIG | (passive ? AI_PASSIVE : 0);
  std::string port = std::to_string(address.port);
  const char* host = address.host.empty() ? nullptr : address.host.c_str();
  addrinfo* list = nullptr;
  int result = getaddrinfo(host, port.c_str(), &hints, &list);
  if (result == EAI_ADDRFAMILY || result == EAI_NONAME) {
    hints.ai_flags &= ~AI_ADDRCONFIG;  // loopback-only hosts (namespaces)
    result = getaddrinfo(host, port.c_str(), &hints, &list);
  }
  if (result != 0) {
    return Error("cannot resolve '" + address.to_string() + "': " + gai_strerror(result),
                 result == EAI_SYSTEM ? errno : EHOSTUNREACH);
  }
  return list;
}

/// A socket that is ready for use, and its address family.
struct OpenedSocket {
  int fd;
  int family;
};

/// Resolves ADDRESS and tries each result in turn: a stream socket, then
/// PREPARE(fd, entry), which returns 0 or an errno (connect, bind...). The
/// first socket that prepares wins; otherwise the error names WHAT with the
/// last errno (FALLBACK_ERRNO when every step failed before setting one).
template <typename Prepare>
Expected<OpenedSocket> open_first_inet(const SocketAddress& address, bool passive,
                                       const std::string& what, int fallback_errno,
                                       Prepare prepare) {
  Expected<addrinfo*> list = resolve_inet(address, passive);
  if (!list) return list.error();
  int last_error = fallback_errno;
  for (addrinfo* entry = *list; entry != nullptr; entry = entry->ai_next) {
    int fd = socket(entry->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_error = errno;
      continue;
    }
    if (int error = prepare(fd, *entry)) {
      last_error = error;
      ::close(fd);
      continue;
    }
    OpenedSocket opened{fd, entry->ai_family};
    freeaddrinfo(*list);
    return opened;
  }
  freeaddrinfo(*list);
  return Error::from_errno(what, last_error);
}

}  // namespace

SocketChannel::SocketChannel(int fd, int family) : fd_(fd), family_(family) {
  set_features(stream_features(family));
  set_name("socket");
}

SocketChannel::~SocketChannel() {
  (void)close();
}

Expected<std::unique_ptr<SocketChannel>> SocketChannel::from_fd(int fd) {
  Expected<int> family = socket_family(fd);
  if (!family) return family.error();
  int accepting = 0;
  socklen_t length = sizeof accepting;
  getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length);
  std::unique_ptr<SocketChannel> channel(new SocketChannel(fd, *family));
  if (accepting) channel->add_features(kFeatureListen);
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0 && (flags & O_NONBLOCK)) (void)channel->set_blocking(false);
  return channel;
}

Expected<std::unique_ptr<SocketChannel>> SocketChannel::connect(const SocketAddress& address) {
  if (address.kind == SocketAddress::Kind::kFd) return from_fd(address.fd);
  if (address.kind == SocketAddress::Kind::kUnix) {
    sockaddr_storage storage;
    Expected<socklen_t> length = unix_sockaddr(address, storage);
    if (!length) return length.error();
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error::from_errno("socket(AF_UNIX)", errno);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&storage), *length) < 0) {
      int error = errno;
      ::close(fd);
      return Error::from_errno("cannot connect to " + address.to_string(), error);
    }
    std::unique_ptr<SocketChannel> channel(new SocketChannel(fd, AF_UNIX));
    channel->set_name(address.to_string());
    return channel;
  }
  Expected<OpenedSocket> opened =
      open_first_inet(address, false, "cannot connect to " + address.to_string(), ECONNREFUSED,
                      [](int fd, const addrinfo& entry) {
                        return ::connect(fd, entry.ai_addr, entry.ai_addrlen) < 0 ? errno : 0;
                      });
  if (!opened) return opened.error();
  std::unique_ptr<SocketChannel> channel(new SocketChannel(opened->fd, opened->family));
  channel->set_name(address.to_string());
  (void)channel->enable_zero_copy();  // optional: the feature bit tells
  return channel;
}

Expected<std::unique_ptr<SocketChannel>> SocketChannel::listen(const SocketAddress& address,
                                                               int backlog) {
  if (address.kind == SocketAddress::Kind::kFd) {
    auto channel = from_fd(address.fd);
    if (channel && !(*channel)->has_feature(kFeatureListen)) {
      return Error("fd " + std::to_string(address.fd) + " is not a listening socket", EINVAL);
    }
    return channel;
  }
  if (address.kind == SocketAddress::Kind::kUnix) {
    sockaddr_storage storage;
    Expected<socklen_t> length = unix_sockaddr(address, storage);
    if (!length) return length.error();
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error::from_errno("socket(AF_UNIX)", errno);
    struct stat info;
    if (!address.abstract && ::stat(address.path.c_str(), &info) == 0 && S_ISSOCK(info.st_mode)) {
      ::unlink(address.path.c_str());  // a stale socket from an earlier run
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&storage), *length) < 0 || ::listen(fd, backlog) < 0) {
      int error = errno;
      ::close(fd);
      return Error::from_errno("cannot listen on " + address.to_string(), error);
    }
    std::unique_ptr<SocketChannel> channel(new SocketChannel(fd, AF_UNIX));
    channel->add_features(kFeatureListen);
    channel->set_name(address.to_string());
    if (!address.abstract) channel->unlink_path_ = address.path;
    return channel;
  }
  Expected<OpenedSocket> opened = open_first_inet(
      address, true, "cannot listen on " + address.to_string(), EADDRNOTAVAIL,
      [&](int fd, const addrinfo& entry) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (entry.ai_family == AF_INET6) {
          int v6_only = address.family == SocketAddress::Family::kIpv6 ? 1 : 0;
          setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6_only, sizeof v6_only);
        }
        if (bind(fd, entry.ai_addr, entry.ai_addrlen) < 0 || ::listen(fd, backlog) < 0)
          return errno;
        return 0;
      });
  if (!opened) return opened.error();
  std::unique_ptr<SocketChannel> channel(new SocketChannel(opened->fd, opened->family));
  channel->add_features(kFeatureListen);
  channel->set_name(address.to_string());
  return channel;
}

TaskHandle SocketChannel::connect_async(
    Loop& loop, SocketAddress address,
    std::function<void(Expected<std::unique_ptr<SocketChannel>>)> done) {
  return run_task<std::unique_ptr<SocketChannel>>(
      loop, [address](const CancelToken&) { return connect(address); }, std::move(done));
}

TaskHandle SocketChannel::listen_async(
    Loop& loop, SocketAddress address,
    std::function<void(Expected<std::unique_ptr<SocketChannel>>)> done) {
  return run_task<std::unique_ptr<SocketChannel>>(
      loop, [address](const CancelToken&) { return listen(address); }, std::move(done));
}

Expected<std::unique_ptr<SocketChannel>> SocketChannel::accept() {
  if (!fd_.valid()) return closed_error();
  if (!has_feature(kFeatureListen)) {
    return Error("socket channel '" + name() + "' is not listening", EINVAL);
  }
  for (;;) {
    int fd = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      std::unique_ptr<SocketChannel> channel(new SocketChannel(fd, family_));
      channel->set_name(name() + " (accepted)");
      return channel;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::unique_ptr<SocketChannel>();
    return Error::from_errno("accept on " + name(), errno);
  }
}

Expected<SocketAddress> SocketChannel::local_address() const {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&storage), &length) < 0) {
    return Error::from_errno("getsockname", errno);
  }
  return socket_address_from_sockaddr(reinterpret_cast<sockaddr*>(&storage), length);
}

Expected<SocketAddress> SocketChannel::remote_address() const {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (getpeername(fd_.get(), reinterpret_cast<sockaddr*>(&storage), &length) < 0) {
    return Error::from_errno("getpeername", errno);
  }
  return socket_address_from_sockaddr(reinterpret_cast<sockaddr*>(&storage), length);
}

Expected<PeerCredentials> SocketChannel::peer_credentials() const {
  if (family_ != AF_UNIX) {
    return Error("peer credentials are only available on UNIX sockets", ENOTSUP);
  }
  ucred credentials{};
  socklen_t length = sizeof credentials;
  if (getsockopt(fd_.get(), SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0) {
    return Error::from_errno("getsockopt(SO_PEERCRED)", errno);
  }
  return PeerCredentials{credentials.pid, credentials.uid, credentials.gid};
}

Error SocketChannel::closed_error() const {
  return Error("socket channel '" + name() + "' is closed", EBADF);
}

IoResult SocketChannel::do_readv(std::span<const iovec> iov, std::vector<UniqueFd>* fds,
                                 uint32_t flags) {
  if (!fd_.valid()) return closed_error();
  if (iov_size(iov) == 0) return IoResult::bytes(0);
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(iov.data());
  message.msg_iovlen = iov.size();
  if (has_feature(kFeatureFdPass)) {
    message.msg_control = control;
    message.msg_controllen = sizeof control;
  }
  int recv_flags = MSG_CMSG_CLOEXEC | ((flags & kReadMsgPeek) ? MSG_PEEK : 0);
  ssize_t received;
  do {
    received = ::recvmsg(fd_.get(), &message, recv_flags);
  } while (received < 0 && errno == EINTR);
  if (received < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::would_block();
    return Error::from_errno("recvmsg on '" + name() + "'", errno);
  }
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const int* received_fds = reinterpret_cast<const int*>(CMSG_DATA(header));
    for (size_t i = 0; i < count; ++i) {
      UniqueFd owned(received_fds[i]);
      if (fds != nullptr) fds->push_back(std::move(owned));
    }
  }
  if (received == 0) return IoResult::eof();
  return IoResult::bytes(static_cast<size_t>(received));
}

ssize_t SocketChannel::call_sendmsg(const msghdr* message, int flags) {
  if (sendmsg_hook_) return sendmsg_hook_(fd_.get(), message, flags);
  return ::sendmsg(fd_.get(), message, flags);
}

IoResult SocketChannel::do_writev(std::span<const iovec> iov, std::span<const int> fds,
                                  uint32_t flags) {
  if (!fd_.valid()) return closed_error();
  if (fds.size() > kMaxFds) {
    return Error("too many file descriptors (" + std::to_string(fds.size()) + ", at most " +
                     std::to_string(kMaxFds) + ")",
                 EINVAL);
  }
  if (iov_size(iov) == 0 && fds.empty()) return IoResult::bytes(0);
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(iov.data());
  message.msg_iovlen = iov.size();
  if (!fds.empty()) {
    std::memset(control, 0, sizeof control);
    message.msg_control = control;
    message.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
  }
  bool zero_copy = (flags & kWriteZeroCopy) != 0;
  int send_flags = MSG_NOSIGNAL | (zero_copy ? MSG_ZEROCOPY : 0);
  bool flushed_once = false;
  for (;;) {
    ssize_t sent = call_sendmsg(&message, send_flags);
    if (sent >= 0) {
      if (zero_copy) {
        ++zero_copy_.queued;
        sent_since_flush_ = true;
        if (flushed_once) ++zero_copy_.enobufs_recovered;
      }
      return IoResult::bytes(static_cast<size_t>(sent));
    }
    int error = errno;
    if (error == EINTR) continue;
    if (error == EAGAIN || error == EWOULDBLOCK) return IoResult::would_block();
    if (error == ENOBUFS && zero_copy) {
      // Completion notifications are charged to the socket's optmem; when
      // they pile up the kernel refuses new zero-copy sends. Reading the
      // error queue once (blocking only on a blocking channel) frees them.
      ++zero_copy_.enobufs_events;
      if (!enobufs_recovery_ || flushed_once) return zero_copy_enobufs_error(flushed_once);
      flushed_once = true;
      Error flush_error = drain_error_queue(is_blocking());
      if (!flush_error.ok())
        return flush_error.with_context("flushing zero-copy completions after ENOBUFS");
      continue;
    }
    return Error::from_errno("sendmsg on '" + name() + "'", error);
  }
}

Error SocketChannel::do_set_blocking(bool blocking) {
  if (!fd_.valid()) return closed_error();
  int flags = fcntl(fd_.get(), F_GETFL);
  if (flags < 0) return Error::from_errno("fcntl(F_GETFL)", errno);
  flags = blocking ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK);
  if (fcntl(fd_.get(), F_SETFL, flags) < 0) return Error::from_errno("fcntl(F_SETFL)", errno);
  return Error();
}

Error SocketChannel::close() {
  if (!fd_.valid()) return Error();
  int fd = fd_.release();
  int result = ::close(fd);
  int error = errno;
  if (!unlink_path_.empty()) {
    ::unlink(unlink_path_.c_str());
    unlink_path_.clear();
  }
  if (result < 0 && error != EINTR) return Error::from_errno("close", error);
  return Error();
}

Error SocketChannel::shutdown(ShutdownDirection direction) {
  if (!fd_.valid()) return closed_error();
  int how = direction == ShutdownDirection::kRead    ? SHUT_RD
            : direction == ShutdownDirection::kWrite ? SHUT_WR
                                                     : SHUT_RDWR;
  if (::shutdown(fd_.get(), how) < 0) return Error::from_errno("shutdown", errno);
  return Error();
}

Error SocketChannel::set_cork(bool enabled) {
  if (family_ == AF_UNIX || !fd_.valid()) return Error();
  int value = enabled ? 1 : 0;
  if (setsockopt(fd_.get(), IPPROTO_TCP, TCP_CORK, &value, sizeof value) < 0) {
    return Error::from_errno("setsockopt(TCP_CORK)", errno);
  }
  return Error();
}

Error SocketChannel::set_delay(bool enabled) {
  if (family_ == AF_UNIX || !fd_.valid()) return Error();
  int value = enabled ? 0 : 1;
  if (setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &value, sizeof value) < 0) {
    return Error::from_errno("setsockopt(TCP_NODELAY)", errno);
  }
  return Error();
}

}  // namespace cr16::io
