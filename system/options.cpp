#include "system/options.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "hw/board.h"
#include "system/options_detail.h"
#include "util/log.h"

#ifndef CR16_VERSION
#define CR16_VERSION "0.1.0"
#endif

namespace cr16::system {

std::optional<bool> detail::parse_switch(std::string_view value) {
  if (value == "on" || value == "yes" || value == "true") return true;
  if (value == "off" || value == "no" || value == "false") return false;
  return std::nullopt;
}

Expected<std::vector<detail::KeyValue>> detail::split_option_parts(std::string_view text,
                                                                   const std::string& option) {
  std::vector<KeyValue> parts;
  std::string part;
  auto finish = [&]() -> Error {
    KeyValue item;
    const size_t equals = part.find('=');
    if (equals == std::string::npos) {
      item.key = part;
      item.bare = true;
    } else {
      item.key = part.substr(0, equals);
      item.value = part.substr(equals + 1);
    }
    if (item.key.empty()) return Error(option + ": empty parameter in '" + std::string(text) + "'");
    for (const KeyValue& seen : parts) {
      if (seen.key == item.key) return Error(option + ": '" + item.key + "' given twice");
    }
    parts.push_back(std::move(item));
    part.clear();
    return {};
  };
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == ',' && i + 1 < text.size() && text[i + 1] == ',') {
      part.push_back(',');
      ++i;
    } else if (text[i] == ',') {
      if (Error error = finish(); !error.ok()) return error;
    } else {
      part.push_back(text[i]);
    }
  }
  if (Error error = finish(); !error.ok()) return error;
  return parts;
}

namespace {

using detail::parse_switch;

bool parse_unsigned(std::string_view text, uint64_t* value, int base = 10) {
  if (text.empty()) return false;
  if (base == 0) {
    base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
      base = 16;
      text.remove_prefix(2);
    }
  }
  auto result = std::from_chars(text.data(), text.data() + text.size(), *value, base);
  return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

// Splits "a,b=c,d" into its comma-separated parts.
std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

// Splits "key=value,key=value" into pairs; ",," is a literal comma inside a
// value (QEMU's escape). Errors name `option`. Each key may appear once.
Expected<std::vector<std::pair<std::string, std::string>>> split_key_values(
    std::string_view text, const std::string& option) {
  Expected<std::vector<detail::KeyValue>> parts = detail::split_option_parts(text, option);
  if (!parts) return parts.error();
  std::vector<std::pair<std::string, std::string>> pairs;
  for (detail::KeyValue& part : *parts) {
    if (part.bare) return Error(option + ": expected key=value, got '" + part.key + "'");
    pairs.emplace_back(std::move(part.key), std::move(part.value));
  }
  return pairs;
}

// Applies the ",server=on,wait=off" style flags of tcp: and unix: specs.
Error apply_socket_flags(std::span<const std::string_view> flags, SerialSpec* spec) {
  for (std::string_view flag : flags) {
    std::string_view key = flag;
    std::string_view value = "on";
    if (size_t equals = flag.find('='); equals != std::string_view::npos) {
      key = flag.substr(0, equals);
      value = flag.substr(equals + 1);
    }
    if (key == "nowait") {  // the old QEMU spelling of wait=off
      key = "wait";
      value = "off";
    }
    std::optional<bool> on = parse_switch(value);
    if (!on) {
      return Error("-serial " + spec->text + ": bad value '" + std::string(value) + "' for '" +
                   std::string(key) + "' (use on or off)");
    }
    if (key == "server") {
      spec->server = *on;
    } else if (key == "wait") {
      spec->wait = *on;
    } else {
      return Error("-serial " + spec->text + ": unknown flag '" + std::string(key) + "'");
    }
  }
  return {};
}

struct OptionInfo {
  const char* name;
  bool takes_value;
};

/// What parse_options() resolves once every option was seen (the board
/// decides the defaults and limits, and -M may come after -m).
struct ParseState {
  std::optional<uint64_t> ram_bytes;
  std::string ram_text;  // -m as written, for messages
  std::optional<CpuModel> cpu;
};

constexpr OptionInfo kOptionTable[] = {
    {"M", true},
    {"machine", true},
    {"m", true},
    {"cpu", true},
    {"bios", true},
    {"kernel", true},
    {"pflash", true},
    {"drive", true},
    {"serial", true},
    {"monitor", true},
    {"chardev", true},
    {"mon", true},
    {"qmp", true},
    {"qmp-pretty", true},
    {"name", true},
    {"S", false},
    {"nographic", false},
    {"display", true},
    {"vnc", true},
    {"no-reboot", false},
    {"no-shutdown", false},
    {"semihosting", false},
    {"semihosting-config", true},
    {"d", true},
    {"D", true},
    {"L", true},
    {"loop", true},
    {"icount", true},
    {"accel", true},
    {"gdb", true},
    {"s", false},
    {"incoming", true},
    {"object", true},
    {"loadvm", true},
    {"snapshot", false},
    {"snapshot-dir", true},
    {"version", false},
    {"h", false},
    {"help", false},
};

const OptionInfo* find_option(std::string_view name) {
  for (const auto& option : kOptionTable) {
    if (name == option.name) return &option;
  }
  return nullptr;
}

// -display sdl|none (QEMU's spelling; options after a comma are not ours).
Error parse_display(std::string_view value, Options* options) {
  if (value == "sdl") {
    options->display = DisplayKind::kSdl;
  } else if (value == "none") {
    options->display = DisplayKind::kNone;
  } else {
    return Error("-display " + std::string(value) + ": unknown display (sdl or none)");
  }
  return {};
}

// -M NAME[,prop=value...] (also "type=NAME" as the first item, and NAME,help).
Error apply_machine(std::string_view value, Options* options) {
  std::vector<std::string_view> parts = split(value, ',');
  std::string_view machine = parts[0];
  if (machine.starts_with("type=")) machine.remove_prefix(5);
  if (machine == "help") {
    options->action = Action::kMachineHelp;
    return {};
  }
  const BoardType* type = find_board_type(machine);
  if (type == nullptr) {
    return Error("-M: unknown machine '" + std::string(machine) + "' (try -M help)");
  }
  options->machine = type->name;
  options->machine_properties.clear();
  for (std::string_view part : std::span(parts).subspan(1)) {
    if (part == "help") {
      options->action = Action::kMachinePropertyHelp;
      continue;
    }
    std::string_view key = part;
    std::string_view item = "on";  // a bare name is a switch, as in QEMU
    if (size_t equals = part.find('='); equals != std::string_view::npos) {
      key = part.substr(0, equals);
      item = part.substr(equals + 1);
    }
    if (Error error = check_board_property(*type, key, item); !error.ok()) {
      return error.with_context("-M " + std::string(value));
    }
    if (!options->machine_properties.emplace(key, item).second) {
      return Error("-M " + std::string(value) + ": property '" + std::string(key) +
                   "' given twice");
    }
  }
  return {};
}

// -monitor SPEC: none, or a backend as for -serial (without mon:).
Error apply_monitor(std::string_view value, Options* options) {
  if (options->monitor) return Error("-monitor: only one monitor is supported");
  if (value == "none") {
    SerialSpec none;
    none.kind = SerialSpec::Kind::kNone;
    none.text = "none";
    options->monitor = none;
    return {};
  }
  Expected<SerialSpec> spec = parse_serial_spec(value);
  if (!spec) {
    std::string message = spec.error().message();  // says "-serial": name our option
    if (message.starts_with("-serial")) message.replace(0, 7, "-monitor");
    return Error(message);
  }
  if (spec->mux_monitor || spec->kind == SerialSpec::Kind::kNone) {
    return Error("-monitor " + std::string(value) + ": not a monitor backend");
  }
  options->monitor = std::move(*spec);
  return {};
}

Error apply_option(std::string_view name, std::string_view value, Options* options,
                   ParseState* state) {
  const std::string value_text(value);
  if (name == "M" || name == "machine") {
    return apply_machine(value, options);
  } else if (name == "m") {
    Expected<uint64_t> size = parse_ram_size(value);
    if (!size) return size.error();
    state->ram_bytes = *size;
    state->ram_text = value_text;
  } else if (name == "cpu") {
    if (value == "help") {
      options->action = Action::kCpuHelp;
      return {};
    }
    Expected<CpuModel> model = parse_cpu_model(value);
    if (!model) return model.error().with_context("-cpu");
    state->cpu = *model;
  } else if (name == "monitor") {
    return apply_monitor(value, options);
  } else if (name == "chardev") {
    return parse_chardev(value, options);
  } else if (name == "mon") {
    return parse_mon(value, options);
  } else if (name == "qmp" || name == "qmp-pretty") {
    return add_qmp(value, name == "qmp-pretty", options);
  } else if (name == "name") {
    return parse_name(value, options);
  } else if (name == "S") {
    options->start_paused = true;
  } else if (name == "bios") {
    if (value.empty()) return Error("-bios: empty file name");
    options->bios_path = value_text;
  } else if (name == "kernel") {
    if (value.empty()) return Error("-kernel: empty file name");
    options->kernel_path = value_text;
  } else if (name == "pflash") {
    if (value.empty()) return Error("-pflash: empty file name");
    if (!options->pflash_path.empty()) return Error("-pflash: only one pflash drive is supported");
    options->pflash_path = value_text;
  } else if (name == "drive") {
    return parse_drive(value, options);
  } else if (name == "serial") {
    Expected<SerialSpec> spec = parse_serial_spec(value);
    if (!spec) return spec.error();
    for (const auto& other : options->serial) {
      if (spec->kind == SerialSpec::Kind::kStdio && other.kind == SerialSpec::Kind::kStdio) {
        return Error("-serial " + value_text + ": stdio used twice");
      }
      if (spec->mux_monitor && other.mux_monitor) {
        return Error("-serial " + value_text + ": only one serial port can carry the monitor");
      }
    }
    options->serial.push_back(std::move(*spec));
  } else if (name == "nographic") {
    options->nographic = true;
  } else if (name == "display") {
    return parse_display(value, options);
  } else if (name == "vnc") {
    if (value.empty()) return Error("-vnc: empty display (use :N, HOST:N or unix:PATH)");
    options->vnc = value_text;
  } else if (name == "no-reboot") {
    options->no_reboot = true;
  } else if (name == "no-shutdown") {
    options->no_shutdown = true;
  } else if (name == "semihosting") {
    options->semihosting = SemihostingMode::kOn;
  } else if (name == "semihosting-config") {
    return parse_semihosting_config(value, options);
  } else if (name == "d") {
    if (value == "help") {
      options->action = Action::kLogHelp;
      return {};
    }
    Expected<uint32_t> mask = parse_log_categories(value_text);
    if (!mask) return mask.error();
    options->log_mask |= *mask;
  } else if (name == "D") {
    if (value.empty()) return Error("-D: empty file name");
    options->log_file = value_text;
  } else if (name == "L") {
    if (value.empty()) return Error("-L: empty directory name");
    options->data_dirs.push_back(value_text);
  } else if (name == "loop") {
    Expected<io::LoopBackend> backend = io::parse_loop_backend(value);
    if (!backend) return Error("-loop: unknown backend '" + value_text + "' (epoll or io_uring)");
    options->loop = *backend;
  } else if (name == "incoming") {
    if (value.empty())
      return Error("-incoming: empty URI (tcp:, unix:, exec:, file:, fd: or defer)");
    if (!options->incoming.empty()) return Error("-incoming: given twice");
    options->incoming = value_text;
  } else if (name == "object") {
    return parse_object(value, options);
  } else if (name == "icount") {
    return parse_icount(value, options);
  } else if (name == "accel") {
    std::string_view kind = value;
    if (kind.starts_with("accel=")) kind.remove_prefix(6);
    if (kind == "help") {
      options->action = Action::kAccelHelp;
      return {};
    }
    Expected<EngineKind> engine = parse_engine_kind(kind);
    if (!engine) return engine.error().with_context("-accel");
    options->accel = *engine;
  } else if (name == "gdb" || name == "s") {
    Expected<std::optional<SerialSpec>> spec = parse_gdb_device(name == "s" ? "tcp::1234" : value);
    if (!spec) return spec.error().with_context("-gdb");
    options->gdb = std::move(*spec);
  } else if (name == "loadvm") {
    if (value.empty()) return Error("-loadvm: empty snapshot name");
    options->loadvm = value_text;
  } else if (name == "snapshot") {
    options->snapshot = true;
  } else if (name == "snapshot-dir") {
    if (value.empty()) return Error("-snapshot-dir: empty directory name");
    options->snapshot_dir = value_text;
  } else if (name == "version") {
    options->action = Action::kVersion;
  } else if (name == "h" || name == "help") {
    options->action = Action::kHelp;
  }
  return {};
}

}  // namespace

// -icount N or -icount shift=N[,align=on|off][,sleep=on]
Error parse_icount(std::string_view text, Options* options) {
  std::string_view rest = text;
  if (!text.empty() && text.find('=') == std::string_view::npos) {
    rest = {};  // the bare number form
    uint64_t number = 0;
    if (!parse_unsigned(text, &number) || number > 16) {
      return Error("-icount: bad shift '" + std::string(text) + "' (a number from 0 to 16)");
    }
    options->icount_shift = static_cast<unsigned>(number);
    return {};
  }
  Expected<std::vector<std::pair<std::string, std::string>>> pairs =
      split_key_values(rest, "-icount");
  if (!pairs) return pairs.error();
  for (const auto& [key, item] : *pairs) {
    if (key == "shift") {
      uint64_t number = 0;
      if (!parse_unsigned(item, &number) || number > 16) {
        return Error("-icount: bad shift '" + item + "' (a number from 0 to 16)");
      }
      options->icount_shift = static_cast<unsigned>(number);
    } else if (key == "align" || key == "sleep") {
      std::optional<bool> on = parse_switch(item);
      if (!on) return Error("-icount: bad value '" + item + "' for '" + key + "' (use on or off)");
      if (key == "align") {
        options->icount_align = *on;
      } else if (!*on) {
        return Error("-icount: sleep=off is not supported (an idle CPU's time follows the host's)");
      }
    } else {
      return Error("-icount: unknown parameter '" + key + "' (shift, align, sleep)");
    }
  }
  if (!options->icount_shift && !options->icount_align) return Error("-icount: missing shift=N");
  return {};
}

Error parse_drive(std::string_view text, Options* options) {
  Expected<std::vector<std::pair<std::string, std::string>>> pairs =
      split_key_values(text, "-drive");
  if (!pairs) return pairs.error();
  std::string interface;
  std::string file;
  bool file_given = false;
  bool create = false;
  for (const auto& [key, item] : *pairs) {
    if (key == "if") {
      interface = item;
    } else if (key == "file") {
      file = item;
      file_given = true;
    } else if (key == "format") {
      if (item != "raw") return Error("-drive: unsupported format '" + item + "' (only raw)");
    } else if (key == "create") {
      std::optional<bool> on = parse_switch(item);
      if (!on) return Error("-drive: bad value '" + item + "' for 'create' (use on or off)");
      create = *on;
    } else {
      return Error("-drive: unknown parameter '" + key + "' (if, file, format, create)");
    }
  }
  if (interface == "mtd") {
    if (!file_given) return Error("-drive: missing file=FILE");
    if (file.empty()) return Error("-drive: empty file name");
    if (create)
      return Error("-drive: create=on needs if=pflash (an mtd image gives the flash size)");
    if (!options->mtd_path.empty()) return Error("-drive: only one mtd drive is supported");
    options->mtd_path = file;
    return {};
  }
  if (interface != "pflash") {
    return Error("-drive: only if=pflash and if=mtd are supported" +
                 (interface.empty() ? std::string() : " (got if=" + interface + ")"));
  }
  if (!file_given) return Error("-drive: missing file=FILE");
  if (file.empty()) return Error("-drive: empty file name");
  if (!options->pflash_path.empty()) return Error("-drive: only one pflash drive is supported");
  options->pflash_path = file;
  options->pflash_create = create;
  return {};
}

Error parse_object(std::string_view text, Options* options) {
  const size_t comma = text.find(',');
  const std::string type(text.substr(0, comma));
  if (type != "tls-creds-x509") {
    return Error("-object: unknown object type '" + type + "' (tls-creds-x509)");
  }
  if (comma == std::string_view::npos) return Error("-object tls-creds-x509: missing id=ID");
  Expected<std::vector<std::pair<std::string, std::string>>> pairs =
      split_key_values(text.substr(comma + 1), "-object tls-creds-x509");
  if (!pairs) return pairs.error();
  TlsCredsSpec spec;
  for (const auto& [key, item] : *pairs) {
    const std::string where = "-object tls-creds-x509: ";
    if (key == "id") {
      spec.id = item;
    } else if (key == "dir") {
      spec.dir = item;
    } else if (key == "endpoint") {
      if (item != "server" && item != "client") {
        return Error(where + "bad endpoint '" + item + "' (server or client)");
      }
      spec.server = item == "server";
    } else if (key == "verify-peer") {
      std::optional<bool> on = parse_switch(item);
      if (!on) return Error(where + "bad value '" + item + "' for 'verify-peer' (use on or off)");
      spec.verify_peer = *on;
    } else {
      return Error(where + "unknown parameter '" + key + "' (id, dir, endpoint, verify-peer)");
    }
  }
  if (spec.id.empty()) return Error("-object tls-creds-x509: missing id=ID");
  if (spec.dir.empty()) return Error("-object tls-creds-x509,id=" + spec.id + ": missing dir=DIR");
  for (const TlsCredsSpec& other : options->tls_creds) {
    if (other.id == spec.id) return Error("-object: duplicate id '" + spec.id + "'");
  }
  options->tls_creds.push_back(std::move(spec));
  return {};
}

Error parse_semihosting_config(std::string_view text, Options* options) {
  Expected<std::vector<std::pair<std::string, std::string>>> pairs =
      split_key_values(text, "-semihosting-config");
  if (!pairs) return pairs.error();
  SemihostingMode mode = SemihostingMode::kOn;
  std::string root;
  for (const auto& [key, item] : *pairs) {
    if (key == "enable") {
      std::optional<bool> on = parse_switch(item);
      if (!on) {
        return Error("-semihosting-config: bad value '" + item + "' for 'enable' (use on or off)");
      }
      mode = *on ? SemihostingMode::kOn : SemihostingMode::kOff;
    } else if (key == "root") {
      if (item.empty()) return Error("-semihosting-config: empty root directory");
      root = item;
    } else {
      return Error("-semihosting-config: unknown parameter '" + key + "' (enable, root)");
    }
  }
  options->semihosting = mode;
  if (!root.empty()) options->semihosting_root = root;
  return {};
}

Expected<uint64_t> parse_ram_size(std::string_view text) {
  const std::string original(text);
  if (text.starts_with("size=")) text.remove_prefix(5);
  uint64_t multiplier = 1u << 20;  // QEMU: a bare number is MiB
  if (!text.empty()) {
    switch (text.back()) {
      case 'k':
      case 'K':
        multiplier = 1u << 10;
        text.remove_suffix(1);
        break;
      case 'm':
      case 'M':
        multiplier = 1u << 20;
        text.remove_suffix(1);
        break;
      case 'g':
      case 'G':
        multiplier = 1u << 30;
        text.remove_suffix(1);
        break;
      case 'b':
      case 'B':
        multiplier = 1;
        text.remove_suffix(1);
        break;
      default:
        break;
    }
  }
  uint64_t number = 0;
  if (!parse_unsigned(text, &number) || number > (1ull << 40)) {
    return Error("-m: bad size '" + original + "' (e.g. 2M, 4096K)");
  }
  if (number > (uint64_t{1} << 40) / multiplier) {
    return Error("-m " + original + ": RAM size too large");
  }
  return number * multiplier;
}

Expected<std::optional<SerialSpec>> parse_gdb_device(std::string_view text) {
  const std::string device(text);
  const std::string usage = " (tcp::PORT, tcp:HOST:PORT, unix:PATH[,server=on] or none)";
  if (text == "none") return std::optional<SerialSpec>();
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
    return parse_gdb_device("tcp::" + device);  // a bare port, as QEMU allows
  }
  if (!text.starts_with("tcp:") && !text.starts_with("unix:")) {
    return Error("unsupported device '" + device + "'" + usage);
  }
  // The debugger connects to us: always a server, and one that does not
  // hold the start (-S does that). nodelay is what we do anyway.
  std::vector<std::string_view> parts = split(text, ',');
  std::string spec_text(parts[0]);
  for (std::string_view flag : std::span(parts).subspan(1)) {
    std::string_view key = flag.substr(0, flag.find('='));
    std::string_view value =
        flag.find('=') == std::string_view::npos ? "on" : flag.substr(flag.find('=') + 1);
    std::optional<bool> on = parse_switch(value);
    if (!on) {
      return Error("'" + device + "': bad value '" + std::string(value) + "' for '" +
                   std::string(key) + "' (use on or off)");
    }
    if (key == "server" && !*on) {
      return Error("'" + device +
                   "': the debugger connects to the emulator (server=off is not "
                   "supported)");
    }
    if (key == "wait" && *on) {
      return Error("'" + device + "': wait=on is not supported (use -S to start paused)");
    }
    if (key != "server" && key != "wait" && key != "nodelay") {
      return Error("'" + device + "': unknown flag '" + std::string(key) + "'" + usage);
    }
  }
  Expected<SerialSpec> spec = parse_serial_spec(spec_text + ",server=on,wait=off");
  if (!spec) {
    std::string message = spec.error().message();
    if (message.starts_with("-serial: ")) message.erase(0, 9);
    const std::string generated = spec_text + ",server=on,wait=off";
    if (size_t at = message.find(generated); at != std::string::npos) {
      message.replace(at, generated.size(), device);
    }
    return Error(message);
  }
  spec->text = device;
  return std::optional<SerialSpec>(std::move(*spec));
}

Expected<SerialSpec> parse_serial_spec(std::string_view text) {
  if (text.starts_with("mon:")) {
    Expected<SerialSpec> inner = parse_serial_spec(text.substr(4));
    if (!inner) return inner.error();
    if (inner->mux_monitor || inner->kind == SerialSpec::Kind::kNone ||
        inner->kind == SerialSpec::Kind::kNull || inner->kind == SerialSpec::Kind::kChardev) {
      return Error("-serial: bad specification '" + std::string(text) +
                   "': mon: needs a terminal, file or socket backend (share a -chardev with "
                   "mux=on instead)");
    }
    inner->mux_monitor = true;
    inner->text = text;
    return inner;
  }
  SerialSpec spec;
  spec.text = text;
  const std::string bad = "-serial: bad specification '" + spec.text + "'";
  if (text == "stdio") {
    spec.kind = SerialSpec::Kind::kStdio;
  } else if (text == "null") {
    spec.kind = SerialSpec::Kind::kNull;
  } else if (text == "none") {
    spec.kind = SerialSpec::Kind::kNone;
  } else if (text == "pty") {
    spec.kind = SerialSpec::Kind::kPty;
  } else if (text.starts_with("chardev:")) {
    spec.kind = SerialSpec::Kind::kChardev;
    spec.chardev = text.substr(8);
    if (spec.chardev.empty()) return Error(bad + ": chardev: needs an id");
  } else if (text.starts_with("file:")) {
    spec.kind = SerialSpec::Kind::kFile;
    spec.path = text.substr(5);
    if (spec.path.empty()) return Error(bad + ": file: needs a path");
  } else if (text.starts_with("tcp:")) {
    spec.kind = SerialSpec::Kind::kTcp;
    std::vector<std::string_view> parts = split(text.substr(4), ',');
    std::string_view address = parts[0];
    size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) return Error(bad + ": expected tcp:HOST:PORT");
    std::string_view host = address.substr(0, colon);
    const bool opens = host.find('[') != std::string_view::npos;
    const bool closes = host.find(']') != std::string_view::npos;
    if (opens || closes) {
      // Only a whole IPv6 literal may be bracketed: [::1]:4444.
      if (host.size() < 2 || host.front() != '[' || host.back() != ']' ||
          host.find_first_of("[]", 1) != host.size() - 1) {
        return Error(bad +
                     ": unbalanced brackets in the host (write an IPv6 address as "
                     "[::1]:PORT)");
      }
      host = host.substr(1, host.size() - 2);
      if (host.empty()) return Error(bad + ": empty host between the brackets");
    }
    spec.host = host;
    uint64_t port = 0;
    if (!parse_unsigned(address.substr(colon + 1), &port) || port > 65535) {
      return Error(bad + ": bad port '" + std::string(address.substr(colon + 1)) + "'");
    }
    spec.port = static_cast<uint16_t>(port);
    if (Error error = apply_socket_flags(std::span(parts).subspan(1), &spec); !error.ok())
      return error;
    if (!spec.server && (spec.host.empty() || spec.port == 0)) {
      return Error(bad + ": a client needs a host and a non-zero port");
    }
  } else if (text.starts_with("unix:")) {
    spec.kind = SerialSpec::Kind::kUnix;
    std::vector<std::string_view> parts = split(text.substr(5), ',');
    spec.path = parts[0];
    if (spec.path.empty()) return Error(bad + ": unix: needs a path");
    if (Error error = apply_socket_flags(std::span(parts).subspan(1), &spec); !error.ok())
      return error;
  } else {
    return Error(bad +
                 " (stdio, null, none, file:PATH, pty, tcp:HOST:PORT[,server=on][,wait=off], "
                 "unix:PATH[,server=on][,wait=off], chardev:ID)");
  }
  return spec;
}

namespace {

// Resolves what depends on the board: defaults, limits, port counts.
Error resolve_board(Options* options, const ParseState& state) {
  const BoardType* type =
      options->machine.empty() ? &default_board_type() : find_board_type(options->machine);
  if (type == nullptr) return Error("-M: unknown machine '" + options->machine + "'");
  options->machine = type->name;
  const BoardLimits& limits = type->limits;
  options->ram_bytes = limits.ram_default;
  if (state.ram_bytes) {
    if (Error error = check_ram_size(*type, *state.ram_bytes); !error.ok()) {
      return error.with_context("-m " + state.ram_text);
    }
    options->ram_bytes = static_cast<uint32_t>(*state.ram_bytes);
  }
  options->cpu = state.cpu.value_or(limits.default_cpu);
  if (options->icount_align && !options->icount_shift && limits.default_icount_shift < 0) {
    return Error("-icount: missing shift=N (the " + std::string(type->name) +
                 " board has no default)");
  }
  if (!options->mtd_path.empty() && !limits.mtd_flash) {
    return Error("-drive if=mtd: the " + std::string(type->name) +
                 " board has no SPI flash (use if=pflash)");
  }
  if (!options->pflash_path.empty() && limits.firmware_is_boot_rom) {
    return Error("-pflash: the " + std::string(type->name) + " board has a mask boot ROM, no " +
                 "parallel flash (its SPI flash image: -drive if=mtd,file=FILE,format=raw)");
  }
  if (options->semihosting == SemihostingMode::kOn && !limits.semihosting) {
    return Error("-semihosting: not available on the " + std::string(type->name) +
                 " board (its firmware uses excp svc itself)");
  }
  if (options->serial.size() > limits.serial_ports) {
    return Error("-serial " + options->serial[limits.serial_ports].text + ": the " + type->name +
                 " board has only " + std::to_string(limits.serial_ports) + " serial ports");
  }
  if (options->monitor && options->monitor->kind == SerialSpec::Kind::kStdio) {
    for (const SerialSpec& serial : options->serial) {
      if (serial.kind == SerialSpec::Kind::kStdio) {
        return Error("-monitor stdio: stdio is already used by -serial " + serial.text +
                     " (use -serial mon:stdio to share it)");
      }
    }
  }
  return {};
}

}  // namespace

Expected<Options> parse_options(std::span<const std::string_view> args) {
  Options options;
  ParseState state;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      return Error("unexpected argument '" + std::string(arg) + "' (try -h)");
    }
    std::string_view name = arg.substr(arg[1] == '-' ? 2 : 1);  // QEMU accepts -opt and --opt
    const OptionInfo* info = find_option(name);
    if (!info) return Error("unknown option '" + std::string(arg) + "' (try -h)");
    std::string_view value;
    if (info->takes_value) {
      if (i + 1 >= args.size()) return Error("option '" + std::string(arg) + "' needs a value");
      value = args[++i];
    }
    if (Error error = apply_option(name, value, &options, &state); !error.ok()) return error;
  }
  if (options.action == Action::kRun || options.action == Action::kMachinePropertyHelp) {
    if (Error error = resolve_board(&options, state); !error.ok()) return error;
  }
  if (options.action == Action::kRun && !options.bios_path.empty() &&
      !options.kernel_path.empty()) {
    return Error("-bios and -kernel cannot be used together");
  }
  if (options.action == Action::kRun && options.nographic &&
      options.display != DisplayKind::kNone) {
    return Error("-nographic cannot be used with -display sdl");
  }
  if (options.action == Action::kRun && !options.loadvm.empty() && !options.incoming.empty()) {
    // Both would replace the machine's state: which one wins is not obvious.
    return Error("-loadvm and -incoming cannot be used together");
  }
  if (options.action == Action::kRun) {
    if (Error error = check_chardev_references(options); !error.ok()) return error;
  }
  return options;
}

Expected<Options> parse_options(int argc, const char* const* argv) {
  std::vector<std::string_view> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return parse_options(std::span<const std::string_view>(args));
}

ConsolePlan plan_consoles(const Options& options, unsigned serial_ports, bool program_owns_stdio) {
  auto spec_of = [](std::string_view text) { return *parse_serial_spec(text); };
  ConsolePlan plan;
  plan.serial = options.serial;
  const bool monitor_given = options.monitor.has_value();
  const bool monitor_none = monitor_given && options.monitor->kind == SerialSpec::Kind::kNone;
  // A -chardev (or -qmp) on stdio owns the terminal: no default uses it.
  const bool chardev_on_stdio =
      std::any_of(options.chardevs.begin(), options.chardevs.end(),
                  [](const ChardevSpec& c) { return c.backend.kind == SerialSpec::Kind::kStdio; });
  if (monitor_given && !monitor_none) plan.monitor = options.monitor;
  if (options.serial.empty() && serial_ports > 0) {
    if (program_owns_stdio || chardev_on_stdio) {
      plan.serial.push_back(spec_of("null"));
    } else if (!monitor_given) {
      plan.serial.push_back(spec_of("mon:stdio"));
    } else if (monitor_none) {
      plan.serial.push_back(spec_of("stdio"));
    } else if (options.monitor->kind == SerialSpec::Kind::kStdio) {
      plan.serial.push_back(spec_of("null"));
    } else {
      plan.serial.push_back(spec_of("stdio"));  // the monitor lives elsewhere
    }
  } else if (options.nographic && !monitor_given && !program_owns_stdio) {
    bool stdio_used = false;
    bool has_monitor = false;
    for (const SerialSpec& serial : options.serial) {
      stdio_used = stdio_used || serial.kind == SerialSpec::Kind::kStdio;
      has_monitor = has_monitor || serial.mux_monitor;
    }
    if (!stdio_used && !has_monitor && !chardev_on_stdio) plan.monitor = spec_of("stdio");
  }
  while (plan.serial.size() < serial_ports) plan.serial.push_back(spec_of("null"));
  return plan;
}

std::string version_text() {
  return "cr16-system version " CR16_VERSION "\n";
}

std::string machine_help_text(const Options& options) {
  const BoardType* type = options.machine.empty() ? nullptr : find_board_type(options.machine);
  if (options.action != Action::kMachinePropertyHelp || type == nullptr) {
    return board_help_text();
  }
  std::string text = std::string(type->name) + " properties:\n";
  if (type->properties.empty()) text += "  (none)\n";
  for (const BoardProperty& property : type->properties) {
    std::string line = std::string("  ") + property.name;
    line.resize(std::max<size_t>(line.size() + 1, 22), ' ');
    text += line + property.help + "\n";
  }
  return text;
}

std::string cpu_help_text() {
  return "Available CPU models:\n"
         "  cr16c       CompactRISC CR16C\n"
         "  cr16cplus   CompactRISC CR16C+ (default)\n";
}

std::string usage_text() {
  return "usage: cr16-system [options]\n"
         "\n"
         "Machine:\n"
         "  -M NAME[,PROP=VALUE...]  machine and its properties (default virt; -M help lists\n"
         "                           machines, -M virt,help their properties)\n"
         "  -m SIZE                  RAM size, e.g. 2M or 4096K (default and limits: the\n"
         "                           machine's; virt: 2M, 64K to 14M in steps of 4K)\n"
         "  -cpu cr16c|cr16cplus|help  CPU model (default: the machine's, cr16cplus on virt)\n"
         "Images:\n"
         "  -bios FILE               firmware image (raw or ELF) in the flash at 0xE00000\n"
         "  -kernel FILE             ELF (entry from the file) or raw image (loaded at 0)\n"
         "  -pflash FILE             back the flash with FILE, an existing image of exactly\n"
         "                           the flash size (1 MiB); guest writes persist; locked\n"
         "  -drive if=pflash,file=FILE[,format=raw][,create=on]\n"
         "                           same as -pflash; create=on makes a missing FILE\n"
         "                           (erased, 0xFF) instead of failing\n"
         "  -drive if=mtd,file=FILE[,format=raw]\n"
         "                           SPI NOR flash image (sc14441); its size (1 to 16 MiB)\n"
         "                           is the flash size; guest writes persist\n"
         "  -L DIR                   look for the default firmware in DIR\n"
         "Devices:\n"
         "  -serial SPEC             next UART's backend: stdio, null, none, file:PATH, pty,\n"
         "                           tcp:HOST:PORT[,server=on][,wait=off],\n"
         "                           unix:PATH[,server=on][,wait=off], or mon:SPEC (shared\n"
         "                           with the monitor; default mon:stdio on UART0)\n"
         "  -monitor SPEC            human monitor on stdio, pty, file:PATH, tcp:..., unix:...,\n"
         "                           chardev:ID, or none (default: muxed with the serial\n"
         "                           console on stdio)\n"
         "  -qmp SPEC                QMP (the JSON machine protocol) on SPEC:\n"
         "                           unix:PATH,server=on[,wait=off] or\n"
         "                           tcp:HOST:PORT,server=on[,wait=off] (several clients at\n"
         "                           once), stdio, pty, or chardev:ID; may be repeated\n"
         "  -qmp-pretty SPEC         the same, with indented JSON\n"
         "  -chardev BACKEND,id=ID[,mux=on][,...]\n"
         "                           a named character device: socket,path=P|host=H,port=N\n"
         "                           [,server=on][,wait=off], stdio, pty, file,path=P, null;\n"
         "                           used by -mon, -serial chardev:ID, -monitor chardev:ID\n"
         "  -mon [chardev=]ID[,mode=readline|control][,pretty=on]\n"
         "                           a monitor on a -chardev: readline (human, the default)\n"
         "                           or control (QMP)\n"
         "  -display sdl|none        show the guest screen in an SDL2 window (Ctrl-Alt-G\n"
         "                           grabs the keyboard), or nowhere (the default)\n"
         "  -vnc :N|HOST:N|unix:PATH[,websocket=PORT][,tls-creds=ID]\n"
         "                           serve the screen and keyboard to VNC viewers on\n"
         "                           port 5900+N (websocket=: noVNC in a browser; with\n"
         "                           tls-creds: VeNCrypt x509 and wss). docs/display.md\n"
         "  -nographic               no display; serial console and monitor on stdio\n"
         "                           (Ctrl-A c switches, Ctrl-A x quits, Ctrl-A h helps)\n"
         "  -semihosting             serve newlib host calls (excp svc), host files included.\n"
         "                           Without it, -kernel ELFs built with the cr16-elf-gcc\n"
         "                           simulator BSP get console I/O, time and exit only\n"
         "  -semihosting-config enable=on|off[,root=DIR]\n"
         "                           enable=off: no semihosting at all (excp svc traps);\n"
         "                           root=DIR: guest file paths stay inside DIR\n"
         "Lifecycle:\n"
         "  -name [guest=]NAME[,process=PNAME]\n"
         "                           the VM's name (query-name); process= renames the process\n"
         "  -S                       do not start the CPU (prelaunch) until 'cont' (from the\n"
         "                           monitor, QMP or a debugger's continue)\n"
         "  -no-reboot               exit instead of resetting the machine\n"
         "  -no-shutdown             stay alive (paused) when the guest powers off or panics\n"
         "Snapshots (docs/snapshots.md):\n"
         "  -snapshot                never write the pflash image: flash writes go to a\n"
         "                           throw-away overlay in memory\n"
         "  -snapshot-dir DIR        keep snapshots (savevm) in DIR; default: IMAGE.snapshots/\n"
         "                           beside the -pflash IMAGE; without either, none\n"
         "  -loadvm NAME             start from snapshot NAME (the VM runs unless -S)\n"
         "Debugging:\n"
         "  -gdb DEV                 gdbstub (GDB Remote Serial Protocol) on DEV: tcp::PORT,\n"
         "                           tcp:HOST:PORT, unix:PATH[,server=on] or none\n"
         "  -s                       shorthand for -gdb tcp::1234\n"
         "  -d ITEM,...|help         enable log categories\n"
         "  -D FILE                  write the log to FILE\n"
         "  -icount N                deterministic time: virtual ns = instructions << N\n"
         "  -icount shift=N[,align=on|off][,sleep=on]\n"
         "                           the same; align=on paces the CPU to the host clock\n"
         "                           (one instruction per 2^N ns of real time; the default\n"
         "                           on boards with a paced clock: sc14441, shift=8)\n"
         "  -accel interp|jit|help   CPU execution engine (-accel help lists them and the "
         "default)\n"
         "Migration:\n"
         "  -incoming URI|defer      wait for a migration from tcp:HOST:PORT, unix:PATH,\n"
         "                           exec:CMD, file:PATH[,offset=N] or fd:N (defer: the\n"
         "                           URI comes later with migrate_incoming)\n"
         "  -object tls-creds-x509,id=ID,dir=DIR[,endpoint=server|client][,verify-peer=on|off]\n"
         "                           TLS credentials for migration (tls-creds parameter);\n"
         "                           DIR holds ca-cert.pem, server-cert.pem, server-key.pem,\n"
         "                           client-cert.pem, client-key.pem\n"
         "  -loop epoll|io_uring     main loop backend (default io_uring, epoll if refused)\n"
         "  -version                 print the version\n"
         "  -h, -help                print this help\n"
         "\n"
         "Exit status: the guest's power-off code (or its exit() with semihosting);\n"
         "134 when the guest panics (an exception it cannot take); 1 when the machine\n"
         "cannot be built (the message names the option or file); 0 after a quit.\n";
}

}  // namespace cr16::system
