// The pure WebSocket protocol pieces: handshake parsing and answers, frame
// headers, encoding, and the stream decoder's message rules and limits.
#include "io/websock_protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cr16::io {
namespace {

constexpr std::string_view kGoodRequest =
    "GET /websockify HTTP/1.1\r\n"
    "Host: localhost:5700\r\n"
    "Upgrade: websocket\r\n"
    "Connection: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: chat, binary\r\n"
    "\r\n";

std::string replace(std::string_view text, std::string_view from, std::string_view to) {
  std::string result(text);
  const size_t at = result.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) result.replace(at, from.size(), to);
  return result;
}

std::vector<uint8_t> bytes(std::string_view text) {
  return {text.begin(), text.end()};
}

TEST(WebsockHandshake, AcceptKeyMatchesRfc6455Example) {
  EXPECT_EQ(websock_accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebsockHandshake, ParsesAValidRequestAndAnswers101) {
  std::string received(kGoodRequest);
  received += "\x82\x80";  // the first frame may follow in the same read
  WebsockHandshakeResult result = parse_websock_upgrade_request(received);
  ASSERT_EQ(result.status, WebsockHandshakeStatus::kComplete) << result.error;
  EXPECT_EQ(result.consumed, kGoodRequest.size());
  EXPECT_EQ(result.request.path, "/websockify");
  EXPECT_EQ(result.request.host, "localhost:5700");
  EXPECT_EQ(result.request.protocols, (std::vector<std::string>{"chat", "binary"}));
  const std::string response = build_websock_upgrade_response(result.request);
  EXPECT_EQ(response.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u);
  EXPECT_NE(response.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
            std::string::npos);
  EXPECT_NE(response.find("Sec-WebSocket-Protocol: binary\r\n"), std::string::npos);
  EXPECT_EQ(response.substr(response.size() - 4), "\r\n\r\n");
}

TEST(WebsockHandshake, HeaderNamesAreCaseInsensitive) {
  std::string request = replace(kGoodRequest, "Sec-WebSocket-Key", "sec-websocket-key");
  request = replace(request, "Upgrade: websocket", "UPGRADE: WebSocket");
  EXPECT_EQ(parse_websock_upgrade_request(request).status, WebsockHandshakeStatus::kComplete);
}

TEST(WebsockHandshake, IncompleteUntilTheBlankLine) {
  for (size_t cut = 0; cut < kGoodRequest.size(); ++cut) {
    WebsockHandshakeResult result = parse_websock_upgrade_request(kGoodRequest.substr(0, cut));
    EXPECT_EQ(result.status, WebsockHandshakeStatus::kIncomplete) << "cut at " << cut;
  }
}

TEST(WebsockHandshake, RejectsMissingOrWrongHeaders) {
  struct Case {
    std::string request;
    int status;
    std::string error_part;
  };
  const std::vector<Case> cases = {
      {replace(kGoodRequest, "GET", "POST"), 405, "GET"},
      {replace(kGoodRequest, "HTTP/1.1", "HTTP/1.0"), 400, "HTTP/1.1"},
      {replace(kGoodRequest, "Host: localhost:5700\r\n", ""), 400, "Host"},
      {replace(kGoodRequest, "Upgrade: websocket\r\n", ""), 400, "Upgrade"},
      {replace(kGoodRequest, "keep-alive, Upgrade", "keep-alive"), 400, "Connection"},
      {replace(kGoodRequest, "Version: 13", "Version: 8"), 426, "Version"},
      {replace(kGoodRequest, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""), 400, "Key"},
      {replace(kGoodRequest, "dGhlIHNhbXBsZSBub25jZQ==", "short=="), 400, "Key"},
      {replace(kGoodRequest, "chat, binary", "chat"), 400, "binary"},
      {replace(kGoodRequest, "/websockify", "websockify"), 400, "target"},
      {replace(kGoodRequest, "Host:", " Host:"), 400, "folded"},
      {replace(kGoodRequest, "Host: localhost", "Host: local\x01host"), 400, "control"},
      {replace(kGoodRequest, "Host: localhost:5700\r\n", "NoColonHere\r\n"), 400, "malformed"},
      {"garbage\r\n\r\n", 400, "request line"},
  };
  for (const Case& test : cases) {
    WebsockHandshakeResult result = parse_websock_upgrade_request(test.request);
    ASSERT_EQ(result.status, WebsockHandshakeStatus::kRejected) << test.request;
    EXPECT_EQ(result.http_status, test.status) << test.request;
    EXPECT_NE(result.error.find(test.error_part), std::string::npos)
        << result.error << " for " << test.request;
  }
}

TEST(WebsockHandshake, RejectsOversizedRequestEvenWithoutTerminator) {
  std::string huge = "GET / HTTP/1.1\r\nX-Filler: " + std::string(kWebsockMaxHandshakeSize, 'a');
  WebsockHandshakeResult result = parse_websock_upgrade_request(huge);
  EXPECT_EQ(result.status, WebsockHandshakeStatus::kRejected);
  EXPECT_EQ(result.http_status, 431);
}

TEST(WebsockHandshake, ErrorResponseCarriesStatusAndReason) {
  const std::string response = build_websock_error_response(426, "only version 13\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 426 Upgrade Required\r\n", 0), 0u);
  EXPECT_NE(response.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
  EXPECT_NE(response.find("Content-Length: 16\r\n"), std::string::npos);
  EXPECT_EQ(response.substr(response.size() - 16), "only version 13\n");
}

TEST(WebsockFrames, EncodesAllThreeLengthForms) {
  for (size_t size : {0u, 125u, 126u, 65535u, 65536u}) {
    std::vector<uint8_t> payload(size, 0x5a);
    std::vector<uint8_t> frame;
    append_websock_frame(frame, WebsockOpcode::kBinary, payload);
    const size_t expected_header = size < 126 ? 2 : size <= 0xffff ? 4 : 10;
    ASSERT_EQ(frame.size(), expected_header + size);
    EXPECT_EQ(frame[0], 0x82);
    WebsockHeaderParse parse = parse_websock_frame_header(frame, WebsockLimits{}, false);
    ASSERT_EQ(parse.status, WebsockParseStatus::kComplete) << parse.error;
    EXPECT_EQ(parse.header.payload_length, size);
    EXPECT_EQ(parse.header.header_size, expected_header);
  }
}

TEST(WebsockFrames, MaskingRoundTripsAndMatchesRfcExample) {
  // RFC 6455 5.7: a masked "Hello" from a client.
  const std::vector<uint8_t> rfc = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                    0x7f, 0x9f, 0x4d, 0x51, 0x58};
  std::vector<uint8_t> frame;
  append_websock_frame(frame, WebsockOpcode::kText, bytes("Hello"), true,
                       std::array<uint8_t, 4>{0x37, 0xfa, 0x21, 0x3d});
  EXPECT_EQ(frame, rfc);
  WebsockStreamDecoder decoder;
  decoder.feed(rfc);
  WebsockEvent event = decoder.next();
  ASSERT_EQ(event.kind, WebsockEvent::Kind::kData);
  EXPECT_EQ(event.payload, bytes("Hello"));
  EXPECT_TRUE(event.message_end);
  EXPECT_EQ(decoder.next().kind, WebsockEvent::Kind::kNeedMore);
}

TEST(WebsockFrames, HeaderRejectsProtocolViolations) {
  const WebsockLimits limits;
  struct Case {
    std::vector<uint8_t> header;
    bool require_mask;
    uint16_t code;
  };
  const std::vector<Case> cases = {
      {{0xC2, 0x80, 0, 0, 0, 0}, true, websock_close::kProtocolError},   // RSV1
      {{0x83, 0x80, 0, 0, 0, 0}, true, websock_close::kProtocolError},   // opcode 3
      {{0x09, 0x80, 0, 0, 0, 0}, true, websock_close::kProtocolError},   // fragmented ping
      {{0x89, 0xFE, 0, 126}, true, websock_close::kProtocolError},       // ping > 125
      {{0x82, 0x05}, true, websock_close::kProtocolError},               // unmasked client
      {{0x82, 0x85, 1, 2, 3, 4}, false, websock_close::kProtocolError},  // masked server
      {{0x82, 0xFE, 0x00, 0x10, 1, 2, 3, 4}, true, websock_close::kProtocolError},     // 16 in 16
      {{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0}, true, websock_close::kProtocolError},  // top bit
      {{0x82, 0xFF, 0, 0, 0, 0, 0x40, 0, 0, 0}, true, websock_close::kMessageTooBig},  // 1 GiB
  };
  for (const Case& test : cases) {
    WebsockHeaderParse parse = parse_websock_frame_header(test.header, limits, test.require_mask);
    EXPECT_EQ(parse.status, WebsockParseStatus::kInvalid)
        << "header starting " << int(test.header[0]) << "," << int(test.header[1]);
    EXPECT_EQ(parse.close_code, test.code) << parse.error;
    EXPECT_FALSE(parse.error.empty());
  }
}

TEST(WebsockFrames, HeaderNeedsMoreBytesForExtendedLengthAndMask) {
  const std::vector<uint8_t> full = {0x82, 0xFE, 0x01, 0x00, 9, 9, 9, 9};
  for (size_t cut = 0; cut < full.size(); ++cut) {
    WebsockHeaderParse parse =
        parse_websock_frame_header(std::span(full).first(cut), WebsockLimits{}, true);
    EXPECT_EQ(parse.status, WebsockParseStatus::kIncomplete) << cut;
  }
  EXPECT_EQ(parse_websock_frame_header(full, WebsockLimits{}, true).status,
            WebsockParseStatus::kComplete);
}

const std::array<uint8_t, 4> kMask = {0xa1, 0xb2, 0xc3, 0xd4};

std::vector<uint8_t> client_frame(WebsockOpcode opcode, std::string_view payload, bool fin = true) {
  std::vector<uint8_t> frame;
  append_websock_frame(frame, opcode, bytes(payload), fin, kMask);
  return frame;
}

TEST(WebsockDecoder, ReassemblesFragmentsWithControlFramesBetween) {
  std::vector<uint8_t> stream;
  for (auto part : {client_frame(WebsockOpcode::kBinary, "frag", false),
                    client_frame(WebsockOpcode::kPing, "are you there"),
                    client_frame(WebsockOpcode::kContinuation, "men", false),
                    client_frame(WebsockOpcode::kContinuation, "ted")}) {
    stream.insert(stream.end(), part.begin(), part.end());
  }
  WebsockStreamDecoder decoder;
  // Byte by byte: every split point must work.
  std::string data;
  std::vector<std::string> pings;
  int message_ends = 0;
  for (uint8_t byte : stream) {
    decoder.feed({&byte, 1});
    for (WebsockEvent event = decoder.next(); event.kind != WebsockEvent::Kind::kNeedMore;
         event = decoder.next()) {
      if (event.kind == WebsockEvent::Kind::kData) {
        data.append(event.payload.begin(), event.payload.end());
        message_ends += event.message_end;
      } else if (event.kind == WebsockEvent::Kind::kPing) {
        pings.emplace_back(event.payload.begin(), event.payload.end());
      } else {
        FAIL() << "unexpected event " << static_cast<int>(event.kind) << " " << event.reason;
      }
    }
  }
  EXPECT_EQ(data, "fragmented");
  EXPECT_EQ(message_ends, 1);
  EXPECT_EQ(pings, std::vector<std::string>{"are you there"});
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(WebsockDecoder, RejectsBadFragmentSequences) {
  {
    WebsockStreamDecoder decoder;
    decoder.feed(client_frame(WebsockOpcode::kContinuation, "orphan"));
    WebsockEvent event = decoder.next();
    EXPECT_EQ(event.kind, WebsockEvent::Kind::kProtocolError);
    EXPECT_EQ(event.close_code, websock_close::kProtocolError);
    EXPECT_TRUE(decoder.finished());
  }
  {
    WebsockStreamDecoder decoder;
    decoder.feed(client_frame(WebsockOpcode::kBinary, "start", false));
    decoder.feed(client_frame(WebsockOpcode::kText, "interloper"));
    EXPECT_EQ(decoder.next().kind, WebsockEvent::Kind::kData);
    WebsockEvent event = decoder.next();
    EXPECT_EQ(event.kind, WebsockEvent::Kind::kProtocolError);
    EXPECT_NE(event.reason.find("inside a fragmented message"), std::string::npos);
  }
}

TEST(WebsockDecoder, OversizedFrameIsRejectedFromItsHeaderAlone) {
  WebsockStreamDecoder decoder(WebsockLimits{1000, 4000});
  std::vector<uint8_t> frame;
  append_websock_frame(frame, WebsockOpcode::kBinary, std::vector<uint8_t>(1001, 1), true, kMask);
  decoder.feed(std::span(frame).first(8));  // header only
  WebsockEvent event = decoder.next();
  EXPECT_EQ(event.kind, WebsockEvent::Kind::kProtocolError);
  EXPECT_EQ(event.close_code, websock_close::kMessageTooBig);
  EXPECT_NE(event.reason.find("exceeds the limit"), std::string::npos);
}

TEST(WebsockDecoder, OversizedFragmentedMessageIsRejected) {
  WebsockStreamDecoder decoder(WebsockLimits{1000, 2500});
  const std::string chunk(1000, 'x');
  for (int i = 0; i < 3; ++i)
    decoder.feed(
        client_frame(i == 0 ? WebsockOpcode::kBinary : WebsockOpcode::kContinuation, chunk, false));
  EXPECT_EQ(decoder.next().kind, WebsockEvent::Kind::kData);
  EXPECT_EQ(decoder.next().kind, WebsockEvent::Kind::kData);
  WebsockEvent event = decoder.next();
  EXPECT_EQ(event.kind, WebsockEvent::Kind::kProtocolError);
  EXPECT_EQ(event.close_code, websock_close::kMessageTooBig);
}

TEST(WebsockDecoder, CloseFramesCarryCodeAndReasonAndFinishTheStream) {
  WebsockStreamDecoder decoder;
  std::vector<uint8_t> payload = build_websock_close_payload(websock_close::kGoingAway, "bye");
  std::vector<uint8_t> frame;
  append_websock_frame(frame, WebsockOpcode::kClose, payload, true, kMask);
  decoder.feed(frame);
  decoder.feed(client_frame(WebsockOpcode::kBinary, "ignored after close"));
  WebsockEvent event = decoder.next();
  ASSERT_EQ(event.kind, WebsockEvent::Kind::kClose);
  EXPECT_EQ(event.close_code, websock_close::kGoingAway);
  EXPECT_EQ(event.reason, "bye");
  EXPECT_EQ(decoder.next().kind, WebsockEvent::Kind::kClose);

  WebsockStreamDecoder empty_close;
  empty_close.feed(client_frame(WebsockOpcode::kClose, ""));
  EXPECT_EQ(empty_close.next().close_code, websock_close::kNoStatus);

  WebsockStreamDecoder bad_code;
  bad_code.feed(client_frame(WebsockOpcode::kClose, std::string("\x03\xed", 2)));  // 1005
  EXPECT_EQ(bad_code.next().kind, WebsockEvent::Kind::kProtocolError);

  WebsockStreamDecoder one_byte;
  one_byte.feed(client_frame(WebsockOpcode::kClose, "x"));
  EXPECT_EQ(one_byte.next().kind, WebsockEvent::Kind::kProtocolError);
}

TEST(WebsockDecoder, ClosePayloadIsCutToTheControlFrameLimit) {
  const std::string long_reason(300, 'r');
  std::vector<uint8_t> payload = build_websock_close_payload(websock_close::kNormal, long_reason);
  EXPECT_EQ(payload.size(), 125u);
  EXPECT_EQ(payload[0], 0x03);
  EXPECT_EQ(payload[1], 0xe8);
}

TEST(WebsockDecoder, PongIsReportedAndServerStreamsNeedNoMask) {
  WebsockStreamDecoder client_side(WebsockLimits{}, /*expect_masked=*/false);
  std::vector<uint8_t> frame;
  append_websock_frame(frame, WebsockOpcode::kPong, bytes("p"));
  append_websock_frame(frame, WebsockOpcode::kBinary, bytes("server data"));
  client_side.feed(frame);
  EXPECT_EQ(client_side.next().kind, WebsockEvent::Kind::kPong);
  WebsockEvent data = client_side.next();
  ASSERT_EQ(data.kind, WebsockEvent::Kind::kData);
  EXPECT_EQ(data.payload, bytes("server data"));
}

}  // namespace
}  // namespace cr16::io
