// A WebSocket server channel (RFC 6455) over any master channel, in the
// style of QEMU's QIOChannelWebsock: it answers the client's HTTP upgrade,
// then turns the byte stream into binary frames and back. Built on the pure
// pieces in io/websock_protocol.h.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/channel_filter.h"
#include "io/websock_protocol.h"
#include "util/error.h"

namespace cr16::io {

/// Server side of a WebSocket connection. Owns the master channel.
///
/// Reads return the payload bytes of the client's data frames (text or
/// binary) as one stream; fragments arrive in order. Pings are answered with
/// pongs, pongs are ignored. A close frame from the client is answered with
/// a close frame and reads then return end of file. Invalid input (bad
/// masking, reserved bits, oversized frames per WebsockLimits, broken
/// fragmentation) makes the channel send a close frame with the matching
/// status code (1002, 1009) and fail the read with an Error naming the
/// problem. Writes send binary frames.
///
/// Non-blocking writes follow the same rule as TlsChannel: after a
/// would-block result the caller retries with the same data (write_all does).
/// As with TlsChannel, input already buffered (decoded payload, complete
/// frames) makes the channel's read fd readable for watches and wait().
class WebsockChannel : public FilterChannel {
 public:
  /// A server over MASTER (an accepted connection). LIMITS bound what the
  /// client may send.
  static Expected<std::unique_ptr<WebsockChannel>> create_server(std::unique_ptr<Channel> master,
                                                                 WebsockLimits limits = {});

  // start_handshake() (FilterChannel) reads the upgrade request and answers
  // it asynchronously. A bad request is answered with an HTTP error and the
  // callback gets an Error with the reason; a client that disconnects or
  // sends garbage gives an Error too.
  /// The same, synchronously, waiting on the master (through LOOP when given).
  Error handshake(Loop* loop = nullptr);
  bool handshake_complete() const { return upgraded_; }
  /// The accepted upgrade request (valid after the handshake).
  const WebsockUpgradeRequest& request() const { return request_; }

  /// Sends a close frame with CODE and REASON (once) and writes it out,
  /// waiting as handshake() does. Later writes fail; reads continue until
  /// the client's close frame.
  Error send_close(uint16_t code, std::string_view reason, Loop* loop = nullptr);
  bool close_sent() const { return close_sent_; }
  /// True once the client closed: its close frame was read (peer_close_code
  /// is its code, 1005 if it had none) or it disconnected without one
  /// (peer_close_code is 1006).
  bool close_received() const { return state_ == State::kPeerClosed; }
  uint16_t peer_close_code() const { return peer_close_code_; }

  /// Bytes of frames (pongs, close, data) waiting to be written to the master.
  size_t queued_output_bytes() const { return output_.size() - output_offset_; }

  /// Sends a normal-closure frame if none was sent (best effort, without
  /// waiting), then closes the master.
  Error close() override;

 protected:
  IoResult do_readv(std::span<const iovec> iov, std::vector<UniqueFd>* fds,
                    uint32_t flags) override;
  IoResult do_writev(std::span<const iovec> iov, std::span<const int> fds, uint32_t flags) override;

 private:
  enum class State { kHandshake, kOpen, kPeerClosed, kFailed };
  /// What one handshake step decided.
  enum class HandshakeProgress { kDone, kWantRead, kWantWrite };

  WebsockChannel(std::unique_ptr<Channel> master, WebsockLimits limits);

  /// Writes queued output until it is empty (bytes), the master would block
  /// (would-block) or fails (error).
  IoResult flush_output();
  /// Queues a close frame (once).
  void queue_close(uint16_t code, std::string_view reason);
  /// Advances the handshake as far as possible without waiting.
  Expected<HandshakeProgress> handshake_progress();
  void handshake_step() override;
  /// Moves buffered payload bytes into IOV; returns the count.
  size_t copy_out(std::span<const iovec> iov);
  IoResult read_payload(std::span<const iovec> iov);
  void update_input_signal() override;

  WebsockStreamDecoder decoder_;
  State state_ = State::kHandshake;
  std::string request_bytes_;
  WebsockUpgradeRequest request_;
  Error rejection_;  // set when the request was refused
  bool response_queued_ = false;
  bool upgraded_ = false;
  std::vector<uint8_t> output_;
  size_t output_offset_ = 0;
  std::vector<uint8_t> payload_;  // decoded, not yet read
  size_t payload_offset_ = 0;
  size_t unflushed_payload_ = 0;  // accepted bytes whose frame is still queued
  bool close_sent_ = false;
  uint16_t peer_close_code_ = 0;
  Error failure_;
};

}  // namespace cr16::io
