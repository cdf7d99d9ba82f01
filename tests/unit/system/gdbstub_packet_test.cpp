// The RSP framing layer (system/gdbstub/packet.h): packets in any split,
// checksums, acknowledgements and the interrupt byte, escapes, run-length
// encoding and its rules, the payload limit, and the hex helpers.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "system/gdbstub/packet.h"

namespace cr16::system::gdbstub {
namespace {

std::span<const uint8_t> bytes_of(const std::string& text) {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

// Every event the reader finds in `input`.
std::vector<RspEvent> read_all(PacketReader& reader, const std::string& input) {
  std::vector<RspEvent> events;
  std::span<const uint8_t> rest = bytes_of(input);
  while (std::optional<RspEvent> event = reader.next(&rest)) events.push_back(*event);
  EXPECT_TRUE(rest.empty());
  return events;
}

std::string with_checksum(const std::string& raw) {
  uint8_t sum = 0;
  for (char c : raw) sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
  char tail[4];
  std::snprintf(tail, sizeof tail, "#%02x", sum);
  return "$" + raw + tail;
}

TEST(RspPacket, FramesWithTheModulo256Checksum) {
  EXPECT_EQ(frame_packet("OK"), "$OK#9a");
  EXPECT_EQ(frame_packet(""), "$#00");
  EXPECT_EQ(frame_packet("qSupported"), "$qSupported#37");
}

TEST(RspPacket, ReadsAPacketDeliveredOneByteAtATime) {
  PacketReader reader;
  const std::string wire = "$m0,4#fd";
  std::vector<RspEvent> events;
  for (char c : wire) {
    std::string one(1, c);
    std::span<const uint8_t> rest = bytes_of(one);
    if (std::optional<RspEvent> event = reader.next(&rest)) events.push_back(*event);
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, RspEvent::Kind::kPacket);
  EXPECT_EQ(events[0].payload, "m0,4");
}

TEST(RspPacket, AcknowledgementsAndInterruptOutsideAPacketNoiseIgnored) {
  PacketReader reader;
  std::vector<RspEvent> events = read_all(reader, "+xyz-\x03\r\n$g#67");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].kind, RspEvent::Kind::kAck);
  EXPECT_EQ(events[1].kind, RspEvent::Kind::kNak);
  EXPECT_EQ(events[2].kind, RspEvent::Kind::kInterrupt);
  EXPECT_EQ(events[3].kind, RspEvent::Kind::kPacket);
  EXPECT_EQ(events[3].payload, "g");
}

TEST(RspPacket, InterruptByteInsideAPacketIsData) {
  PacketReader reader;
  std::vector<RspEvent> events = read_all(reader, with_checksum(std::string("X0,1:\x03", 6)));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, RspEvent::Kind::kPacket);
  EXPECT_EQ(events[0].payload, std::string("X0,1:\x03", 6));
}

TEST(RspPacket, WrongOrNonHexChecksumIsReported) {
  PacketReader reader;
  std::vector<RspEvent> events = read_all(reader, "$g#68$g#zz$g#6");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, RspEvent::Kind::kBadChecksum);
  EXPECT_EQ(events[1].kind, RspEvent::Kind::kBadChecksum);
  EXPECT_TRUE(reader.in_packet());  // waiting for the last checksum digit
  events = read_all(reader, "7");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, RspEvent::Kind::kPacket);
}

TEST(RspPacket, DollarInsideAPacketStartsAgain) {
  PacketReader reader;
  std::vector<RspEvent> events = read_all(reader, "$m0,4 lost$OK#9a");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, RspEvent::Kind::kPacket);
  EXPECT_EQ(events[0].payload, "OK");
}

TEST(RspPacket, EscapesAreDecoded) {
  PacketReader reader;
  // } then byte ^ 0x20: '#' '$' '}' '*'
  std::vector<RspEvent> events = read_all(reader, with_checksum("X0,4:}\x03}\x04}]}\x0a"));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(events[0].kind, RspEvent::Kind::kPacket);
  EXPECT_EQ(events[0].payload, "X0,4:#$}*");
}

TEST(RspPacket, RunLengthRepeatsThePreviousCharacter) {
  EXPECT_EQ(decode_payload("0* ", 100), "0000");  // ' ' = 32: 3 more
  EXPECT_EQ(decode_payload("ab*\"c", 100), "abbbbbbc");
  EXPECT_EQ(decode_payload("x*~", 200), std::string(98, 'x'));  // '~' = 126: 97 more
}

TEST(RspPacket, RunLengthRulesAreEnforced) {
  EXPECT_FALSE(decode_payload("*!", 100));                   // nothing to repeat
  EXPECT_FALSE(decode_payload("0*", 100));                   // no count
  EXPECT_FALSE(decode_payload(std::string("0*\x1f"), 100));  // count below ' '
  EXPECT_FALSE(decode_payload(std::string("0*\x7f"), 100));  // count above '~'
  EXPECT_FALSE(decode_payload("0*$", 100));                  // '$' is never a count
  EXPECT_FALSE(decode_payload("abc}", 100));                 // escape at the end
  PacketReader reader;
  std::vector<RspEvent> events = read_all(reader, with_checksum("m0*"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, RspEvent::Kind::kMalformed);
}

TEST(RspPacket, PayloadOverTheLimitIsTooLongAndMemoryStaysBounded) {
  PacketReader reader(64);
  std::vector<RspEvent> events = read_all(reader, with_checksum(std::string(65, 'a')));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, RspEvent::Kind::kTooLong);
  // Run-length that expands past the limit.
  events = read_all(reader, with_checksum("a*~"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, RspEvent::Kind::kTooLong);
  // A megabyte without '#' is dropped as it comes; the next packet works.
  events = read_all(reader, "$" + std::string(1 << 20, 'z'));
  EXPECT_TRUE(events.empty());
  events = read_all(reader, "$OK#9a");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload, "OK");
  // Exactly the limit is fine.
  events = read_all(reader, with_checksum(std::string(64, 'b')));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, RspEvent::Kind::kPacket);
}

TEST(RspPacket, FramedRepliesDecodeToThemselvesWithAndWithoutRunLength) {
  std::mt19937 random(7);
  const std::string alphabet = std::string("0#$}*]a\x03\x0a", 9);
  for (int round = 0; round < 2000; ++round) {
    std::string payload;
    const size_t length = random() % 200;
    while (payload.size() < length) {
      // Runs of every length, of plain and special characters.
      const char c = alphabet[random() % alphabet.size()];
      payload.append(1 + random() % 110, c);
    }
    payload.resize(std::min(payload.size(), length));
    for (bool run_length : {false, true}) {
      const std::string framed = frame_packet(payload, run_length);
      // Never a raw '#' or '$' inside, so the frame cannot be cut short.
      EXPECT_EQ(framed.find_first_of("#$", 1), framed.size() - 3) << framed;
      PacketReader reader(1024);
      std::vector<RspEvent> events = read_all(reader, framed);
      ASSERT_EQ(events.size(), 1u);
      ASSERT_EQ(events[0].kind, RspEvent::Kind::kPacket) << framed;
      EXPECT_EQ(events[0].payload, payload);
    }
  }
}

TEST(RspPacket, RunLengthCompressesLongRuns) {
  const std::string zeros(168, '0');
  const std::string framed = frame_packet(zeros, true);
  EXPECT_LT(framed.size(), 20u);
  // Runs of 7 and 8 would need the counts '#' and '$': they are split.
  auto body = [](const std::string& framed) { return framed.substr(1, framed.size() - 4); };
  EXPECT_EQ(body(frame_packet("0000000", true)), "0*\"0");
  EXPECT_EQ(body(frame_packet("00000000", true)), "0*\"00");
  EXPECT_EQ(body(frame_packet("000", true)), "000");  // too short to compress
}

TEST(RspPacket, HexHelpers) {
  EXPECT_EQ(hex_encode(std::string_view("\x01\xab", 2)), "01ab");
  EXPECT_EQ(hex_decode("01AB"), std::string("\x01\xab", 2));
  EXPECT_FALSE(hex_decode("abc"));
  EXPECT_FALSE(hex_decode("zz"));
  EXPECT_EQ(parse_hex("ff0100"), 0xff0100u);
  EXPECT_FALSE(parse_hex("1000000", 0xFFFFFF));
  EXPECT_FALSE(parse_hex(""));
  EXPECT_FALSE(parse_hex("0x10"));
  EXPECT_FALSE(parse_hex("11111111111111111"));  // 17 digits
  EXPECT_EQ(parse_hex("ffffffffffffffff"), UINT64_MAX);
}

}  // namespace
}  // namespace cr16::system::gdbstub
