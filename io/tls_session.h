// A TLS session engine over OpenSSL memory BIOs: ciphertext goes in and out
// as bytes, plaintext is read and written through the session. It does no
// I/O of its own, so it is driven by a channel (io/channel_tls.h) or directly
// by tests that shuttle bytes between two sessions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "io/tls_credentials.h"
#include "util/error.h"

typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace cr16::io {

/// Outcome of a plaintext read.
enum class TlsReadStatus {
  kData,          // `bytes` bytes of plaintext were copied out
  kWouldBlock,    // more ciphertext is needed; feed it and retry
  kCleanEof,      // the peer sent close_notify: a clean end of stream
  kPrematureEof,  // the transport ended without close_notify: data may be truncated
};

struct TlsReadResult {
  TlsReadStatus status = TlsReadStatus::kWouldBlock;
  size_t bytes = 0;
};

/// One TLS connection's state machine. Not thread-safe: one thread at a time.
class TlsSession {
 public:
  /// Creates a session for the credentials' endpoint. For a client,
  /// PEER_HOSTNAME (a DNS name or an IP address; may be empty) is sent as SNI
  /// when it is a name, and, when the credentials verify the peer, must match
  /// the server certificate.
  static Expected<std::unique_ptr<TlsSession>> create(
      std::shared_ptr<const TlsCredentials> credentials, const std::string& peer_hostname);

  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  /// Hands ciphertext received from the transport to the session.
  void feed_ciphertext(std::span<const uint8_t> data);
  /// Records that the transport reached end of file: no more ciphertext will
  /// come. A later read that needs more input reports kPrematureEof unless a
  /// close_notify was received.
  void mark_transport_eof() { transport_eof_ = true; }
  bool transport_eof() const { return transport_eof_; }

  /// Ciphertext waiting to be sent to the transport (valid until the next
  /// call on this session).
  std::span<const uint8_t> pending_ciphertext() const;
  /// Drops the first COUNT bytes of pending_ciphertext() once they were sent.
  void consume_ciphertext(size_t count);

  /// Advances the handshake with the ciphertext fed so far. Returns true when
  /// it is complete, false when it needs more input (send the pending
  /// ciphertext first, then feed the peer's answer). An Error says why the
  /// handshake was refused (certificate verification, alert from the peer,
  /// transport closed); any pending ciphertext then holds an alert for the
  /// peer and should still be sent.
  Expected<bool> handshake();
  bool handshake_complete() const { return handshake_complete_; }

  /// Reads up to BUFFER.size() bytes of plaintext. Only after the handshake.
  /// Reading may produce ciphertext to send (TLS 1.3 post-handshake
  /// messages): check pending_ciphertext() afterwards.
  Expected<TlsReadResult> read_plaintext(std::span<uint8_t> buffer);

  /// Encrypts DATA into the pending ciphertext and returns the bytes taken
  /// (all of them). Fails after the handshake failed or after
  /// send_close_notify().
  Expected<size_t> write_plaintext(std::span<const uint8_t> data);

  /// Queues a close_notify alert in the pending ciphertext. Further writes
  /// fail; reads still work until the peer's own close_notify. Idempotent.
  Error send_close_notify();
  bool close_notify_sent() const { return close_notify_sent_; }
  bool close_notify_received() const;

  /// True when received bytes wait in the session: decrypted plaintext not
  /// read yet, or ciphertext fed but not yet processed. False after a read
  /// that needed more input (the session then holds at most a partial
  /// record, which only more ciphertext can complete).
  bool has_buffered_input() const;

  /// The peer certificate's subject as one line, or "" when there is none.
  std::string peer_subject() const;
  /// The negotiated protocol version, e.g. "TLSv1.3" (after the handshake).
  std::string protocol_version() const;

 private:
  TlsSession(std::shared_ptr<const TlsCredentials> credentials, SSL* ssl, BIO* input, BIO* output);
  Error describe_failure(int ssl_error, const char* operation);

  std::shared_ptr<const TlsCredentials> credentials_;
  SSL* ssl_;
  BIO* input_;   // ciphertext from the peer; owned by ssl_
  BIO* output_;  // ciphertext for the peer; owned by ssl_
  bool transport_eof_ = false;
  bool handshake_complete_ = false;
  bool failed_ = false;
  bool close_notify_sent_ = false;
};

}  // namespace cr16::io
