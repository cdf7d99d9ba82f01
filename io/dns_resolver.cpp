// DNS resolver.
#include "io/dns_resolver.h"

#include <netdb.h>

#include <algorithm>

namespace cr16::io {

DnsResolver& DnsResolver::instance() {
  static DnsResolver resolver;
  return resolver;
}

Expected<std::vector<SocketAddress>> DnsResolver::resolve(const SocketAddress& address) {
  if (address.kind != SocketAddress::Kind::kInet) return std::vector<SocketAddress>{address};
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = address.family == SocketAddress::Family::kIpv4   ? AF_INET
                    : address.family == SocketAddress::Family::kIpv6 ? AF_INET6
                                                                     : AF_UNSPEC;
  hints.ai_flags = address.host.empty() ? AI_PASSIVE : 0;
  std::string port = std::to_string(address.port);
  addrinfo* list = nullptr;
  int result = getaddrinfo(address.host.empty() ? nullptr : address.host.c_str(), port.c_str(),
                           &hints, &list);
  if (result != 0) {
    return Error("cannot resolve '" + address.to_string() + "': " + gai_strerror(result),
                 result == EAI_SYSTEM ? errno : EHOSTUNREACH);
  }
  std::vector<SocketAddress> addresses;
  for (addrinfo* entry = list; entry != nullptr; entry = entry->ai_next) {
    auto converted = socket_address_from_sockaddr(entry->ai_addr, entry->ai_addrlen);
    if (!converted) continue;
    if (std::find(addresses.begin(), addresses.end(), *converted) == addresses.end()) {
      addresses.push_back(std::move(*converted));
    }
  }
  freeaddrinfo(list);
  if (addresses.empty()) {
    return Error("no usable address for '" + address.to_string() + "'", EADDRNOTAVAIL);
  }
  return addresses;
}

TaskHandle DnsResolver::resolve_async(
    Loop& loop, SocketAddress address,
    std::function<void(Expected<std::vector<SocketAddress>>)> done) {
  return run_task<std::vector<SocketAddress>>(
      loop, [this, address](const CancelToken&) { return resolve(address); }, std::move(done));
}

}  // namespace cr16::io
