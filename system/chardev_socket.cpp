#include "system/chardev_socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace cr16::system {

namespace {

// Creates a listening or connected TCP socket for host:port.
Expected<int> open_tcp(const SerialSpec& spec, uint16_t* bound_port) {
  struct addrinfo hints {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = spec.server ? AI_PASSIVE : 0;
  struct addrinfo* results = nullptr;
  std::string port = std::to_string(spec.port);
  const char* host = spec.host.empty() ? nullptr : spec.host.c_str();
  int status = getaddrinfo(host, port.c_str(), &hints, &results);
  if (status != 0) {
    return Error("-serial " + spec.text + ": cannot resolve '" + spec.host +
                 "': " + gai_strerror(status));
  }
  int last_errno = 0;
  int fd = -1;
  for (struct addrinfo* item = results; item; item = item->ai_next) {
    fd = socket(item->ai_family, item->ai_socktype | SOCK_CLOEXEC, item->ai_protocol);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    if (spec.server) {
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (bind(fd, item->ai_addr, item->ai_addrlen) == 0 && listen(fd, 1) == 0) break;
    } else {
      if (connect(fd, item->ai_addr, item->ai_addrlen) == 0) break;
    }
    last_errno = errno;
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(results);
  if (fd < 0) {
    return Error::from_errno(
        "-serial " + spec.text + (spec.server ? ": cannot listen" : ": cannot connect"),
        last_errno ? last_errno : EADDRNOTAVAIL);
  }
  struct sockaddr_storage address {};
  socklen_t length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    if (address.ss_family == AF_INET) {
      *bound_port = ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
    } else if (address.ss_family == AF_INET6) {
      *bound_port = ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
    }
  }
  if (!spec.server) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

Expected<int> open_unix(const SerialSpec& spec) {
  struct sockaddr_un address {};
  address.sun_family = AF_UNIX;
  if (spec.path.size() >= sizeof address.sun_path) {
    return Error("-serial " + spec.text + ": socket path too long");
  }
  std::memcpy(address.sun_path, spec.path.c_str(), spec.path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::from_errno("-serial " + spec.text, errno);
  int result;
  if (spec.server) {
    ::unlink(spec.path.c_str());  // a stale socket from an earlier run
    result = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    if (result == 0) result = listen(fd, 1);
  } else {
    result = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  }
  if (result != 0) {
    int saved = errno;
    ::close(fd);
    return Error::from_errno(
        "-serial " + spec.text + (spec.server ? ": cannot listen" : ": cannot connect"), saved);
  }
  return fd;
}

}  // namespace

Expected<std::unique_ptr<SocketCharBackend>> SocketCharBackend::open(io::Loop& loop,
                                                                     const SerialSpec& spec,
                                                                     const std::string& label) {
  std::unique_ptr<SocketCharBackend> backend(new SocketCharBackend(loop, spec));
  Expected<int> fd =
      spec.kind == SerialSpec::Kind::kTcp ? open_tcp(spec, &backend->local_port_) : open_unix(spec);
  if (!fd) return fd.error();
  if (spec.server) {
    backend->listen_fd_ = *fd;
    set_nonblocking(backend->listen_fd_, true);
    if (spec.kind == SerialSpec::Kind::kTcp && spec.port == 0) {
      std::fprintf(stderr, "cr16-system: %s listening on tcp port %u\n", label.c_str(),
                   backend->local_port_);
    }
    if (spec.wait) {
      std::fprintf(stderr, "cr16-system: %s waiting for a connection on %s\n", label.c_str(),
                   spec.text.c_str());
    }
    backend->start_listening();
  } else {
    backend->client_fd_ = *fd;
    backend->had_client_ = true;
    set_nonblocking(backend->client_fd_, true);
    backend->set_fds(backend->client_fd_, backend->client_fd_);
  }
  return backend;
}

SocketCharBackend::SocketCharBackend(io::Loop& loop, SerialSpec spec)
    : FdCharBackend(loop), spec_(std::move(spec)) {}

SocketCharBackend::~SocketCharBackend() {
  set_fds(-1, -1);
  if (accept_watch_) loop().remove_watch(accept_watch_);
  if (client_fd_ >= 0) ::close(client_fd_);
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    if (spec_.kind == SerialSpec::Kind::kUnix) ::unlink(spec_.path.c_str());
  }
}

void SocketCharBackend::start_listening() {
  if (listen_fd_ >= 0 && !accept_watch_) {
    accept_watch_ =
        loop().add_watch(listen_fd_, io::kIn, [this](int, uint32_t) { return on_accept(); });
  }
}

bool SocketCharBackend::on_accept() {
  int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return true;  // spurious wake-up or a client that already left
  if (spec_.kind == SerialSpec::Kind::kTcp) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  client_fd_ = fd;
  had_client_ = true;
  set_fds(client_fd_, client_fd_);
  accept_watch_ = 0;
  return false;  // one client at a time: stop accepting until it leaves
}

void SocketCharBackend::disconnect() {
  set_fds(-1, -1);
  if (client_fd_ >= 0) ::close(client_fd_);
  client_fd_ = -1;
  if (spec_.server) start_listening();
}

void SocketCharBackend::schedule_disconnect() {
  // Deferred: we may be inside one of the client's watch callbacks.
  std::weak_ptr<bool> alive = alive_;
  loop().schedule([this, alive] {
    if (alive.lock() && client_fd_ >= 0) disconnect();
  });
}

void SocketCharBackend::on_input_closed() {
  stop_input();
  schedule_disconnect();
}

void SocketCharBackend::on_output_failed() {
  FdCharBackend::on_output_failed();
  schedule_disconnect();
}

}  // namespace cr16::system
