// libFuzzer target for the -vnc option parser (ui/vnc_options.h): any text
// gets options or one clear error, never a crash; what it accepts names a
// listener within the port range and parses again to the same result.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ui/vnc_options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  cr16::Expected<cr16::ui::VncOptions> options = cr16::ui::parse_vnc_options(text);
  if (!options) {
    if (options.error().message().empty()) std::abort();
    return 0;
  }
  cr16::Expected<cr16::ui::VncOptions> again = cr16::ui::parse_vnc_options(std::string(text));
  if (!again || again->kind != options->kind || again->port != options->port ||
      again->host != options->host || again->websocket_port != options->websocket_port) {
    std::abort();
  }
  return 0;
}
