// The RFB server session: handshakes, client messages, hostile input, and
// the guarantee that any split of the input gives the same result.
#include "ui/rfb_protocol.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace cr16::ui {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes bytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes u16(uint16_t v) {
  return {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
}
Bytes u32(uint32_t v) {
  return {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
}
Bytes reason(std::string_view s) {
  return cat({u32(static_cast<uint32_t>(s.size())), bytes(s)});
}

// A readable form of the events, so sequences compare in one EXPECT_EQ.
std::string describe(const RfbEvent& event) {
  struct Visitor {
    std::string operator()(const RfbClientInitEvent& e) {
      return "init shared=" + std::to_string(e.shared);
    }
    std::string operator()(const RfbSetPixelFormatEvent& e) {
      return "format bpp=" + std::to_string(e.format.bits_per_pixel);
    }
    std::string operator()(const RfbSetEncodingsEvent& e) {
      std::string s = "encodings";
      for (int32_t v : e.encodings) {
        s += ' ';  // two appends: GCC 12 warns (-Wrestrict) on " " + to_string()
        s += std::to_string(v);
      }
      return s;
    }
    std::string operator()(const RfbUpdateRequestEvent& e) {
      return "update inc=" + std::to_string(e.incremental) + " " + std::to_string(e.x) + "," +
             std::to_string(e.y) + " " + std::to_string(e.width) + "x" + std::to_string(e.height);
    }
    std::string operator()(const RfbKeyEvent& e) {
      return "key down=" + std::to_string(e.down) + " sym=" + std::to_string(e.keysym) +
             (e.keycode ? " code=" + std::to_string(*e.keycode) : "");
    }
    std::string operator()(const RfbPointerEvent& e) {
      return "pointer " + std::to_string(e.buttons) + " " + std::to_string(e.x) + "," +
             std::to_string(e.y);
    }
    std::string operator()(const RfbCutTextEvent& e) { return "cut " + e.text; }
  };
  return std::visit(Visitor{}, event);
}
std::vector<std::string> describe(const std::vector<RfbEvent>& events) {
  std::vector<std::string> out;
  for (const RfbEvent& e : events) out.push_back(describe(e));
  return out;
}

RfbServerConfig small_config() {
  RfbServerConfig config;
  config.width = 320;
  config.height = 200;
  config.name = "vm";
  return config;
}

Bytes server_init(const RfbServerConfig& config) {
  Bytes out = cat({u16(config.width), u16(config.height)});
  append_pixel_format(out, config.format);
  return cat({out, reason(config.name)});
}

// Brings a session with security None through the handshake to kNormal.
void handshake_none(RfbServerSession& session) {
  ASSERT_TRUE(session.feed(bytes("RFB 003.008\n")).ok());
  ASSERT_TRUE(session.feed(Bytes{1}).ok());
  ASSERT_TRUE(session.feed(Bytes{0}).ok());
  ASSERT_EQ(session.phase(), RfbPhase::kNormal);
  session.take_output();
  session.take_events();
}

TEST(RfbHandshake, Version38WithSecurityNone) {
  RfbServerConfig config = small_config();
  RfbServerSession session(config);
  EXPECT_EQ(session.take_output(), bytes("RFB 003.008\n"));
  EXPECT_EQ(session.phase(), RfbPhase::kVersion);
  ASSERT_TRUE(session.feed(bytes("RFB 003.008\n")).ok());
  EXPECT_EQ(session.version(), RfbVersion::k3_8);
  EXPECT_EQ(session.take_output(), (Bytes{1, 1}));  // one type: None
  ASSERT_TRUE(session.feed(Bytes{1}).ok());
  EXPECT_EQ(session.take_output(), u32(0));  // SecurityResult OK
  EXPECT_EQ(session.phase(), RfbPhase::kClientInit);
  ASSERT_TRUE(session.feed(Bytes{1}).ok());
  EXPECT_EQ(session.take_output(), server_init(config));
  EXPECT_EQ(describe(session.take_events()), std::vector<std::string>{"init shared=1"});
  EXPECT_EQ(session.phase(), RfbPhase::kNormal);
  EXPECT_EQ(session.security_type(), RfbSecurityType::kNone);
}

TEST(RfbHandshake, Version37HasNoSecurityResultForNone) {
  RfbServerConfig config = small_config();
  RfbServerSession session(config);
  session.take_output();
  ASSERT_TRUE(session.feed(bytes("RFB 003.007\n")).ok());
  EXPECT_EQ(session.version(), RfbVersion::k3_7);
  EXPECT_EQ(session.take_output(), (Bytes{1, 1}));
  ASSERT_TRUE(session.feed(Bytes{1}).ok());
  EXPECT_TRUE(session.take_output().empty());
  ASSERT_TRUE(session.feed(Bytes{0}).ok());
  EXPECT_EQ(session.take_output(), server_init(config));
  EXPECT_EQ(describe(session.take_events()), std::vector<std::string>{"init shared=0"});
}

TEST(RfbHandshake, Version33ServerChoosesNone) {
  RfbServerConfig config = small_config();
  config.security_types = {RfbSecurityType::kVeNCrypt, RfbSecurityType::kNone};
  RfbServerSession session(config);
  session.take_output();
  ASSERT_TRUE(session.feed(bytes("RFB 003.003\n")).ok());
  EXPECT_EQ(session.version(), RfbVersion::k3_3);
  EXPECT_EQ(session.take_output(), u32(1));
  EXPECT_EQ(session.phase(), RfbPhase::kClientInit);
  ASSERT_TRUE(session.feed(Bytes{1}).ok());
  EXPECT_EQ(session.take_output(), server_init(config));
}

TEST(RfbHandshake, QuirkVersionsSpeak33) {
  for (const char* v : {"RFB 003.005\n", "RFB 003.889\n"}) {
    RfbServerSession session(small_config());
    ASSERT_TRUE(session.feed(bytes(v)).ok()) << v;
    EXPECT_EQ(session.version(), RfbVersion::k3_3) << v;
  }
}

TEST(RfbHandshake, Version33RefusedWhenOnlyVeNCryptIsOffered) {
  RfbServerConfig config = small_config();
  config.security_types = {RfbSecurityType::kVeNCrypt};
  RfbServerSession session(config);
  session.take_output();
  Error error = session.feed(bytes("RFB 003.003\n"));
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("3.3"), std::string::npos) << error.message();
  Bytes out = session.take_output();
  ASSERT_GE(out.size(), 8u);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + 4), u32(0));  // invalid, then a reason
  EXPECT_EQ(session.phase(), RfbPhase::kFailed);
}

TEST(RfbHandshake, BadVersionStringsAreRefused) {
  for (const char* v : {"GET / HTTP/1.1\r\n", "RFB 003.00x\n", "RFB 004.000\n", "RFB 003.002\n",
                        "RFB 003.008\r", "rfb 003.008\n", "RFB 003.0089\n"}) {
    RfbServerSession session(small_config());
    session.take_output();
    Error error = session.feed(bytes(v));
    EXPECT_FALSE(error.ok()) << v;
    EXPECT_EQ(session.phase(), RfbPhase::kFailed) << v;
    EXPECT_TRUE(session.take_output().empty()) << v;
    // Once failed, it stays failed with the same error.
    EXPECT_EQ(session.feed(bytes("RFB 003.008\n")).message(), error.message());
  }
  RfbServerSession session(small_config());
  Error error = session.feed(bytes("HTTP"));  // refused at the first wrong byte
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.message(), "RFB: not a ProtocolVersion: \"H\"");
}

TEST(RfbHandshake, UnknownSecurityTypeFailsWithReasonIn38) {
  RfbServerSession session(small_config());
  ASSERT_TRUE(session.feed(bytes("RFB 003.008\n")).ok());
  session.take_output();
  Error error = session.feed(Bytes{2});
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.message(), "RFB: security type 2 was not offered");
  EXPECT_EQ(session.take_output(), cat({u32(1), reason("security type 2 was not offered")}));
}

TEST(RfbHandshake, UnknownSecurityTypeFailsWithoutReasonIn37) {
  RfbServerSession session(small_config());
  ASSERT_TRUE(session.feed(bytes("RFB 003.007\n")).ok());
  session.take_output();
  EXPECT_FALSE(session.feed(Bytes{19}).ok());
  EXPECT_EQ(session.take_output(), u32(1));
}

RfbServerConfig vencrypt_config() {
  RfbServerConfig config = small_config();
  config.security_types = {RfbSecurityType::kVeNCrypt, RfbSecurityType::kNone};
  config.vencrypt_subtypes = {vencrypt::kX509None, vencrypt::kTlsNone};
  return config;
}

TEST(RfbVeNCrypt, NegotiatesX509NoneAndHandsOverToTls) {
  RfbServerConfig config = vencrypt_config();
  RfbServerSession session(config);
  session.take_output();
  ASSERT_TRUE(session.feed(bytes("RFB 003.008\n")).ok());
  EXPECT_EQ(session.take_output(), (Bytes{2, 19, 1}));
  ASSERT_TRUE(session.feed(Bytes{19}).ok());
  EXPECT_EQ(session.take_output(), (Bytes{0, 2}));  // VeNCrypt 0.2
  EXPECT_EQ(session.phase(), RfbPhase::kVeNCryptVersion);
  ASSERT_TRUE(session.feed(Bytes{0, 2}).ok());
  EXPECT_EQ(session.take_output(), cat({Bytes{0, 2}, u32(260), u32(257)}));
  EXPECT_EQ(session.phase(), RfbPhase::kVeNCryptSubtype);
  // The sub-type and, in the same read, the start of the TLS ClientHello.
  ASSERT_TRUE(session.feed(cat({u32(260), Bytes{0x16, 0x03, 0x01}})).ok());
  EXPECT_EQ(session.take_output(), Bytes{1});
  EXPECT_EQ(session.phase(), RfbPhase::kStartTls);
  EXPECT_EQ(session.vencrypt_subtype(), vencrypt::kX509None);
  ASSERT_TRUE(session.feed(Bytes{0x00}).ok());  // still TLS bytes, kept
  EXPECT_EQ(session.take_unparsed(), (Bytes{0x16, 0x03, 0x01, 0x00}));
  ASSERT_TRUE(session.tls_done().ok());
  EXPECT_EQ(session.take_output(), u32(0));  // SecurityResult OK
  EXPECT_EQ(session.phase(), RfbPhase::kClientInit);
  ASSERT_TRUE(session.feed(Bytes{1}).ok());
  EXPECT_EQ(session.take_output(), server_init(config));
  EXPECT_EQ(session.security_type(), RfbSecurityType::kVeNCrypt);
}

TEST(RfbVeNCrypt, Version37AlsoGetsSecurityResultAfterTls) {
  RfbServerSession session(vencrypt_config());
  ASSERT_TRUE(session.feed(cat({bytes("RFB 003.007\n"), Bytes{19, 0, 2}, u32(257)})).ok());
  EXPECT_EQ(session.phase(), RfbPhase::kStartTls);
  session.take_output();
  ASSERT_TRUE(session.tls_done().ok());
  EXPECT_EQ(session.take_output(), u32(0));
}

TEST(RfbVeNCrypt, WrongVersionIsRefused) {
  RfbServerSession session(vencrypt_config());
  ASSERT_TRUE(session.feed(cat({bytes("RFB 003.008\n"), Bytes{19}})).ok());
  session.take_output();
  Error error = session.feed(Bytes{0, 1});
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("VeNCrypt version 0.1"), std::string::npos);
  EXPECT_EQ(session.take_output(), Bytes{0xff});
}

TEST(RfbVeNCrypt, SubtypeNotOfferedIsRefused) {
  RfbServerSession session(vencrypt_config());
  ASSERT_TRUE(session.feed(cat({bytes("RFB 003.008\n"), Bytes{19, 0, 2}})).ok());
  session.take_output();
  Error error = session.feed(u32(vencrypt::kX509Vnc));
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.message(), "RFB: VeNCrypt sub-type 261 was not offered");
  EXPECT_EQ(session.take_output(), Bytes{0});
}

TEST(RfbVeNCrypt, TlsDoneOnlyInTheTlsStep) {
  RfbServerSession session(vencrypt_config());
  EXPECT_FALSE(session.tls_done().ok());
  EXPECT_TRUE(session.take_unparsed().empty());
}

TEST(RfbVeNCrypt, TlsBytesNotTakenAreAnError) {
  RfbServerSession session(vencrypt_config());
  ASSERT_TRUE(
      session.feed(cat({bytes("RFB 003.008\n"), Bytes{19, 0, 2}, u32(260), Bytes{0x16}})).ok());
  EXPECT_FALSE(session.tls_done().ok());
  EXPECT_EQ(session.phase(), RfbPhase::kFailed);
}

TEST(RfbConfig, InvalidConfigurationsFailTheSession) {
  RfbServerConfig config = vencrypt_config();
  config.vencrypt_subtypes = {vencrypt::kX509Vnc};
  EXPECT_FALSE(config.validate().ok());
  RfbServerSession session(config);
  EXPECT_FALSE(session.feed(bytes("RFB 003.008\n")).ok());
  config = small_config();
  config.security_types = {};
  EXPECT_FALSE(config.validate().ok());
  config = small_config();
  config.security_types = {RfbSecurityType::kVncAuth};
  EXPECT_FALSE(config.validate().ok());
  config = small_config();
  config.format.bits_per_pixel = 24;
  EXPECT_FALSE(config.validate().ok());
  EXPECT_TRUE(small_config().validate().ok());
  EXPECT_TRUE(vencrypt_config().validate().ok());
}

TEST(RfbPixelFormat, WireFormRoundTrips) {
  PixelFormat f{16, 16, true, true, 31, 63, 31, 11, 5, 0};
  Bytes out;
  append_pixel_format(out, f);
  EXPECT_EQ(out, (Bytes{16, 16, 1, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0}));
  EXPECT_EQ(parse_pixel_format(out), f);
}

TEST(RfbPixelFormat, ValidationNamesTheBadField) {
  EXPECT_TRUE(validate_pixel_format(PixelFormat{}).ok());
  EXPECT_TRUE(validate_pixel_format(PixelFormat{8, 8, false, true, 7, 7, 3, 0, 3, 6}).ok());
  PixelFormat f;
  f.depth = 0;
  EXPECT_FALSE(validate_pixel_format(f).ok());
  f = PixelFormat{};
  f.true_colour = false;
  EXPECT_NE(validate_pixel_format(f).message().find("colour-map"), std::string::npos);
  f = PixelFormat{};
  f.red_max = 200;
  EXPECT_NE(validate_pixel_format(f).message().find("red-max"), std::string::npos);
  f = PixelFormat{};
  f.blue_shift = 30;
  EXPECT_NE(validate_pixel_format(f).message().find("blue"), std::string::npos);
  f = PixelFormat{};
  f.green_max = 0;
  EXPECT_FALSE(validate_pixel_format(f).ok());
}

// Every client message, as bytes, with the event it must give.
struct MessageCase {
  const char* name;
  Bytes wire;
  std::vector<std::string> events;
};

std::vector<MessageCase> message_cases() {
  Bytes format_wire;
  append_pixel_format(format_wire, PixelFormat{16, 16, false, true, 31, 63, 31, 11, 5, 0});
  return {
      {"SetPixelFormat", cat({Bytes{0, 0, 0, 0}, format_wire}), {"format bpp=16"}},
      {"SetEncodings",
       cat({Bytes{2, 0}, u16(3), u32(6), u32(0), u32(static_cast<uint32_t>(-223))}),
       {"encodings 6 0 -223"}},
      {"SetEncodingsEmpty", cat({Bytes{2, 0}, u16(0)}), {"encodings"}},
      {"UpdateRequest",
       cat({Bytes{3, 1}, u16(10), u16(20), u16(30), u16(40)}),
       {"update inc=1 10,20 30x40"}},
      {"UpdateRequestClipped",
       cat({Bytes{3, 0}, u16(300), u16(190), u16(100), u16(100)}),
       {"update inc=0 300,190 20x10"}},
      {"UpdateRequestOutside",
       cat({Bytes{3, 0}, u16(1000), u16(1000), u16(5), u16(5)}),
       {"update inc=0 320,200 0x0"}},
      {"KeyDown", cat({Bytes{4, 1, 0, 0}, u32(0xff0d)}), {"key down=1 sym=65293"}},
      {"KeyUp", cat({Bytes{4, 0, 0, 0}, u32(0x61)}), {"key down=0 sym=97"}},
      {"Pointer", cat({Bytes{5, 5}, u16(100), u16(50)}), {"pointer 5 100,50"}},
      {"CutText", cat({Bytes{6, 0, 0, 0}, u32(5), bytes("hello")}), {"cut hello"}},
      {"CutTextEmpty", cat({Bytes{6, 0, 0, 0}, u32(0)}), {"cut "}},
      {"QemuExtendedKey",
       cat({Bytes{255, 0}, u16(1), u32(0x61), u32(0x1e)}),
       {"key down=1 sym=97 code=30"}},
      {"QemuAudioEnable", Bytes{255, 1, 0, 0}, {}},
      {"QemuAudioFormat", cat({Bytes{255, 1, 0, 2, 3, 2}, u32(44100)}), {}},
      {"EnableContinuousUpdates", cat({Bytes{150, 1}, u16(0), u16(0), u16(8), u16(8)}), {}},
      {"ClientFence", cat({Bytes{248, 0, 0, 0}, u32(0), Bytes{3, 1, 2, 3}}), {}},
      {"SetDesktopSize",
       cat({Bytes{251, 0}, u16(640), u16(480), Bytes{1, 0}, u32(0), u16(0), u16(0), u16(640),
            u16(480), u32(0)}),
       {}},
  };
}

TEST(RfbClientMessages, EachMessageGivesItsEvent) {
  for (const MessageCase& c : message_cases()) {
    RfbServerSession session(small_config());
    handshake_none(session);
    // A key event after each message proves the message's length was right.
    Bytes marker = cat({Bytes{4, 1, 0, 0}, u32(1)});
    Error error = session.feed(cat({c.wire, marker}));
    ASSERT_TRUE(error.ok()) << c.name << ": " << error.message();
    std::vector<std::string> want = c.events;
    want.push_back("key down=1 sym=1");
    EXPECT_EQ(describe(session.take_events()), want) << c.name;
    EXPECT_TRUE(session.take_output().empty()) << c.name;
  }
}

TEST(RfbClientMessages, SessionRemembersFormatAndEncodings) {
  RfbServerSession session(small_config());
  handshake_none(session);
  EXPECT_EQ(session.client_format(), PixelFormat{});
  Bytes format_wire;
  const PixelFormat bgr233{8, 8, false, true, 7, 7, 3, 0, 3, 6};
  append_pixel_format(format_wire, bgr233);
  ASSERT_TRUE(session.feed(cat({Bytes{0, 0, 0, 0}, format_wire})).ok());
  EXPECT_EQ(session.client_format(), bgr233);
  ASSERT_TRUE(session.feed(cat({Bytes{2, 0}, u16(2), u32(6), u32(0)})).ok());
  EXPECT_TRUE(session.client_supports(rfb_encoding::kZlib));
  EXPECT_FALSE(session.client_supports(rfb_encoding::kDesktopSize));
  EXPECT_EQ(session.encodings(), (std::vector<int32_t>{6, 0}));
}

TEST(RfbClientMessages, SetEncodingsKeepsAtMostTheLimit) {
  RfbServerConfig config = small_config();
  config.max_encodings = 2;
  RfbServerSession session(config);
  handshake_none(session);
  ASSERT_TRUE(session
                  .feed(cat({Bytes{2, 0}, u16(4), u32(1), u32(2), u32(3), u32(4), Bytes{5, 0},
                             u16(1), u16(1)}))
                  .ok());
  EXPECT_EQ(describe(session.take_events()),
            (std::vector<std::string>{"encodings 1 2", "pointer 0 1,1"}));
}

TEST(RfbClientMessages, FramebufferSizeChangesServerInit) {
  RfbServerSession session(small_config());
  session.set_framebuffer_size(800, 600);
  ASSERT_TRUE(session.feed(cat({bytes("RFB 003.008\n"), Bytes{1, 0}})).ok());
  Bytes out = session.take_output();
  // version(12) + types(2) + result(4), then ServerInit's width and height.
  ASSERT_GE(out.size(), 22u);
  EXPECT_EQ(Bytes(out.begin() + 18, out.begin() + 22), cat({u16(800), u16(600)}));
  EXPECT_EQ(session.width(), 800);
}

struct HostileCase {
  const char* name;
  Bytes wire;
  const char* error_part;
};

TEST(RfbClientMessages, HostileMessagesAreErrors) {
  Bytes bad_format;
  append_pixel_format(bad_format, PixelFormat{24, 24, false, true, 255, 255, 255, 16, 8, 0});
  const std::vector<HostileCase> cases = {
      {"UnknownType", Bytes{7}, "unknown client message type 7"},
      {"UnknownType200", Bytes{200, 0, 0, 0}, "type 200"},
      {"HugeCutText", cat({Bytes{6, 0, 0, 0}, u32(0x80000000u)}), "exceeds the limit"},
      {"NegativeCutText", cat({Bytes{6, 0, 0, 0}, u32(0xffffffffu)}), "exceeds the limit"},
      {"BadPixelFormat", cat({Bytes{0, 0, 0, 0}, bad_format}), "bits-per-pixel 24"},
      {"BigFence", cat({Bytes{248, 0, 0, 0}, u32(0), Bytes{65}}), "ClientFence"},
      {"QemuUnknown", Bytes{255, 9}, "sub-type 9"},
      {"QemuAudioUnknown", Bytes{255, 1, 0, 7}, "audio operation 7"},
  };
  for (const HostileCase& c : cases) {
    RfbServerSession session(small_config());
    handshake_none(session);
    Error error = session.feed(c.wire);
    ASSERT_FALSE(error.ok()) << c.name;
    EXPECT_NE(error.message().find(c.error_part), std::string::npos)
        << c.name << ": " << error.message();
    EXPECT_EQ(session.phase(), RfbPhase::kFailed);
    EXPECT_TRUE(session.take_events().empty()) << c.name;
    EXPECT_FALSE(session.feed(Bytes{4, 1, 0, 0, 0, 0, 0, 1}).ok());
  }
}

TEST(RfbClientMessages, CutTextLimitIsConfigurable) {
  RfbServerConfig config = small_config();
  config.max_cut_text = 4;
  RfbServerSession session(config);
  handshake_none(session);
  ASSERT_TRUE(session.feed(cat({Bytes{6, 0, 0, 0}, u32(4), bytes("abcd")})).ok());
  EXPECT_FALSE(session.feed(cat({Bytes{6, 0, 0, 0}, u32(5)})).ok());
}

// The result of feeding STREAM split at the given points.
struct Outcome {
  Bytes output;
  std::vector<std::string> events;
  std::string error;
  RfbPhase phase;
  bool operator==(const Outcome&) const = default;
};

Outcome run(const RfbServerConfig& config, const Bytes& stream, const std::vector<size_t>& cuts,
            bool tls_at_start_tls = false) {
  RfbServerSession session(config);
  Outcome outcome;
  size_t from = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(stream.size());
  for (size_t end : ends) {
    Error error = session.feed(std::span<const uint8_t>(stream).subspan(from, end - from));
    from = end;
    if (!error.ok()) {
      outcome.error = error.message();
      break;
    }
  }
  Bytes out = session.take_output();
  outcome.output = out;
  outcome.events = describe(session.take_events());
  outcome.phase = session.phase();
  return outcome;
}

Bytes full_session_stream() {
  Bytes stream = cat({bytes("RFB 003.008\n"), Bytes{1}, Bytes{1}});
  for (const MessageCase& c : message_cases()) stream = cat({stream, c.wire});
  return stream;
}

TEST(RfbSplitting, ByteByByteEqualsWhole) {
  const Bytes stream = full_session_stream();
  const Outcome whole = run(small_config(), stream, {});
  EXPECT_TRUE(whole.error.empty()) << whole.error;
  EXPECT_EQ(whole.phase, RfbPhase::kNormal);
  EXPECT_EQ(whole.events.size(), 1 + 12u);  // ClientInit + the messages with events
  std::vector<size_t> every;
  for (size_t i = 1; i < stream.size(); ++i) every.push_back(i);
  EXPECT_EQ(run(small_config(), stream, every), whole);
}

TEST(RfbSplitting, RandomSplitsEqualWholeIncludingErrors) {
  std::mt19937 random(1234);
  std::vector<Bytes> streams = {full_session_stream()};
  streams.push_back(cat({full_session_stream(), Bytes{6, 0, 0, 0}, u32(0x80000000u), Bytes(9, 1)}));
  streams.push_back(cat({full_session_stream(), Bytes{42}}));
  streams.push_back(bytes("RFB 003.00"));
  streams.push_back(bytes("RFB 003.0x8\n"));
  streams.push_back(cat({bytes("RFB 003.008\n"), Bytes{9}}));
  streams.push_back(cat({bytes("RFB 003.007\n"), Bytes{19, 0, 2}, u32(260), Bytes{1, 2, 3}}));
  for (const Bytes& stream : streams) {
    RfbServerConfig config = vencrypt_config();
    const Outcome whole = run(config, stream, {});
    for (int trial = 0; trial < 50; ++trial) {
      std::vector<size_t> cuts;
      for (size_t i = 1; i < stream.size(); ++i)
        if (random() % 4 == 0) cuts.push_back(i);
      ASSERT_EQ(run(config, stream, cuts), whole) << "trial " << trial;
    }
  }
}

}  // namespace
}  // namespace cr16::ui
