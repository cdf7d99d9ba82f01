// WebsockChannel against an independent client: tests/unit/io/websock_client.py
// (Python standard library, raw socket) is spawned per scenario, connects to
// a listening socket here, and exits 0 only if our server behaved as RFC 6455
// says. The C++ side checks what the channel itself reports.
#include "io/channel_websock.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "io/channel_tls.h"
#include "io/loop.h"
#include "tls_test_certs.h"
#include "tls_test_fd_channel.h"

extern char** environ;

namespace cr16::io {
namespace {

using testing::FdStreamChannel;

constexpr int64_t kPollPeriodNs = 20'000'000;
constexpr const char* kClientScript = CR16_SOURCE_DIR "/tests/unit/io/websock_client.py";

class WebsockChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    listener_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(listener_.valid());
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::listen(listener_.get(), 4), 0);
    socklen_t length = sizeof address;
    ASSERT_EQ(::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
    port_ = ntohs(address.sin_port);
    auto loop = Loop::create(LoopBackend::kEpoll);
    ASSERT_TRUE(loop) << loop.error().message();
    loop_ = std::move(*loop);
  }

  void TearDown() override {
    if (client_pid_ > 0) {
      ::kill(client_pid_, SIGKILL);
      ::waitpid(client_pid_, nullptr, 0);
    }
  }

  // Starts the Python client for SCENARIO (EXTRA: its optional CA
  // argument) and accepts its connection. Null, with a failure recorded or
  // client_pid_ < 0 when python3 cannot be started.
  std::unique_ptr<Channel> spawn_and_accept(const std::string& scenario,
                                            const std::string& extra = "") {
    const std::string port = std::to_string(port_);
    const char* argv[] = {"python3",
                          kClientScript,
                          port.c_str(),
                          scenario.c_str(),
                          extra.empty() ? nullptr : extra.c_str(),
                          nullptr};
    if (::posix_spawnp(&client_pid_, "python3", nullptr, nullptr, const_cast<char**>(argv),
                       environ) != 0) {
      client_pid_ = -1;
      return nullptr;
    }
    pollfd ready{listener_.get(), POLLIN, 0};
    if (::poll(&ready, 1, 30'000) != 1) {
      ADD_FAILURE() << "the Python client never connected";
      return nullptr;
    }
    const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      ADD_FAILURE() << "accept failed";
      return nullptr;
    }
    return std::make_unique<FdStreamChannel>(fd);
  }

  // The Python client for SCENARIO, accepted as a websocket server channel.
  std::unique_ptr<WebsockChannel> start(const std::string& scenario, WebsockLimits limits = {}) {
    std::unique_ptr<Channel> master = spawn_and_accept(scenario);
    if (!master) return nullptr;
    auto channel = WebsockChannel::create_server(std::move(master), limits);
    EXPECT_TRUE(channel) << channel.error().message();
    return channel ? std::move(*channel) : nullptr;
  }

  // Exit status of the client (waits for it).
  int client_status() {
    int status = 0;
    if (client_pid_ <= 0 || ::waitpid(client_pid_, &status, 0) != client_pid_) return -1;
    client_pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  Error handshake_async(WebsockChannel& channel) {
    std::optional<Error> result;
    channel.start_handshake(*loop_, [&](Error e) { result = std::move(e); });
    for (int i = 0; i < 2000 && !result; ++i) loop_->run_once(kPollPeriodNs);
    return result.value_or(Error("the handshake never completed"));
  }

  UniqueFd listener_;
  uint16_t port_ = 0;
  pid_t client_pid_ = -1;
  std::unique_ptr<Loop> loop_;
};

#define START_OR_SKIP(var, ...)                                            \
  auto var = start(__VA_ARGS__);                                           \
  if (!var && client_pid_ < 0) GTEST_SKIP() << "python3 is not available"; \
  ASSERT_TRUE(var)

TEST_F(WebsockChannelTest, EchoWithFragmentsPingAndCloseAgainstPythonClient) {
  START_OR_SKIP(server, "echo");
  Error handshake = handshake_async(*server);
  ASSERT_TRUE(handshake.ok()) << handshake.message();
  EXPECT_TRUE(server->handshake_complete());
  EXPECT_EQ(server->request().path, "/websockify");
  std::string data(23, '\0');
  Error read = read_all(*server, data.data(), data.size(), loop_.get());
  ASSERT_TRUE(read.ok()) << read.message();
  EXPECT_EQ(data, "hello world fragmented!");
  ASSERT_TRUE(write_all(*server, data.data(), data.size(), loop_.get()).ok());
  char byte;
  IoResult end = server->read(&byte, 1);
  EXPECT_TRUE(end.is_eof()) << (end.is_error() ? end.error().message() : "not eof");
  EXPECT_TRUE(server->close_received());
  EXPECT_EQ(server->peer_close_code(), websock_close::kNormal);
  EXPECT_TRUE(server->close_sent()) << "the close frame must be answered";
  EXPECT_TRUE(server->close().ok());
  EXPECT_EQ(client_status(), 0);
}

TEST_F(WebsockChannelTest, LargeFramesBothWaysWithBlockingHandshake) {
  START_OR_SKIP(server, "large");
  Error handshake = server->handshake();
  ASSERT_TRUE(handshake.ok()) << handshake.message();
  std::vector<uint8_t> data(200 * 1024);
  Error read = read_all(*server, data.data(), data.size());
  ASSERT_TRUE(read.ok()) << read.message();
  bool pattern_ok = true;
  for (size_t i = 0; i < data.size(); ++i) pattern_ok &= data[i] == ((i * 7 + 3) & 0xff);
  EXPECT_TRUE(pattern_ok) << "the 200 KiB payload was not reassembled intact";
  ASSERT_TRUE(write_all(*server, data.data(), data.size()).ok());
  char byte;
  EXPECT_TRUE(server->read(&byte, 1).is_eof());
  server.reset();
  EXPECT_EQ(client_status(), 0);
}

TEST_F(WebsockChannelTest, OversizedFrameIsRejectedWithClose1009) {
  START_OR_SKIP(server, "oversized", WebsockLimits{1024, 4096});
  ASSERT_TRUE(server->handshake().ok());
  char buffer[16];
  IoResult read = server->read(buffer, sizeof buffer);
  ASSERT_TRUE(read.is_error());
  EXPECT_NE(read.error().message().find("exceeds the limit"), std::string::npos)
      << read.error().message();
  EXPECT_TRUE(server->read(buffer, sizeof buffer).is_error()) << "the failure must persist";
  server.reset();
  EXPECT_EQ(client_status(), 0);
}

TEST_F(WebsockChannelTest, UnmaskedClientFrameIsAProtocolError) {
  START_OR_SKIP(server, "unmasked");
  ASSERT_TRUE(server->handshake().ok());
  char buffer[16];
  IoResult read = server->read(buffer, sizeof buffer);
  ASSERT_TRUE(read.is_error());
  EXPECT_NE(read.error().message().find("unmasked"), std::string::npos);
  server.reset();
  EXPECT_EQ(client_status(), 0);
}

TEST_F(WebsockChannelTest, GarbageFrameAfterDataFailsAfterDeliveringTheData) {
  START_OR_SKIP(server, "garbage-frames");
  ASSERT_TRUE(server->handshake().ok());
  char buffer[2];
  ASSERT_TRUE(read_all(*server, buffer, 2).ok());
  EXPECT_EQ(std::string(buffer, 2), "ok");
  IoResult read = server->read(buffer, sizeof buffer);
  ASSERT_TRUE(read.is_error());
  EXPECT_NE(read.error().message().find("reserved bits"), std::string::npos);
  server.reset();
  EXPECT_EQ(client_status(), 0);
}

TEST_F(WebsockChannelTest, GarbageHandshakeIsAnsweredWithAnHttpError) {
  START_OR_SKIP(server, "garbage");
  Error handshake = handshake_async(*server);
  ASSERT_FALSE(handshake.ok());
  EXPECT_NE(handshake.message().find("rejected (HTTP 400)"), std::string::npos)
      << handshake.message();
  EXPECT_FALSE(server->handshake_complete());
  char byte;
  EXPECT_TRUE(server->read(&byte, 1).is_error());
  server.reset();
  EXPECT_EQ(client_status(), 0);
}

TEST_F(WebsockChannelTest, UnsupportedVersionGets426) {
  START_OR_SKIP(server, "bad-version");
  Error handshake = server->handshake();
  ASSERT_FALSE(handshake.ok());
  EXPECT_NE(handshake.message().find("HTTP 426"), std::string::npos) << handshake.message();
  server.reset();
  EXPECT_EQ(client_status(), 0);
}

TEST_F(WebsockChannelTest, ClientDisconnectingMidHandshakeFailsCleanly) {
  START_OR_SKIP(server, "disconnect");
  Error handshake = handshake_async(*server);
  ASSERT_FALSE(handshake.ok());
  EXPECT_NE(handshake.message().find("closed the connection"), std::string::npos)
      << handshake.message();
  server.reset();
  EXPECT_EQ(client_status(), 0);
}

// wss: WebsockChannel over TlsChannel, against Python's ssl module. The
// client's final read also checks that bye() ends the TLS stream cleanly.
TEST_F(WebsockChannelTest, EchoOverTlsAgainstPythonSslClient) {
  auto certs = testing::TlsTestCertificates::create();
  ASSERT_TRUE(certs) << certs.error().message();
  auto credentials = TlsCredentials::load_x509(certs->server_dir(), TlsEndpoint::kServer, false);
  ASSERT_TRUE(credentials) << credentials.error().message();
  std::unique_ptr<Channel> socket = spawn_and_accept("echo", certs->server_dir() + "/ca-cert.pem");
  if (!socket && client_pid_ < 0) GTEST_SKIP() << "python3 is not available";
  ASSERT_TRUE(socket);
  auto tls = TlsChannel::create_server(std::move(socket), *credentials);
  ASSERT_TRUE(tls);
  TlsChannel* tls_channel = tls->get();
  Error tls_handshake = tls_channel->handshake();
  ASSERT_TRUE(tls_handshake.ok()) << tls_handshake.message();
  auto server = WebsockChannel::create_server(std::move(*tls));
  ASSERT_TRUE(server);
  Error handshake = handshake_async(**server);
  ASSERT_TRUE(handshake.ok()) << handshake.message();
  std::string data(23, '\0');
  Error read = read_all(**server, data.data(), data.size(), loop_.get());
  ASSERT_TRUE(read.ok()) << read.message();
  EXPECT_EQ(data, "hello world fragmented!");
  ASSERT_TRUE(write_all(**server, data.data(), data.size(), loop_.get()).ok());
  char byte;
  EXPECT_TRUE((*server)->read(&byte, 1).is_eof());
  EXPECT_TRUE((*server)->close_sent());
  Error bye = tls_channel->bye();
  EXPECT_TRUE(bye.ok()) << bye.message();
  EXPECT_EQ(client_status(), 0);
}

// Without Python: the channel is destroyed while its handshake waits.
TEST(WebsockChannelLifetime, DestroyingTheChannelCancelsAPendingHandshake) {
  auto loop = Loop::create(LoopBackend::kEpoll);
  ASSERT_TRUE(loop);
  auto [client, server_master] = FdStreamChannel::pair();
  ASSERT_TRUE(client && server_master);
  auto server = WebsockChannel::create_server(std::move(server_master));
  ASSERT_TRUE(server);
  bool called = false;
  (*server)->start_handshake(**loop, [&](Error) { called = true; });
  const char partial[] = "GET / HTTP/1.1\r\nHost: x\r\n";
  ASSERT_TRUE(write_all(*client, partial, sizeof partial - 1).ok());
  for (int i = 0; i < 5; ++i) (*loop)->run_once(0);
  EXPECT_FALSE(called) << "the request is incomplete";
  server->reset();
  (void)write_all(*client, "\r\n", 2);
  for (int i = 0; i < 5; ++i) (*loop)->run_once(0);
  EXPECT_FALSE(called);
}

// Without Python: a complete exchange over a socketpair, the client side
// built from the protocol functions.
TEST(WebsockChannelLifetime, FramesThatFollowTheRequestInOneReadAreKept) {
  auto [client, server_master] = FdStreamChannel::pair();
  ASSERT_TRUE(client && server_master);
  auto server = WebsockChannel::create_server(std::move(server_master));
  ASSERT_TRUE(server);
  std::string request =
      "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  std::vector<uint8_t> bytes(request.begin(), request.end());
  const std::string text = "right behind the request";
  append_websock_frame(bytes, WebsockOpcode::kBinary, {(const uint8_t*)text.data(), text.size()},
                       true, std::array<uint8_t, 4>{1, 2, 3, 4});
  ASSERT_TRUE(write_all(*client, bytes.data(), bytes.size()).ok());
  ASSERT_TRUE((*server)->handshake().ok());
  std::string got(text.size(), '\0');
  ASSERT_TRUE(read_all(**server, got.data(), got.size()).ok());
  EXPECT_EQ(got, text);
  // The client sees the 101 answer, then our close frame on close().
  ASSERT_TRUE((*server)->close().ok());
  std::string answer(4096, '\0');
  IoResult read = client->read(answer.data(), answer.size());
  ASSERT_TRUE(read.is_bytes());
  answer.resize(read.count());
  EXPECT_EQ(answer.rfind("HTTP/1.1 101 ", 0), 0u);
  const size_t frame = answer.find("\r\n\r\n") + 4;
  ASSERT_LE(frame + 4, answer.size());
  EXPECT_EQ(static_cast<uint8_t>(answer[frame]), 0x88);      // FIN + close
  EXPECT_EQ(static_cast<uint8_t>(answer[frame + 2]), 0x03);  // 1000
  EXPECT_EQ(static_cast<uint8_t>(answer[frame + 3]), 0xe8);
}

// Without Python: a client that floods pings and never reads its pongs must
// not make the server's output grow without bound.
TEST(WebsockChannelLifetime, PingFloodFromANonReadingClientIsBounded) {
  auto [client, server_master] = FdStreamChannel::pair();
  ASSERT_TRUE(client && server_master);
  auto server = WebsockChannel::create_server(std::move(server_master));
  ASSERT_TRUE(server);
  std::string request =
      "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  ASSERT_TRUE(write_all(*client, request.data(), request.size()).ok());
  ASSERT_TRUE((*server)->handshake().ok());
  ASSERT_TRUE((*server)->set_blocking(false).ok());
  ASSERT_TRUE(client->set_blocking(false).ok());
  const std::vector<uint8_t> ping_payload(125, 0x70);
  std::vector<uint8_t> pings;
  for (int i = 0; i < 64; ++i) {
    append_websock_frame(pings, WebsockOpcode::kPing, ping_payload, true,
                         std::array<uint8_t, 4>{9, 8, 7, 6});
  }
  std::vector<uint8_t> marker;
  append_websock_frame(marker, WebsockOpcode::kBinary,
                       std::span<const uint8_t>((const uint8_t*)"end", 3), true,
                       std::array<uint8_t, 4>{1, 1, 1, 1});
  // Far more pong bytes than the socket buffers hold (about 16 MiB).
  size_t sent_pings = 0;
  char byte[3];
  for (int round = 0; round < 2000; ++round) {
    IoResult wrote = client->write(pings.data(), pings.size());
    if (!wrote.is_bytes() || wrote.count() != pings.size()) break;  // client buffer full
    sent_pings += 64;
    IoResult read = (*server)->read(byte, sizeof byte);
    ASSERT_TRUE(read.is_would_block()) << "only pings were sent";
  }
  EXPECT_GT(sent_pings, 1000u);
  EXPECT_LT((*server)->queued_output_bytes(), 128u * 1024) << "pongs must not pile up";
  // The server stays responsive: data behind the pings still arrives.
  (void)write_all(*client, marker.data(), marker.size());
  bool got_marker = false;
  for (int i = 0; i < 100000 && !got_marker; ++i) {
    IoResult read = (*server)->read(byte, sizeof byte);
    if (read.is_bytes()) got_marker = read.count() == 3 && std::string(byte, 3) == "end";
    if (read.is_error()) FAIL() << read.error().message();
    if (read.is_would_block()) {
      std::vector<uint8_t> drain(65536);
      (void)client->read(drain.data(), drain.size());  // let pongs flow a little
    }
  }
  EXPECT_TRUE(got_marker);
}

// Without Python: frames that arrived together are all delivered to a
// watch-driven reader that takes one byte per wake-up.
TEST(WebsockChannelLifetime, WatchKeepsFiringWhileFramesAreBuffered) {
  auto loop = Loop::create(LoopBackend::kEpoll);
  ASSERT_TRUE(loop);
  auto [client, server_master] = FdStreamChannel::pair();
  ASSERT_TRUE(client && server_master);
  auto server = WebsockChannel::create_server(std::move(server_master));
  ASSERT_TRUE(server);
  std::string request =
      "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  std::vector<uint8_t> bytes(request.begin(), request.end());
  for (const char* text : {"ab", "cd", "ef"}) {
    append_websock_frame(bytes, WebsockOpcode::kBinary, {(const uint8_t*)text, 2}, true,
                         std::array<uint8_t, 4>{5, 6, 7, 8});
  }
  ASSERT_TRUE(write_all(*client, bytes.data(), bytes.size()).ok());
  ASSERT_TRUE((*server)->handshake().ok());
  ASSERT_TRUE((*server)->set_blocking(false).ok());
  std::string received;
  WebsockChannel& channel = **server;
  Loop::WatchId watch = channel.create_watch(**loop, kIn, [&](uint32_t) {
    char byte;
    IoResult read = channel.read(&byte, 1);
    if (read.is_bytes()) received.push_back(byte);
    return received.size() < 6 && !read.is_error() && !read.is_eof();
  });
  for (int i = 0; i < 200 && received.size() < 6; ++i) (*loop)->run_once(kPollPeriodNs);
  EXPECT_EQ(received, "abcdef");
  if (received.size() < 6) (*loop)->remove_watch(watch);
  char byte;
  EXPECT_TRUE(channel.read(&byte, 1).is_would_block());
}

}  // namespace
}  // namespace cr16::io
