// The monitor options: -chardev, -mon, -qmp, -qmp-pretty, -name (see
// options.h), and the checks that tie chardev ids to their users.
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "system/options.h"
#include "system/options_detail.h"

namespace cr16::system {

namespace {

using detail::KeyValue;
using detail::parse_switch;

// A switch given as key=on|off or bare (on).
Expected<bool> switch_value(const KeyValue& part, const std::string& option) {
  if (part.bare) return true;
  std::optional<bool> on = parse_switch(part.value);
  if (!on) {
    return Error(option + ": bad value '" + part.value + "' for '" + part.key +
                 "' (use on or off)");
  }
  return *on;
}

// QEMU's rule for ids: a letter, then letters, digits, '-', '.', '_'.
bool valid_id(std::string_view id) {
  if (id.empty() || !std::isalpha(static_cast<unsigned char>(id[0]))) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
      return false;
    }
  }
  return true;
}

// The filename query-chardev reports for a socket spec ("unix:/p,server=on").
std::string socket_text(const SerialSpec& spec) {
  std::string text;
  if (spec.kind == SerialSpec::Kind::kUnix) {
    text = "unix:" + spec.path;
  } else {
    const bool v6 = spec.host.find(':') != std::string::npos;
    text = "tcp:" + (v6 ? "[" + spec.host + "]" : spec.host) + ":" + std::to_string(spec.port);
  }
  if (spec.server) text += ",server=on";
  return text;
}

bool uses_stdio(const SerialSpec& spec) {
  return spec.kind == SerialSpec::Kind::kStdio;
}

}  // namespace

Error parse_chardev(std::string_view text, Options* options) {
  const std::string option = "-chardev " + std::string(text);
  Expected<std::vector<KeyValue>> parts = detail::split_option_parts(text, "-chardev");
  if (!parts) return parts.error();
  // The first part is the backend's name.
  const KeyValue backend = parts->front();
  parts->erase(parts->begin());
  if (!backend.bare) return Error(option + ": the backend comes first (e.g. socket,id=ID,...)");
  ChardevSpec chardev;
  chardev.text = text;
  SerialSpec& spec = chardev.backend;
  std::string port_text;
  bool has_path = false;
  bool has_port = false;
  bool has_host = false;
  bool has_wait = false;
  const std::string& kind = backend.key;
  const bool socket = kind == "socket";
  for (const KeyValue& part : *parts) {
    const std::string& key = part.key;
    auto flag = [&]() -> Expected<bool> { return switch_value(part, option); };
    if (key == "id" && !part.bare) {
      chardev.id = part.value;
    } else if (key == "mux") {
      Expected<bool> on = flag();
      if (!on) return on.error();
      chardev.mux = *on;
    } else if (key == "path" && !part.bare && (socket || kind == "file")) {
      spec.path = part.value;
      has_path = true;
    } else if (key == "host" && !part.bare && socket) {
      spec.host = part.value;
      has_host = true;
    } else if (key == "port" && !part.bare && socket) {
      port_text = part.value;
      has_port = true;
    } else if (key == "server" && socket) {
      Expected<bool> on = flag();
      if (!on) return on.error();
      spec.server = *on;
    } else if ((key == "wait" || key == "nowait") && socket) {
      Expected<bool> on = flag();
      if (!on) return on.error();
      spec.wait = key == "wait" ? *on : !*on;
      has_wait = true;
    } else if (key == "nodelay" && socket) {
      // Accepted for QEMU command lines: TCP_NODELAY is always set.
      if (Expected<bool> on = flag(); !on) return on.error();
    } else {
      std::string known = "id, mux";
      if (socket) known += ", path, host, port, server, wait, nodelay";
      if (kind == "file") known += ", path";
      return Error(option + ": unknown parameter '" + key + "' for the " + kind + " backend (" +
                   known + ")");
    }
  }
  if (kind == "socket") {
    if (has_path == has_port) {
      return Error(option + ": a socket needs path=PATH (unix) or port=PORT (tcp)");
    }
    if (has_path) {
      if (has_host) return Error(option + ": host= goes with port=, not with path=");
      if (spec.path.empty()) return Error(option + ": empty path");
      spec.kind = SerialSpec::Kind::kUnix;
    } else {
      spec.kind = SerialSpec::Kind::kTcp;
      uint64_t port = 0;
      bool digits = !port_text.empty() && port_text.size() <= 5;
      for (char c : port_text) digits = digits && c >= '0' && c <= '9';
      if (digits) port = std::stoull(port_text);
      if (!digits || port > 65535) return Error(option + ": bad port '" + port_text + "'");
      spec.port = static_cast<uint16_t>(port);
      if (!spec.server && (spec.host.empty() || spec.port == 0)) {
        return Error(option + ": a client needs host= and a non-zero port=");
      }
    }
    if (has_wait && !spec.server) return Error(option + ": wait= is for servers (server=on)");
    spec.text = socket_text(spec);
  } else if (kind == "stdio") {
    spec.kind = SerialSpec::Kind::kStdio;
    spec.text = "stdio";
  } else if (kind == "null") {
    spec.kind = SerialSpec::Kind::kNull;
    spec.text = "null";
  } else if (kind == "pty") {
    spec.kind = SerialSpec::Kind::kPty;
    spec.text = "pty";
  } else if (kind == "file") {
    if (spec.path.empty()) return Error(option + ": the file backend needs path=PATH");
    spec.kind = SerialSpec::Kind::kFile;
    spec.text = "file:" + spec.path;
  } else {
    return Error(option + ": unknown backend '" + kind + "' (socket, stdio, pty, file, null)");
  }
  if (chardev.id.empty()) return Error(option + ": missing id=ID");
  if (!valid_id(chardev.id)) {
    return Error(option + ": bad id '" + chardev.id +
                 "' (a letter, then letters, digits, '-', '.' or '_')");
  }
  for (const ChardevSpec& other : options->chardevs) {
    if (other.id == chardev.id) return Error(option + ": id '" + chardev.id + "' already exists");
  }
  options->chardevs.push_back(std::move(chardev));
  return {};
}

Error parse_mon(std::string_view text, Options* options) {
  const std::string option = "-mon " + std::string(text);
  Expected<std::vector<KeyValue>> parts = detail::split_option_parts(text, "-mon");
  if (!parts) return parts.error();
  MonitorSpec monitor;
  bool pretty_given = false;
  for (size_t i = 0; i < parts->size(); ++i) {
    const KeyValue& part = (*parts)[i];
    if (i == 0 && part.bare) {  // "-mon ID,...": chardev is the implied key
      monitor.chardev = part.key;
    } else if (part.key == "chardev" && !part.bare) {
      monitor.chardev = part.value;
    } else if (part.key == "mode" && !part.bare) {
      if (part.value == "control") {
        monitor.control = true;
      } else if (part.value != "readline") {
        return Error(option + ": bad mode '" + part.value + "' (readline or control)");
      }
    } else if (part.key == "pretty") {
      Expected<bool> on = switch_value(part, option);
      if (!on) return on.error();
      monitor.pretty = *on;
      pretty_given = true;
    } else {
      return Error(option + ": unknown parameter '" + part.key + "' (chardev, mode, pretty)");
    }
  }
  if (monitor.chardev.empty()) return Error(option + ": missing chardev=ID");
  if (pretty_given && monitor.pretty && !monitor.control) {
    return Error(option + ": pretty=on is for mode=control");
  }
  options->monitors.push_back(std::move(monitor));
  return {};
}

Error add_qmp(std::string_view text, bool pretty, Options* options) {
  const std::string option = std::string(pretty ? "-qmp-pretty " : "-qmp ") + std::string(text);
  MonitorSpec monitor;
  monitor.control = true;
  monitor.pretty = pretty;
  if (text.starts_with("chardev:")) {
    monitor.chardev = text.substr(8);
    if (monitor.chardev.empty()) return Error(option + ": chardev: needs an id");
    options->monitors.push_back(std::move(monitor));
    return {};
  }
  Expected<SerialSpec> spec = parse_serial_spec(text);
  if (!spec) {
    std::string message = spec.error().message();  // says "-serial": name our option
    if (message.starts_with("-serial")) message.replace(0, 7, pretty ? "-qmp-pretty" : "-qmp");
    return Error(message);
  }
  if (spec->mux_monitor || spec->kind == SerialSpec::Kind::kNone ||
      spec->kind == SerialSpec::Kind::kNull) {
    return Error(option +
                 ": not a QMP backend (unix:PATH,server=on, tcp:HOST:PORT,server=on, "
                 "stdio, pty or chardev:ID)");
  }
  unsigned index = 0;
  for (const ChardevSpec& chardev : options->chardevs) {
    if (chardev.id.starts_with("compat_monitor")) ++index;
  }
  ChardevSpec chardev;
  chardev.id = "compat_monitor" + std::to_string(index);
  chardev.backend = std::move(*spec);
  if (chardev.backend.kind == SerialSpec::Kind::kTcp ||
      chardev.backend.kind == SerialSpec::Kind::kUnix) {
    chardev.backend.text = socket_text(chardev.backend);
  }
  chardev.text = text;
  monitor.chardev = chardev.id;
  options->chardevs.push_back(std::move(chardev));
  options->monitors.push_back(std::move(monitor));
  return {};
}

Error parse_name(std::string_view text, Options* options) {
  const std::string option = "-name " + std::string(text);
  Expected<std::vector<KeyValue>> parts = detail::split_option_parts(text, "-name");
  if (!parts) return parts.error();
  std::string name;
  std::string process;
  for (size_t i = 0; i < parts->size(); ++i) {
    const KeyValue& part = (*parts)[i];
    if (i == 0 && part.bare) {
      name = part.key;
    } else if (part.key == "guest" && !part.bare) {
      name = part.value;
    } else if (part.key == "process" && !part.bare) {
      process = part.value;
    } else if (part.key == "debug-threads") {
      // Accepted for QEMU command lines: there is one thread to name.
      if (Expected<bool> on = switch_value(part, option); !on) return on.error();
    } else {
      return Error(option + ": unknown parameter '" + part.key +
                   "' (guest, process, debug-threads)");
    }
  }
  options->name = name;
  options->process_name = process;
  return {};
}

unsigned chardev_user_count(const Options& options, std::string_view id) {
  unsigned users = 0;
  for (const SerialSpec& serial : options.serial) {
    users += serial.kind == SerialSpec::Kind::kChardev && serial.chardev == id;
  }
  if (options.monitor && options.monitor->kind == SerialSpec::Kind::kChardev &&
      options.monitor->chardev == id) {
    ++users;
  }
  for (const MonitorSpec& monitor : options.monitors) users += monitor.chardev == id;
  return users;
}

Error check_chardev_references(const Options& options) {
  auto find = [&options](std::string_view id) -> const ChardevSpec* {
    for (const ChardevSpec& chardev : options.chardevs) {
      if (chardev.id == id) return &chardev;
    }
    return nullptr;
  };
  for (const MonitorSpec& monitor : options.monitors) {
    if (find(monitor.chardev) == nullptr) {
      return Error(std::string(monitor.control ? "-qmp/-mon" : "-mon") + ": chardev '" +
                   monitor.chardev +
                   "' not found (define it with -chardev ...,id=" + monitor.chardev + ")");
    }
  }
  std::vector<const SerialSpec*> references;
  for (const SerialSpec& serial : options.serial) references.push_back(&serial);
  if (options.monitor) references.push_back(&*options.monitor);
  for (const SerialSpec* spec : references) {
    if (spec->kind == SerialSpec::Kind::kChardev && find(spec->chardev) == nullptr) {
      return Error(spec->text + ": chardev '" + spec->chardev + "' not found");
    }
  }
  unsigned stdio_users = 0;
  std::string stdio_owner;
  for (const ChardevSpec& chardev : options.chardevs) {
    const unsigned users = chardev_user_count(options, chardev.id);
    if (users > 1 && !chardev.mux) {
      return Error("-chardev " + chardev.text + ": chardev '" + chardev.id + "' has " +
                   std::to_string(users) + " users; share it with mux=on");
    }
    if (uses_stdio(chardev.backend)) {
      ++stdio_users;
      // -qmp SPEC made the chardevs named compat_monitorN.
      const bool from_qmp = chardev.id.starts_with("compat_monitor");
      stdio_owner = (from_qmp ? "-qmp " : "-chardev ") + chardev.text;
    }
  }
  for (const SerialSpec* spec : references) {
    if (uses_stdio(*spec)) {
      ++stdio_users;
      if (stdio_owner.empty()) stdio_owner = spec->text;
    }
  }
  if (stdio_users > 1) {
    return Error(stdio_owner + ": stdio is used twice (share it: -chardev stdio,mux=on,id=ID)");
  }
  return {};
}

}  // namespace cr16::system
