// Socket addresses (TCP host:port, UNIX path or abstract name, an already
// open fd) and their text form used on the command line.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "util/error.h"

namespace cr16::io {

struct SocketAddress {
  enum class Kind : uint8_t { kInet, kUnix, kFd };
  /// Restricts which IP family a host name may resolve to.
  enum class Family : uint8_t { kAny, kIpv4, kIpv6 };

  Kind kind = Kind::kInet;
  std::string host;  // kInet: name or numeric address ("" = any / loopback)
  uint16_t port = 0;
  Family family = Family::kAny;
  std::string path;  // kUnix: file system path or abstract name
  bool abstract = false;
  int fd = -1;  // kFd

  /// A TCP address.
  static SocketAddress inet(std::string host, uint16_t port, Family family = Family::kAny);
  /// A UNIX socket bound to a path.
  static SocketAddress unix_path(std::string path);
  /// A UNIX socket in the abstract namespace (Linux).
  static SocketAddress unix_abstract(std::string name);
  /// An already open socket fd (the channel takes ownership).
  static SocketAddress from_fd(int fd);

  /// Parses "tcp:HOST:PORT", "tcp:[IPV6]:PORT", "HOST:PORT",
  /// "unix:PATH", "unix:@NAME" (abstract) and "fd:N". Returns an Error
  /// naming what was wrong otherwise.
  static Expected<SocketAddress> parse(std::string_view text);

  /// The text form accepted by parse().
  std::string to_string() const;

  bool operator==(const SocketAddress&) const = default;
};

/// Builds a SocketAddress from a kernel address (AF_INET, AF_INET6,
/// AF_UNIX); hosts come out numeric.
Expected<SocketAddress> socket_address_from_sockaddr(const sockaddr* address, socklen_t length);

/// Fills `storage` with the sockaddr_un for a UNIX address; returns the
/// length, or an Error if the path does not fit.
Expected<socklen_t> unix_sockaddr(const SocketAddress& address, sockaddr_storage& storage);

}  // namespace cr16::io
