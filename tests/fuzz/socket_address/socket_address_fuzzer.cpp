// Any text given to SocketAddress::parse must yield a value or an Error,
// never a crash; a parsed address must format to text that parses back to
// the same address.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "io/socket_address.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = cr16::io::SocketAddress::parse(text);
  if (!parsed) return 0;
  auto again = cr16::io::SocketAddress::parse(parsed->to_string());
  if (!again) std::abort();
  // Family hints are not part of the text form of unbracketed hosts.
  if (again->kind != parsed->kind || again->host != parsed->host || again->port != parsed->port ||
      again->path != parsed->path || again->abstract != parsed->abstract ||
      again->fd != parsed->fd) {
    std::abort();
  }
  return 0;
}
