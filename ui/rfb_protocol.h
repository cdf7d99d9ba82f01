// The server side of the RFB protocol (RFC 6143, versions 3.3, 3.7 and 3.8)
// as a state machine fed with the bytes a client sent and producing the bytes
// to send back, with no I/O: ProtocolVersion, security types None (1) and
// VeNCrypt (19, the TLS itself is done by the caller through io's TLS channel),
// SecurityResult, ClientInit/ServerInit, then the client-to-server messages.
// Any split of the input gives the same output, events and errors as feeding
// it whole. The VNC server drives one RfbServerSession per client; the fuzz
// target in tests/fuzz/rfb feeds it arbitrary bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "util/error.h"

namespace cr16::ui {

/// A pixel format as RFC 6143 section 7.4 describes it (16 bytes on the wire).
struct PixelFormat {
  uint8_t bits_per_pixel = 32;
  uint8_t depth = 24;
  bool big_endian = false;
  bool true_colour = true;
  uint16_t red_max = 255;
  uint16_t green_max = 255;
  uint16_t blue_max = 255;
  uint8_t red_shift = 16;
  uint8_t green_shift = 8;
  uint8_t blue_shift = 0;

  bool operator==(const PixelFormat&) const = default;
};

/// Size of a PIXEL_FORMAT on the wire.
inline constexpr size_t kPixelFormatSize = 16;

/// Checks that FORMAT is a true-colour format this server can produce:
/// bits-per-pixel 8, 16 or 32, 1 <= depth <= bits-per-pixel, every max of
/// the form 2^n - 1 (n >= 1) and every channel inside the pixel. Returns an
/// error naming the first bad field.
Error validate_pixel_format(const PixelFormat& format);

/// Appends the 16-byte wire form of FORMAT (padding zero) to OUT.
void append_pixel_format(std::vector<uint8_t>& out, const PixelFormat& format);

/// Decodes the 16-byte wire form at the start of BYTES (which must hold at
/// least 16 bytes); no validation.
PixelFormat parse_pixel_format(std::span<const uint8_t> bytes);

enum class RfbVersion { k3_3, k3_7, k3_8 };

/// Security types (RFC 6143 section 7.2.1) the session knows.
enum class RfbSecurityType : uint8_t {
  kInvalid = 0,
  kNone = 1,
  kVncAuth = 2,
  kVeNCrypt = 19,
};

/// VeNCrypt sub-types (as QEMU and the VeNCrypt clients number them).
namespace vencrypt {
inline constexpr uint32_t kPlain = 256;
inline constexpr uint32_t kTlsNone = 257;
inline constexpr uint32_t kTlsVnc = 258;
inline constexpr uint32_t kTlsPlain = 259;
inline constexpr uint32_t kX509None = 260;
inline constexpr uint32_t kX509Vnc = 261;
inline constexpr uint32_t kX509Plain = 262;
}  // namespace vencrypt

/// Encoding numbers (RFC 6143 section 7.7 and the registry).
namespace rfb_encoding {
inline constexpr int32_t kRaw = 0;
inline constexpr int32_t kCopyRect = 1;
inline constexpr int32_t kZlib = 6;
inline constexpr int32_t kDesktopSize = -223;
}  // namespace rfb_encoding

/// What the server offers and shows a client. Only the VeNCrypt sub-types
/// whose inner authentication is None (kTlsNone, kX509None) can be
/// completed; others are refused by validate().
struct RfbServerConfig {
  std::vector<RfbSecurityType> security_types{RfbSecurityType::kNone};  // in preference order
  std::vector<uint32_t> vencrypt_subtypes{vencrypt::kX509None};         // announced in order
  uint16_t width = 640;
  uint16_t height = 480;
  PixelFormat format;                // the server's preferred format, sent in ServerInit
  std::string name = "cr16-system";  // the desktop name in ServerInit
  uint32_t max_cut_text = 1u << 20;  // a longer ClientCutText is refused
  uint16_t max_encodings = 1024;     // SetEncodings entries kept (the rest are skipped)

  /// Checks the configuration (at least one supported security type, the
  /// sub-types completable, the format valid). A session built from an
  /// invalid configuration fails on the first feed().
  Error validate() const;
};

/// Where the session stands.
enum class RfbPhase {
  kVersion,          // waiting for the client's ProtocolVersion
  kSecurityType,     // 3.7/3.8: waiting for the client's chosen security type
  kVeNCryptVersion,  // waiting for the client's VeNCrypt version
  kVeNCryptSubtype,  // waiting for the client's chosen VeNCrypt sub-type
  kStartTls,         // start TLS now (server side); call tls_done() once it completed
  kClientInit,       // waiting for ClientInit
  kNormal,           // client messages
  kFailed,           // a protocol error: send what take_output() holds, then close
};

/// Client-to-server messages and handshake milestones, as events.
struct RfbClientInitEvent {
  bool shared = false;
};
struct RfbSetPixelFormatEvent {
  PixelFormat format;
};
struct RfbSetEncodingsEvent {
  std::vector<int32_t> encodings;  // in the client's order of preference
};
struct RfbUpdateRequestEvent {
  bool incremental = false;
  uint16_t x = 0, y = 0, width = 0, height = 0;
};
struct RfbKeyEvent {
  bool down = false;
  uint32_t keysym = 0;
  std::optional<uint32_t> keycode;  // QEMU extended key events carry the XT scancode
};
struct RfbPointerEvent {
  uint8_t buttons = 0;  // bit 0 left, 1 middle, 2 right, 3/4 wheel up/down
  uint16_t x = 0, y = 0;
};
struct RfbCutTextEvent {
  std::string text;  // ISO 8859-1 as the client sent it
};
using RfbEvent = std::variant<RfbClientInitEvent, RfbSetPixelFormatEvent, RfbSetEncodingsEvent,
                              RfbUpdateRequestEvent, RfbKeyEvent, RfbPointerEvent, RfbCutTextEvent>;

/// One client's RFB session, server side. Not thread-safe: one thread (the
/// main loop's) drives it. It never blocks and never does I/O.
class RfbServerSession {
 public:
  /// Starts a session: the server's ProtocolVersion ("RFB 003.008\n") is
  /// already in the output.
  explicit RfbServerSession(RfbServerConfig config);

  /// Parses BYTES (the next bytes the client sent) as far as they go,
  /// appending answers to the output and decoded messages to the events.
  /// Returns the protocol error that put the session in kFailed (again on
  /// every later call); the output may then still hold a last message for
  /// the client (a failed SecurityResult with its reason). In kStartTls the
  /// bytes are kept unparsed: they belong to the TLS layer (take_unparsed()).
  Error feed(std::span<const uint8_t> bytes);

  /// The bytes produced since the last call, to send to the client in order.
  std::vector<uint8_t> take_output();

  /// The events decoded since the last call, in stream order.
  std::vector<RfbEvent> take_events();

  /// In kStartTls: the bytes fed after the VeNCrypt sub-type (the start of the
  /// client's TLS handshake), which the caller must hand to the TLS channel.
  std::vector<uint8_t> take_unparsed();

  /// The TLS handshake the session asked for (kStartTls) completed: sends the
  /// SecurityResult and waits for ClientInit. Later bytes fed are the
  /// decrypted stream. Returns an error outside kStartTls.
  Error tls_done();

  RfbPhase phase() const { return phase_; }
  /// The negotiated version (meaningful after kVersion).
  RfbVersion version() const { return version_; }
  /// The security type the client got (kInvalid until chosen).
  RfbSecurityType security_type() const { return security_; }
  /// The chosen VeNCrypt sub-type (0 when none).
  uint32_t vencrypt_subtype() const { return vencrypt_subtype_; }
  /// The format the client wants pixels in (the server's until SetPixelFormat).
  const PixelFormat& client_format() const { return client_format_; }
  /// The client's last SetEncodings list.
  const std::vector<int32_t>& encodings() const { return encodings_; }
  /// Whether the client listed ENCODING in its last SetEncodings.
  bool client_supports(int32_t encoding) const;
  /// The framebuffer size told to the client (ServerInit, later DesktopSize).
  uint16_t width() const { return config_.width; }
  uint16_t height() const { return config_.height; }
  /// Records a new framebuffer size: before ServerInit it is what ServerInit
  /// says; after it, the caller also sends a DesktopSize rectangle.
  void set_framebuffer_size(uint16_t width, uint16_t height);

 private:
  // Each returns the bytes consumed at the start of INPUT, 0 when more input
  // is needed, or an error (the session then fails).
  Expected<size_t> step(std::span<const uint8_t> input);
  Expected<size_t> parse_version(std::span<const uint8_t> input);
  Expected<size_t> parse_security_type(std::span<const uint8_t> input);
  Expected<size_t> parse_vencrypt_version(std::span<const uint8_t> input);
  Expected<size_t> parse_vencrypt_subtype(std::span<const uint8_t> input);
  Expected<size_t> parse_client_init(std::span<const uint8_t> input);
  Expected<size_t> parse_client_message(std::span<const uint8_t> input);
  void send_security_failure(const std::string& reason);
  void send_server_init();
  Error fail(Error error);

  RfbServerConfig config_;
  Error config_error_;
  RfbPhase phase_ = RfbPhase::kVersion;
  RfbVersion version_ = RfbVersion::k3_8;
  RfbSecurityType security_ = RfbSecurityType::kInvalid;
  uint32_t vencrypt_subtype_ = 0;
  PixelFormat client_format_;
  std::vector<int32_t> encodings_;
  std::vector<uint8_t> input_;
  std::vector<uint8_t> output_;
  std::vector<RfbEvent> events_;
  Error error_;
};

}  // namespace cr16::ui
