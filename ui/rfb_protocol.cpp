// RFB server session: see rfb_protocol.h.
#include "ui/rfb_protocol.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace cr16::ui {
namespace {

constexpr char kServerVersion[] = "RFB 003.008\n";
constexpr size_t kVersionSize = 12;

// Client message types (RFC 6143 section 7.5 and registered extensions).
constexpr uint8_t kSetPixelFormat = 0;
constexpr uint8_t kSetEncodings = 2;
constexpr uint8_t kFramebufferUpdateRequest = 3;
constexpr uint8_t kKeyEvent = 4;
constexpr uint8_t kPointerEvent = 5;
constexpr uint8_t kClientCutText = 6;
constexpr uint8_t kEnableContinuousUpdates = 150;
constexpr uint8_t kClientFence = 248;
constexpr uint8_t kSetDesktopSize = 251;
constexpr uint8_t kQemuClientMessage = 255;

constexpr size_t kMaxFencePayload = 64;

uint16_t read_u16(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint16_t>(b[at] << 8 | b[at + 1]);
}
uint32_t read_u32(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint32_t>(b[at]) << 24 | static_cast<uint32_t>(b[at + 1]) << 16 |
         static_cast<uint32_t>(b[at + 2]) << 8 | b[at + 3];
}
void put_u16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}
void put_string(std::vector<uint8_t>& out, const std::string& s) {
  put_u32(out, static_cast<uint32_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

bool subtype_supported(uint32_t subtype) {
  return subtype == vencrypt::kTlsNone || subtype == vencrypt::kX509None;
}

// Printable form of up to 12 version bytes for an error message.
std::string printable(std::span<const uint8_t> bytes) {
  std::string s;
  for (uint8_t c : bytes) {
    if (c >= 0x20 && c < 0x7f) {
      s.push_back(static_cast<char>(c));
    } else {
      static const char hex[] = "0123456789abcdef";
      s += "\\x";
      s.push_back(hex[c >> 4]);
      s.push_back(hex[c & 15]);
    }
  }
  return s;
}

Error check_channel(const char* name, uint16_t max, uint8_t shift, uint8_t bpp) {
  if (max == 0 || (max & (max + 1u)) != 0)
    return Error(std::string("pixel format: ") + name + "-max " + std::to_string(max) +
                 " is not 2^n-1");
  const int bits = std::bit_width(static_cast<unsigned>(max));
  if (shift + bits > bpp)
    return Error(std::string("pixel format: ") + name + " channel (shift " + std::to_string(shift) +
                 ", " + std::to_string(bits) + " bits) does not fit in " + std::to_string(bpp) +
                 " bits per pixel");
  return Error();
}

}  // namespace

Error validate_pixel_format(const PixelFormat& f) {
  if (f.bits_per_pixel != 8 && f.bits_per_pixel != 16 && f.bits_per_pixel != 32)
    return Error("pixel format: bits-per-pixel " + std::to_string(f.bits_per_pixel) +
                 " is not 8, 16 or 32");
  if (f.depth == 0 || f.depth > f.bits_per_pixel)
    return Error("pixel format: depth " + std::to_string(f.depth) + " does not fit in " +
                 std::to_string(f.bits_per_pixel) + " bits per pixel");
  if (!f.true_colour) return Error("pixel format: colour-map formats are not supported");
  if (Error e = check_channel("red", f.red_max, f.red_shift, f.bits_per_pixel); !e.ok()) return e;
  if (Error e = check_channel("green", f.green_max, f.green_shift, f.bits_per_pixel); !e.ok())
    return e;
  if (Error e = check_channel("blue", f.blue_max, f.blue_shift, f.bits_per_pixel); !e.ok())
    return e;
  return Error();
}

void append_pixel_format(std::vector<uint8_t>& out, const PixelFormat& f) {
  out.push_back(f.bits_per_pixel);
  out.push_back(f.depth);
  out.push_back(f.big_endian ? 1 : 0);
  out.push_back(f.true_colour ? 1 : 0);
  put_u16(out, f.red_max);
  put_u16(out, f.green_max);
  put_u16(out, f.blue_max);
  out.push_back(f.red_shift);
  out.push_back(f.green_shift);
  out.push_back(f.blue_shift);
  out.insert(out.end(), 3, 0);
}

PixelFormat parse_pixel_format(std::span<const uint8_t> b) {
  PixelFormat f;
  f.bits_per_pixel = b[0];
  f.depth = b[1];
  f.big_endian = b[2] != 0;
  f.true_colour = b[3] != 0;
  f.red_max = read_u16(b, 4);
  f.green_max = read_u16(b, 6);
  f.blue_max = read_u16(b, 8);
  f.red_shift = b[10];
  f.green_shift = b[11];
  f.blue_shift = b[12];
  return f;
}

Error RfbServerConfig::validate() const {
  bool any = false;
  for (RfbSecurityType t : security_types) {
    if (t == RfbSecurityType::kNone) {
      any = true;
    } else if (t == RfbSecurityType::kVeNCrypt) {
      if (vencrypt_subtypes.empty() || vencrypt_subtypes.size() > 255)
        return Error("RFB config: VeNCrypt needs 1 to 255 sub-types");
      for (uint32_t s : vencrypt_subtypes)
        if (!subtype_supported(s))
          return Error("RFB config: VeNCrypt sub-type " + std::to_string(s) +
                       " is not supported (only TLSNone 257 and X509None 260)");
      any = true;
    } else {
      return Error("RFB config: security type " + std::to_string(static_cast<int>(t)) +
                   " is not supported");
    }
  }
  if (!any) return Error("RFB config: no security type offered");
  if (security_types.size() > 255) return Error("RFB config: too many security types");
  if (Error e = validate_pixel_format(format); !e.ok()) return e.with_context("RFB config");
  return Error();
}

RfbServerSession::RfbServerSession(RfbServerConfig config)
    : config_(std::move(config)), config_error_(config_.validate()) {
  client_format_ = config_.format;
  output_.assign(kServerVersion, kServerVersion + kVersionSize);
}

Error RfbServerSession::fail(Error error) {
  phase_ = RfbPhase::kFailed;
  error_ = error;
  input_.clear();
  return error;
}

Error RfbServerSession::feed(std::span<const uint8_t> bytes) {
  if (phase_ == RfbPhase::kFailed) return error_;
  if (!config_error_.ok()) return fail(config_error_);
  input_.insert(input_.end(), bytes.begin(), bytes.end());
  size_t offset = 0;
  while (phase_ != RfbPhase::kStartTls && offset < input_.size()) {
    Expected<size_t> used = step(std::span<const uint8_t>(input_).subspan(offset));
    if (!used.ok()) return fail(used.error());
    if (*used == 0) break;
    offset += *used;
  }
  input_.erase(input_.begin(), input_.begin() + static_cast<std::ptrdiff_t>(offset));
  return Error();
}

std::vector<uint8_t> RfbServerSession::take_output() {
  return std::exchange(output_, {});
}
std::vector<RfbEvent> RfbServerSession::take_events() {
  return std::exchange(events_, {});
}

std::vector<uint8_t> RfbServerSession::take_unparsed() {
  if (phase_ != RfbPhase::kStartTls) return {};
  return std::exchange(input_, {});
}

Error RfbServerSession::tls_done() {
  if (phase_ != RfbPhase::kStartTls) return Error("RFB: tls_done() outside the TLS step");
  // The inner authentication of the supported sub-types is None.
  if (!input_.empty())  // they were the TLS layer's: take_unparsed() was not called
    return fail(Error("RFB: " + std::to_string(input_.size()) +
                      " bytes fed during the TLS step were not taken"));
  put_u32(output_, 0);
  phase_ = RfbPhase::kClientInit;
  return Error();
}

bool RfbServerSession::client_supports(int32_t encoding) const {
  return std::find(encodings_.begin(), encodings_.end(), encoding) != encodings_.end();
}

void RfbServerSession::set_framebuffer_size(uint16_t width, uint16_t height) {
  config_.width = width;
  config_.height = height;
}

Expected<size_t> RfbServerSession::step(std::span<const uint8_t> input) {
  switch (phase_) {
    case RfbPhase::kVersion:
      return parse_version(input);
    case RfbPhase::kSecurityType:
      return parse_security_type(input);
    case RfbPhase::kVeNCryptVersion:
      return parse_vencrypt_version(input);
    case RfbPhase::kVeNCryptSubtype:
      return parse_vencrypt_subtype(input);
    case RfbPhase::kClientInit:
      return parse_client_init(input);
    case RfbPhase::kNormal:
      return parse_client_message(input);
    case RfbPhase::kStartTls:
    case RfbPhase::kFailed:
      break;
  }
  return size_t{0};
}

void RfbServerSession::send_security_failure(const std::string& reason) {
  put_u32(output_, 1);  // SecurityResult: failed
  if (version_ == RfbVersion::k3_8) put_string(output_, reason);
}

Expected<size_t> RfbServerSession::parse_version(std::span<const uint8_t> input) {
  // "RFB xxx.yyy\n": check each byte as it arrives so garbage fails early.
  static constexpr char kPattern[] = "RFB ddd.ddd\n";
  const size_t n = std::min(input.size(), kVersionSize);
  for (size_t i = 0; i < n; ++i) {
    const char want = kPattern[i];
    const bool good = want == 'd' ? (input[i] >= '0' && input[i] <= '9') : input[i] == want;
    if (!good)  // quote up to the bad byte, so any split of the input gives one message
      return Error("RFB: not a ProtocolVersion: \"" + printable(input.first(i + 1)) + "\"");
  }
  if (input.size() < kVersionSize) return size_t{0};
  auto number = [&](size_t at) {
    return (input[at] - '0') * 100 + (input[at + 1] - '0') * 10 + (input[at + 2] - '0');
  };
  const int major = number(4), minor = number(8);
  if (major == 3 && minor == 8) {
    version_ = RfbVersion::k3_8;
  } else if (major == 3 && minor == 7) {
    version_ = RfbVersion::k3_7;
  } else if (major == 3 && (minor == 3 || minor == 4 || minor == 5 || minor == 6 || minor == 889)) {
    // 3.4-3.6 (UltraVNC, TightVNC) and 3.889 (Apple) speak the 3.3 handshake.
    version_ = RfbVersion::k3_3;
  } else {
    return Error("RFB: unsupported protocol version " + std::to_string(major) + "." +
                 std::to_string(minor) + " (3.3, 3.7 and 3.8 are)");
  }
  if (version_ == RfbVersion::k3_3) {
    // The server chooses; 3.3 knows only None and VNC authentication.
    if (std::find(config_.security_types.begin(), config_.security_types.end(),
                  RfbSecurityType::kNone) == config_.security_types.end()) {
      put_u32(output_, 0);
      put_string(output_, "this server requires VeNCrypt (TLS), which RFB 3.3 lacks");
      return Error("RFB: a 3.3 client, but security type None is not offered");
    }
    put_u32(output_, static_cast<uint32_t>(RfbSecurityType::kNone));
    security_ = RfbSecurityType::kNone;
    phase_ = RfbPhase::kClientInit;
  } else {
    output_.push_back(static_cast<uint8_t>(config_.security_types.size()));
    for (RfbSecurityType t : config_.security_types) output_.push_back(static_cast<uint8_t>(t));
    phase_ = RfbPhase::kSecurityType;
  }
  return kVersionSize;
}

Expected<size_t> RfbServerSession::parse_security_type(std::span<const uint8_t> input) {
  const uint8_t chosen = input[0];
  const bool offered =
      std::any_of(config_.security_types.begin(), config_.security_types.end(),
                  [&](RfbSecurityType t) { return static_cast<uint8_t>(t) == chosen; });
  if (!offered) {
    std::string reason = "security type " + std::to_string(chosen) + " was not offered";
    send_security_failure(reason);
    return Error("RFB: " + reason);
  }
  security_ = static_cast<RfbSecurityType>(chosen);
  if (security_ == RfbSecurityType::kNone) {
    if (version_ == RfbVersion::k3_8) put_u32(output_, 0);  // 3.7 has no SecurityResult for None
    phase_ = RfbPhase::kClientInit;
  } else {
    output_.push_back(0);  // VeNCrypt version 0.2
    output_.push_back(2);
    phase_ = RfbPhase::kVeNCryptVersion;
  }
  return size_t{1};
}

Expected<size_t> RfbServerSession::parse_vencrypt_version(std::span<const uint8_t> input) {
  if (input.size() < 2) return size_t{0};
  if (input[0] != 0 || input[1] != 2) {
    output_.push_back(0xff);  // version refused
    return Error("RFB: unsupported VeNCrypt version " + std::to_string(input[0]) + "." +
                 std::to_string(input[1]) + " (0.2 is)");
  }
  output_.push_back(0);  // version accepted
  output_.push_back(static_cast<uint8_t>(config_.vencrypt_subtypes.size()));
  for (uint32_t s : config_.vencrypt_subtypes) put_u32(output_, s);
  phase_ = RfbPhase::kVeNCryptSubtype;
  return size_t{2};
}

Expected<size_t> RfbServerSession::parse_vencrypt_subtype(std::span<const uint8_t> input) {
  if (input.size() < 4) return size_t{0};
  const uint32_t chosen = read_u32(input, 0);
  if (std::find(config_.vencrypt_subtypes.begin(), config_.vencrypt_subtypes.end(), chosen) ==
      config_.vencrypt_subtypes.end()) {
    output_.push_back(0);  // sub-type refused
    return Error("RFB: VeNCrypt sub-type " + std::to_string(chosen) + " was not offered");
  }
  output_.push_back(1);  // accepted: start TLS
  vencrypt_subtype_ = chosen;
  phase_ = RfbPhase::kStartTls;
  return size_t{4};
}

void RfbServerSession::send_server_init() {
  put_u16(output_, config_.width);
  put_u16(output_, config_.height);
  append_pixel_format(output_, config_.format);
  put_string(output_, config_.name);
}

Expected<size_t> RfbServerSession::parse_client_init(std::span<const uint8_t> input) {
  events_.push_back(RfbClientInitEvent{input[0] != 0});
  send_server_init();
  phase_ = RfbPhase::kNormal;
  return size_t{1};
}

Expected<size_t> RfbServerSession::parse_client_message(std::span<const uint8_t> input) {
  const uint8_t type = input[0];
  const size_t have = input.size();
  switch (type) {
    case kSetPixelFormat: {
      if (have < 20) return size_t{0};
      PixelFormat format = parse_pixel_format(input.subspan(4));
      if (Error e = validate_pixel_format(format); !e.ok()) return e.with_context("SetPixelFormat");
      client_format_ = format;
      events_.push_back(RfbSetPixelFormatEvent{format});
      return size_t{20};
    }
    case kSetEncodings: {
      if (have < 4) return size_t{0};
      const size_t count = read_u16(input, 2);
      const size_t size = 4 + 4 * count;
      if (have < size) return size_t{0};
      std::vector<int32_t> list;
      const size_t kept = std::min<size_t>(count, config_.max_encodings);
      list.reserve(kept);
      for (size_t i = 0; i < kept; ++i)
        list.push_back(static_cast<int32_t>(read_u32(input, 4 + 4 * i)));
      encodings_ = list;
      events_.push_back(RfbSetEncodingsEvent{std::move(list)});
      return size;
    }
    case kFramebufferUpdateRequest: {
      if (have < 10) return size_t{0};
      RfbUpdateRequestEvent r{input[1] != 0, read_u16(input, 2), read_u16(input, 4),
                              read_u16(input, 6), read_u16(input, 8)};
      // Clip to the framebuffer; a request wholly outside still asks for an
      // (empty) update, so it is kept.
      r.x = std::min(r.x, config_.width);
      r.y = std::min(r.y, config_.height);
      r.width = std::min<uint16_t>(r.width, config_.width - r.x);
      r.height = std::min<uint16_t>(r.height, config_.height - r.y);
      events_.push_back(r);
      return size_t{10};
    }
    case kKeyEvent: {
      if (have < 8) return size_t{0};
      events_.push_back(RfbKeyEvent{input[1] != 0, read_u32(input, 4), std::nullopt});
      return size_t{8};
    }
    case kPointerEvent: {
      if (have < 6) return size_t{0};
      events_.push_back(RfbPointerEvent{input[1], read_u16(input, 2), read_u16(input, 4)});
      return size_t{6};
    }
    case kClientCutText: {
      if (have < 8) return size_t{0};
      const uint32_t length = read_u32(input, 4);
      if (length > config_.max_cut_text)
        return Error("RFB: ClientCutText of " + std::to_string(length) +
                     " bytes exceeds the limit of " + std::to_string(config_.max_cut_text));
      if (have < 8 + size_t{length}) return size_t{0};
      events_.push_back(
          RfbCutTextEvent{std::string(reinterpret_cast<const char*>(input.data() + 8), length)});
      return 8 + size_t{length};
    }
    case kEnableContinuousUpdates:  // never announced by us: consumed and ignored
      return have < 10 ? size_t{0} : size_t{10};
    case kClientFence: {
      if (have < 9) return size_t{0};
      const size_t length = input[8];
      if (length > kMaxFencePayload)
        return Error("RFB: ClientFence payload of " + std::to_string(length) + " bytes exceeds 64");
      return have < 9 + length ? size_t{0} : 9 + length;
    }
    case kSetDesktopSize: {
      if (have < 8) return size_t{0};
      const size_t size = 8 + 16 * size_t{input[6]};
      return have < size ? size_t{0} : size;
    }
    case kQemuClientMessage: {
      if (have < 2) return size_t{0};
      if (input[1] == 0) {  // extended key event
        if (have < 12) return size_t{0};
        events_.push_back(
            RfbKeyEvent{read_u16(input, 2) != 0, read_u32(input, 4), read_u32(input, 8)});
        return size_t{12};
      }
      if (input[1] == 1) {  // audio: ignored
        if (have < 4) return size_t{0};
        const uint16_t operation = read_u16(input, 2);
        if (operation == 0 || operation == 1) return size_t{4};
        if (operation == 2) return have < 10 ? size_t{0} : size_t{10};
        return Error("RFB: unknown QEMU audio operation " + std::to_string(operation));
      }
      return Error("RFB: unknown QEMU client message sub-type " + std::to_string(input[1]));
    }
    default:
      return Error("RFB: unknown client message type " + std::to_string(type));
  }
}

}  // namespace cr16::ui
