// Feeds arbitrary bytes to the WebSocket upgrade-request parser, and builds
// the answer for whatever it accepts or rejects. Any crash or sanitizer
// report is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "io/websock_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using cr16::io::WebsockHandshakeStatus;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  cr16::io::WebsockHandshakeResult result = cr16::io::parse_websock_upgrade_request(input, 1024);
  switch (result.status) {
    case WebsockHandshakeStatus::kIncomplete:
      if (size > 1024 + 3) std::abort();  // past the limit it must decide
      break;
    case WebsockHandshakeStatus::kComplete:
      if (result.consumed == 0 || result.consumed > size) std::abort();
      if (cr16::io::build_websock_upgrade_response(result.request).empty()) std::abort();
      break;
    case WebsockHandshakeStatus::kRejected:
      if (result.http_status < 400 || result.error.empty()) std::abort();
      cr16::io::build_websock_error_response(result.http_status, result.error);
      break;
  }
  return 0;
}
