// TlsCredentials and TlsSession without any channel: two sessions exchange
// ciphertext through memory, so every outcome is deterministic.
#include "io/tls_session.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "io/tls_credentials.h"
#include "tls_test_certs.h"

namespace cr16::io {
namespace {

using testing::TlsTestCertificates;

class TlsSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = TlsTestCertificates::create();
    ASSERT_TRUE(created) << created.error().message();
    certs_.emplace(std::move(*created));
  }

  std::shared_ptr<const TlsCredentials> load(const std::string& dir, TlsEndpoint endpoint,
                                             bool verify) {
    auto credentials = TlsCredentials::load_x509(dir, endpoint, verify);
    EXPECT_TRUE(credentials) << credentials.error().message();
    return credentials ? *credentials : nullptr;
  }

  std::unique_ptr<TlsSession> session(std::shared_ptr<const TlsCredentials> credentials,
                                      const std::string& host = "localhost") {
    auto created = TlsSession::create(std::move(credentials), host);
    EXPECT_TRUE(created) << created.error().message();
    return created ? std::move(*created) : nullptr;
  }

  std::optional<TlsTestCertificates> certs_;
};

// Moves every pending ciphertext byte from FROM to TO; true if any moved.
bool transfer(TlsSession& from, TlsSession& to) {
  auto pending = from.pending_ciphertext();
  if (pending.empty()) return false;
  std::vector<uint8_t> copy(pending.begin(), pending.end());
  from.consume_ciphertext(copy.size());
  to.feed_ciphertext(copy);
  return true;
}

struct HandshakeOutcome {
  Error client;
  Error server;
  bool client_done = false;
  bool server_done = false;
};

HandshakeOutcome run_handshake(TlsSession& client, TlsSession& server) {
  HandshakeOutcome outcome;
  for (int round = 0; round < 20; ++round) {
    if (!outcome.client_done && outcome.client.ok()) {
      auto step = client.handshake();
      if (!step)
        outcome.client = step.error();
      else
        outcome.client_done = *step;
    }
    if (!outcome.server_done && outcome.server.ok()) {
      auto step = server.handshake();
      if (!step)
        outcome.server = step.error();
      else
        outcome.server_done = *step;
    }
    const bool client_sent = transfer(client, server);
    const bool server_sent = transfer(server, client);
    const bool moved = client_sent || server_sent;
    if (!moved && (outcome.client_done || !outcome.client.ok()) &&
        (outcome.server_done || !outcome.server.ok())) {
      break;
    }
  }
  return outcome;
}

std::string read_all_available(TlsSession& session, TlsReadStatus* final_status) {
  std::string text;
  uint8_t buffer[64];
  for (;;) {
    auto result = session.read_plaintext(buffer);
    if (!result) {
      ADD_FAILURE() << result.error().message();
      return text;
    }
    if (result->status != TlsReadStatus::kData) {
      *final_status = result->status;
      return text;
    }
    text.append(reinterpret_cast<char*>(buffer), result->bytes);
  }
}

void write_text(TlsSession& session, const std::string& text) {
  auto written =
      session.write_plaintext({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  ASSERT_TRUE(written) << written.error().message();
  EXPECT_EQ(*written, text.size());
}

TEST_F(TlsSessionTest, HandshakeWithMutualVerificationCarriesDataBothWays) {
  auto client = session(load(certs_->client_dir(), TlsEndpoint::kClient, true));
  auto server = session(load(certs_->server_dir(), TlsEndpoint::kServer, true));
  ASSERT_TRUE(client && server);
  HandshakeOutcome outcome = run_handshake(*client, *server);
  ASSERT_TRUE(outcome.client.ok()) << outcome.client.message();
  ASSERT_TRUE(outcome.server.ok()) << outcome.server.message();
  ASSERT_TRUE(outcome.client_done && outcome.server_done);
  EXPECT_NE(server->peer_subject().find("cr16 test client"), std::string::npos);
  EXPECT_NE(client->peer_subject().find("localhost"), std::string::npos);

  write_text(*client, "hello from the client");
  transfer(*client, *server);
  TlsReadStatus status;
  EXPECT_EQ(read_all_available(*server, &status), "hello from the client");
  EXPECT_EQ(status, TlsReadStatus::kWouldBlock);

  std::string big(100000, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  write_text(*server, big);
  transfer(*server, *client);
  const std::string received = read_all_available(*client, &status);
  EXPECT_EQ(received.size(), big.size());
  EXPECT_TRUE(received == big) << "the 100000-byte payload differs";
  EXPECT_EQ(status, TlsReadStatus::kWouldBlock);
}

TEST_F(TlsSessionTest, HandshakeWithoutVerificationNeedsNoCa) {
  auto client = session(load(certs_->client_no_cert_dir(), TlsEndpoint::kClient, false));
  auto server = session(load(certs_->server_dir(), TlsEndpoint::kServer, false));
  ASSERT_TRUE(client && server);
  HandshakeOutcome outcome = run_handshake(*client, *server);
  EXPECT_TRUE(outcome.client_done && outcome.server_done)
      << outcome.client.message() << " / " << outcome.server.message();
}

TEST_F(TlsSessionTest, ServerFromWrongCaIsRefusedByClient) {
  auto client = session(load(certs_->client_dir(), TlsEndpoint::kClient, true));
  auto server = session(load(certs_->server_wrong_ca_dir(), TlsEndpoint::kServer, false));
  ASSERT_TRUE(client && server);
  HandshakeOutcome outcome = run_handshake(*client, *server);
  ASSERT_FALSE(outcome.client.ok());
  EXPECT_NE(outcome.client.message().find("certificate verification failed"), std::string::npos)
      << outcome.client.message();
  EXPECT_NE(outcome.client.message().find("local issuer"), std::string::npos)
      << outcome.client.message();
  // The client's alert reaches the server, which fails too.
  EXPECT_FALSE(outcome.server.ok());
}

TEST_F(TlsSessionTest, ClientFromWrongCaIsRefusedByServer) {
  auto client = session(load(certs_->client_wrong_ca_dir(), TlsEndpoint::kClient, false));
  auto server = session(load(certs_->server_dir(), TlsEndpoint::kServer, true));
  ASSERT_TRUE(client && server);
  HandshakeOutcome outcome = run_handshake(*client, *server);
  ASSERT_FALSE(outcome.server.ok());
  EXPECT_NE(outcome.server.message().find("certificate verification failed"), std::string::npos)
      << outcome.server.message();
}

TEST_F(TlsSessionTest, ExpiredServerCertificateIsRefused) {
  auto client = session(load(certs_->client_dir(), TlsEndpoint::kClient, true));
  auto server = session(load(certs_->server_expired_dir(), TlsEndpoint::kServer, false));
  ASSERT_TRUE(client && server);
  HandshakeOutcome outcome = run_handshake(*client, *server);
  ASSERT_FALSE(outcome.client.ok());
  EXPECT_NE(outcome.client.message().find("expired"), std::string::npos)
      << outcome.client.message();
}

TEST_F(TlsSessionTest, MissingClientCertificateIsRefusedWhenServerRequiresOne) {
  auto client = session(load(certs_->client_no_cert_dir(), TlsEndpoint::kClient, true));
  auto server = session(load(certs_->server_dir(), TlsEndpoint::kServer, true));
  ASSERT_TRUE(client && server);
  HandshakeOutcome outcome = run_handshake(*client, *server);
  ASSERT_FALSE(outcome.server.ok());
  EXPECT_NE(outcome.server.message().find("certificate"), std::string::npos)
      << outcome.server.message();
  // With TLS 1.3 the client finishes before the server decides; it learns of
  // the refusal from the alert at its first read.
  if (outcome.client.ok()) {
    uint8_t buffer[16];
    auto read = client->read_plaintext(buffer);
    ASSERT_FALSE(read);
    EXPECT_NE(read.error().message().find("certificate required"), std::string::npos)
        << read.error().message();
  }
}

TEST_F(TlsSessionTest, ClientRevokedByTheCaCrlIsRefused) {
  auto client = session(load(certs_->client_revoked_dir(), TlsEndpoint::kClient, true));
  auto server = session(load(certs_->server_with_crl_dir(), TlsEndpoint::kServer, true));
  ASSERT_TRUE(client && server);
  HandshakeOutcome outcome = run_handshake(*client, *server);
  ASSERT_FALSE(outcome.server.ok());
  EXPECT_NE(outcome.server.message().find("certificate revoked"), std::string::npos)
      << outcome.server.message();
}

TEST_F(TlsSessionTest, ClientNotOnTheCrlIsAccepted) {
  auto client = session(load(certs_->client_dir(), TlsEndpoint::kClient, true));
  auto server = session(load(certs_->server_with_crl_dir(), TlsEndpoint::kServer, true));
  ASSERT_TRUE(client && server);
  HandshakeOutcome outcome = run_handshake(*client, *server);
  EXPECT_TRUE(outcome.client_done && outcome.server_done)
      << outcome.client.message() << " / " << outcome.server.message();
}

TEST_F(TlsSessionTest, HostnameMismatchIsRefused) {
  auto client = session(load(certs_->client_dir(), TlsEndpoint::kClient, true), "example.org");
  auto server = session(load(certs_->server_dir(), TlsEndpoint::kServer, false));
  ASSERT_TRUE(client && server);
  HandshakeOutcome outcome = run_handshake(*client, *server);
  ASSERT_FALSE(outcome.client.ok());
  EXPECT_NE(outcome.client.message().find("mismatch"), std::string::npos)
      << outcome.client.message();
}

TEST_F(TlsSessionTest, IpAddressPeerNameMatchesSubjectAltName) {
  auto client = session(load(certs_->client_dir(), TlsEndpoint::kClient, true), "127.0.0.1");
  auto server = session(load(certs_->server_dir(), TlsEndpoint::kServer, false));
  ASSERT_TRUE(client && server);
  HandshakeOutcome outcome = run_handshake(*client, *server);
  EXPECT_TRUE(outcome.client_done) << outcome.client.message();
}

class TlsEstablishedTest : public TlsSessionTest {
 protected:
  void SetUp() override {
    TlsSessionTest::SetUp();
    client_ = session(load(certs_->client_dir(), TlsEndpoint::kClient, true));
    server_ = session(load(certs_->server_dir(), TlsEndpoint::kServer, true));
    ASSERT_TRUE(client_ && server_);
    HandshakeOutcome outcome = run_handshake(*client_, *server_);
    ASSERT_TRUE(outcome.client_done && outcome.server_done);
  }
  std::unique_ptr<TlsSession> client_, server_;
};

TEST_F(TlsEstablishedTest, CloseNotifyGivesCleanEofAfterTheData) {
  write_text(*client_, "last words");
  ASSERT_TRUE(client_->send_close_notify().ok());
  EXPECT_TRUE(client_->close_notify_sent());
  transfer(*client_, *server_);
  server_->mark_transport_eof();  // the client also closed its socket
  TlsReadStatus status;
  EXPECT_EQ(read_all_available(*server_, &status), "last words");
  EXPECT_EQ(status, TlsReadStatus::kCleanEof);
  EXPECT_TRUE(server_->close_notify_received());
  EXPECT_FALSE(client_->write_plaintext({reinterpret_cast<const uint8_t*>("x"), 1}));
}

TEST_F(TlsEstablishedTest, TransportEofWithoutCloseNotifyIsPremature) {
  write_text(*client_, "partial");
  transfer(*client_, *server_);
  server_->mark_transport_eof();
  TlsReadStatus status;
  EXPECT_EQ(read_all_available(*server_, &status), "partial");
  EXPECT_EQ(status, TlsReadStatus::kPrematureEof);
  EXPECT_FALSE(server_->close_notify_received());
}

TEST_F(TlsEstablishedTest, TruncatedRecordAtEofIsPremature) {
  write_text(*client_, "a record that will be cut in half");
  auto pending = client_->pending_ciphertext();
  std::vector<uint8_t> half(pending.begin(), pending.begin() + pending.size() / 2);
  server_->feed_ciphertext(half);
  server_->mark_transport_eof();
  TlsReadStatus status;
  EXPECT_EQ(read_all_available(*server_, &status), "");
  EXPECT_EQ(status, TlsReadStatus::kPrematureEof);
}

TEST_F(TlsEstablishedTest, GarbageCiphertextIsAnErrorNotACrash) {
  std::vector<uint8_t> garbage(300, 0x17);
  server_->feed_ciphertext(garbage);
  uint8_t buffer[16];
  auto read = server_->read_plaintext(buffer);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().message().find("TLS read failed"), std::string::npos);
  EXPECT_FALSE(server_->read_plaintext(buffer));
}

TEST_F(TlsSessionTest, HandshakeCutByTransportEofIsAnError) {
  auto client = session(load(certs_->client_dir(), TlsEndpoint::kClient, true));
  ASSERT_TRUE(client);
  auto step = client->handshake();
  ASSERT_TRUE(step);
  EXPECT_FALSE(*step);
  client->mark_transport_eof();
  auto again = client->handshake();
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message().find("closed the connection"), std::string::npos);
}

TEST_F(TlsSessionTest, CredentialsNameTheMissingFile) {
  auto missing = TlsCredentials::load_x509(certs_->client_dir(), TlsEndpoint::kServer, false);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("server-cert.pem"), std::string::npos);
  EXPECT_EQ(missing.error().errno_value(), ENOENT);

  auto no_ca = TlsCredentials::load_x509(certs_->root(), TlsEndpoint::kClient, true);
  ASSERT_FALSE(no_ca);
  EXPECT_NE(no_ca.error().message().find("ca-cert.pem"), std::string::npos);
}

TEST_F(TlsSessionTest, CredentialsRejectKeyThatDoesNotMatchCertificate) {
  const std::string dir = certs_->root() + "/mismatch";
  std::filesystem::create_directory(dir);
  std::filesystem::copy_file(certs_->server_dir() + "/server-cert.pem", dir + "/server-cert.pem");
  std::filesystem::copy_file(certs_->server_expired_dir() + "/server-key.pem",
                             dir + "/server-key.pem");
  auto loaded = TlsCredentials::load_x509(dir, TlsEndpoint::kServer, false);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message().find("mismatch"), std::string::npos)
      << loaded.error().message();
}

TEST_F(TlsSessionTest, CredentialsRejectHalfAClientPairAndGarbagePem) {
  const std::string dir = certs_->root() + "/half";
  std::filesystem::create_directory(dir);
  std::filesystem::copy_file(certs_->client_dir() + "/client-cert.pem", dir + "/client-cert.pem");
  auto half = TlsCredentials::load_x509(dir, TlsEndpoint::kClient, false);
  ASSERT_FALSE(half);
  EXPECT_NE(half.error().message().find("client-key.pem"), std::string::npos);

  std::ofstream(dir + "/client-key.pem") << "-----BEGIN PRIVATE KEY-----\nnot base64\n";
  auto garbage = TlsCredentials::load_x509(dir, TlsEndpoint::kClient, false);
  ASSERT_FALSE(garbage);
  EXPECT_NE(garbage.error().message().find("cannot load private key"), std::string::npos)
      << garbage.error().message();
}

TEST_F(TlsSessionTest, ClientCredentialsReportWhetherACertificateWasLoaded) {
  auto with = load(certs_->client_dir(), TlsEndpoint::kClient, true);
  auto without = load(certs_->client_no_cert_dir(), TlsEndpoint::kClient, true);
  ASSERT_TRUE(with && without);
  EXPECT_TRUE(with->has_client_certificate());
  EXPECT_FALSE(without->has_client_certificate());
}

}  // namespace
}  // namespace cr16::io
