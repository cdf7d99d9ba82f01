// The VNC server front end: RFB listeners (TCP or UNIX) and an optional
// WebSocket listener (wss with TLS credentials) on the machine's loop, the
// connected clients (vnc_client.h), the guest screen from the DisplayHub
// (it listens only while a client is connected) and keys back to it.
// Machine thread only.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/loop.h"
#include "io/net_listener.h"
#include "io/socket_address.h"
#include "io/tls_credentials.h"
#include "ui/display_hub.h"
#include "ui/vnc_client.h"

namespace cr16::ui {

struct VncServerConfig {
  /// Where RFB clients connect (none: only the WebSocket listener).
  std::optional<io::SocketAddress> rfb_address;
  /// Where WebSocket clients (noVNC) connect.
  std::optional<io::SocketAddress> websocket_address;
  /// Server credentials: RFB clients must use VeNCrypt X509None, and the
  /// WebSocket listener speaks wss.
  std::shared_ptr<const io::TlsCredentials> tls;
  VncClientLimits limits;
  /// The desktop name until machine_state_changed() gives the VM's.
  std::string name = "cr16-system";
};

class VncServer : public Frontend, public DisplayListener, public VncClientHost {
 public:
  /// Opens the listeners (blocking binds). HUB may be null (tests): the
  /// screen is then whatever screen_updated() was last given, and keys go
  /// to the sink set with set_key_sink(). LOOP and HUB must outlive it.
  static Expected<std::unique_ptr<VncServer>> open(io::Loop& loop, DisplayHub* hub,
                                                   VncServerConfig config);
  ~VncServer() override;

  void screen_updated(const Screen& screen, const ScreenUpdate& update) override;
  void machine_state_changed(std::string_view name, std::string_view state) override;

  /// Where keys go instead of the hub's keyboard (tests).
  void set_key_sink(std::function<bool(Scancode, bool)> sink) { key_sink_ = std::move(sink); }

  /// The bound addresses (real ports for port 0).
  std::vector<io::SocketAddress> rfb_addresses() const;
  std::vector<io::SocketAddress> websocket_addresses() const;
  /// True when viewers must use TLS (VeNCrypt X509None; wss).
  bool tls() const { return config_.tls != nullptr; }
  /// Connected clients (not yet cleaned up ones excluded).
  size_t client_count() const;
  /// The clients, for statistics (tests).
  std::vector<const VncClient*> clients() const;

 private:
  VncServer(io::Loop& loop, DisplayHub* hub, VncServerConfig config);
  void accept(std::unique_ptr<io::SocketChannel> channel, bool websocket);
  void reap();
  void attach_hub(bool on);

  const Screen* vnc_screen() override { return screen_; }
  bool vnc_send_key(Scancode code, bool down) override;
  std::string vnc_desktop_name() override { return name_; }
  void vnc_client_closed(VncClient& client) override;

  io::Loop& loop_;
  DisplayHub* hub_;
  VncServerConfig config_;
  io::NetListener rfb_listener_;
  io::NetListener websocket_listener_;
  std::vector<std::unique_ptr<VncClient>> clients_;
  const Screen* screen_ = nullptr;
  bool hub_attached_ = false;
  bool reap_scheduled_ = false;
  uint64_t next_client_id_ = 1;
  std::string name_;
  std::function<bool(Scancode, bool)> key_sink_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cr16::ui
