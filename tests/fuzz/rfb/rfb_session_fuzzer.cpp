// Feeds arbitrary bytes to the RFB server session in random splits. The first
// input byte picks the configuration (which security types are offered) and
// seeds the split points; the rest is the client's stream. Checks that any
// split gives exactly what feeding it whole gives, that what the session
// sends is well-formed for where it stands, and that the events respect the
// limits. Any crash, leak or sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "ui/rfb_protocol.h"

namespace {

using cr16::ui::RfbEvent;
using cr16::ui::RfbPhase;
using cr16::ui::RfbServerConfig;
using cr16::ui::RfbServerSession;

struct Outcome {
  std::vector<uint8_t> output;
  size_t events = 0;
  std::string error;
  RfbPhase phase = RfbPhase::kVersion;
  bool operator==(const Outcome&) const = default;
};

void check(bool condition) {
  if (!condition) std::abort();
}

void check_events(const std::vector<RfbEvent>& events, const RfbServerConfig& config) {
  for (const RfbEvent& event : events) {
    if (auto* cut = std::get_if<cr16::ui::RfbCutTextEvent>(&event))
      check(cut->text.size() <= config.max_cut_text);
    if (auto* format = std::get_if<cr16::ui::RfbSetPixelFormatEvent>(&event))
      check(cr16::ui::validate_pixel_format(format->format).ok());
    if (auto* encodings = std::get_if<cr16::ui::RfbSetEncodingsEvent>(&event))
      check(encodings->encodings.size() <= config.max_encodings);
    if (auto* request = std::get_if<cr16::ui::RfbUpdateRequestEvent>(&event)) {
      check(uint32_t{request->x} + request->width <= config.width);
      check(uint32_t{request->y} + request->height <= config.height);
    }
  }
}

// Reads the server's output as a client would and checks it is exactly a
// well-formed handshake prefix for the version and security type the session
// reports (a failure message, if any, last).
class ServerOutputChecker {
 public:
  ServerOutputChecker(std::span<const uint8_t> out, const RfbServerConfig& config)
      : out_(out), config_(config) {}

  void check_all(const RfbServerSession& session) {
    check(take(12) && std::memcmp(out_.data(), "RFB 003.008\n", 12) == 0);
    if (at_end()) return;
    if (session.version() == cr16::ui::RfbVersion::k3_3) {
      const uint32_t type = u32();
      if (type == 0) return reason_to_end();
      check(type == 1);
      return server_init_to_end();
    }
    const uint8_t count = u8();
    check(count == config_.security_types.size());
    for (cr16::ui::RfbSecurityType t : config_.security_types)
      check(u8() == static_cast<uint8_t>(t));
    if (at_end()) return;
    const bool v38 = session.version() == cr16::ui::RfbVersion::k3_8;
    switch (session.security_type()) {
      case cr16::ui::RfbSecurityType::kInvalid:  // refused: SecurityResult failed
        check(u32() == 1);
        if (v38) reason_to_end();
        check(at_end());
        return;
      case cr16::ui::RfbSecurityType::kNone:
        if (v38) check(u32() == 0);
        return server_init_to_end();
      case cr16::ui::RfbSecurityType::kVeNCrypt: {
        check(u8() == 0 && u8() == 2);
        if (at_end()) return;
        const uint8_t status = u8();
        if (status == 0xff) return check(at_end());
        check(status == 0 && u8() == config_.vencrypt_subtypes.size());
        for (uint32_t subtype : config_.vencrypt_subtypes) check(u32() == subtype);
        if (at_end()) return;
        const uint8_t accepted = u8();
        check(accepted == 0 || accepted == 1);
        check(at_end());  // the rest comes after tls_done()
        return;
      }
      default:
        check(false);
    }
  }

 private:
  bool take(size_t n) {
    if (out_.size() - pos_ < n) return false;
    pos_ += n;
    return true;
  }
  bool at_end() const { return pos_ == out_.size(); }
  uint8_t u8() {
    check(take(1));
    return out_[pos_ - 1];
  }
  uint32_t u32() {
    check(take(4));
    const uint8_t* p = out_.data() + pos_ - 4;
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
  }
  void reason_to_end() {
    const uint32_t length = u32();
    check(length > 0 && take(length) && at_end());
  }
  void server_init_to_end() {
    if (at_end()) return;
    check(u8() == config_.width >> 8 && u8() == (config_.width & 0xff));
    check(u8() == config_.height >> 8 && u8() == (config_.height & 0xff));
    std::vector<uint8_t> format;
    cr16::ui::append_pixel_format(format, config_.format);
    for (uint8_t b : format) check(u8() == b);
    check(u32() == config_.name.size() && take(config_.name.size()) && at_end());
  }

  std::span<const uint8_t> out_;
  const RfbServerConfig& config_;
  size_t pos_ = 0;
};

// Feeds INPUT cut at CUTS; at kStartTls pretends the TLS handshake consumed
// what was kept and continues with the rest as the decrypted stream.
Outcome run(const RfbServerConfig& config, std::span<const uint8_t> input,
            const std::vector<size_t>& cuts) {
  RfbServerSession session(config);
  Outcome outcome;
  std::vector<uint8_t> after_tls;  // bytes the "TLS layer" got
  size_t from = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    std::span<const uint8_t> piece = input.subspan(from, end - from);
    from = end;
    cr16::Error error = session.feed(piece);
    if (!error.ok()) {
      check(!error.message().empty());
      check(session.phase() == RfbPhase::kFailed);
      outcome.error = error.message();
      break;
    }
    if (session.phase() == RfbPhase::kStartTls) {
      std::vector<uint8_t> tls = session.take_unparsed();
      after_tls.insert(after_tls.end(), tls.begin(), tls.end());
    }
  }
  outcome.output = session.take_output();
  ServerOutputChecker(outcome.output, config).check_all(session);
  std::vector<RfbEvent> events = session.take_events();
  check_events(events, config);
  outcome.events = events.size();
  outcome.phase = session.phase();
  if (outcome.phase == RfbPhase::kNormal) {
    // The last bytes sent are ServerInit with the configured name.
    check(outcome.output.size() >= 24 + config.name.size());
    check(std::memcmp(outcome.output.data() + outcome.output.size() - config.name.size(),
                      config.name.data(), config.name.size()) == 0);
    check(!events.empty() && std::holds_alternative<cr16::ui::RfbClientInitEvent>(events[0]));
  }
  if (outcome.phase == RfbPhase::kStartTls) {
    check(!outcome.output.empty() && outcome.output.back() == 1);  // "start TLS"
    check(session.tls_done().ok());
    std::vector<uint8_t> rest = session.take_output();
    check(rest == std::vector<uint8_t>({0, 0, 0, 0}));
    // The kept bytes, now read as the decrypted stream, must not crash.
    (void)session.feed(after_tls);
    check_events(session.take_events(), config);
  }
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  RfbServerConfig config;
  config.width = 100;
  config.height = 50;
  config.name = "fuzz";
  config.max_cut_text = 64;
  config.max_encodings = 8;
  switch (data[0] & 3) {
    case 0:
      config.security_types = {cr16::ui::RfbSecurityType::kNone};
      break;
    case 1:
      config.security_types = {cr16::ui::RfbSecurityType::kVeNCrypt};
      config.vencrypt_subtypes = {cr16::ui::vencrypt::kX509None, cr16::ui::vencrypt::kTlsNone};
      break;
    default:
      config.security_types = {cr16::ui::RfbSecurityType::kVeNCrypt,
                               cr16::ui::RfbSecurityType::kNone};
      break;
  }
  std::span<const uint8_t> input(data + 1, size - 1);
  const Outcome whole = run(config, input, {});
  check(whole.output.size() >= 12 && std::memcmp(whole.output.data(), "RFB 003.008\n", 12) == 0);

  // Split points from a small generator seeded by the first byte.
  uint32_t state = 0x9e3779b9u ^ data[0];
  std::vector<size_t> cuts;
  for (size_t i = 1; i < input.size(); ++i) {
    state = state * 1664525u + 1013904223u;
    if ((state >> 28) < 5) cuts.push_back(i);
  }
  const Outcome split = run(config, input, cuts);
  check(split == whole);
  return 0;
}
