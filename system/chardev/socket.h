// -serial tcp:HOST:PORT[,server=on][,wait=off] and unix:PATH[,...]: a stream
// socket channel as the UART's host side. A server (an io::NetListener)
// accepts one client at a time and listens again when it leaves; output with
// no client is dropped (as QEMU does). A client connects once at start-up.
#pragma once

#include <memory>
#include <string>

#include "io/channel_socket.h"
#include "io/net_listener.h"
#include "system/chardev/common.h"
#include "system/options.h"

namespace cr16::system {

class SocketCharBackend : public ChannelCharBackend {
 public:
  /// Binds and listens (server) or connects (client). Errors name the spec.
  /// A server with port 0 prints the port it got on stderr.
  static Expected<std::unique_ptr<SocketCharBackend>> open(io::Loop& loop, const SerialSpec& spec,
                                                           const std::string& label);
  ~SocketCharBackend() override;

  /// True for a wait=on server that has not had its first client yet: the
  /// machine keeps the guest stopped until then.
  bool waiting_for_client() const { return spec_.server && spec_.wait && !had_client_; }
  /// True while a peer is connected.
  bool connected() const { return client_ != nullptr; }
  /// The bound TCP port (servers), useful with port 0.
  uint16_t local_port() const { return local_port_; }

 protected:
  void on_input_closed() override;
  void on_output_failed(const Error& error) override;

 private:
  SocketCharBackend(io::Loop& loop, SerialSpec spec);
  void start_listening();
  void on_client(std::unique_ptr<io::SocketChannel> client);
  /// Makes `client` the connected peer (non-blocking, TCP_NODELAY).
  Error use_client(std::unique_ptr<io::SocketChannel> client);
  void disconnect();
  void schedule_disconnect();

  SerialSpec spec_;
  io::NetListener listener_;
  std::unique_ptr<io::SocketChannel> client_;
  bool had_client_ = false;
  uint16_t local_port_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards deferred callbacks
};

}  // namespace cr16::system
