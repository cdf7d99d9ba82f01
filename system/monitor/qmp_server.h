// The transports of QMP (qmp.h):
//  - QmpServer: a listening socket (-qmp unix:PATH,server=on,
//    -qmp tcp:HOST:PORT,server=on, -chardev socket,...,server=on with
//    -mon ...,mode=control) that serves several clients at once, each with
//    its own session and capabilities negotiation;
//  - QmpCharFrontend: QMP on any other character backend (-qmp stdio,
//    -qmp pty, a socket client, a mux port): one session per peer, started
//    again whenever the peer (re)connects.
// A client never stalls the guest: input is read in small chunks between
// CPU slices, output is queued without blocking, and a client whose queue
// outgrows its limit (it does not read) is dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hw/chardev.h"
#include "io/channel_socket.h"
#include "io/loop.h"
#include "io/net_listener.h"
#include "system/machine_control.h"
#include "system/monitor/qmp.h"
#include "system/options.h"

namespace cr16::system::monitor {

/// Per-client limits of the QMP transports.
struct QmpTransportLimits {
  /// Replies and events queued for a client that does not read; a client
  /// that would exceed it is dropped.
  size_t max_output = size_t{1} << 20;
  /// Bytes read from one client per loop iteration: a flood cannot hog the
  /// machine thread.
  size_t read_chunk = 4096;
  /// Clients served at once; a connection beyond it is closed at once.
  size_t max_clients = 16;
};

/// A QMP server on a listening socket. Machine thread only.
class QmpServer {
 public:
  /// Listens on `spec` (kTcp or kUnix with server=on). `label` names it in
  /// messages ("compat_monitor0"); a tcp server on port 0 prints the port
  /// it got, a wait=on server says it waits. Errors name the spec.
  static Expected<std::unique_ptr<QmpServer>> open(io::Loop& loop, MachineControl& control,
                                                   const SerialSpec& spec, std::string label,
                                                   QmpSessionOptions session = {},
                                                   QmpTransportLimits limits = {});
  ~QmpServer();
  QmpServer(const QmpServer&) = delete;
  QmpServer& operator=(const QmpServer&) = delete;

  /// True for a wait=on server that has not had a client yet: the machine
  /// holds the start (prelaunch) until then.
  bool waiting_for_client() const { return spec_.wait && !had_client_; }
  /// Clients connected now (those being dropped excluded).
  size_t client_count() const;
  /// Clients dropped because they did not read, or beyond max_clients.
  uint64_t dropped_clients() const { return dropped_; }
  /// The bound TCP port (useful with port 0); 0 for UNIX sockets.
  uint16_t local_port() const { return local_port_; }
  /// The label and the filename query-chardev reports ("unix:/p,server=on",
  /// prefixed "disconnected:" while no client is connected).
  const std::string& label() const { return label_; }
  std::string filename() const;
  /// Writes what the clients still have queued, waiting at most
  /// `timeout_ms` in all (at exit, so the reply to `quit` arrives). Blocks.
  void drain(int timeout_ms);

 private:
  struct Client;
  QmpServer(io::Loop& loop, MachineControl& control, SerialSpec spec, std::string label,
            QmpSessionOptions session, QmpTransportLimits limits);
  void on_client(std::unique_ptr<io::SocketChannel> channel);
  bool on_readable(Client& client);
  bool on_writable(Client& client);
  bool queue(Client& client, std::string_view message);
  bool flush(Client& client);
  void close_later(Client& client, const char* why);

  io::Loop& loop_;
  MachineControl& control_;
  SerialSpec spec_;
  std::string label_;
  QmpSessionOptions session_options_;
  QmpTransportLimits limits_;
  io::NetListener listener_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<char> read_buffer_;
  uint64_t next_client_id_ = 1;
  uint64_t dropped_ = 0;
  bool had_client_ = false;
  uint16_t local_port_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards deferred closes
};

/// QMP on a character backend. Machine thread only.
class QmpCharFrontend : public CharFrontend {
 public:
  /// Attaches to `backend` (not owned; must outlive this); a session starts
  /// (greeting) whenever the backend reports its peer opened.
  QmpCharFrontend(MachineControl& control, CharBackend& backend, std::string label,
                  QmpSessionOptions options = {});
  ~QmpCharFrontend() override;
  QmpCharFrontend(const QmpCharFrontend&) = delete;
  QmpCharFrontend& operator=(const QmpCharFrontend&) = delete;

  /// True while a peer has a session.
  bool has_session() const { return session_ != nullptr; }

  // CharFrontend
  size_t can_receive() override;
  void receive(std::span<const uint8_t> bytes) override;
  void char_event(CharEvent event) override;

 private:
  void start_session();

  MachineControl& control_;
  CharBackend& backend_;
  std::string label_;
  QmpSessionOptions options_;
  std::unique_ptr<QmpSession> session_;
  bool receiving_ = false;      // inside session_->receive()
  bool close_pending_ = false;  // the peer left while receiving_
};

}  // namespace cr16::system::monitor
