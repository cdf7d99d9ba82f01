// The VNC server (see vnc_server.h).
#include "ui/vnc_server.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace cr16::ui {

Expected<std::unique_ptr<VncServer>> VncServer::open(io::Loop& loop, DisplayHub* hub,
                                                     VncServerConfig config) {
  std::unique_ptr<VncServer> server(new VncServer(loop, hub, std::move(config)));
  if (server->config_.rfb_address) {
    if (Error error = server->rfb_listener_.open(*server->config_.rfb_address); !error.ok()) {
      return error;
    }
  }
  if (server->config_.websocket_address) {
    if (Error error = server->websocket_listener_.open(*server->config_.websocket_address);
        !error.ok()) {
      return error.with_context("websocket");
    }
  }
  VncServer* raw = server.get();
  server->rfb_listener_.set_client_callback(
      [raw](std::unique_ptr<io::SocketChannel> client) { raw->accept(std::move(client), false); });
  server->websocket_listener_.set_client_callback(
      [raw](std::unique_ptr<io::SocketChannel> client) { raw->accept(std::move(client), true); });
  return server;
}

VncServer::VncServer(io::Loop& loop, DisplayHub* hub, VncServerConfig config)
    : loop_(loop),
      hub_(hub),
      config_(std::move(config)),
      rfb_listener_(loop),
      websocket_listener_(loop),
      name_(config_.name) {}

VncServer::~VncServer() {
  *alive_ = false;
  rfb_listener_.disconnect();  // a UNIX listener unlinks its path
  websocket_listener_.disconnect();
  attach_hub(false);
  clients_.clear();
}

void VncServer::accept(std::unique_ptr<io::SocketChannel> channel, bool websocket) {
  (void)channel->set_delay(false);  // a no-op on UNIX sockets
  std::string name =
      std::string(websocket ? "websocket" : "rfb") + " client " + std::to_string(next_client_id_++);
  channel->set_name("vnc " + name);
  Expected<io::SocketAddress> peer = channel->remote_address();
  VncTransport transport;
  transport.websocket = websocket;
  transport.tls = config_.tls;
  // The hub first, so ServerInit tells the real size of the screen.
  attach_hub(true);
  auto client = std::make_unique<VncClient>(loop_, *this, std::move(channel), std::move(transport),
                                            config_.limits, name);
  VncClient* raw = client.get();
  if (peer) raw->set_peer(std::move(*peer));
  clients_.push_back(std::move(client));
  raw->start();
}

void VncServer::attach_hub(bool on) {
  if (hub_ == nullptr || hub_attached_ == on) return;
  hub_attached_ = on;
  if (on) {
    screen_ = &hub_->screen();
    hub_->add_listener(this);  // refreshes at once
  } else {
    hub_->remove_listener(this);
  }
}

void VncServer::screen_updated(const Screen& screen, const ScreenUpdate& update) {
  screen_ = &screen;
  for (const auto& client : clients_) client->screen_changed(screen, update);
}

void VncServer::machine_state_changed(std::string_view name, std::string_view state) {
  (void)state;
  if (!name.empty()) name_ = std::string(name);
}

bool VncServer::vnc_send_key(Scancode code, bool down) {
  if (key_sink_) return key_sink_(code, down);
  return hub_ != nullptr && hub_->send_key(code, down);
}

void VncServer::vnc_client_closed(VncClient& client) {
  (void)client;
  if (reap_scheduled_) return;
  reap_scheduled_ = true;
  std::weak_ptr<bool> alive = alive_;
  loop_.schedule([this, alive] {
    if (alive.expired() || !*alive.lock()) return;
    reap();
  });
}

void VncServer::reap() {
  reap_scheduled_ = false;
  std::erase_if(clients_,
                [](const std::unique_ptr<VncClient>& client) { return client->closed(); });
  if (clients_.empty()) attach_hub(false);
}

std::vector<io::SocketAddress> VncServer::rfb_addresses() const {
  return rfb_listener_.addresses();
}

std::vector<io::SocketAddress> VncServer::websocket_addresses() const {
  return websocket_listener_.addresses();
}

size_t VncServer::client_count() const {
  return static_cast<size_t>(std::count_if(clients_.begin(), clients_.end(),
                                           [](const auto& client) { return !client->closed(); }));
}

std::vector<const VncClient*> VncServer::clients() const {
  std::vector<const VncClient*> result;
  for (const auto& client : clients_) {
    if (!client->closed()) result.push_back(client.get());
  }
  return result;
}

}  // namespace cr16::ui
