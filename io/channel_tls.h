// A TLS channel (OpenSSL 3) layered on any "master" channel, client or
// server, in the style of QEMU's QIOChannelTLS: the handshake runs as an
// asynchronous operation driven by watches on the master (or synchronously),
// reads and writes carry plaintext, and bye() sends close_notify so the peer
// can tell a clean end of stream from a truncated one.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/channel_filter.h"
#include "io/tls_credentials.h"
#include "io/tls_session.h"
#include "util/error.h"

namespace cr16::io {

/// The errno carried by the premature-EOF error (see is_tls_premature_eof).
inline constexpr int kTlsPrematureEofErrno = EPROTO;

/// True when ERROR is the TLS channel's "premature EOF" read error: the
/// transport ended without a close_notify, so the stream may be truncated.
bool is_tls_premature_eof(const Error& error);

/// TLS over a master channel. Owns the master. Supports kFeatureShutdown
/// when the master does; no fd passing, no zero-copy, no MSG_PEEK.
///
/// Reads return plaintext; end of file is reported only after the peer's
/// close_notify. A transport EOF without close_notify is an Error for which
/// is_tls_premature_eof() is true.
///
/// Non-blocking writes follow QEMU/GnuTLS rules: when writev returns
/// would-block, the caller must retry with the same data (write_all does).
/// Input the session already holds (decrypted or not) counts as readable
/// for watches and wait(): the channel's read fd is a private epoll set of
/// the master's fd and an eventfd raised while such input is buffered (when
/// the master has no pollable fd, the master's readiness is used as is).
class TlsChannel : public FilterChannel {
 public:
  /// A client over MASTER. HOSTNAME is sent as SNI and, when the
  /// credentials verify the peer, must match the server certificate.
  static Expected<std::unique_ptr<TlsChannel>> create_client(
      std::unique_ptr<Channel> master, std::shared_ptr<const TlsCredentials> credentials,
      const std::string& hostname);
  /// A server over MASTER (typically an accepted socket).
  static Expected<std::unique_ptr<TlsChannel>> create_server(
      std::unique_ptr<Channel> master, std::shared_ptr<const TlsCredentials> credentials);

  // start_handshake() (FilterChannel) runs the handshake asynchronously.
  /// Runs the whole handshake now, waiting on the master (through LOOP's
  /// iterations when given, else poll). Returns ok or why it failed.
  Error handshake(Loop* loop = nullptr);
  bool handshake_complete() const { return session_->handshake_complete(); }

  /// Ends the stream cleanly: sends close_notify, writes out all pending
  /// ciphertext (waiting as in handshake()), then shuts down the master's
  /// write side when it supports shutdown. Reading stays possible.
  Error bye(Loop* loop = nullptr);

  /// True when decrypted or undecrypted input is buffered in the session,
  /// so a read may succeed even if the master is not readable.
  bool has_pending_input() const;

  const TlsSession& session() const { return *session_; }

  Error close() override;

 protected:
  IoResult do_readv(std::span<const iovec> iov, std::vector<UniqueFd>* fds,
                    uint32_t flags) override;
  IoResult do_writev(std::span<const iovec> iov, std::span<const int> fds, uint32_t flags) override;

 private:
  TlsChannel(std::unique_ptr<Channel> master, std::unique_ptr<TlsSession> session);
  static Expected<std::unique_ptr<TlsChannel>> create(
      std::unique_ptr<Channel> master, std::shared_ptr<const TlsCredentials> credentials,
      const std::string& hostname);

  /// Writes pending ciphertext to the master until it is empty (ok, bytes)
  /// or the master would block (would-block); errors are returned.
  IoResult flush_ciphertext();
  /// Reads one chunk of ciphertext from the master into the session.
  IoResult pull_ciphertext();
  IoResult read_plaintext(std::span<const iovec> iov);
  void update_input_signal() override;
  void handshake_step() override;

  std::unique_ptr<TlsSession> session_;
  // Plaintext bytes already encrypted whose ciphertext could not all be
  // written yet (reported to the caller once the ciphertext is out).
  size_t unflushed_plaintext_ = 0;
  Error deferred_read_error_;
};

}  // namespace cr16::io
