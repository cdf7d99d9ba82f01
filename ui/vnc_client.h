// One VNC viewer's connection: an RfbServerSession fed from an io channel
// (a socket, TLS after VeNCrypt, or a WebSocket — over TLS for wss), the
// client's dirty rows, its pixel converter and zlib stream, and a bounded
// output backlog written without blocking through the loop. While the
// backlog is above its limit no update is built: changed rows just
// accumulate and go out later as one update. Loop (machine) thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/channel.h"
#include "io/loop.h"
#include "io/socket_address.h"
#include "io/tls_credentials.h"
#include "ui/display_hub.h"
#include "ui/keymap.h"
#include "ui/rfb_encoding.h"
#include "ui/rfb_protocol.h"

namespace cr16::ui {

/// Bounds for one client.
struct VncClientLimits {
  /// While more output than this waits, no new update is built.
  size_t update_backlog = 256 * 1024;
  /// A client whose backlog grows past this (it can only by handshake or
  /// key-ack chatter it never reads) is closed.
  size_t max_backlog = 16 * 1024 * 1024;
  /// Bytes read per readiness report.
  size_t read_chunk = 64 * 1024;
  /// A connection that has not sent ClientInit by then (TLS, WebSocket
  /// and RFB handshakes included) is closed.
  int64_t handshake_timeout_ns = 30'000'000'000;
};

class VncClient;

/// What a client needs from its server.
class VncClientHost {
 public:
  virtual ~VncClientHost() = default;
  /// The current screen (null when none is known yet).
  virtual const Screen* vnc_screen() = 0;
  /// Queues a key for the guest; false when it was dropped.
  virtual bool vnc_send_key(Scancode code, bool down) = 0;
  /// The desktop name for ServerInit.
  virtual std::string vnc_desktop_name() = 0;
  /// CLIENT closed; the host destroys it later (never from inside this call).
  virtual void vnc_client_closed(VncClient& client) = 0;
};

/// How the connection reached us.
struct VncTransport {
  bool websocket = false;  // RFB inside WebSocket binary frames
  /// With websocket: TLS first (wss). Without: RFB offers VeNCrypt X509None
  /// only (not None) and starts TLS when the client chose it.
  std::shared_ptr<const io::TlsCredentials> tls;
};

/// Per-client counters (tests and statistics).
struct VncClientStats {
  uint64_t updates_sent = 0;  // FramebufferUpdate messages with pixels
  uint64_t rects_sent = 0;
  uint64_t bytes_queued = 0;      // everything ever queued for the client
  uint64_t updates_deferred = 0;  // times an update waited for the backlog to drain
};

class VncClient {
 public:
  /// Takes CHANNEL (an accepted connection); start() begins the
  /// transport and RFB handshakes. LOOP and HOST must outlive the client.
  VncClient(io::Loop& loop, VncClientHost& host, std::unique_ptr<io::Channel> channel,
            VncTransport transport, VncClientLimits limits, std::string name);
  ~VncClient();
  VncClient(const VncClient&) = delete;
  VncClient& operator=(const VncClient&) = delete;

  /// Starts the handshakes; failures close the client (host told).
  void start();

  /// The screen changed: adds the changed rows to this client's dirty
  /// region and sends an update if one was requested and the backlog allows.
  void screen_changed(const Screen& screen, const ScreenUpdate& update);

  /// Closes the connection now (idempotent). REASON, when given, is logged.
  void close(const std::string& reason);

  bool closed() const { return closed_; }
  /// True once ClientInit arrived (the client takes updates).
  bool ready() const { return ready_; }
  /// Bytes queued but not yet written.
  size_t backlog() const { return output_.size() - output_start_; }
  const VncClientStats& stats() const { return stats_; }
  const std::string& name() const { return name_; }
  /// Where the viewer connects from (query-vnc), when the socket knows.
  const std::optional<io::SocketAddress>& peer() const { return peer_; }
  void set_peer(io::SocketAddress peer) { peer_ = std::move(peer); }
  bool websocket() const { return transport_.websocket; }

 private:
  enum class Stage { kTransport, kRfb, kStartTls, kClosed };

  template <typename Layer>
  void layer(const char* what, Expected<std::unique_ptr<Layer>> created,
             std::function<void()> next);
  void start_transport_tls();
  void start_transport_websock();
  void begin_rfb();
  void start_vencrypt_tls();
  void watch_input();
  bool on_readable();
  bool on_writable();
  void handle_event(const RfbEvent& event);
  void queue(std::vector<uint8_t> bytes);
  void queue_session_output();
  void flush();
  void try_send_update();
  void mark_all_dirty();
  int zlib_level() const;
  void sync_server_init_size();

  io::Loop& loop_;
  VncClientHost& host_;
  std::unique_ptr<io::Channel> channel_;
  VncTransport transport_;
  VncClientLimits limits_;
  std::string name_;
  std::optional<io::SocketAddress> peer_;
  std::unique_ptr<RfbServerSession> session_;
  Stage stage_ = Stage::kTransport;
  bool closed_ = false;
  bool ready_ = false;
  io::Loop::WatchId input_watch_ = 0;
  io::Loop::WatchId output_watch_ = 0;
  io::Loop::TimerId handshake_timer_ = 0;
  std::vector<uint8_t> read_buffer_;
  std::vector<uint8_t> output_;
  size_t output_start_ = 0;

  // Updates.
  std::optional<PixelConverter> converter_;
  std::unique_ptr<ZlibEncoder> zlib_;
  std::vector<bool> dirty_;  // rows changed since they were last sent
  bool request_pending_ = false;
  bool request_full_ = false;  // the pending request was non-incremental
  RfbRect request_;
  bool extended_keys_acked_ = false;
  VncClientStats stats_;
};

}  // namespace cr16::ui
