// -serial tcp:HOST:PORT[,server=on][,wait=off] and unix:PATH[,...]: a stream
// socket as the UART's host side. A server accepts one client at a time and
// listens again when it leaves; output with no client is dropped (as QEMU
// does). A client connects once at start-up.
#pragma once

#include <memory>
#include <string>

#include "system/chardev_common.h"
#include "system/options.h"

namespace cr16::system {

class SocketCharBackend : public FdCharBackend {
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
  bool connected() const { return client_fd_ >= 0; }
  /// The bound TCP port (servers), useful with port 0.
  uint16_t local_port() const { return local_port_; }

 protected:
  void on_input_closed() override;
  void on_output_failed() override;

 private:
  SocketCharBackend(io::Loop& loop, SerialSpec spec);
  void start_listening();
  bool on_accept();
  void disconnect();
  void schedule_disconnect();

  SerialSpec spec_;
  int listen_fd_ = -1;
  int client_fd_ = -1;
  bool had_client_ = false;
  uint16_t local_port_ = 0;
  io::Loop::WatchId accept_watch_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards deferred callbacks
};

}  // namespace cr16::system
