// The value of -vnc, parsed: where the VNC server listens (":N" is TCP port
// 5900 + N on every address, as QEMU does; "HOST:N" binds HOST; "unix:PATH"
// a UNIX socket; "none" no RFB listener at all, useful with websocket=),
// and the options after it: websocket=PORT|on (on: port 5700 + N), the
// tls-creds object id, and share= (accepted and ignored). No I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/error.h"

namespace cr16::ui {

struct VncOptions {
  enum class Kind : uint8_t { kTcp, kUnix, kNone };
  Kind kind = Kind::kTcp;
  std::string host;                        // kTcp: empty means every address
  uint16_t port = 0;                       // kTcp: 5900 + display
  uint32_t display = 0;                    // the N of ":N" (also for websocket=on)
  std::string unix_path;                   // kUnix
  std::optional<uint16_t> websocket_port;  // a WebSocket listener (same host as the RFB one)
  std::string tls_creds;                   // a tls-creds-x509 object id; empty: no TLS
};

/// Parses the -vnc VALUE. Returns an Error naming the bad part (not
/// prefixed with "-vnc"; the caller adds that).
Expected<VncOptions> parse_vnc_options(std::string_view value);

}  // namespace cr16::ui
