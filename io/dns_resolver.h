// The DNS resolver: expands an address whose host is a name into the list
// of numeric addresses it stands for, synchronously or as a task.
#pragma once

#include <functional>
#include <vector>

#include "io/loop.h"
#include "io/socket_address.h"
#include "io/task.h"

namespace cr16::io {

class DnsResolver {
 public:
  /// The process-wide resolver.
  static DnsResolver& instance();

  /// Resolves a TCP address to numeric IPv4/IPv6 addresses (same port,
  /// family restriction honoured, no duplicates); UNIX and fd addresses
  /// come back unchanged. Blocks (getaddrinfo).
  Expected<std::vector<SocketAddress>> resolve(const SocketAddress& address);

  /// resolve() on a worker thread; `done` runs on `loop`.
  TaskHandle resolve_async(Loop& loop, SocketAddress address,
                           std::function<void(Expected<std::vector<SocketAddress>>)> done);
};

}  // namespace cr16::io
