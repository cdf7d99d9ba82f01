// The machine's character devices and monitors: the serial ports'
// backends, -monitor, each -chardev (plain, shared with mux=on, or a QMP
// server when a control monitor is its only user), -mon and -qmp; and what
// MachineControl reports about them and the board (query-chardev, info
// mtree/qtree, ...).
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "system/chardev/factory.h"
#include "system/machine_impl.h"

namespace cr16::system {

namespace {

bool is_socket(const SerialSpec& spec) {
  return spec.kind == SerialSpec::Kind::kTcp || spec.kind == SerialSpec::Kind::kUnix;
}

}  // namespace

Expected<CharBackend*> Machine::Impl::open_backend(const SerialSpec& spec, const std::string& label,
                                                   unsigned ports, bool multiplex,
                                                   std::vector<CharBackend*>* attach_points) {
  Expected<std::unique_ptr<CharBackend>> backend = create_char_backend(spec, *loop, label);
  if (!backend) return backend.error();
  if (*backend == nullptr) {
    attach_points->assign(ports, nullptr);
    return static_cast<CharBackend*>(nullptr);
  }
  CharBackend* host = backend->get();
  if (auto* channel = dynamic_cast<ChannelCharBackend*>(host)) buffered.push_back(channel);
  if (is_socket(spec)) sockets.push_back(static_cast<SocketCharBackend*>(host));
  if (!multiplex) {
    backends.push_back(std::move(*backend));
    attach_points->assign(ports, host);
    return host;
  }
  // A multiplexer: the Ctrl-A escapes, and a port for each frontend.
  auto mux = std::make_unique<MuxCharDevice>(std::move(*backend),
                                             [this] { request_quit(0, ShutdownCause::kHostUi); });
  attach_points->clear();
  for (unsigned i = 0; i < ports; ++i) {
    CharBackend* port = mux->add_port();
    if (port == nullptr) {
      return Error(label + ": at most " + std::to_string(MuxCharDevice::kMaxPorts) +
                   " frontends can share one character device");
    }
    attach_points->push_back(port);
  }
  muxes.push_back(std::move(mux));
  return host;
}

Error Machine::Impl::create_chardevs() {
  for (const ChardevSpec& chardev : options.chardevs) {
    const unsigned users = chardev_user_count(options, chardev.id);
    const MonitorSpec* control = nullptr;
    for (const MonitorSpec& monitor : options.monitors) {
      if (monitor.chardev == chardev.id && monitor.control) control = &monitor;
    }
    NamedChardev named{chardev.id, {}, 0};
    ChardevRecord record{chardev.id, chardev.backend, nullptr, nullptr, users > 0};
    if (users == 1 && control != nullptr && !chardev.mux && is_socket(chardev.backend) &&
        chardev.backend.server) {
      // QMP alone on a listening socket: a server for several clients.
      monitor::QmpSessionOptions session;
      session.pretty = control->pretty;
      Expected<std::unique_ptr<monitor::QmpServer>> server =
          monitor::QmpServer::open(*loop, *this, chardev.backend, chardev.id, session);
      if (!server) return server.error();
      record.qmp_server = server->get();
      qmp_servers.push_back(std::move(*server));
      named.ports.push_back(nullptr);  // the server is the frontend
      chardevs.push_back(std::move(named));
      chardev_records.push_back(std::move(record));
      continue;
    }
    // A terminal gets the Ctrl-A escapes unless only QMP reads it.
    const bool only_qmp = users == 1 && control != nullptr;
    const bool multiplex =
        chardev.mux || (chardev.backend.kind == SerialSpec::Kind::kStdio && !only_qmp);
    Expected<CharBackend*> host =
        open_backend(chardev.backend, chardev.id, std::max(users, 1u), multiplex, &named.ports);
    if (!host) return host.error().with_context("-chardev " + chardev.text);
    record.backend = *host;
    chardevs.push_back(std::move(named));
    chardev_records.push_back(std::move(record));
  }
  return {};
}

CharBackend* Machine::Impl::chardev_port(const std::string& id) {
  for (NamedChardev& named : chardevs) {
    if (named.id == id && named.next < named.ports.size()) return named.ports[named.next++];
  }
  return nullptr;  // check_chardev_references() made sure it exists and has room
}

Error Machine::Impl::create_consoles(const ConsolePlan& plan) {
  if (Error error = create_chardevs(); !error.ok()) return error;
  for (size_t i = 0; i < plan.serial.size(); ++i) {
    const SerialSpec& spec = plan.serial[i];
    const std::string label = "serial" + std::to_string(i);
    if (spec.kind == SerialSpec::Kind::kChardev) {
      serial_ports.push_back(chardev_port(spec.chardev));
      continue;
    }
    // mon: backends get a multiplexer (and the monitor's port); so does
    // stdio on a terminal, for the Ctrl-A escapes (raw mode has no Ctrl-C).
    // Plain stdio on a pipe, file or socket passes every byte, 0x01 too:
    // a host tool may speak a binary protocol through it, as with QEMU.
    const bool multiplex =
        spec.mux_monitor || (spec.kind == SerialSpec::Kind::kStdio && isatty(STDIN_FILENO));
    std::vector<CharBackend*> ports;
    Expected<CharBackend*> host =
        open_backend(spec, label, spec.mux_monitor ? 2 : 1, multiplex, &ports);
    if (!host) return host.error();
    serial_ports.push_back(ports.empty() ? nullptr : ports[0]);
    if (ports.size() > 1 && ports[1] != nullptr) monitor_backends.push_back(ports[1]);
    if (*host != nullptr) chardev_records.push_back({label, spec, *host, nullptr, true});
  }
  if (plan.monitor) {
    if (plan.monitor->kind == SerialSpec::Kind::kChardev) {
      if (CharBackend* port = chardev_port(plan.monitor->chardev)) monitor_backends.push_back(port);
    } else {
      std::vector<CharBackend*> ports;
      Expected<CharBackend*> host = open_backend(
          *plan.monitor, "monitor", 1, plan.monitor->kind == SerialSpec::Kind::kStdio, &ports);
      if (!host) return host.error().with_context("-monitor");
      if (!ports.empty() && ports[0] != nullptr) monitor_backends.push_back(ports[0]);
      if (*host != nullptr)
        chardev_records.push_back({"monitor", *plan.monitor, *host, nullptr, true});
    }
  }
  for (const MonitorSpec& monitor : options.monitors) {
    CharBackend* port = chardev_port(monitor.chardev);
    if (port == nullptr) continue;  // a QMP server serves it
    if (monitor.control) {
      qmp_backends.push_back({port, monitor.chardev, monitor.pretty});
    } else {
      monitor_backends.push_back(port);
    }
  }
  return {};
}

void Machine::Impl::start_monitors() {
  for (CharBackend* backend : monitor_backends) {
    monitors.push_back(std::make_unique<monitor::HmpSession>(*this, *backend));
  }
  for (const ControlMonitor& control : qmp_backends) {
    monitor::QmpSessionOptions session;
    session.pretty = control.pretty;
    qmp_frontends.push_back(std::make_unique<monitor::QmpCharFrontend>(*this, *control.backend,
                                                                       control.label, session));
  }
}

void Machine::Impl::stop_monitors() {
  for (auto& server : qmp_servers) server->drain(200);
  qmp_frontends.clear();
  qmp_servers.clear();
  monitors.clear();
}

// ---- What MachineControl reports about the consoles and the board

std::string Machine::Impl::vm_name() const {
  return options.name;
}

std::vector<CharDeviceInfo> Machine::Impl::char_devices() const {
  std::vector<CharDeviceInfo> list;
  for (const ChardevRecord& record : chardev_records) {
    CharDeviceInfo info;
    info.label = record.label;
    info.frontend_open = record.has_frontend;
    if (record.qmp_server != nullptr) {
      info.filename = record.qmp_server->filename();
    } else {
      info.filename = record.spec.text;
      if (is_socket(record.spec) && record.spec.server) {
        auto* socket = dynamic_cast<SocketCharBackend*>(record.backend);
        if (socket != nullptr && !socket->connected())
          info.filename = "disconnected:" + info.filename;
      }
    }
    list.push_back(std::move(info));
  }
  return list;
}

std::vector<RegionInfo> Machine::Impl::memory_regions() const {
  return board->memory().regions();
}

std::vector<BoardDevice> Machine::Impl::devices() const {
  return board->devices();
}

std::vector<StateSection> Machine::Impl::state_sections() {
  return board->state_sections();
}

int64_t Machine::Impl::cpu_thread_id() const {
  return static_cast<int64_t>(syscall(SYS_gettid));  // the machine thread runs the vCPU
}

Error Machine::Impl::inject_nmi() {
  board->cpu().raise_nmi();
  loop->wakeup();  // a sleeping CPU (wait) takes it at once
  return {};
}

}  // namespace cr16::system
