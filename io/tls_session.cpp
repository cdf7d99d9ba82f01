#include "io/tls_session.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <climits>

namespace cr16::io {
namespace {

bool is_ip_address(const std::string& text) {
  unsigned char scratch[16];
  return inet_pton(AF_INET, text.c_str(), scratch) == 1 ||
         inet_pton(AF_INET6, text.c_str(), scratch) == 1;
}

}  // namespace

TlsSession::TlsSession(std::shared_ptr<const TlsCredentials> credentials, SSL* ssl, BIO* input,
                       BIO* output)
    : credentials_(std::move(credentials)), ssl_(ssl), input_(input), output_(output) {}

TlsSession::~TlsSession() {
  SSL_free(ssl_);
}  // frees both BIOs too

Expected<std::unique_ptr<TlsSession>> TlsSession::create(
    std::shared_ptr<const TlsCredentials> credentials, const std::string& peer_hostname) {
  if (!credentials) return Error("TLS session: no credentials");
  ERR_clear_error();
  SSL* ssl = SSL_new(credentials->context());
  if (!ssl) return Error("TLS session: " + tls_take_openssl_errors("cannot create SSL object"));
  BIO* input = BIO_new(BIO_s_mem());
  BIO* output = BIO_new(BIO_s_mem());
  if (!input || !output) {
    BIO_free(input);
    BIO_free(output);
    SSL_free(ssl);
    return Error("TLS session: cannot create memory BIOs");
  }
  // An empty input BIO means "retry later", never end of file: the channel
  // tracks the transport's end itself (mark_transport_eof).
  BIO_set_mem_eof_return(input, -1);
  SSL_set_bio(ssl, input, output);
  std::unique_ptr<TlsSession> session(new TlsSession(std::move(credentials), ssl, input, output));

  if (session->credentials_->endpoint() == TlsEndpoint::kServer) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
    if (!peer_hostname.empty()) {
      const bool ip = is_ip_address(peer_hostname);
      if (!ip && SSL_set_tlsext_host_name(ssl, peer_hostname.c_str()) != 1) {
        return Error("TLS session: invalid server name '" + peer_hostname + "'");
      }
      if (session->credentials_->verify_peer() && SSL_set1_host(ssl, peer_hostname.c_str()) != 1) {
        return Error("TLS session: cannot check the peer against '" + peer_hostname + "'");
      }
    }
  }
  return session;
}

void TlsSession::feed_ciphertext(std::span<const uint8_t> data) {
  size_t offset = 0;
  while (offset < data.size()) {
    const size_t chunk = std::min<size_t>(data.size() - offset, INT_MAX);
    const int written = BIO_write(input_, data.data() + offset, static_cast<int>(chunk));
    if (written <= 0) break;  // only on allocation failure; the read then fails
    offset += static_cast<size_t>(written);
  }
}

std::span<const uint8_t> TlsSession::pending_ciphertext() const {
  char* data = nullptr;
  const long length = BIO_get_mem_data(output_, &data);
  if (length <= 0 || !data) return {};
  return {reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(length)};
}

void TlsSession::consume_ciphertext(size_t count) {
  uint8_t scratch[4096];
  while (count > 0) {
    const int chunk = static_cast<int>(std::min(count, sizeof scratch));
    const int taken = BIO_read(output_, scratch, chunk);
    if (taken <= 0) break;
    count -= static_cast<size_t>(taken);
  }
}

Error TlsSession::describe_failure(int ssl_error, const char* operation) {
  failed_ = true;
  std::string detail;
  const long verify_result = SSL_get_verify_result(ssl_);
  if (verify_result != X509_V_OK) {
    detail = std::string("certificate verification failed: ") +
             X509_verify_cert_error_string(verify_result);
    ERR_clear_error();
  } else if (ssl_error == SSL_ERROR_SSL) {
    detail = tls_take_openssl_errors("protocol error");
  } else if (ssl_error == SSL_ERROR_SYSCALL) {
    detail = tls_take_openssl_errors("unexpected end of the transport");
  } else {
    detail = tls_take_openssl_errors("error " + std::to_string(ssl_error));
  }
  return Error(std::string("TLS ") + operation + " failed: " + detail);
}

Expected<bool> TlsSession::handshake() {
  if (handshake_complete_) return true;
  if (failed_) return Error("TLS handshake failed earlier");
  ERR_clear_error();
  const int result = SSL_do_handshake(ssl_);
  if (result == 1) {
    handshake_complete_ = true;
    return true;
  }
  const int ssl_error = SSL_get_error(ssl_, result);
  if (ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE) {
    if (ssl_error == SSL_ERROR_WANT_READ && transport_eof_) {
      failed_ = true;
      return Error("TLS handshake failed: the peer closed the connection");
    }
    return false;
  }
  return describe_failure(ssl_error, "handshake");
}

Expected<TlsReadResult> TlsSession::read_plaintext(std::span<uint8_t> buffer) {
  if (!handshake_complete_) return Error("TLS read before the handshake completed");
  if (failed_) return Error("TLS read on a failed session");
  if (buffer.empty()) return TlsReadResult{TlsReadStatus::kData, 0};
  ERR_clear_error();
  size_t got = 0;
  const int result = SSL_read_ex(ssl_, buffer.data(), buffer.size(), &got);
  if (result == 1) return TlsReadResult{TlsReadStatus::kData, got};
  const int ssl_error = SSL_get_error(ssl_, result);
  switch (ssl_error) {
    case SSL_ERROR_ZERO_RETURN:
      return TlsReadResult{TlsReadStatus::kCleanEof, 0};
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      if (transport_eof_) return TlsReadResult{TlsReadStatus::kPrematureEof, 0};
      return TlsReadResult{TlsReadStatus::kWouldBlock, 0};
    default:
      return describe_failure(ssl_error, "read");
  }
}

Expected<size_t> TlsSession::write_plaintext(std::span<const uint8_t> data) {
  if (!handshake_complete_) return Error("TLS write before the handshake completed");
  if (failed_) return Error("TLS write on a failed session");
  if (close_notify_sent_) return Error("TLS write after close_notify was sent");
  if (data.empty()) return size_t{0};
  ERR_clear_error();
  // The output BIO grows as needed, so every record is accepted; with partial
  // writes enabled each call encrypts at most one record.
  size_t total = 0;
  while (total < data.size()) {
    size_t written = 0;
    const int result = SSL_write_ex(ssl_, data.data() + total, data.size() - total, &written);
    if (result != 1) return describe_failure(SSL_get_error(ssl_, result), "write");
    total += written;
  }
  return total;
}

Error TlsSession::send_close_notify() {
  if (close_notify_sent_) return Error();
  if (failed_) return Error("TLS close_notify on a failed session");
  if (!handshake_complete_) return Error("TLS close_notify before the handshake completed");
  ERR_clear_error();
  const int result = SSL_shutdown(ssl_);
  if (result < 0) {
    const int ssl_error = SSL_get_error(ssl_, result);
    if (ssl_error != SSL_ERROR_WANT_READ && ssl_error != SSL_ERROR_WANT_WRITE) {
      return describe_failure(ssl_error, "shutdown");
    }
  }
  close_notify_sent_ = true;
  return Error();
}

bool TlsSession::close_notify_received() const {
  return (SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) != 0;
}

bool TlsSession::has_buffered_input() const {
  return SSL_pending(ssl_) > 0 || BIO_ctrl_pending(input_) > 0;
}

std::string TlsSession::peer_subject() const {
  X509* peer = SSL_get1_peer_certificate(ssl_);
  if (!peer) return "";
  std::string text;
  if (char* line = X509_NAME_oneline(X509_get_subject_name(peer), nullptr, 0)) {
    text = line;
    OPENSSL_free(line);
  }
  X509_free(peer);
  return text;
}

std::string TlsSession::protocol_version() const {
  return SSL_get_version(ssl_);
}

}  // namespace cr16::io
