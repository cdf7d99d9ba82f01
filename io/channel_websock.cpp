#include "io/channel_websock.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace cr16::io {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kMaxPayloadPerFrame = 64 * 1024;
// Pongs are not queued beyond this much unsent output, so a client that
// floods pings without reading cannot grow our buffer (RFC 6455 5.5.3 allows
// answering only some pings).
constexpr size_t kMaxQueuedOutputForPong = 64 * 1024;

}  // namespace

WebsockChannel::WebsockChannel(std::unique_ptr<Channel> master, WebsockLimits limits)
    : FilterChannel(std::move(master), "websock"), decoder_(limits, /*expect_masked=*/true) {}

Expected<std::unique_ptr<WebsockChannel>> WebsockChannel::create_server(
    std::unique_ptr<Channel> master, WebsockLimits limits) {
  if (!master) return Error("websocket channel: no master channel", EINVAL);
  std::unique_ptr<WebsockChannel> channel(new WebsockChannel(std::move(master), limits));
  if (Error error = channel->attach_to_master(); !error.ok()) return error;
  return channel;
}

IoResult WebsockChannel::flush_output() {
  size_t total = 0;
  while (output_offset_ < output_.size()) {
    IoResult result =
        master_->write(output_.data() + output_offset_, output_.size() - output_offset_);
    if (result.is_error() || result.is_would_block()) return result;
    if (result.count() == 0) return IoResult::would_block();
    output_offset_ += result.count();
    total += result.count();
  }
  output_.clear();
  output_offset_ = 0;
  return IoResult::bytes(total);
}

void WebsockChannel::queue_close(uint16_t code, std::string_view reason) {
  if (close_sent_) return;
  append_websock_frame(output_, WebsockOpcode::kClose, build_websock_close_payload(code, reason));
  close_sent_ = true;
}

// ---------------------------------------------------------------------------
// Handshake

Expected<WebsockChannel::HandshakeProgress> WebsockChannel::handshake_progress() {
  if (closed_) return Error("websocket channel '" + name() + "' is closed", EBADF);
  if (upgraded_) return HandshakeProgress::kDone;
  for (;;) {
    IoResult flushed = flush_output();
    if (flushed.is_error()) return flushed.error().with_context("websocket handshake");
    if (flushed.is_would_block()) return HandshakeProgress::kWantWrite;
    if (response_queued_) {
      if (!rejection_.ok()) {
        state_ = State::kFailed;
        failure_ = rejection_;
        return rejection_;
      }
      upgraded_ = true;
      state_ = State::kOpen;
      return HandshakeProgress::kDone;
    }
    char buffer[2048];
    const size_t room =
        kWebsockMaxHandshakeSize + 1 - std::min(request_bytes_.size(), kWebsockMaxHandshakeSize);
    IoResult got = master_->read(buffer, std::min(room, sizeof buffer));
    if (got.is_error()) return got.error().with_context("websocket handshake");
    if (got.is_would_block()) return HandshakeProgress::kWantRead;
    if (got.is_eof()) {
      state_ = State::kFailed;
      return Error(
          "websocket handshake: the client closed the connection before completing "
          "its upgrade request",
          ECONNRESET);
    }
    request_bytes_.append(buffer, got.count());
    WebsockHandshakeResult parsed = parse_websock_upgrade_request(request_bytes_);
    switch (parsed.status) {
      case WebsockHandshakeStatus::kIncomplete:
        continue;
      case WebsockHandshakeStatus::kComplete: {
        request_ = std::move(parsed.request);
        const std::string response = build_websock_upgrade_response(request_);
        output_.insert(output_.end(), response.begin(), response.end());
        // Frames the client sent right behind its request.
        const std::string_view rest = std::string_view(request_bytes_).substr(parsed.consumed);
        decoder_.feed({reinterpret_cast<const uint8_t*>(rest.data()), rest.size()});
        break;
      }
      case WebsockHandshakeStatus::kRejected: {
        const std::string response = build_websock_error_response(parsed.http_status, parsed.error);
        output_.insert(output_.end(), response.begin(), response.end());
        rejection_ = Error("websocket handshake rejected (HTTP " +
                               std::to_string(parsed.http_status) + "): " + parsed.error,
                           EPROTO);
        break;
      }
    }
    request_bytes_.clear();
    request_bytes_.shrink_to_fit();
    response_queued_ = true;
  }
}

void WebsockChannel::handshake_step() {
  Expected<HandshakeProgress> progress = handshake_progress();
  if (!progress) return finish_handshake(progress.error());
  if (*progress == HandshakeProgress::kDone) return finish_handshake(Error());
  wait_on_master(*progress == HandshakeProgress::kWantRead ? kIn : kOut);
}

Error WebsockChannel::handshake(Loop* loop) {
  for (;;) {
    Expected<HandshakeProgress> progress = handshake_progress();
    if (!progress) return progress.error();
    if (*progress == HandshakeProgress::kDone) {
      update_input_signal();
      return Error();
    }
    const uint32_t condition = *progress == HandshakeProgress::kWantRead ? kIn : kOut;
    if (Error error = master_->wait(condition, loop); !error.ok()) return error;
  }
}

// ---------------------------------------------------------------------------
// Data

size_t WebsockChannel::copy_out(std::span<const iovec> iov) {
  size_t total = 0;
  for (const iovec& part : iov) {
    const size_t available = payload_.size() - payload_offset_;
    if (available == 0) break;
    const size_t count = std::min(available, part.iov_len);
    std::memcpy(part.iov_base, payload_.data() + payload_offset_, count);
    payload_offset_ += count;
    total += count;
  }
  if (payload_offset_ == payload_.size()) {
    payload_.clear();
    payload_offset_ = 0;
  }
  return total;
}

void WebsockChannel::update_input_signal() {
  if (!input_signal_) return;
  const bool pending =
      !closed_ && upgraded_ &&
      (payload_offset_ < payload_.size() || state_ != State::kOpen || decoder_.has_event());
  input_signal_->set(pending);
}

IoResult WebsockChannel::do_readv(std::span<const iovec> iov, std::vector<UniqueFd>*, uint32_t) {
  IoResult result = read_payload(iov);
  update_input_signal();
  return result;
}

IoResult WebsockChannel::read_payload(std::span<const iovec> iov) {
  if (closed_) return Error("websocket channel '" + name() + "' is closed", EBADF);
  if (!upgraded_) {
    if (state_ == State::kFailed) return failure_;
    return Error("websocket channel '" + name() + "': read before the handshake completed",
                 ENOTCONN);
  }
  if (iov_size(iov) == 0) return IoResult::bytes(0);
  for (;;) {
    if (payload_offset_ < payload_.size()) {
      const size_t count = copy_out(iov);
      (void)flush_output();  // pongs or close answers; best effort
      return IoResult::bytes(count);
    }
    if (state_ == State::kPeerClosed) {
      (void)flush_output();
      return IoResult::eof();
    }
    if (state_ == State::kFailed) return failure_;

    WebsockEvent event = decoder_.next();
    switch (event.kind) {
      case WebsockEvent::Kind::kData:
        if (payload_.empty()) {
          payload_ = std::move(event.payload);
        } else {
          payload_.insert(payload_.end(), event.payload.begin(), event.payload.end());
        }
        continue;
      case WebsockEvent::Kind::kPing:
        if (!close_sent_ && output_.size() - output_offset_ < kMaxQueuedOutputForPong) {
          append_websock_frame(output_, WebsockOpcode::kPong, event.payload);
        }
        (void)flush_output();
        continue;
      case WebsockEvent::Kind::kPong:
        continue;
      case WebsockEvent::Kind::kClose:
        peer_close_code_ = event.close_code;
        queue_close(event.close_code == websock_close::kNoStatus ? websock_close::kNormal
                                                                 : event.close_code,
                    "");
        state_ = State::kPeerClosed;
        continue;
      case WebsockEvent::Kind::kProtocolError:
        queue_close(event.close_code, event.reason);
        (void)flush_output();
        failure_ = Error("websocket: " + event.reason, EPROTO);
        state_ = State::kFailed;
        return failure_;
      case WebsockEvent::Kind::kNeedMore:
        break;
    }
    uint8_t buffer[kReadChunk];
    IoResult got = master_->read(buffer, sizeof buffer);
    if (got.is_bytes()) {
      decoder_.feed({buffer, got.count()});
      continue;
    }
    if (got.is_eof()) {
      peer_close_code_ = websock_close::kAbnormal;
      state_ = State::kPeerClosed;
      continue;
    }
    return got;  // would-block or error
  }
}

IoResult WebsockChannel::do_writev(std::span<const iovec> iov, std::span<const int>, uint32_t) {
  if (closed_) return Error("websocket channel '" + name() + "' is closed", EBADF);
  if (!upgraded_) {
    return Error("websocket channel '" + name() + "': write before the handshake completed",
                 ENOTCONN);
  }
  IoResult flushed = flush_output();
  if (flushed.is_error() || flushed.is_would_block()) return flushed;
  if (unflushed_payload_ > 0) return IoResult::bytes(std::exchange(unflushed_payload_, 0));
  if (close_sent_) return Error("websocket channel '" + name() + "': write after close", EPIPE);

  std::vector<uint8_t> payload;
  payload.reserve(std::min(iov_size(iov), kMaxPayloadPerFrame));
  for (const iovec& part : iov) {
    const size_t count = std::min(part.iov_len, kMaxPayloadPerFrame - payload.size());
    const uint8_t* start = static_cast<const uint8_t*>(part.iov_base);
    payload.insert(payload.end(), start, start + count);
    if (payload.size() == kMaxPayloadPerFrame) break;
  }
  if (payload.empty()) return IoResult::bytes(0);
  append_websock_frame(output_, WebsockOpcode::kBinary, payload);
  flushed = flush_output();
  if (flushed.is_error()) return flushed;
  if (flushed.is_would_block()) {
    unflushed_payload_ = payload.size();
    return flushed;
  }
  return IoResult::bytes(payload.size());
}

Error WebsockChannel::send_close(uint16_t code, std::string_view reason, Loop* loop) {
  if (closed_) return Error("websocket channel '" + name() + "' is closed", EBADF);
  if (!upgraded_) return Error("websocket close before the handshake completed", ENOTCONN);
  queue_close(code, reason);
  for (;;) {
    IoResult flushed = flush_output();
    if (flushed.is_error()) return flushed.error().with_context("websocket close");
    if (flushed.is_bytes()) break;
    if (Error error = master_->wait(kOut, loop); !error.ok()) return error;
  }
  unflushed_payload_ = 0;
  return Error();
}

// ---------------------------------------------------------------------------
// Closing (the rest of the delegation is in FilterChannel)

Error WebsockChannel::close() {
  if (closed_) return Error();
  cancel_handshake();
  if (upgraded_ && state_ == State::kOpen && !close_sent_) {
    queue_close(websock_close::kNormal, "");
    (void)flush_output();
  }
  closed_ = true;
  return master_->close();
}

}  // namespace cr16::io
