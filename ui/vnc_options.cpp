// Parsing of the -vnc value (see vnc_options.h).
#include "ui/vnc_options.h"

#include <charconv>
#include <vector>

namespace cr16::ui {

namespace {

constexpr uint32_t kRfbBasePort = 5900;
constexpr uint32_t kWebsocketBasePort = 5700;

// A decimal number up to MAX, or nothing.
std::optional<uint32_t> parse_number(std::string_view text, uint32_t max) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  uint32_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> parts;
  for (;;) {
    size_t comma = text.find(',');
    parts.push_back(text.substr(0, comma));
    if (comma == std::string_view::npos) return parts;
    text.remove_prefix(comma + 1);
  }
}

// The address part: "none", "unix:PATH", ":N", "HOST:N", "[V6]:N".
Error parse_address(std::string_view text, VncOptions& options) {
  if (text == "none") {
    options.kind = VncOptions::Kind::kNone;
    return {};
  }
  if (text.starts_with("unix:")) {
    options.kind = VncOptions::Kind::kUnix;
    options.unix_path = std::string(text.substr(5));
    if (options.unix_path.empty()) return Error("'unix:' needs a socket path");
    return {};
  }
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return Error("'" + std::string(text) + "' is not :N, HOST:N, unix:PATH or none");
  }
  std::string_view host = text.substr(0, colon);
  std::string_view display = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return Error("IPv6 host '" + std::string(host) + "' must be written in brackets: [" +
                 std::string(host) + "]:N");
  }
  std::optional<uint32_t> number = parse_number(display, 65535 - kRfbBasePort);
  if (!number) {
    return Error("display number '" + std::string(display) + "' is not a number from 0 to " +
                 std::to_string(65535 - kRfbBasePort));
  }
  options.kind = VncOptions::Kind::kTcp;
  options.host = std::string(host);
  options.display = *number;
  options.port = static_cast<uint16_t>(kRfbBasePort + *number);
  return {};
}

}  // namespace

Expected<VncOptions> parse_vnc_options(std::string_view value) {
  std::vector<std::string_view> parts = split_commas(value);
  VncOptions options;
  if (Error error = parse_address(parts.front(), options); !error.ok()) return error;
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    size_t equals = part.find('=');
    std::string_view key = part.substr(0, equals);
    std::string_view setting =
        equals == std::string_view::npos ? std::string_view() : part.substr(equals + 1);
    if (key == "websocket") {
      if (setting == "on" || setting.empty()) {
        if (kWebsocketBasePort + options.display > 65535) {
          return Error("websocket=on: port 5700 + " + std::to_string(options.display) +
                       " is above 65535");
        }
        options.websocket_port = static_cast<uint16_t>(kWebsocketBasePort + options.display);
      } else if (setting == "off") {
        options.websocket_port.reset();
      } else {
        std::optional<uint32_t> port = parse_number(setting, 65535);
        if (!port) {
          return Error("websocket='" + std::string(setting) +
                       "' is not on, off or a port number from 0 to 65535");
        }
        options.websocket_port = static_cast<uint16_t>(*port);
      }
    } else if (key == "tls-creds") {
      if (setting.empty()) return Error("tls-creds= needs the id of a tls-creds-x509 object");
      options.tls_creds = std::string(setting);
    } else if (key == "share") {
      if (setting != "allow-exclusive" && setting != "force-shared" && setting != "ignore") {
        return Error("share='" + std::string(setting) +
                     "' is not allow-exclusive, force-shared or ignore");
      }
      // Every client shares the screen; the policy is accepted and ignored.
    } else if (part.empty()) {
      return Error("an empty option (two commas in a row, or a trailing comma)");
    } else {
      return Error("unknown option '" + std::string(key) +
                   "' (known: websocket=, tls-creds=, share=)");
    }
  }
  if (options.kind == VncOptions::Kind::kNone && !options.websocket_port &&
      !options.tls_creds.empty()) {
    return Error("tls-creds= with 'none' and no websocket= has nothing to protect");
  }
  return options;
}

}  // namespace cr16::ui
