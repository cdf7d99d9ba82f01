// The WebSocket protocol (RFC 6455) as pure functions and a byte-stream
// decoder, with no I/O: the server side of the HTTP upgrade handshake, and
// frame encoding/decoding with masking, fragmentation, control frames and
// size limits. io/channel_websock.h drives these over a channel; the fuzz
// targets in tests/fuzz/websock feed them arbitrary bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cr16::io {

// ---------------------------------------------------------------------------
// Handshake

/// Largest HTTP upgrade request accepted (request line plus headers).
inline constexpr size_t kWebsockMaxHandshakeSize = 8192;

/// The fields of a valid client upgrade request that a server cares about.
struct WebsockUpgradeRequest {
  std::string path;                    // request target, starts with '/'
  std::string host;                    // Host header
  std::string key;                     // Sec-WebSocket-Key (base64 of 16 bytes)
  std::vector<std::string> protocols;  // Sec-WebSocket-Protocol offers, in order
  std::string origin;                  // Origin header, may be empty
};

enum class WebsockHandshakeStatus {
  kIncomplete,  // the blank line ending the headers has not arrived yet
  kComplete,    // `request` is valid, `consumed` bytes belong to the handshake
  kRejected,    // `http_status` and `error` say why; answer with an error response
};

struct WebsockHandshakeResult {
  WebsockHandshakeStatus status = WebsockHandshakeStatus::kIncomplete;
  size_t consumed = 0;
  WebsockUpgradeRequest request;
  int http_status = 0;
  std::string error;
};

/// Parses the client's upgrade request from the bytes received so far
/// (RECEIVED starts at the first byte the client sent). Never reads past
/// RECEIVED; any input, however malformed, gives kIncomplete or kRejected.
/// Requires GET, HTTP/1.1, Host, "Upgrade: websocket", a Connection header
/// with the "upgrade" token, Sec-WebSocket-Version 13 (otherwise status 426)
/// and a well-formed Sec-WebSocket-Key. When the client offers
/// subprotocols, one of them must be "binary".
WebsockHandshakeResult parse_websock_upgrade_request(std::string_view received,
                                                     size_t max_size = kWebsockMaxHandshakeSize);

/// Sec-WebSocket-Accept for a client key: base64(SHA-1(key + RFC GUID)).
std::string websock_accept_key(std::string_view client_key);

/// The "101 Switching Protocols" answer to REQUEST (echoes the "binary"
/// subprotocol when the client offered it).
std::string build_websock_upgrade_response(const WebsockUpgradeRequest& request);

/// An HTTP error answer for a rejected handshake (status 426 adds
/// "Sec-WebSocket-Version: 13"); REASON becomes the plain-text body.
std::string build_websock_error_response(int http_status, std::string_view reason);

// ---------------------------------------------------------------------------
// Frames

enum class WebsockOpcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

/// Close status codes used by this implementation (RFC 6455 section 7.4.1).
namespace websock_close {
inline constexpr uint16_t kNormal = 1000;
inline constexpr uint16_t kGoingAway = 1001;
inline constexpr uint16_t kProtocolError = 1002;
inline constexpr uint16_t kUnsupportedData = 1003;
inline constexpr uint16_t kNoStatus = 1005;  // never sent: "the close frame had no code"
inline constexpr uint16_t kAbnormal = 1006;  // never sent: "closed without a close frame"
inline constexpr uint16_t kInvalidPayload = 1007;
inline constexpr uint16_t kMessageTooBig = 1009;
inline constexpr uint16_t kInternalError = 1011;
}  // namespace websock_close

/// Size limits enforced while decoding; a frame or message beyond them is
/// rejected (close code 1009) before its payload is buffered.
struct WebsockLimits {
  uint64_t max_frame_payload = 1u << 20;  // one frame's payload
  uint64_t max_message = 4u << 20;        // all fragments of one message
};

/// A decoded frame header.
struct WebsockFrameHeader {
  bool fin = false;
  uint8_t reserved_bits = 0;  // RSV1..3 as the low three bits
  WebsockOpcode opcode = WebsockOpcode::kContinuation;
  bool masked = false;
  std::array<uint8_t, 4> mask{};
  uint64_t payload_length = 0;
  size_t header_size = 0;  // bytes before the payload: 2 to 14
};

enum class WebsockParseStatus { kIncomplete, kComplete, kInvalid };

struct WebsockHeaderParse {
  WebsockParseStatus status = WebsockParseStatus::kIncomplete;
  WebsockFrameHeader header;
  uint16_t close_code = 0;  // for kInvalid: the code to close with
  std::string error;        // for kInvalid: what was wrong
};

/// Parses and validates one frame header at the start of INPUT: reserved
/// bits must be clear, the opcode known, control frames final and at most
/// 125 bytes, lengths minimal and within LIMITS.max_frame_payload, and the
/// mask present exactly when REQUIRE_MASK (frames from a client) is true.
WebsockHeaderParse parse_websock_frame_header(std::span<const uint8_t> input,
                                              const WebsockLimits& limits, bool require_mask);

/// XORs DATA in place with MASK, starting at mask position OFFSET % 4.
void apply_websock_mask(std::span<uint8_t> data, const std::array<uint8_t, 4>& mask,
                        uint64_t offset = 0);

/// Appends one frame to OUT. Server frames are unmasked (MASK empty);
/// clients must pass a mask.
void append_websock_frame(std::vector<uint8_t>& out, WebsockOpcode opcode,
                          std::span<const uint8_t> payload, bool fin = true,
                          const std::optional<std::array<uint8_t, 4>>& mask = std::nullopt);

/// The payload of a close frame: the big-endian CODE then REASON, which is
/// cut to fit the 125-byte control-frame limit.
std::vector<uint8_t> build_websock_close_payload(uint16_t code, std::string_view reason);

/// One thing the stream decoder found in the input.
struct WebsockEvent {
  enum class Kind {
    kNeedMore,       // no complete frame buffered
    kData,           // payload of a text/binary/continuation frame, unmasked
    kPing,           // payload must be echoed in a pong
    kPong,           // unsolicited or answering pong; ignore
    kClose,          // the peer closed: close_code (1005 when absent) and reason
    kProtocolError,  // invalid input: close with close_code; the decoder stops
  };
  Kind kind = Kind::kNeedMore;
  std::vector<uint8_t> payload;
  bool message_end = false;  // kData: this frame ended its message (FIN)
  uint16_t close_code = 0;
  std::string reason;  // kClose: the peer's reason; kProtocolError: the error
};

/// Splits a received byte stream into WebSocket events. Feed bytes as they
/// arrive, then call next() until it returns kNeedMore. Fragmented messages
/// are checked (a continuation must follow a started message, a new message
/// must not start inside one) and their payloads come out in order as kData
/// events, message_end marking the final fragment. After kClose or
/// kProtocolError the decoder is finished and keeps returning that event.
class WebsockStreamDecoder {
 public:
  /// EXPECT_MASKED: true on a server (client frames must be masked).
  explicit WebsockStreamDecoder(WebsockLimits limits = {}, bool expect_masked = true)
      : limits_(limits), expect_masked_(expect_masked) {}

  /// Buffers received bytes (copied). Bytes after a terminal event are ignored.
  void feed(std::span<const uint8_t> data);
  /// Decodes the next event from the buffered bytes.
  WebsockEvent next();

  bool finished() const { return terminal_.has_value(); }
  /// True when next() would return something other than kNeedMore without
  /// more input: a complete frame, an invalid header, or a terminal event.
  bool has_event() const;
  /// Bytes buffered but not yet decoded.
  size_t buffered() const { return buffer_.size() - read_offset_; }

 private:
  WebsockEvent finish(WebsockEvent event);
  WebsockEvent fail(uint16_t close_code, std::string error);

  WebsockLimits limits_;
  bool expect_masked_;
  std::vector<uint8_t> buffer_;
  size_t read_offset_ = 0;
  bool in_message_ = false;
  uint64_t message_bytes_ = 0;
  std::optional<WebsockEvent> terminal_;
};

}  // namespace cr16::io
