// Network listener.
#include "io/net_listener.h"

namespace cr16::io {

NetListener::NetListener(Loop& loop) : loop_(loop) {}

NetListener::~NetListener() {
  alive_.reset();
  disconnect();
}

Error NetListener::open(const SocketAddress& address, int backlog) {
  auto channel = SocketChannel::listen(address, backlog);
  if (!channel) return channel.error();
  return add(std::move(*channel));
}

TaskHandle NetListener::open_async(SocketAddress address, std::function<void(Error)> done) {
  std::weak_ptr<bool> alive = alive_;
  return run_task<std::unique_ptr<SocketChannel>>(
      loop_, [address](const CancelToken&) { return SocketChannel::listen(address); },
      [this, alive, done = std::move(done)](Expected<std::unique_ptr<SocketChannel>> result) {
        if (alive.expired()) return;  // the listener is gone; the socket closes here
        if (!result) {
          done(result.error());
          return;
        }
        done(add(std::move(*result)));
      });
}

Error NetListener::add(std::unique_ptr<SocketChannel> channel) {
  Error error = channel->set_blocking(false);
  if (!error.ok()) return error;
  auto listening = std::make_unique<Listening>();
  listening->channel = std::move(channel);
  if (callback_) watch(*listening);
  listeners_.push_back(std::move(listening));
  return Error();
}

void NetListener::watch(Listening& listening) {
  SocketChannel* channel = listening.channel.get();
  listening.watch = listening.channel->create_watch(loop_, kIn, [this, channel](uint32_t) {
    accept_pending(*channel);
    return true;
  });
}

void NetListener::accept_pending(SocketChannel& channel) {
  // Accept everything pending first: a client callback may disconnect or
  // even destroy this listener, so the channel is not touched afterwards.
  std::vector<std::unique_ptr<SocketChannel>> clients;
  for (;;) {
    auto client = channel.accept();
    // A failed accept (e.g. EMFILE) must not kill the listener; the next
    // readiness event retries.
    if (!client || *client == nullptr) break;
    (void)(*client)->set_blocking(true);
    clients.push_back(std::move(*client));
  }
  std::weak_ptr<bool> alive = alive_;
  for (auto& client : clients) {
    if (alive.expired() || !callback_) return;
    ClientCallback callback = callback_;
    callback(std::move(client));
  }
}

void NetListener::set_client_callback(ClientCallback callback) {
  callback_ = std::move(callback);
  for (auto& listening : listeners_) {
    if (callback_ && listening->watch == 0) watch(*listening);
    if (!callback_ && listening->watch != 0) {
      loop_.remove_watch(listening->watch);
      listening->watch = 0;
    }
  }
}

std::vector<SocketAddress> NetListener::addresses() const {
  std::vector<SocketAddress> result;
  for (const auto& listening : listeners_) {
    auto address = listening->channel->local_address();
    if (address) result.push_back(std::move(*address));
  }
  return result;
}

void NetListener::disconnect() {
  for (auto& listening : listeners_) {
    if (listening->watch != 0) loop_.remove_watch(listening->watch);
    (void)listening->channel->close();
  }
  listeners_.clear();
}

}  // namespace cr16::io
