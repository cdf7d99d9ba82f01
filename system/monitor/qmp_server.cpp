#include "system/monitor/qmp_server.h"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace cr16::system::monitor {

namespace {

io::SocketAddress address_of(const SerialSpec& spec) {
  if (spec.kind == SerialSpec::Kind::kTcp) return io::SocketAddress::inet(spec.host, spec.port);
  return io::SocketAddress::unix_path(spec.path);
}

// Queued output is compacted once this much of it was sent.
constexpr size_t kCompactAfter = 64 * 1024;

}  // namespace

struct QmpServer::Client {
  uint64_t id = 0;
  std::unique_ptr<io::SocketChannel> channel;
  std::unique_ptr<QmpSession> session;
  io::Loop::WatchId input_watch = 0;
  io::Loop::WatchId output_watch = 0;
  std::string output;
  size_t output_start = 0;
  bool closing = false;

  size_t pending() const { return output.size() - output_start; }
};

Expected<std::unique_ptr<QmpServer>> QmpServer::open(io::Loop& loop, MachineControl& control,
                                                     const SerialSpec& spec, std::string label,
                                                     QmpSessionOptions session,
                                                     QmpTransportLimits limits) {
  if ((spec.kind != SerialSpec::Kind::kTcp && spec.kind != SerialSpec::Kind::kUnix) ||
      !spec.server) {
    return Error(label + ": a QMP server needs a tcp: or unix: socket with server=on");
  }
  std::unique_ptr<QmpServer> server(
      new QmpServer(loop, control, spec, std::move(label), session, limits));
  if (Error error = server->listener_.open(address_of(spec)); !error.ok()) {
    return error.with_context(server->label_ + " " + spec.text);
  }
  std::vector<io::SocketAddress> bound = server->listener_.addresses();
  if (!bound.empty()) server->local_port_ = bound.front().port;
  if (spec.kind == SerialSpec::Kind::kTcp && spec.port == 0) {
    std::fprintf(stderr, "cr16-system: %s listening on tcp port %u\n", server->label_.c_str(),
                 server->local_port_);
  }
  if (spec.wait) {
    std::fprintf(stderr, "cr16-system: %s waiting for a connection on %s\n", server->label_.c_str(),
                 spec.text.c_str());
  }
  QmpServer* raw = server.get();
  server->listener_.set_client_callback(
      [raw](std::unique_ptr<io::SocketChannel> client) { raw->on_client(std::move(client)); });
  return server;
}

QmpServer::QmpServer(io::Loop& loop, MachineControl& control, SerialSpec spec, std::string label,
                     QmpSessionOptions session, QmpTransportLimits limits)
    : loop_(loop),
      control_(control),
      spec_(std::move(spec)),
      label_(std::move(label)),
      session_options_(session),
      limits_(limits),
      listener_(loop),
      read_buffer_(std::max<size_t>(limits.read_chunk, 1)) {}

QmpServer::~QmpServer() {
  listener_.disconnect();  // a UNIX listener unlinks its path
  for (auto& client : clients_) {
    if (client->input_watch) loop_.remove_watch(client->input_watch);
    if (client->output_watch) loop_.remove_watch(client->output_watch);
  }
  clients_.clear();  // sessions unsubscribe from the event bus
}

size_t QmpServer::client_count() const {
  return static_cast<size_t>(std::count_if(clients_.begin(), clients_.end(),
                                           [](const auto& client) { return !client->closing; }));
}

std::string QmpServer::filename() const {
  return client_count() > 0 ? spec_.text : "disconnected:" + spec_.text;
}

void QmpServer::on_client(std::unique_ptr<io::SocketChannel> channel) {
  if (client_count() >= limits_.max_clients) {
    ++dropped_;
    return;  // the channel closes here: the peer sees the connection end
  }
  if (spec_.kind == SerialSpec::Kind::kTcp) (void)channel->set_delay(false);
  if (!channel->set_blocking(false).ok()) return;
  channel->set_name(label_ + " client");
  auto client = std::make_unique<Client>();
  Client* raw = client.get();
  client->id = next_client_id_++;
  client->channel = std::move(channel);
  client->session = std::make_unique<QmpSession>(
      control_, [this, raw](std::string_view message) { return queue(*raw, message); },
      session_options_);
  client->input_watch = client->channel->create_watch(
      loop_, io::kIn, [this, raw](uint32_t) { return on_readable(*raw); });
  clients_.push_back(std::move(client));
  had_client_ = true;
  raw->session->start();
}

bool QmpServer::on_readable(Client& client) {
  if (client.closing) {
    client.input_watch = 0;
    return false;
  }
  io::IoResult got = client.channel->read(read_buffer_.data(), read_buffer_.size());
  if (got.is_would_block()) return true;
  if (!got.is_bytes() || got.count() == 0) {
    // End of file or a reset: the client left (perhaps mid-request: the
    // partial request goes with it).
    client.input_watch = 0;
    close_later(client, nullptr);
    return false;
  }
  client.session->receive(std::string_view(read_buffer_.data(), got.count()));
  if (client.closing) {
    client.input_watch = 0;
    return false;
  }
  return true;
}

bool QmpServer::queue(Client& client, std::string_view message) {
  if (client.closing) return false;
  if (client.pending() + message.size() > limits_.max_output) {
    close_later(client, "it does not read its replies and events");
    return false;
  }
  client.output.append(message);
  return flush(client);
}

bool QmpServer::flush(Client& client) {
  while (client.pending() > 0) {
    io::IoResult put =
        client.channel->write(client.output.data() + client.output_start, client.pending());
    if (put.is_bytes() && put.count() > 0) {
      client.output_start += put.count();
      continue;
    }
    if (put.is_would_block()) {
      if (!client.output_watch) {
        Client* raw = &client;
        client.output_watch = client.channel->create_watch(
            loop_, io::kOut, [this, raw](uint32_t) { return on_writable(*raw); });
      }
      break;
    }
    close_later(client, nullptr);  // EPIPE, ECONNRESET: the client is gone
    return false;
  }
  if (client.pending() == 0) {
    client.output.clear();
    client.output_start = 0;
  } else if (client.output_start >= kCompactAfter) {
    client.output.erase(0, client.output_start);
    client.output_start = 0;
  }
  return true;
}

bool QmpServer::on_writable(Client& client) {
  if (client.closing) {
    client.output_watch = 0;
    return false;
  }
  flush(client);
  if (client.pending() == 0 || client.closing) {
    client.output_watch = 0;
    return false;
  }
  return true;
}

void QmpServer::close_later(Client& client, const char* why) {
  if (client.closing) return;
  client.closing = true;
  if (why != nullptr) {
    // Said for the first few only: a client that keeps coming back to be
    // dropped must not flood stderr (which may be a pipe nobody reads).
    constexpr uint64_t kReported = 10;
    if (dropped_ < kReported) {
      std::fprintf(stderr, "cr16-system: %s: dropped a QMP client: %s%s\n", label_.c_str(), why,
                   dropped_ + 1 == kReported ? " (further drops are not reported)" : "");
    }
    ++dropped_;
  }
  if (client.input_watch) loop_.remove_watch(client.input_watch);
  if (client.output_watch) loop_.remove_watch(client.output_watch);
  client.input_watch = client.output_watch = 0;
  // The session may be on the stack (a reply or an event being queued):
  // it is destroyed from the loop.
  std::weak_ptr<bool> alive = alive_;
  const uint64_t id = client.id;
  loop_.schedule([this, alive, id] {
    if (!alive.lock()) return;
    std::erase_if(clients_, [id](const auto& entry) { return entry->id == id; });
  });
}

void QmpServer::drain(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (auto& client : clients_) {
    while (!client->closing && client->pending() > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return;
      pollfd ready{client->channel->fd(), POLLOUT, 0};
      if (poll(&ready, 1, static_cast<int>(left.count())) <= 0) return;
      if (!flush(*client)) break;
    }
  }
}

// ---------------------------------------------------------------------------

QmpCharFrontend::QmpCharFrontend(MachineControl& control, CharBackend& backend, std::string label,
                                 QmpSessionOptions options)
    : control_(control), backend_(backend), label_(std::move(label)), options_(options) {
  backend_.attach(this);  // a peer already there reports kOpened now
}

QmpCharFrontend::~QmpCharFrontend() {
  backend_.attach(nullptr);
}

void QmpCharFrontend::start_session() {
  session_ = std::make_unique<QmpSession>(
      control_,
      [this](std::string_view message) {
        const size_t accepted = backend_.write(
            std::span(reinterpret_cast<const uint8_t*>(message.data()), message.size()));
        if (accepted == message.size()) return true;
        std::fprintf(stderr,
                     "cr16-system: %s: the QMP peer does not read; its output is dropped until it "
                     "reconnects\n",
                     label_.c_str());
        return false;
      },
      options_);
  session_->start();
}

size_t QmpCharFrontend::can_receive() {
  return 4096;
}

void QmpCharFrontend::receive(std::span<const uint8_t> bytes) {
  if (!session_) return;  // no peer session (yet): nothing to answer
  receiving_ = true;
  session_->receive(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  receiving_ = false;
  if (close_pending_) {
    close_pending_ = false;
    session_.reset();
  }
}

void QmpCharFrontend::char_event(CharEvent event) {
  switch (event) {
    case CharEvent::kOpened:
      if (receiving_) return;  // cannot happen while its own input is read
      start_session();
      break;
    case CharEvent::kClosed:
      if (receiving_) {
        close_pending_ = true;
      } else {
        session_.reset();
      }
      break;
    case CharEvent::kFocusIn:
    case CharEvent::kFocusOut:
      break;  // on a shared terminal QMP keeps its session whatever has the focus
  }
}

}  // namespace cr16::system::monitor
