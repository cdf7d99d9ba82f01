// The framing layer of the GDB Remote Serial Protocol: turning the bytes a
// debugger sends into packets, acknowledgements and interrupts, and turning
// replies into framed packets. Pure (no I/O): fuzzed by tests/fuzz/rsp and
// unit-tested on its own. See docs/gdb.md.
//
// On the wire a packet is `$payload#cc`, cc being the modulo-256 sum of the
// payload bytes as two hex digits. Inside the payload `}` escapes the next
// byte (sent XOR 0x20) and `X*N` repeats X (N - 29) more times (run-length
// encoding). Outside a packet `+` and `-` acknowledge, and a lone 0x03 asks
// a running target to stop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cr16::system::gdbstub {

/// The largest payload we accept, after unescaping and run-length
/// expansion, and the largest reply we send: the PacketSize qSupported
/// advertises. A `g` reply (168 hex digits) and a 2 KiB memory read fit.
inline constexpr size_t kPacketSize = 4096;

/// The byte that interrupts a running target (Ctrl-C).
inline constexpr uint8_t kInterruptByte = 0x03;

/// Something the reader found in the byte stream.
struct RspEvent {
  enum class Kind : uint8_t {
    kPacket,       // a whole packet with a good checksum; `payload` is decoded
    kAck,          // '+'
    kNak,          // '-': resend the last reply
    kInterrupt,    // 0x03 outside a packet
    kBadChecksum,  // a whole packet whose checksum did not match (or was not hex)
    kMalformed,    // good checksum, but the payload broke the encoding rules
                   // (a run-length count that is not allowed, `}` at the end)
    kTooLong,      // good checksum, but the payload exceeds the limit
  };
  Kind kind = Kind::kPacket;
  std::string payload;  // kPacket only
};

/// The receiving side of the framing: a state machine fed with bytes as
/// they arrive, in any split. Memory is bounded by the payload limit
/// whatever the peer sends; bytes outside a packet other than `$`, `+`,
/// `-` and 0x03 are ignored.
class PacketReader {
 public:
  explicit PacketReader(size_t max_payload = kPacketSize) : max_payload_(max_payload) {}

  /// Consumes bytes up to and including the next event and returns it, or
  /// nullopt when `input` ran out first (its bytes were all consumed).
  /// `input` is advanced past what was consumed.
  std::optional<RspEvent> next(std::span<const uint8_t>* input);

  /// Forgets a partly received packet (a new client).
  void reset();

  /// True while inside a packet (after `$`, before its checksum).
  bool in_packet() const { return state_ != State::kIdle; }

 private:
  enum class State : uint8_t { kIdle, kPayload, kChecksum1, kChecksum2 };
  RspEvent finish();

  size_t max_payload_;
  State state_ = State::kIdle;
  std::string raw_;  // payload bytes as received (bounded)
  bool overflow_ = false;
  uint8_t sum_ = 0;           // running checksum of every payload byte, even dropped ones
  uint8_t given_sum_ = 0;     // the checksum the peer sent
  bool given_sum_ok_ = true;  // both checksum characters were hex digits
};

/// Decodes a received payload: `}` escapes and run-length encoding. Fails
/// (nullopt) on a repeat with nothing before it, a repeat count outside
/// the printable range or naming `#`/`$`, a `}` at the end, or a result
/// longer than `max_length`.
std::optional<std::string> decode_payload(std::string_view raw, size_t max_length);

/// Frames a reply: `$`, the payload with `#`, `$`, `}` and `*` escaped,
/// `#`, checksum. With `run_length`, runs of 4 or more equal characters
/// are compressed with `*` (never with a count that reads as `#` or `$`).
std::string frame_packet(std::string_view payload, bool run_length = false);

/// Escapes binary data for a payload (`#`, `$`, `}`, `*`: `}` then the
/// byte XOR 0x20). frame_packet() does it already; this is for callers
/// that measure the escaped size (qXfer replies).
std::string escape_binary(std::string_view data);

// ---- Hex helpers shared by the packet handlers

/// Two lowercase hex digits per byte.
std::string hex_encode(std::span<const uint8_t> bytes);
std::string hex_encode(std::string_view text);
/// The bytes of an even-length hex string; nullopt for odd length or a
/// non-hex digit.
std::optional<std::string> hex_decode(std::string_view hex);
/// A hex number (1 to 16 digits, no prefix) that must not exceed `limit`.
std::optional<uint64_t> parse_hex(std::string_view text, uint64_t limit = UINT64_MAX);
/// The value of one hex digit, or -1.
int hex_digit_value(char c);

}  // namespace cr16::system::gdbstub
