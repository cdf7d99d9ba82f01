#include "system/chardev/socket.h"

#include <cstdio>

namespace cr16::system {

namespace {

io::SocketAddress address_of(const SerialSpec& spec) {
  if (spec.kind == SerialSpec::Kind::kTcp) return io::SocketAddress::inet(spec.host, spec.port);
  return io::SocketAddress::unix_path(spec.path);
}

}  // namespace

Expected<std::unique_ptr<SocketCharBackend>> SocketCharBackend::open(io::Loop& loop,
                                                                     const SerialSpec& spec,
                                                                     const std::string& label) {
  std::unique_ptr<SocketCharBackend> backend(new SocketCharBackend(loop, spec));
  io::SocketAddress address = address_of(spec);
  if (!spec.server) {
    auto client = io::SocketChannel::connect(address);
    if (!client) return client.error().with_context("-serial " + spec.text);
    if (Error error = backend->use_client(std::move(*client)); !error.ok()) {
      return error.with_context("-serial " + spec.text);
    }
    return backend;
  }
  // One pending client at most: the next one waits in the backlog.
  if (Error error = backend->listener_.open(address, 1); !error.ok()) {
    return error.with_context("-serial " + spec.text);
  }
  std::vector<io::SocketAddress> bound = backend->listener_.addresses();
  if (!bound.empty()) backend->local_port_ = bound.front().port;
  if (spec.kind == SerialSpec::Kind::kTcp && spec.port == 0) {
    std::fprintf(stderr, "cr16-system: %s listening on tcp port %u\n", label.c_str(),
                 backend->local_port_);
  }
  if (spec.wait) {
    std::fprintf(stderr, "cr16-system: %s waiting for a connection on %s\n", label.c_str(),
                 spec.text.c_str());
  }
  backend->start_listening();
  return backend;
}

SocketCharBackend::SocketCharBackend(io::Loop& loop, SerialSpec spec)
    : ChannelCharBackend(loop), spec_(std::move(spec)), listener_(loop) {}

SocketCharBackend::~SocketCharBackend() {
  close_channels();
  listener_.disconnect();  // a UNIX listener unlinks its path on close
}

void SocketCharBackend::start_listening() {
  listener_.set_client_callback(
      [this](std::unique_ptr<io::SocketChannel> client) { on_client(std::move(client)); });
}

void SocketCharBackend::on_client(std::unique_ptr<io::SocketChannel> client) {
  listener_.set_client_callback(nullptr);  // one client at a time until it leaves
  if (client_) return;                     // a second client accepted in the same batch
  if (!use_client(std::move(client)).ok()) start_listening();  // dropped: the peer sees a close
}

Error SocketCharBackend::use_client(std::unique_ptr<io::SocketChannel> client) {
  if (spec_.kind == SerialSpec::Kind::kTcp) (void)client->set_delay(false);
  if (Error error = client->set_blocking(false); !error.ok()) return error;
  client->set_name("serial " + spec_.text);
  client_ = std::move(client);
  had_client_ = true;
  set_channels(client_.get(), client_.get());
  return Error();
}

void SocketCharBackend::disconnect() {
  set_channels(nullptr, nullptr);
  client_.reset();
  if (spec_.server) start_listening();
}

void SocketCharBackend::schedule_disconnect() {
  // Deferred: we may be inside one of the client's watch callbacks.
  std::weak_ptr<bool> alive = alive_;
  loop().schedule([this, alive] {
    if (alive.lock() && client_) disconnect();
  });
}

void SocketCharBackend::on_input_closed() {
  stop_input();
  schedule_disconnect();
}

void SocketCharBackend::on_output_failed(const Error& error) {
  ChannelCharBackend::on_output_failed(error);
  schedule_disconnect();
}

}  // namespace cr16::system
