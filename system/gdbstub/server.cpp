#include "system/gdbstub/server.h"

#include <poll.h>

#include <cstdio>

#include "system/monitor/hmp.h"

namespace cr16::system::gdbstub {

namespace {

io::SocketAddress address_of(const SerialSpec& spec) {
  if (spec.kind == SerialSpec::Kind::kTcp) return io::SocketAddress::inet(spec.host, spec.port);
  return io::SocketAddress::unix_path(spec.path);
}

}  // namespace

GdbServer::GdbServer(io::Loop& loop, MachineControl& control, Cpu& cpu,
                     std::function<StopReason()> step)
    : loop_(loop), control_(control), cpu_(cpu), step_(std::move(step)) {}

GdbServer::~GdbServer() {
  alive_.reset();
  // The machine is going away: the debugger's points go, nothing resumes.
  if (client_) {
    if (client_->linger_timer) loop_.cancel_timer(client_->linger_timer);
    if (client_->watch) loop_.remove_watch(client_->watch);
    client_.reset();
  }
  retired_.clear();
  waiting_.reset();
  listener_.reset();
}

// ---------------------------------------------------------------------------
// GdbServerControl

Error GdbServer::start(std::string_view device) {
  Expected<std::optional<SerialSpec>> spec = parse_gdb_device(device);
  if (!spec) return spec.error();
  if (!*spec) {
    stop();
    return Error();
  }
  return start(**spec);
}

Error GdbServer::start(const SerialSpec& spec) {
  // The same address again: the old server must let go of it first.
  bool same_address = false;
  if (listener_) {
    for (const io::SocketAddress& bound : listener_->addresses()) {
      same_address = same_address ||
                     (spec.kind == SerialSpec::Kind::kUnix
                          ? bound.kind == io::SocketAddress::Kind::kUnix && bound.path == spec.path
                          : bound.kind == io::SocketAddress::Kind::kInet && spec.port != 0 &&
                                bound.port == spec.port);
    }
  }
  if (same_address) stop();
  auto listener = std::make_unique<io::NetListener>(loop_);
  if (Error error = listener->open(address_of(spec), 1); !error.ok()) {
    return error.with_context("gdb " + spec.text);
  }
  stop();
  listener_ = std::move(listener);
  device_ = spec.text;
  if (spec.kind == SerialSpec::Kind::kTcp && spec.port == 0) {
    std::vector<io::SocketAddress> bound = listener_->addresses();
    std::fprintf(stderr, "cr16-system: gdb listening on tcp port %u\n",
                 bound.empty() ? 0u : bound.front().port);
  }
  listener_->set_client_callback(
      [this](std::unique_ptr<io::SocketChannel> channel) { on_client(std::move(channel)); });
  return Error();
}

void GdbServer::stop() {
  waiting_.reset();
  drop_client();
  listener_.reset();  // a unix listener unlinks its path
  device_.clear();
}

GdbServerControl::Status GdbServer::status() const {
  Status status;
  status.listening = listener_ != nullptr;
  status.device = device_;
  if (listener_) {
    for (const io::SocketAddress& address : listener_->addresses()) {
      status.addresses.push_back(address.to_string());
    }
  }
  status.client_connected = client_ != nullptr;
  if (client_) status.client = client_->peer;
  return status;
}

GdbSession* GdbServer::session() {
  return client_ ? client_->session.get() : nullptr;
}

// ---------------------------------------------------------------------------
// Machine hooks

uint64_t GdbServer::slice_budget(uint64_t budget) const {
  return client_ ? client_->session->slice_budget(budget) : budget;
}

void GdbServer::cpu_stopped(StopReason reason, uint64_t executed) {
  if (client_) client_->session->cpu_stopped(reason, executed);
}

void GdbServer::machine_exiting(int status) {
  if (!client_) return;
  client_->session->machine_exiting(status);
  // Give the debugger a moment to take its last packet; never longer.
  constexpr int kDrainMs = 200;
  const int64_t deadline = loop_.now() + int64_t{kDrainMs} * 1'000'000;
  while (client_ && client_->pending() > 0) {
    const int64_t left_ms = (deadline - loop_.now()) / 1'000'000;
    if (left_ms <= 0) break;
    pollfd entry{client_->channel->fd(), POLLOUT, 0};
    if (poll(&entry, 1, static_cast<int>(left_ms)) <= 0) break;
    flush(*client_);
  }
}

// ---------------------------------------------------------------------------
// The connection

void GdbServer::on_client(std::unique_ptr<io::SocketChannel> channel) {
  if (client_ && (client_->closing || client_->lingering)) drop_client();  // it is leaving
  if (client_) {
    // One debugger at a time. The next one waits (unread) until this one
    // leaves: a debugger reconnecting before its old connection's end was
    // seen gets served; any further one is turned away.
    if (waiting_) {
      (void)channel->close();
    } else {
      waiting_ = std::move(channel);
    }
    return;
  }
  serve(std::move(channel));
}

void GdbServer::serve(std::unique_ptr<io::SocketChannel> channel) {
  if (!channel->set_blocking(false).ok()) return;
  if (channel->family() != AF_UNIX) (void)channel->set_delay(false);
  auto client = std::make_unique<Client>();
  Expected<io::SocketAddress> peer = channel->remote_address();
  client->peer = peer ? peer->to_string() : "?";
  channel->set_name("gdb " + client->peer);
  client->channel = std::move(channel);
  Client* raw = client.get();
  GdbSession::Hooks hooks;
  hooks.send = [this, raw](std::string_view bytes) {
    if (!raw->retired) send(*raw, bytes);
  };
  hooks.close = [this, raw] {
    if (raw->retired) return;
    raw->closing = true;
    raw->session->release();  // its breakpoints go and the guest runs from now on
    if (raw->pending() == 0) {
      linger(*raw);
    } else {
      update_watch(*raw);
    }
  };
  hooks.kill = [this] { control_.quit(ShutdownCause::kHostQmpQuit); };
  hooks.step = step_;
  hooks.monitor = [this](std::string_view line) {
    return monitor::execute_hmp_line(line, control_);
  };
  client->session = std::make_unique<GdbSession>(control_, cpu_, std::move(hooks));
  client_ = std::move(client);
  client_->session->attach();
  update_watch(*client_);
}

void GdbServer::send(Client& client, std::string_view bytes) {
  if (client.pending() + bytes.size() > kMaxOutput) {
    drop_client();  // it has not read for a megabyte: it is not listening
    return;
  }
  if (client.output_start > 0 && client.output_start == client.output.size()) {
    client.output.clear();
    client.output_start = 0;
  }
  client.output.append(bytes);
  flush(client);
  if (!client.retired) update_watch(client);
}

void GdbServer::flush(Client& client) {
  while (client.pending() > 0) {
    io::IoResult result =
        client.channel->write(client.output.data() + client.output_start, client.pending());
    if (result.is_would_block()) return;
    if (!result.is_bytes()) {
      drop_client();  // the peer is gone
      return;
    }
    client.output_start += result.count();
  }
  client.output.clear();
  client.output_start = 0;
}

bool GdbServer::on_ready(Client& client, uint32_t revents) {
  if (client.retired) return false;
  if (client.lingering) {
    // Whatever the peer still sends is not looked at; its close ends it.
    uint8_t buffer[4096];
    io::IoResult result = client.channel->read(buffer, sizeof buffer);
    if (!result.is_would_block() && (!result.is_bytes() || result.count() == 0)) {
      drop_client();
      return false;
    }
    return true;
  }
  if (revents & io::kOut) {
    flush(client);
    if (client.retired) return false;
  }
  const bool hung_up = (revents & (io::kHup | io::kErr)) != 0;
  process_held(client, hung_up);  // what waited for the replies to drain
  if (client.retired) return false;
  if (((revents & io::kIn) && client.held.empty()) || hung_up) {
    // A bounded amount per loop iteration, so a flooding peer cannot keep
    // the guest from running; after a hang-up, what it sent before leaving.
    uint8_t buffer[kReadChunk];
    size_t budget = hung_up ? kMaxOutput : kReadChunk;
    while (budget > 0 && !client.retired && !client.closing) {
      io::IoResult result = client.channel->read(buffer, std::min(sizeof buffer, budget));
      if (result.is_would_block()) break;
      if (!result.is_bytes() || result.count() == 0) {
        drop_client();  // end of file or an error: the debugger left
        return false;
      }
      budget -= result.count();
      client.held.append(reinterpret_cast<const char*>(buffer), result.count());
      process_held(client, hung_up);
      if (!hung_up) break;
    }
    if (client.retired) return false;
    if (hung_up) {
      drop_client();
      return false;
    }
  }
  if (client.session->closed()) client.closing = true;
  if (client.closing && client.pending() == 0) {
    linger(client);
    return !client.retired;
  }
  update_watch(client);
  return true;
}

void GdbServer::process_held(Client& client, bool regardless) {
  // Small pieces, so that requests with large replies stop being taken as
  // soon as the replies pile up: a peer that sends and never reads is
  // paused, not served without bound.
  constexpr size_t kPiece = 512;
  size_t done = 0;
  while (done < client.held.size() && !client.retired && !client.closing &&
         (regardless || client.pending() < kPauseInput)) {
    const size_t piece = std::min(kPiece, client.held.size() - done);
    client.session->receive(std::span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(client.held.data() + done), piece));
    done += piece;
  }
  if (client.retired) return;
  client.held.erase(0, done);
  if (client.closing) client.held.clear();
}

void GdbServer::linger(Client& client) {
  // A graceful end: shut our side so the peer reads end of file after our
  // last reply, and wait (briefly) for it to close. Closing at once could
  // reset a connection whose acknowledgement is still in flight.
  if (client.lingering || client.retired) return;
  client.lingering = true;
  if (!client.channel->shutdown(io::ShutdownDirection::kWrite).ok()) {
    drop_client();
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  client.linger_timer =
      loop_.add_timer(io::ClockType::kRealtime, loop_.now() + kLingerNs, [this, alive] {
        if (!alive.lock() || !client_ || !client_->lingering) return;
        client_->linger_timer = 0;
        drop_client();
      });
  update_watch(client);
}

void GdbServer::update_watch(Client& client) {
  uint32_t want = 0;
  if (client.pending() > 0) want |= io::kOut;
  const bool taking_input = !client.closing && client.pending() < kPauseInput;
  if ((taking_input && client.held.empty()) || client.lingering) want |= io::kIn;
  // Input held back while replies piled up is taken again once they drain
  // (the kOut event); when they drained at once, the loop comes back now.
  if (taking_input && !client.held.empty()) want |= io::kOut;
  if (client.watch != 0 && want == client.watch_conditions) return;
  if (client.watch != 0) loop_.remove_watch(client.watch);
  client.watch_conditions = want;
  Client* raw = &client;
  client.watch = loop_.add_watch(client.channel->fd(), want, [this, raw](int, uint32_t revents) {
    return on_ready(*raw, revents);
  });
}

void GdbServer::drop_client() {
  if (!client_) return;
  std::unique_ptr<Client> client = std::move(client_);
  client->retired = true;
  if (client->linger_timer != 0) loop_.cancel_timer(client->linger_timer);
  if (client->watch != 0) loop_.remove_watch(client->watch);
  client->watch = 0;
  client->session->release();  // breakpoints go; a VM it held runs again
  // Shut the socket before closing it: the peer sees the end at once even
  // if something else still holds the file (the io_uring backend can keep a
  // poll on it, see the report in system/gdbstub/README.md).
  (void)client->channel->shutdown(io::ShutdownDirection::kBoth);
  (void)client->channel->close();
  // We may be inside this client's callbacks: destroy it later, and serve
  // a debugger that waited meanwhile.
  retired_.push_back(std::move(client));
  std::weak_ptr<bool> alive = alive_;
  loop_.schedule([this, alive] {
    if (!alive.lock()) return;
    retired_.clear();
    if (!client_ && waiting_ && listener_) serve(std::move(waiting_));
  });
}

}  // namespace cr16::system::gdbstub
