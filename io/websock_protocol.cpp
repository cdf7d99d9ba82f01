#include "io/websock_protocol.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

namespace cr16::io {
namespace {

constexpr std::string_view kWebsockGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr size_t kMaxControlPayload = 125;

char lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Splits a comma-separated header value into trimmed, non-empty tokens.
std::vector<std::string> split_tokens(std::string_view value) {
  std::vector<std::string> tokens;
  while (!value.empty()) {
    const size_t comma = value.find(',');
    std::string_view token = trim(value.substr(0, comma));
    if (!token.empty()) tokens.emplace_back(token);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return tokens;
}

bool has_token(std::string_view value, std::string_view wanted) {
  for (const std::string& token : split_tokens(value)) {
    if (equals_ignore_case(token, wanted)) return true;
  }
  return false;
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// A 16-byte value in base64 is 22 significant characters and "==".
bool is_valid_client_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  return std::all_of(key.begin(), key.begin() + 22, is_base64_char);
}

// Header and request-line bytes: printable ASCII, tab, or obs-text.
bool is_allowed_header_text(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 && c != '\t') return false;
    if (c == 0x7f) return false;
  }
  return true;
}

WebsockHandshakeResult reject(int http_status, std::string error) {
  WebsockHandshakeResult result;
  result.status = WebsockHandshakeStatus::kRejected;
  result.http_status = http_status;
  result.error = std::move(error);
  return result;
}

const char* http_reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 405:
      return "Method Not Allowed";
    case 426:
      return "Upgrade Required";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    default:
      return "Error";
  }
}

uint64_t read_big_endian(const uint8_t* bytes, size_t count) {
  uint64_t value = 0;
  for (size_t i = 0; i < count; ++i) value = (value << 8) | bytes[i];
  return value;
}

bool is_valid_close_code(uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  switch (code) {
    case 1000:
    case 1001:
    case 1002:
    case 1003:
    case 1007:
    case 1008:
    case 1009:
    case 1010:
    case 1011:
      return true;
    default:
      return false;
  }
}

WebsockHeaderParse invalid_header(uint16_t code, std::string error) {
  WebsockHeaderParse parse;
  parse.status = WebsockParseStatus::kInvalid;
  parse.close_code = code;
  parse.error = std::move(error);
  return parse;
}

}  // namespace

// ---------------------------------------------------------------------------
// Handshake

WebsockHandshakeResult parse_websock_upgrade_request(std::string_view received, size_t max_size) {
  const size_t end = received.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (received.size() > max_size) {
      return reject(431, "websocket handshake larger than " + std::to_string(max_size) + " bytes");
    }
    return {};  // kIncomplete
  }
  const size_t consumed = end + 4;
  if (consumed > max_size) {
    return reject(431, "websocket handshake larger than " + std::to_string(max_size) + " bytes");
  }
  std::string_view head = received.substr(0, end);

  // Request line: METHOD SP TARGET SP VERSION
  const size_t line_end = head.find("\r\n");
  std::string_view request_line = head.substr(0, line_end);
  head = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  if (!is_allowed_header_text(request_line)) {
    return reject(400, "control characters in the request line");
  }
  const size_t first_space = request_line.find(' ');
  const size_t last_space = request_line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) {
    return reject(400, "malformed request line");
  }
  std::string_view method = request_line.substr(0, first_space);
  std::string_view target = request_line.substr(first_space + 1, last_space - first_space - 1);
  std::string_view version = request_line.substr(last_space + 1);
  if (method != "GET") return reject(405, "websocket handshake must use GET");
  if (version != "HTTP/1.1") return reject(400, "websocket handshake must use HTTP/1.1");
  if (target.empty() || target.front() != '/' || target.find(' ') != std::string_view::npos) {
    return reject(400, "invalid request target");
  }

  WebsockUpgradeRequest request;
  request.path = std::string(target);
  std::string upgrade, connection, websocket_version;
  bool have_host = false, have_key = false;
  while (!head.empty()) {
    const size_t next = head.find("\r\n");
    std::string_view line = head.substr(0, next);
    head = next == std::string_view::npos ? std::string_view() : head.substr(next + 2);
    if (line.empty()) return reject(400, "empty header line");
    if (line.front() == ' ' || line.front() == '\t') {
      return reject(400, "folded header lines are not allowed");
    }
    if (!is_allowed_header_text(line)) return reject(400, "control characters in a header");
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return reject(400, "malformed header line");
    std::string_view name = line.substr(0, colon);
    if (name.find_first_of(" \t") != std::string_view::npos) {
      return reject(400, "whitespace in a header name");
    }
    std::string_view value = trim(line.substr(colon + 1));
    if (equals_ignore_case(name, "Host")) {
      if (have_host) return reject(400, "duplicate Host header");
      request.host = std::string(value);
      have_host = true;
    } else if (equals_ignore_case(name, "Upgrade")) {
      upgrade += std::string(value) + ",";
    } else if (equals_ignore_case(name, "Connection")) {
      connection += std::string(value) + ",";
    } else if (equals_ignore_case(name, "Sec-WebSocket-Key")) {
      if (have_key) return reject(400, "duplicate Sec-WebSocket-Key header");
      request.key = std::string(value);
      have_key = true;
    } else if (equals_ignore_case(name, "Sec-WebSocket-Version")) {
      websocket_version += std::string(value) + ",";
    } else if (equals_ignore_case(name, "Sec-WebSocket-Protocol")) {
      for (std::string& token : split_tokens(value)) request.protocols.push_back(std::move(token));
    } else if (equals_ignore_case(name, "Origin")) {
      request.origin = std::string(value);
    }
  }
  if (!have_host || request.host.empty()) return reject(400, "missing Host header");
  if (!has_token(upgrade, "websocket")) return reject(400, "missing 'Upgrade: websocket' header");
  if (!has_token(connection, "upgrade")) return reject(400, "missing 'Connection: Upgrade' header");
  const std::vector<std::string> versions = split_tokens(websocket_version);
  if (versions.size() != 1 || versions[0] != "13") {
    return reject(426, "unsupported Sec-WebSocket-Version (only 13 is supported)");
  }
  if (!have_key) return reject(400, "missing Sec-WebSocket-Key header");
  if (!is_valid_client_key(request.key)) return reject(400, "malformed Sec-WebSocket-Key");
  if (!request.protocols.empty() && std::find(request.protocols.begin(), request.protocols.end(),
                                              "binary") == request.protocols.end()) {
    return reject(400, "the client offered subprotocols, none of them 'binary'");
  }

  WebsockHandshakeResult result;
  result.status = WebsockHandshakeStatus::kComplete;
  result.consumed = consumed;
  result.request = std::move(request);
  return result;
}

std::string websock_accept_key(std::string_view client_key) {
  std::string input(client_key);
  input += kWebsockGuid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  const int length = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(encoded), static_cast<size_t>(length));
}

std::string build_websock_upgrade_response(const WebsockUpgradeRequest& request) {
  std::string response =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      websock_accept_key(request.key) + "\r\n";
  if (std::find(request.protocols.begin(), request.protocols.end(), "binary") !=
      request.protocols.end()) {
    response += "Sec-WebSocket-Protocol: binary\r\n";
  }
  response += "\r\n";
  return response;
}

std::string build_websock_error_response(int http_status, std::string_view reason) {
  std::string body(reason);
  body.erase(
      std::remove_if(body.begin(), body.end(), [](char c) { return c == '\r' || c == '\n'; }),
      body.end());
  body += "\n";
  std::string response = "HTTP/1.1 " + std::to_string(http_status) + " " +
                         http_reason_phrase(http_status) +
                         "\r\n"
                         "Connection: close\r\n"
                         "Content-Type: text/plain\r\n"
                         "Content-Length: " +
                         std::to_string(body.size()) + "\r\n";
  if (http_status == 426) response += "Sec-WebSocket-Version: 13\r\n";
  response += "\r\n" + body;
  return response;
}

// ---------------------------------------------------------------------------
// Frames

WebsockHeaderParse parse_websock_frame_header(std::span<const uint8_t> input,
                                              const WebsockLimits& limits, bool require_mask) {
  if (input.size() < 2) return {};
  WebsockFrameHeader header;
  header.fin = (input[0] & 0x80) != 0;
  header.reserved_bits = (input[0] >> 4) & 0x7;
  const uint8_t opcode = input[0] & 0x0f;
  header.masked = (input[1] & 0x80) != 0;
  const uint8_t length7 = input[1] & 0x7f;

  if (header.reserved_bits != 0) {
    return invalid_header(websock_close::kProtocolError, "reserved bits set in a frame header");
  }
  switch (opcode) {
    case 0x0:
    case 0x1:
    case 0x2:
    case 0x8:
    case 0x9:
    case 0xA:
      header.opcode = static_cast<WebsockOpcode>(opcode);
      break;
    default:
      return invalid_header(websock_close::kProtocolError,
                            "unknown frame opcode " + std::to_string(opcode));
  }
  const bool control = (opcode & 0x8) != 0;
  if (control && !header.fin) {
    return invalid_header(websock_close::kProtocolError, "fragmented control frame");
  }
  if (control && length7 > kMaxControlPayload) {
    return invalid_header(websock_close::kProtocolError, "control frame payload over 125 bytes");
  }
  if (header.masked != require_mask) {
    return invalid_header(websock_close::kProtocolError, require_mask
                                                             ? "unmasked frame from a client"
                                                             : "masked frame from a server");
  }

  size_t offset = 2;
  if (length7 == 126) {
    if (input.size() < offset + 2) return {};
    header.payload_length = read_big_endian(&input[offset], 2);
    offset += 2;
    if (header.payload_length < 126) {
      return invalid_header(websock_close::kProtocolError, "non-minimal frame length encoding");
    }
  } else if (length7 == 127) {
    if (input.size() < offset + 8) return {};
    header.payload_length = read_big_endian(&input[offset], 8);
    offset += 8;
    if (header.payload_length >> 63) {
      return invalid_header(websock_close::kProtocolError, "frame length has its top bit set");
    }
    if (header.payload_length <= 0xffff) {
      return invalid_header(websock_close::kProtocolError, "non-minimal frame length encoding");
    }
  } else {
    header.payload_length = length7;
  }
  if (header.payload_length > limits.max_frame_payload) {
    return invalid_header(websock_close::kMessageTooBig,
                          "frame payload of " + std::to_string(header.payload_length) +
                              " bytes exceeds the limit of " +
                              std::to_string(limits.max_frame_payload));
  }
  if (header.masked) {
    if (input.size() < offset + 4) return {};
    std::memcpy(header.mask.data(), &input[offset], 4);
    offset += 4;
  }
  header.header_size = offset;
  WebsockHeaderParse parse;
  parse.status = WebsockParseStatus::kComplete;
  parse.header = header;
  return parse;
}

void apply_websock_mask(std::span<uint8_t> data, const std::array<uint8_t, 4>& mask,
                        uint64_t offset) {
  for (size_t i = 0; i < data.size(); ++i) data[i] ^= mask[(offset + i) & 3];
}

void append_websock_frame(std::vector<uint8_t>& out, WebsockOpcode opcode,
                          std::span<const uint8_t> payload, bool fin,
                          const std::optional<std::array<uint8_t, 4>>& mask) {
  out.push_back(static_cast<uint8_t>((fin ? 0x80 : 0x00) | static_cast<uint8_t>(opcode)));
  const uint8_t mask_bit = mask ? 0x80 : 0x00;
  const uint64_t length = payload.size();
  if (length < 126) {
    out.push_back(static_cast<uint8_t>(mask_bit | length));
  } else if (length <= 0xffff) {
    out.push_back(mask_bit | 126);
    out.push_back(static_cast<uint8_t>(length >> 8));
    out.push_back(static_cast<uint8_t>(length));
  } else {
    out.push_back(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<uint8_t>(length >> shift));
  }
  if (mask) out.insert(out.end(), mask->begin(), mask->end());
  const size_t payload_start = out.size();
  out.insert(out.end(), payload.begin(), payload.end());
  if (mask) apply_websock_mask(std::span<uint8_t>(out).subspan(payload_start), *mask);
}

std::vector<uint8_t> build_websock_close_payload(uint16_t code, std::string_view reason) {
  const size_t room = kMaxControlPayload - 2;
  if (reason.size() > room) {
    // Cut without splitting a UTF-8 sequence: back off continuation bytes.
    size_t cut = room;
    while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) --cut;
    reason = reason.substr(0, cut);
  }
  std::vector<uint8_t> payload(2 + reason.size());
  payload[0] = static_cast<uint8_t>(code >> 8);
  payload[1] = static_cast<uint8_t>(code);
  std::copy(reason.begin(), reason.end(), payload.begin() + 2);
  return payload;
}

// ---------------------------------------------------------------------------
// Stream decoder

void WebsockStreamDecoder::feed(std::span<const uint8_t> data) {
  if (terminal_) return;
  if (read_offset_ > 0 && read_offset_ >= buffer_.size() / 2) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(read_offset_));
    read_offset_ = 0;
  }
  buffer_.insert(buffer_.end(), data.begin(), data.end());
}

WebsockEvent WebsockStreamDecoder::finish(WebsockEvent event) {
  terminal_ = event;
  buffer_.clear();
  buffer_.shrink_to_fit();
  read_offset_ = 0;
  return event;
}

WebsockEvent WebsockStreamDecoder::fail(uint16_t close_code, std::string error) {
  WebsockEvent event;
  event.kind = WebsockEvent::Kind::kProtocolError;
  event.close_code = close_code;
  event.reason = std::move(error);
  return finish(std::move(event));
}

bool WebsockStreamDecoder::has_event() const {
  if (terminal_) return true;
  std::span<const uint8_t> input(buffer_.data() + read_offset_, buffer_.size() - read_offset_);
  WebsockHeaderParse parse = parse_websock_frame_header(input, limits_, expect_masked_);
  if (parse.status == WebsockParseStatus::kIncomplete) return false;
  if (parse.status == WebsockParseStatus::kInvalid) return true;
  return input.size() - parse.header.header_size >= parse.header.payload_length;
}

WebsockEvent WebsockStreamDecoder::next() {
  if (terminal_) return *terminal_;
  std::span<const uint8_t> input(buffer_.data() + read_offset_, buffer_.size() - read_offset_);
  WebsockHeaderParse parse = parse_websock_frame_header(input, limits_, expect_masked_);
  if (parse.status == WebsockParseStatus::kIncomplete) return {};
  if (parse.status == WebsockParseStatus::kInvalid) {
    return fail(parse.close_code, std::move(parse.error));
  }
  const WebsockFrameHeader& header = parse.header;
  // header.payload_length <= max_frame_payload, so this cannot overflow.
  if (input.size() - header.header_size < header.payload_length) return {};
  // Message-level checks before consuming the frame.
  const bool control = (static_cast<uint8_t>(header.opcode) & 0x8) != 0;
  if (!control) {
    const bool continuation = header.opcode == WebsockOpcode::kContinuation;
    if (continuation && !in_message_) {
      return fail(websock_close::kProtocolError,
                  "continuation frame without a message to continue");
    }
    if (!continuation && in_message_) {
      return fail(websock_close::kProtocolError, "new data frame inside a fragmented message");
    }
    const uint64_t total = (continuation ? message_bytes_ : 0) + header.payload_length;
    if (total > limits_.max_message) {
      return fail(
          websock_close::kMessageTooBig,
          "message of over " + std::to_string(limits_.max_message) + " bytes exceeds the limit");
    }
  }

  WebsockEvent event;
  const uint8_t* payload_start = input.data() + header.header_size;
  event.payload.assign(payload_start, payload_start + header.payload_length);
  if (header.masked) apply_websock_mask(event.payload, header.mask);
  read_offset_ += header.header_size + static_cast<size_t>(header.payload_length);

  switch (header.opcode) {
    case WebsockOpcode::kContinuation:
    case WebsockOpcode::kText:
    case WebsockOpcode::kBinary:
      event.kind = WebsockEvent::Kind::kData;
      event.message_end = header.fin;
      if (header.fin) {
        in_message_ = false;
        message_bytes_ = 0;
      } else {
        in_message_ = true;
        message_bytes_ += header.payload_length;
      }
      return event;
    case WebsockOpcode::kPing:
      event.kind = WebsockEvent::Kind::kPing;
      return event;
    case WebsockOpcode::kPong:
      event.kind = WebsockEvent::Kind::kPong;
      return event;
    case WebsockOpcode::kClose:
      break;
  }
  // Close frame: empty, or a valid code plus an optional reason.
  if (event.payload.size() == 1) {
    return fail(websock_close::kProtocolError, "close frame with a one-byte payload");
  }
  event.kind = WebsockEvent::Kind::kClose;
  if (event.payload.empty()) {
    event.close_code = websock_close::kNoStatus;
  } else {
    event.close_code = static_cast<uint16_t>((event.payload[0] << 8) | event.payload[1]);
    if (!is_valid_close_code(event.close_code)) {
      return fail(websock_close::kProtocolError,
                  "invalid close code " + std::to_string(event.close_code));
    }
    event.reason.assign(event.payload.begin() + 2, event.payload.end());
  }
  event.payload.clear();
  return finish(std::move(event));
}

}  // namespace cr16::io
