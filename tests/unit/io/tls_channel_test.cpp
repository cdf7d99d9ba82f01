// TlsChannel over a socketpair master: asynchronous handshakes on both loop
// backends, blocking use from threads, refusals, bye vs. a cut connection.
#include "io/channel_tls.h"

#include <gtest/gtest.h>

#include <optional>
#include <thread>

#include "io/channel_socket.h"
#include "io/loop.h"
#include "io_test_util.h"
#include "tls_test_certs.h"
#include "tls_test_fd_channel.h"

namespace cr16::io {
namespace {

using testing::FdStreamChannel;
using testing::TlsTestCertificates;

// run_once() runs bottom halves before it waits, so a result produced by one
// may still be followed by a full wait: keep each wait short.
constexpr int64_t kPollPeriodNs = 20'000'000;

struct Endpoints {
  std::unique_ptr<TlsChannel> client;
  std::unique_ptr<TlsChannel> server;
};

class TlsChannelTest : public ::testing::TestWithParam<LoopBackend> {
 protected:
  void SetUp() override {
    auto created = TlsTestCertificates::create();
    ASSERT_TRUE(created) << created.error().message();
    certs_.emplace(std::move(*created));
    auto loop = Loop::create(GetParam());
    ASSERT_TRUE(loop) << loop.error().message();
    loop_ = std::move(*loop);
  }

  std::shared_ptr<const TlsCredentials> load(const std::string& dir, TlsEndpoint endpoint,
                                             bool verify) {
    auto credentials = TlsCredentials::load_x509(dir, endpoint, verify);
    EXPECT_TRUE(credentials) << credentials.error().message();
    return credentials ? *credentials : nullptr;
  }

  Endpoints make(const std::string& client_dir, bool client_verify, const std::string& server_dir,
                 bool server_verify) {
    auto [a, b] = FdStreamChannel::pair();
    EXPECT_TRUE(a && b);
    auto client = TlsChannel::create_client(
        std::move(a), load(client_dir, TlsEndpoint::kClient, client_verify), "localhost");
    auto server = TlsChannel::create_server(std::move(b),
                                            load(server_dir, TlsEndpoint::kServer, server_verify));
    EXPECT_TRUE(client) << client.error().message();
    EXPECT_TRUE(server) << server.error().message();
    Endpoints endpoints;
    if (client) endpoints.client = std::move(*client);
    if (server) endpoints.server = std::move(*server);
    return endpoints;
  }

  // Runs both handshakes on the loop until both callbacks ran.
  std::pair<Error, Error> handshake_async(Endpoints& endpoints) {
    std::optional<Error> client_result, server_result;
    endpoints.client->start_handshake(*loop_, [&](Error e) { client_result = std::move(e); });
    endpoints.server->start_handshake(*loop_, [&](Error e) { server_result = std::move(e); });
    for (int i = 0; i < 10000 && !(client_result && server_result); ++i) {
      loop_->run_once(kPollPeriodNs);
    }
    EXPECT_TRUE(client_result && server_result) << "a handshake never completed";
    return {client_result.value_or(Error("no result")), server_result.value_or(Error("no result"))};
  }

  Endpoints established() {
    Endpoints endpoints = make(certs_->client_dir(), true, certs_->server_dir(), true);
    if (!endpoints.client || !endpoints.server) return endpoints;
    auto [client_error, server_error] = handshake_async(endpoints);
    EXPECT_TRUE(client_error.ok()) << client_error.message();
    EXPECT_TRUE(server_error.ok()) << server_error.message();
    return endpoints;
  }

  std::optional<TlsTestCertificates> certs_;
  std::unique_ptr<Loop> loop_;
};

std::string read_string(Channel& channel, size_t length, Loop* loop) {
  std::string text(length, '\0');
  Error error = read_all(channel, text.data(), text.size(), loop);
  EXPECT_TRUE(error.ok()) << error.message();
  return text;
}

TEST_P(TlsChannelTest, AsyncHandshakeThenDataBothWays) {
  Endpoints tls = established();
  ASSERT_TRUE(tls.client && tls.server);
  EXPECT_TRUE(tls.client->handshake_complete());
  EXPECT_TRUE(tls.client->is_blocking()) << "blocking mode must be restored";
  EXPECT_NE(tls.server->session().peer_subject().find("cr16 test client"), std::string::npos);

  ASSERT_TRUE(write_all(*tls.client, "ping from client", 16, loop_.get()).ok());
  EXPECT_EQ(read_string(*tls.server, 16, loop_.get()), "ping from client");
  ASSERT_TRUE(write_all(*tls.server, "pong from server", 16, loop_.get()).ok());
  EXPECT_EQ(read_string(*tls.client, 16, loop_.get()), "pong from server");
}

TEST_P(TlsChannelTest, NonBlockingReadWouldBlockUntilDataArrives) {
  Endpoints tls = established();
  ASSERT_TRUE(tls.client && tls.server);
  ASSERT_TRUE(tls.server->set_blocking(false).ok());
  char buffer[8];
  IoResult nothing = tls.server->read(buffer, sizeof buffer);
  EXPECT_TRUE(nothing.is_would_block());
  ASSERT_TRUE(write_all(*tls.client, "abc", 3, loop_.get()).ok());
  EXPECT_EQ(read_string(*tls.server, 3, loop_.get()), "abc");
}

TEST_P(TlsChannelTest, BlockingHandshakeAndMegabyteEchoAcrossThreads) {
  Endpoints tls = make(certs_->client_dir(), true, certs_->server_dir(), true);
  ASSERT_TRUE(tls.client && tls.server);
  const std::vector<uint8_t> payload = make_payload(1 << 20, 7);
  Error server_error;
  std::thread server([&] {
    if (server_error = tls.server->handshake(); !server_error.ok()) return;
    std::vector<uint8_t> received(payload.size());
    if (server_error = read_all(*tls.server, received.data(), received.size()); !server_error.ok())
      return;
    if (server_error = write_all(*tls.server, received.data(), received.size()); !server_error.ok())
      return;
    server_error = tls.server->bye();
  });
  Error handshake = tls.client->handshake();
  EXPECT_TRUE(handshake.ok()) << handshake.message();
  // 1 MiB in 250 iovecs.
  std::vector<iovec> iov;
  const size_t chunk = payload.size() / 250;
  for (size_t offset = 0; offset < payload.size(); offset += chunk) {
    iov.push_back(
        {const_cast<uint8_t*>(payload.data()) + offset, std::min(chunk, payload.size() - offset)});
  }
  if (handshake.ok()) {
    Error written = write_all(*tls.client, iov);
    EXPECT_TRUE(written.ok()) << written.message();
    std::vector<uint8_t> echoed(payload.size());
    Error read = read_all(*tls.client, echoed.data(), echoed.size());
    EXPECT_TRUE(read.ok()) << read.message();
    EXPECT_TRUE(echoed == payload) << "echoed bytes differ";
    char extra;
    IoResult end = tls.client->read(&extra, 1);
    EXPECT_TRUE(end.is_eof()) << "after bye the client must see a clean EOF";
  }
  server.join();
  EXPECT_TRUE(server_error.ok()) << server_error.message();
}

TEST_P(TlsChannelTest, ServerFromWrongCaIsRefused) {
  Endpoints tls = make(certs_->client_dir(), true, certs_->server_wrong_ca_dir(), false);
  ASSERT_TRUE(tls.client && tls.server);
  auto [client_error, server_error] = handshake_async(tls);
  ASSERT_FALSE(client_error.ok());
  EXPECT_NE(client_error.message().find("certificate verification failed"), std::string::npos)
      << client_error.message();
  EXPECT_FALSE(server_error.ok()) << "the server must see the client's alert";
}

TEST_P(TlsChannelTest, ExpiredServerCertificateIsRefused) {
  Endpoints tls = make(certs_->client_dir(), true, certs_->server_expired_dir(), false);
  ASSERT_TRUE(tls.client && tls.server);
  auto [client_error, server_error] = handshake_async(tls);
  ASSERT_FALSE(client_error.ok());
  EXPECT_NE(client_error.message().find("certificate has expired"), std::string::npos)
      << client_error.message();
}

TEST_P(TlsChannelTest, MissingClientCertificateIsRefused) {
  Endpoints tls = make(certs_->client_no_cert_dir(), true, certs_->server_dir(), true);
  ASSERT_TRUE(tls.client && tls.server);
  auto [client_error, server_error] = handshake_async(tls);
  ASSERT_FALSE(server_error.ok());
  EXPECT_NE(server_error.message().find("did not return a certificate"), std::string::npos)
      << server_error.message();
  if (client_error.ok()) {  // TLS 1.3: the client learns at its first read
    char byte;
    IoResult read = tls.client->read(&byte, 1);
    ASSERT_TRUE(read.is_error());
    EXPECT_NE(read.error().message().find("certificate required"), std::string::npos)
        << read.error().message();
  }
}

TEST_P(TlsChannelTest, ByeGivesThePeerACleanEof) {
  Endpoints tls = established();
  ASSERT_TRUE(tls.client && tls.server);
  ASSERT_TRUE(write_all(*tls.client, "final", 5, loop_.get()).ok());
  Error bye = tls.client->bye(loop_.get());
  ASSERT_TRUE(bye.ok()) << bye.message();
  EXPECT_EQ(read_string(*tls.server, 5, loop_.get()), "final");
  char byte;
  IoResult end = tls.server->read(&byte, 1);
  EXPECT_TRUE(end.is_eof()) << (end.is_error() ? end.error().message() : "not eof");
  EXPECT_TRUE(tls.server->session().close_notify_received());
  EXPECT_TRUE(tls.client->write("x", 1).is_error()) << "no writes after bye";
}

TEST_P(TlsChannelTest, CutConnectionIsADistinctPrematureEof) {
  Endpoints tls = established();
  ASSERT_TRUE(tls.client && tls.server);
  ASSERT_TRUE(write_all(*tls.client, "partial", 7, loop_.get()).ok());
  ASSERT_TRUE(tls.client->master().close().ok());  // no close_notify
  EXPECT_EQ(read_string(*tls.server, 7, loop_.get()), "partial");
  char byte;
  IoResult end = tls.server->read(&byte, 1);
  ASSERT_TRUE(end.is_error());
  EXPECT_TRUE(is_tls_premature_eof(end.error())) << end.error().message();
  EXPECT_NE(end.error().message().find("close_notify"), std::string::npos);
  // read_all_or_eof must not mistake it for a clean end of stream.
  char more[4];
  iovec iov{more, sizeof more};
  Expected<bool> again = read_all_or_eof(*tls.server, {&iov, 1}, loop_.get());
  ASSERT_FALSE(again);
  EXPECT_TRUE(is_tls_premature_eof(again.error())) << again.error().message();
}

TEST_P(TlsChannelTest, PeerClosingMidHandshakeFailsCleanly) {
  auto [raw_client, server_master] = FdStreamChannel::pair();
  ASSERT_TRUE(raw_client && server_master);
  auto server = TlsChannel::create_server(std::move(server_master),
                                          load(certs_->server_dir(), TlsEndpoint::kServer, false));
  ASSERT_TRUE(server);
  std::optional<Error> result;
  (*server)->start_handshake(*loop_, [&](Error e) { result = std::move(e); });
  // A truncated ClientHello record header, then the peer goes away.
  const uint8_t partial[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
  ASSERT_TRUE(write_all(*raw_client, partial, sizeof partial).ok());
  for (int i = 0; i < 5 && !result; ++i) loop_->run_once(0);
  EXPECT_FALSE(result) << "the handshake must wait for the rest of the record";
  raw_client.reset();
  for (int i = 0; i < 1000 && !result; ++i) loop_->run_once(kPollPeriodNs);
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->ok());
  EXPECT_NE(result->message().find("closed the connection"), std::string::npos)
      << result->message();
}

TEST_P(TlsChannelTest, GarbageFromThePeerFailsTheHandshake) {
  auto [raw_client, server_master] = FdStreamChannel::pair();
  ASSERT_TRUE(raw_client && server_master);
  auto server = TlsChannel::create_server(std::move(server_master),
                                          load(certs_->server_dir(), TlsEndpoint::kServer, false));
  ASSERT_TRUE(server);
  std::optional<Error> result;
  (*server)->start_handshake(*loop_, [&](Error e) { result = std::move(e); });
  const char garbage[] = "GET / HTTP/1.1\r\nHost: not-tls\r\n\r\n";
  ASSERT_TRUE(write_all(*raw_client, garbage, sizeof garbage - 1).ok());
  for (int i = 0; i < 1000 && !result; ++i) loop_->run_once(kPollPeriodNs);
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->ok());
  EXPECT_NE(result->message().find("TLS handshake failed"), std::string::npos) << result->message();
}

TEST_P(TlsChannelTest, DestroyingTheChannelCancelsAPendingHandshake) {
  auto [raw_client, server_master] = FdStreamChannel::pair();
  ASSERT_TRUE(raw_client && server_master);
  auto server = TlsChannel::create_server(std::move(server_master),
                                          load(certs_->server_dir(), TlsEndpoint::kServer, false));
  ASSERT_TRUE(server);
  bool called = false;
  (*server)->start_handshake(*loop_, [&](Error) { called = true; });
  loop_->run_once(0);                               // the handshake is now waiting on a watch
  server->reset();                                  // removes the watch and closes the master
  (void)write_all(*raw_client, "\x16\x03\x01", 3);  // may fail: the peer is gone
  for (int i = 0; i < 5; ++i) loop_->run_once(0);
  EXPECT_FALSE(called);

  // Destroyed before its first step ran (the step is a bottom half).
  auto [other_client, other_master] = FdStreamChannel::pair();
  auto other = TlsChannel::create_server(std::move(other_master),
                                         load(certs_->server_dir(), TlsEndpoint::kServer, false));
  ASSERT_TRUE(other);
  (*other)->start_handshake(*loop_, [&](Error) { called = true; });
  other->reset();
  for (int i = 0; i < 5; ++i) loop_->run_once(0);
  EXPECT_FALSE(called);
}

TEST_P(TlsChannelTest, ReadOrWriteBeforeTheHandshakeIsAnError) {
  Endpoints tls = make(certs_->client_dir(), true, certs_->server_dir(), true);
  ASSERT_TRUE(tls.client);
  char byte = 0;
  IoResult read = tls.client->read(&byte, 1);
  ASSERT_TRUE(read.is_error());
  EXPECT_EQ(read.error().errno_value(), ENOTCONN);
  EXPECT_TRUE(tls.client->write(&byte, 1).is_error());
}

TEST_P(TlsChannelTest, CredentialsMustMatchTheRole) {
  auto [a, b] = FdStreamChannel::pair();
  auto wrong = TlsChannel::create_client(
      std::move(a), load(certs_->server_dir(), TlsEndpoint::kServer, false), "localhost");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message().find("client credentials"), std::string::npos);
}

// The real socket channel as master: TCP loopback, the server name checked
// against the certificate's IP address, then bye and a cut connection.
TEST_P(TlsChannelTest, OverTcpSocketChannelWithIpAddressName) {
  auto listener = SocketChannel::listen(SocketAddress::inet("127.0.0.1", 0));
  ASSERT_TRUE(listener) << listener.error().message();
  auto address = (*listener)->local_address();
  ASSERT_TRUE(address) << address.error().message();
  auto connected = SocketChannel::connect(*address);
  ASSERT_TRUE(connected) << connected.error().message();
  auto accepted = (*listener)->accept();
  ASSERT_TRUE(accepted && *accepted) << "accept failed";
  auto client = TlsChannel::create_client(
      std::move(*connected), load(certs_->client_dir(), TlsEndpoint::kClient, true), "127.0.0.1");
  auto server = TlsChannel::create_server(std::move(*accepted),
                                          load(certs_->server_dir(), TlsEndpoint::kServer, true));
  ASSERT_TRUE(client && server);
  EXPECT_TRUE((*client)->has_feature(kFeatureShutdown));
  Endpoints tls{std::move(*client), std::move(*server)};
  auto [client_error, server_error] = handshake_async(tls);
  ASSERT_TRUE(client_error.ok()) << client_error.message();
  ASSERT_TRUE(server_error.ok()) << server_error.message();

  const std::vector<uint8_t> payload = make_payload(300000, 3);
  Error server_result;
  std::thread reader([&] {
    std::vector<uint8_t> received(payload.size());
    if (server_result = read_all(*tls.server, received.data(), received.size());
        !server_result.ok())
      return;
    if (received != payload) server_result = Error("payload differs");
  });
  Error written = write_all(*tls.client, payload.data(), payload.size());
  EXPECT_TRUE(written.ok()) << written.message();
  reader.join();
  EXPECT_TRUE(server_result.ok()) << server_result.message();

  ASSERT_TRUE(tls.server->bye().ok());
  char byte;
  EXPECT_TRUE(tls.client->read(&byte, 1).is_eof()) << "bye must read as a clean EOF";
  ASSERT_TRUE(tls.client->master().close().ok());
  IoResult cut = tls.server->read(&byte, 1);
  ASSERT_TRUE(cut.is_error());
  EXPECT_TRUE(is_tls_premature_eof(cut.error())) << cut.error().message();
}

TEST_P(TlsChannelTest, NonBlockingWritesRetryUntilTheMasterDrains) {
  Endpoints tls = established();
  ASSERT_TRUE(tls.client && tls.server);
  ASSERT_TRUE(tls.client->set_blocking(false).ok());
  // Far more than the socketpair buffers: writes must hit would-block and
  // be retried with the same data, without losing or repeating bytes.
  const std::vector<uint8_t> payload = make_payload(4 << 20, 11);
  Error reader_result;
  std::thread reader([&] {
    std::vector<uint8_t> received(payload.size());
    if (reader_result = read_all(*tls.server, received.data(), received.size());
        !reader_result.ok())
      return;
    if (received != payload) reader_result = Error("received bytes differ");
  });
  size_t would_blocks = 0, offset = 0;
  while (offset < payload.size()) {
    IoResult wrote = tls.client->write(payload.data() + offset, payload.size() - offset);
    if (wrote.is_error()) {
      ADD_FAILURE() << wrote.error().message();
      break;
    }
    if (wrote.is_would_block()) {
      ++would_blocks;
      ASSERT_TRUE(tls.client->wait(kOut, loop_.get()).ok());
      continue;
    }
    offset += wrote.count();
  }
  reader.join();
  EXPECT_TRUE(reader_result.ok()) << reader_result.message();
  EXPECT_GT(would_blocks, 0u) << "the test did not exercise the would-block path";
}

TEST_P(TlsChannelTest, WatchKeepsFiringWhileTheSessionHoldsInput) {
  Endpoints tls = established();
  ASSERT_TRUE(tls.client && tls.server);
  // Two records arrive together; the first read pulls both from the socket,
  // so the socket alone would never wake the watch for the second one.
  ASSERT_TRUE(write_all(*tls.client, "abc", 3).ok());
  ASSERT_TRUE(write_all(*tls.client, "def", 3).ok());
  ASSERT_TRUE(tls.server->set_blocking(false).ok());
  std::string received;
  bool saw_would_block = false;
  Loop::WatchId watch = tls.server->create_watch(*loop_, kIn, [&](uint32_t) {
    char byte;
    IoResult read = tls.server->read(&byte, 1);  // one byte per wake-up
    if (read.is_bytes()) received.push_back(byte);
    if (read.is_would_block()) saw_would_block = true;
    return received.size() < 6 && !read.is_error() && !read.is_eof();
  });
  for (int i = 0; i < 200 && received.size() < 6; ++i) loop_->run_once(kPollPeriodNs);
  EXPECT_EQ(received, "abcdef");
  if (received.size() < 6) loop_->remove_watch(watch);
  // Nothing left: the signal is clear, so wait() would block and a read
  // says would-block (no busy wake-ups).
  char byte;
  EXPECT_TRUE(tls.server->read(&byte, 1).is_would_block());
  EXPECT_FALSE(tls.server->has_pending_input());
  (void)saw_would_block;
}

INSTANTIATE_TEST_SUITE_P(Backends, TlsChannelTest,
                         ::testing::Values(LoopBackend::kEpoll, LoopBackend::kIoUring),
                         [](const ::testing::TestParamInfo<LoopBackend>& info) {
                           return std::string(info.param == LoopBackend::kEpoll ? "epoll"
                                                                                : "io_uring");
                         });

}  // namespace
}  // namespace cr16::io
