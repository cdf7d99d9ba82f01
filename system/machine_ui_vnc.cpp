// -vnc: the VNC server front end (ui/vnc_server.h) on the machine's loop,
// with its TLS credentials from a -object tls-creds-x509 (endpoint=server).
#include <cstdio>
#include <memory>
#include <string>

#include "system/machine_impl.h"
#include "ui/vnc_options.h"
#include "ui/vnc_server.h"

namespace cr16::system {

namespace {

Expected<std::shared_ptr<const io::TlsCredentials>> vnc_credentials(
    const std::string& id, const std::vector<TlsCredsSpec>& objects) {
  const TlsCredsSpec* spec = nullptr;
  for (const TlsCredsSpec& object : objects) {
    if (object.id == id) spec = &object;
  }
  if (spec == nullptr) return Error("tls-creds '" + id + "': no tls-creds-x509 object of that id");
  if (!spec->server) {
    return Error("tls-creds '" + id + "' has endpoint=client; a VNC server needs endpoint=server");
  }
  Expected<std::shared_ptr<const io::TlsCredentials>> credentials =
      io::TlsCredentials::load_x509(spec->dir, io::TlsEndpoint::kServer, spec->verify_peer);
  if (!credentials) return credentials.error().with_context("tls-creds '" + id + "'");
  return credentials;
}

}  // namespace

Error Machine::Impl::start_vnc() {
  Expected<ui::VncOptions> parsed = ui::parse_vnc_options(options.vnc);
  if (!parsed) return Error("-vnc " + options.vnc + ": " + parsed.error().message());
  ui::VncServerConfig config;
  switch (parsed->kind) {
    case ui::VncOptions::Kind::kTcp:
      config.rfb_address = io::SocketAddress::inet(parsed->host, parsed->port);
      break;
    case ui::VncOptions::Kind::kUnix:
      config.rfb_address = io::SocketAddress::unix_path(parsed->unix_path);
      break;
    case ui::VncOptions::Kind::kNone:
      break;
  }
  if (parsed->websocket_port) {
    // The WebSocket listener shares the RFB listener's host (every address
    // for ":N", "unix:" and "none").
    config.websocket_address = io::SocketAddress::inet(
        parsed->kind == ui::VncOptions::Kind::kTcp ? parsed->host : std::string(),
        *parsed->websocket_port);
  }
  if (!parsed->tls_creds.empty()) {
    Expected<std::shared_ptr<const io::TlsCredentials>> credentials =
        vnc_credentials(parsed->tls_creds, options.tls_creds);
    if (!credentials) return Error("-vnc " + options.vnc + ": " + credentials.error().message());
    config.tls = std::move(*credentials);
  }
  if (!options.name.empty()) config.name = options.name;
  Expected<std::unique_ptr<ui::VncServer>> server =
      ui::VncServer::open(*loop, display_hub.get(), std::move(config));
  if (!server) return Error("-vnc " + options.vnc + ": " + server.error().message());
  // Port 0 picks a free port: say which (tests read it).
  if (parsed->kind == ui::VncOptions::Kind::kTcp && parsed->port == 0) {
    for (const io::SocketAddress& address : (*server)->rfb_addresses()) {
      std::fprintf(stderr, "cr16-system: vnc listening on tcp port %u\n", address.port);
      break;
    }
  }
  if (parsed->websocket_port && *parsed->websocket_port == 0) {
    for (const io::SocketAddress& address : (*server)->websocket_addresses()) {
      std::fprintf(stderr, "cr16-system: vnc websocket listening on tcp port %u\n", address.port);
      break;
    }
  }
  vnc = server->get();
  ui_frontends.push_back(std::move(*server));
  return {};
}

}  // namespace cr16::system
