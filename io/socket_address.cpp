// Parsing and formatting of socket addresses.
#include "io/socket_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <charconv>
#include <cstddef>
#include <cstring>

namespace cr16::io {

SocketAddress SocketAddress::inet(std::string host, uint16_t port, Family family) {
  SocketAddress address;
  address.kind = Kind::kInet;
  address.host = std::move(host);
  address.port = port;
  address.family = family;
  return address;
}

SocketAddress SocketAddress::unix_path(std::string path) {
  SocketAddress address;
  address.kind = Kind::kUnix;
  address.path = std::move(path);
  return address;
}

SocketAddress SocketAddress::unix_abstract(std::string name) {
  SocketAddress address = unix_path(std::move(name));
  address.abstract = true;
  return address;
}

SocketAddress SocketAddress::from_fd(int fd) {
  SocketAddress address;
  address.kind = Kind::kFd;
  address.fd = fd;
  return address;
}

namespace {

Expected<uint16_t> parse_port(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value > 65535) {
    return Error("invalid port '" + std::string(text) + "' in address '" + std::string(whole) + "'",
                 EINVAL);
  }
  return static_cast<uint16_t>(value);
}

Expected<SocketAddress> parse_inet(std::string_view text, std::string_view whole) {
  std::string host;
  std::string_view rest;
  SocketAddress::Family family = SocketAddress::Family::kAny;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return Error("missing ']' in address '" + std::string(whole) + "'", EINVAL);
    }
    host = std::string(text.substr(1, close - 1));
    rest = text.substr(close + 1);
    family = SocketAddress::Family::kIpv6;
    if (rest.empty() || rest.front() != ':') {
      return Error("missing ':PORT' in address '" + std::string(whole) + "'", EINVAL);
    }
    rest.remove_prefix(1);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Error("missing ':PORT' in address '" + std::string(whole) + "'", EINVAL);
    }
    host = std::string(text.substr(0, colon));
    if (host.find(':') != std::string::npos) {
      return Error("IPv6 host must be written in brackets in address '" + std::string(whole) + "'",
                   EINVAL);
    }
    rest = text.substr(colon + 1);
  }
  Expected<uint16_t> port = parse_port(rest, whole);
  if (!port) return port.error();
  return SocketAddress::inet(std::move(host), *port, family);
}

}  // namespace

Expected<SocketAddress> SocketAddress::parse(std::string_view text) {
  if (text.starts_with("unix:")) {
    std::string_view path = text.substr(5);
    bool abstract = !path.empty() && path.front() == '@';
    if (abstract) path.remove_prefix(1);
    if (path.empty()) return Error("empty UNIX socket path in '" + std::string(text) + "'", EINVAL);
    if (path.size() > sizeof(sockaddr_un::sun_path) - 1) {
      return Error("UNIX socket path too long in '" + std::string(text) + "'", ENAMETOOLONG);
    }
    return abstract ? unix_abstract(std::string(path)) : unix_path(std::string(path));
  }
  if (text.starts_with("fd:")) {
    std::string_view number = text.substr(3);
    int fd = -1;
    auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), fd);
    if (number.empty() || error != std::errc() || end != number.data() + number.size() || fd < 0) {
      return Error("invalid file descriptor in '" + std::string(text) + "'", EINVAL);
    }
    return from_fd(fd);
  }
  if (text.starts_with("tcp:")) return parse_inet(text.substr(4), text);
  return parse_inet(text, text);
}

std::string SocketAddress::to_string() const {
  switch (kind) {
    case Kind::kUnix:
      return std::string("unix:") + (abstract ? "@" : "") + path;
    case Kind::kFd:
      return "fd:" + std::to_string(fd);
    case Kind::kInet:
      break;
  }
  bool bracket = host.find(':') != std::string::npos || family == Family::kIpv6;
  return "tcp:" + (bracket ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Expected<SocketAddress> socket_address_from_sockaddr(const sockaddr* address, socklen_t length) {
  char text[INET6_ADDRSTRLEN];
  if (address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    auto* in = reinterpret_cast<const sockaddr_in*>(address);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    return SocketAddress::inet(text, ntohs(in->sin_port), SocketAddress::Family::kIpv4);
  }
  if (address->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    return SocketAddress::inet(text, ntohs(in6->sin6_port), SocketAddress::Family::kIpv6);
  }
  if (address->sa_family == AF_UNIX) {
    auto* un = reinterpret_cast<const sockaddr_un*>(address);
    size_t path_length =
        length > offsetof(sockaddr_un, sun_path) ? length - offsetof(sockaddr_un, sun_path) : 0;
    if (path_length > 0 && un->sun_path[0] == '\0') {
      return SocketAddress::unix_abstract(std::string(un->sun_path + 1, path_length - 1));
    }
    return SocketAddress::unix_path(std::string(un->sun_path, strnlen(un->sun_path, path_length)));
  }
  return Error("unsupported socket address family " + std::to_string(address->sa_family),
               EAFNOSUPPORT);
}

Expected<socklen_t> unix_sockaddr(const SocketAddress& address, sockaddr_storage& storage) {
  auto* un = reinterpret_cast<sockaddr_un*>(&storage);
  std::memset(un, 0, sizeof *un);
  un->sun_family = AF_UNIX;
  size_t limit = sizeof(un->sun_path) - 1;
  if (address.path.empty() || address.path.size() > limit) {
    return Error("invalid UNIX socket path '" + address.path + "'", ENAMETOOLONG);
  }
  if (address.abstract) {
    std::memcpy(un->sun_path + 1, address.path.data(), address.path.size());
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + address.path.size());
  }
  std::memcpy(un->sun_path, address.path.data(), address.path.size());
  return static_cast<socklen_t>(sizeof(sockaddr_un));
}

}  // namespace cr16::io
