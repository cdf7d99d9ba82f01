#include "io/channel_tls.h"

#include <cerrno>
#include <utility>

namespace cr16::io {
namespace {

constexpr size_t kCiphertextChunk = 16 * 1024 + 512;  // one TLS record and its overhead
constexpr size_t kMaxPlaintextPerWrite = 64 * 1024;

Error premature_eof_error() {
  return Error(
      "TLS premature EOF: the peer closed the connection without close_notify, "
      "the data may be truncated",
      kTlsPrematureEofErrno);
}

}  // namespace

bool is_tls_premature_eof(const Error& error) {
  return !error.ok() && error.errno_value() == kTlsPrematureEofErrno &&
         error.message().find("TLS premature EOF") != std::string::npos;
}

TlsChannel::TlsChannel(std::unique_ptr<Channel> master, std::unique_ptr<TlsSession> session)
    : FilterChannel(std::move(master), "tls"), session_(std::move(session)) {}

Expected<std::unique_ptr<TlsChannel>> TlsChannel::create(
    std::unique_ptr<Channel> master, std::shared_ptr<const TlsCredentials> credentials,
    const std::string& hostname) {
  if (!master) return Error("TLS channel: no master channel", EINVAL);
  auto session = TlsSession::create(std::move(credentials), hostname);
  if (!session) return session.error();
  std::unique_ptr<TlsChannel> channel(new TlsChannel(std::move(master), std::move(*session)));
  if (Error error = channel->attach_to_master(); !error.ok()) return error;
  return channel;
}

Expected<std::unique_ptr<TlsChannel>> TlsChannel::create_client(
    std::unique_ptr<Channel> master, std::shared_ptr<const TlsCredentials> credentials,
    const std::string& hostname) {
  if (credentials && credentials->endpoint() != TlsEndpoint::kClient) {
    return Error("TLS channel: client needs client credentials", EINVAL);
  }
  return create(std::move(master), std::move(credentials), hostname);
}

Expected<std::unique_ptr<TlsChannel>> TlsChannel::create_server(
    std::unique_ptr<Channel> master, std::shared_ptr<const TlsCredentials> credentials) {
  if (credentials && credentials->endpoint() != TlsEndpoint::kServer) {
    return Error("TLS channel: server needs server credentials", EINVAL);
  }
  return create(std::move(master), std::move(credentials), "");
}

IoResult TlsChannel::flush_ciphertext() {
  size_t total = 0;
  for (;;) {
    std::span<const uint8_t> pending = session_->pending_ciphertext();
    if (pending.empty()) return IoResult::bytes(total);
    IoResult result = master_->write(pending.data(), pending.size());
    if (result.is_error()) return result;
    if (result.is_would_block()) return result;
    if (result.count() == 0) return IoResult::would_block();
    session_->consume_ciphertext(result.count());
    total += result.count();
  }
}

IoResult TlsChannel::pull_ciphertext() {
  uint8_t buffer[kCiphertextChunk];
  IoResult result = master_->read(buffer, sizeof buffer);
  if (result.is_bytes()) session_->feed_ciphertext({buffer, result.count()});
  if (result.is_eof()) session_->mark_transport_eof();
  return result;
}

// ---------------------------------------------------------------------------
// Handshake

void TlsChannel::handshake_step() {
  for (;;) {
    IoResult flushed = flush_ciphertext();
    if (flushed.is_error()) return finish_handshake(flushed.error().with_context("TLS handshake"));
    Expected<bool> step = session_->handshake();
    if (!step) {
      (void)flush_ciphertext();  // best effort: let the peer see our alert
      return finish_handshake(step.error());
    }
    flushed = flush_ciphertext();
    if (flushed.is_error()) return finish_handshake(flushed.error().with_context("TLS handshake"));
    const bool output_pending = !session_->pending_ciphertext().empty();
    if (*step && !output_pending) return finish_handshake(Error());

    uint32_t wait_for = kOut;
    if (!output_pending) {
      IoResult pulled = pull_ciphertext();
      if (pulled.is_error()) {
        return finish_handshake(pulled.error().with_context("TLS handshake"));
      }
      if (!pulled.is_would_block()) continue;  // new input or EOF: step again
      wait_for = kIn;
    }
    return wait_on_master(wait_for);
  }
}

Error TlsChannel::handshake(Loop* loop) {
  if (closed_) return Error("TLS channel is closed", EBADF);
  auto write_out = [&]() -> Error {
    for (;;) {
      IoResult flushed = flush_ciphertext();
      if (flushed.is_error()) return flushed.error().with_context("TLS handshake");
      if (flushed.is_bytes()) return Error();
      if (Error error = master_->wait(kOut, loop); !error.ok()) return error;
    }
  };
  for (;;) {
    if (Error error = write_out(); !error.ok()) return error;
    Expected<bool> step = session_->handshake();
    if (!step) {
      (void)flush_ciphertext();
      return step.error();
    }
    if (Error error = write_out(); !error.ok()) return error;
    if (*step) {
      update_input_signal();
      return Error();
    }
    IoResult pulled = pull_ciphertext();
    if (pulled.is_error()) return pulled.error().with_context("TLS handshake");
    if (pulled.is_would_block()) {
      if (Error error = master_->wait(kIn, loop); !error.ok()) return error;
    }
  }
}

// ---------------------------------------------------------------------------
// Data

void TlsChannel::update_input_signal() {
  if (input_signal_) input_signal_->set(!closed_ && session_->has_buffered_input());
}

IoResult TlsChannel::do_readv(std::span<const iovec> iov, std::vector<UniqueFd>*, uint32_t) {
  IoResult result = read_plaintext(iov);
  update_input_signal();
  return result;
}

IoResult TlsChannel::read_plaintext(std::span<const iovec> iov) {
  if (closed_) return Error("TLS channel '" + name() + "' is closed", EBADF);
  if (!session_->handshake_complete()) {
    return Error("TLS channel '" + name() + "': read before the handshake completed", ENOTCONN);
  }
  if (!deferred_read_error_.ok()) return std::exchange(deferred_read_error_, Error());
  size_t total = 0;
  size_t segment = 0, offset = 0;
  while (segment < iov.size()) {
    if (offset == iov[segment].iov_len) {
      ++segment;
      offset = 0;
      continue;
    }
    std::span<uint8_t> room(static_cast<uint8_t*>(iov[segment].iov_base) + offset,
                            iov[segment].iov_len - offset);
    Expected<TlsReadResult> read = session_->read_plaintext(room);
    if (!read) {
      if (total > 0) {
        deferred_read_error_ = read.error();
        break;
      }
      return read.error();
    }
    if (read->status == TlsReadStatus::kData) {
      total += read->bytes;
      offset += read->bytes;
      continue;
    }
    if (total > 0) break;  // return what we have; the rest on the next call
    if (read->status == TlsReadStatus::kCleanEof) return IoResult::eof();
    if (read->status == TlsReadStatus::kPrematureEof) return premature_eof_error();
    // kWouldBlock: the session needs more ciphertext from the master.
    IoResult pulled = pull_ciphertext();
    if (pulled.is_error()) return pulled;
    if (pulled.is_would_block()) return pulled;
  }
  // Reading may have produced protocol messages for the peer (key updates).
  if (!session_->pending_ciphertext().empty()) {
    IoResult flushed = flush_ciphertext();
    if (flushed.is_error() && total == 0) return flushed;
  }
  return IoResult::bytes(total);
}

IoResult TlsChannel::do_writev(std::span<const iovec> iov, std::span<const int>, uint32_t) {
  if (closed_) return Error("TLS channel '" + name() + "' is closed", EBADF);
  if (!session_->handshake_complete()) {
    return Error("TLS channel '" + name() + "': write before the handshake completed", ENOTCONN);
  }
  IoResult flushed = flush_ciphertext();
  if (flushed.is_error()) return flushed;
  if (flushed.is_would_block()) return flushed;
  if (unflushed_plaintext_ > 0) return IoResult::bytes(std::exchange(unflushed_plaintext_, 0));

  size_t total = 0;
  for (const iovec& part : iov) {
    if (total >= kMaxPlaintextPerWrite) break;
    const size_t length = std::min(part.iov_len, kMaxPlaintextPerWrite - total);
    if (length == 0) continue;
    Expected<size_t> written =
        session_->write_plaintext({static_cast<const uint8_t*>(part.iov_base), length});
    if (!written) return written.error();
    total += *written;
  }
  flushed = flush_ciphertext();
  if (flushed.is_error()) return flushed;
  if (flushed.is_would_block()) {
    unflushed_plaintext_ = total;
    return flushed;
  }
  return IoResult::bytes(total);
}

bool TlsChannel::has_pending_input() const {
  return session_->has_buffered_input();
}

Error TlsChannel::bye(Loop* loop) {
  if (closed_) return Error("TLS channel '" + name() + "' is closed", EBADF);
  if (Error error = session_->send_close_notify(); !error.ok()) return error;
  for (;;) {
    IoResult flushed = flush_ciphertext();
    if (flushed.is_error()) return flushed.error().with_context("TLS bye");
    if (flushed.is_bytes()) break;
    if (Error error = master_->wait(kOut, loop); !error.ok()) return error;
  }
  unflushed_plaintext_ = 0;
  if (master_->has_feature(kFeatureShutdown)) {
    return master_->shutdown(ShutdownDirection::kWrite);
  }
  return Error();
}

// ---------------------------------------------------------------------------
// Closing (the rest of the delegation is in FilterChannel)

Error TlsChannel::close() {
  if (closed_) return Error();
  cancel_handshake();
  closed_ = true;
  return master_->close();
}

}  // namespace cr16::io
