// The network listener: listening sockets on one or more addresses, each
// watched on a loop, with one callback per accepted client.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "io/channel_socket.h"
#include "io/loop.h"
#include "io/task.h"

namespace cr16::io {

class NetListener {
 public:
  /// Receives each accepted client (a blocking SocketChannel it now owns).
  using ClientCallback = std::function<void(std::unique_ptr<SocketChannel> client)>;

  /// A listener whose watches run on `loop` (which must outlive it).
  explicit NetListener(Loop& loop);
  ~NetListener();
  NetListener(const NetListener&) = delete;
  NetListener& operator=(const NetListener&) = delete;

  /// Listens on one more address (blocking). Port 0 picks a free port.
  Error open(const SocketAddress& address, int backlog = 16);
  /// open() on a worker thread; `done` runs on the loop.
  TaskHandle open_async(SocketAddress address, std::function<void(Error)> done);

  /// Sets the callback and starts accepting on every listening socket
  /// (also those opened later). nullptr stops accepting.
  void set_client_callback(ClientCallback callback);

  /// The bound addresses (with the real port for port 0).
  std::vector<SocketAddress> addresses() const;
  size_t listener_count() const { return listeners_.size(); }

  /// Stops watching and closes every listening socket.
  void disconnect();

 private:
  struct Listening {
    std::unique_ptr<SocketChannel> channel;
    Loop::WatchId watch = 0;
  };
  Error add(std::unique_ptr<SocketChannel> channel);
  void watch(Listening& listening);
  void accept_pending(SocketChannel& channel);

  Loop& loop_;
  std::vector<std::unique_ptr<Listening>> listeners_;
  ClientCallback callback_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cr16::io
