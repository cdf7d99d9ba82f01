#include "system/monitor/commands_migration.h"

#include <cinttypes>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "io/socket_address.h"
#include "migration/migration_types.h"
#include "system/migration_control.h"

namespace cr16::system::monitor {

namespace {

using migration::MigrationStats;
using migration::MigrationStatus;

Expected<MigrationControl*> service(CommandContext& context) {
  MigrationControl* migration = context.control.migration();
  if (migration == nullptr) return Error("this machine has no migration support");
  return migration;
}

int64_t ms(int64_t us) {
  return us / 1000;
}

// ---- migrate / migrate-incoming / migrate_cancel

Expected<Value> do_migrate(CommandContext& context, const Value& arguments) {
  Expected<MigrationControl*> migration = service(context);
  if (!migration) return migration.error();
  for (const char* unsupported : {"blk", "inc", "resume"}) {
    if (arguments.bool_or(unsupported, false)) {
      return Error(std::string("migrate: '") + unsupported + "' is not supported");
    }
  }
  if (Error error = (*migration)->migrate(arguments.string_or("uri", "")); !error.ok()) {
    return error;
  }
  return Value();
}

// HMP: "migrate [-d] URI". The URI is the rest of the line; -d (detach) is
// what this monitor always does: the command returns at once and
// `info migrate` shows the progress.
Expected<Value> do_hmp_migrate(CommandContext& context, const Value& arguments) {
  Expected<MigrationControl*> migration = service(context);
  if (!migration) return migration.error();
  std::string uri = arguments.string_or("uri", "");
  bool detach = false;
  if (uri == "-d" || uri.starts_with("-d ")) {
    detach = true;
    uri = uri.size() > 3 ? uri.substr(3) : "";
  }
  if (uri.empty()) return Error("migrate: missing argument 'uri'");
  if (Error error = (*migration)->migrate(uri); !error.ok()) return error;
  return Value::dict().set("detach", Value::boolean(detach));
}

std::string format_hmp_migrate(const Value& result, const Value&) {
  if (result.bool_or("detach", false)) return "";
  return "migration started; 'info migrate' shows its progress\n";
}

Expected<Value> do_migrate_incoming(CommandContext& context, const Value& arguments) {
  Expected<MigrationControl*> migration = service(context);
  if (!migration) return migration.error();
  if (Error error = (*migration)->migrate_incoming(arguments.string_or("uri", "")); !error.ok()) {
    return error;
  }
  return Value();
}

Expected<Value> do_migrate_cancel(CommandContext& context, const Value&) {
  Expected<MigrationControl*> migration = service(context);
  if (!migration) return migration.error();
  if (Error error = (*migration)->cancel(); !error.ok()) return error;
  return Value();
}

// ---- query-migrate / info migrate

// QEMU's SocketAddress: {"type": "inet", "host": H, "port": "P"} or
// {"type": "unix", "path": P}, from our text form ("tcp:H:P", "unix:P").
Value socket_address_value(const std::string& text) {
  Expected<io::SocketAddress> address = io::SocketAddress::parse(text);
  if (!address) return Value::dict().set("type", Value::string("unknown"));
  if (address->kind == io::SocketAddress::Kind::kUnix) {
    return Value::dict()
        .set("type", Value::string("unix"))
        .set("path", Value::string(address->abstract ? "@" + address->path : address->path));
  }
  return Value::dict()
      .set("type", Value::string("inet"))
      .set("host", Value::string(address->host))
      .set("port", Value::string(std::to_string(address->port)));
}

// The human monitor's form of a SocketAddress value ("tcp:H:P", "unix:P").
std::string socket_address_text(const Value& address) {
  if (address.string_or("type", "") == "unix") return "unix:" + address.string_or("path", "");
  const std::string host = address.string_or("host", "");
  const bool ipv6 = host.find(':') != std::string::npos;
  return "tcp:" + (ipv6 ? "[" + host + "]" : host) + ":" + address.string_or("port", "");
}

Value stats_value(const MigrationStats& stats) {
  Value result = Value::dict();
  if (stats.status == MigrationStatus::kNone) return result;  // QEMU: {} before any migration
  result.set("status", Value::string(migration_status_name(stats.status)));
  if (stats.incoming) {
    result.set("total-time", Value::integer(ms(stats.total_us)));
    result.set("total-time-us", Value::integer(stats.total_us));
    if (!stats.socket_address.empty()) {
      result.set("socket-address", Value::list().push(socket_address_value(stats.socket_address)));
    }
  } else if (stats.status != MigrationStatus::kSetup) {
    result.set("setup-time", Value::integer(ms(stats.setup_us)));
    result.set("total-time", Value::integer(ms(stats.total_us)));
    if (stats.status == MigrationStatus::kCompleted) {
      result.set("downtime", Value::integer(ms(stats.downtime_us)));
    } else {
      result.set("expected-downtime", Value::integer(ms(stats.expected_downtime_us)));
    }
    // Beyond QEMU: the same times in microseconds.
    result.set("setup-time-us", Value::integer(stats.setup_us));
    result.set("total-time-us", Value::integer(stats.total_us));
    if (stats.status == MigrationStatus::kCompleted) {
      result.set("downtime-us", Value::integer(stats.downtime_us));
    } else {
      result.set("expected-downtime-us", Value::integer(stats.expected_downtime_us));
    }
  }
  const int64_t page_size = 4096;
  Value ram =
      Value::dict()
          .set("transferred", Value::integer(static_cast<int64_t>(stats.ram_transferred)))
          .set("remaining", Value::integer(static_cast<int64_t>(stats.ram_remaining)))
          .set("total", Value::integer(static_cast<int64_t>(stats.ram_total)))
          .set("duplicate", Value::integer(static_cast<int64_t>(stats.zero_pages)))
          .set("skipped", Value::integer(0))
          .set("normal", Value::integer(static_cast<int64_t>(stats.normal_pages)))
          .set("normal-bytes", Value::integer(static_cast<int64_t>(stats.normal_pages) * page_size))
          .set("dirty-pages-rate", Value::integer(static_cast<int64_t>(stats.dirty_pages_rate)))
          .set("mbps", Value::integer(static_cast<int64_t>(stats.mbps + 0.5)))
          .set("dirty-sync-count", Value::integer(stats.passes))
          .set("postcopy-requests", Value::integer(0))
          .set("page-size", Value::integer(page_size))
          .set("multifd-bytes", Value::integer(static_cast<int64_t>(stats.multifd_bytes)))
          .set("precopy-bytes",
               Value::integer(static_cast<int64_t>(stats.ram_transferred - stats.downtime_bytes)))
          .set("downtime-bytes", Value::integer(static_cast<int64_t>(stats.downtime_bytes)))
          .set("postcopy-bytes", Value::integer(0))
          .set("dirty-sync-missed-zero-copy",
               Value::integer(static_cast<int64_t>(stats.zero_copy_copied_syncs)));
  if (stats.status != MigrationStatus::kSetup || stats.incoming) result.set("ram", std::move(ram));
  if (stats.cpu_throttle_percent > 0) {
    result.set("cpu-throttle-percentage", Value::integer(stats.cpu_throttle_percent));
  }
  if (!stats.incoming && stats.status != MigrationStatus::kSetup) {
    result.set(
        "zero-copy",
        Value::dict()
            .set("sends", Value::integer(static_cast<int64_t>(stats.zero_copy_sends)))
            .set("completed", Value::integer(static_cast<int64_t>(stats.zero_copy_completed)))
            .set("copied-syncs", Value::integer(static_cast<int64_t>(stats.zero_copy_copied_syncs)))
            .set("enobufs", Value::integer(static_cast<int64_t>(stats.zero_copy_enobufs)))
            .set("enobufs-recovered",
                 Value::integer(static_cast<int64_t>(stats.zero_copy_enobufs_recovered))));
  }
  if (stats.status == MigrationStatus::kFailed && !stats.error.empty()) {
    result.set("error-desc", Value::string(stats.error));
  }
  return result;
}

Expected<Value> do_query_migrate(CommandContext& context, const Value&) {
  Expected<MigrationControl*> migration = service(context);
  if (!migration) return migration.error();
  return stats_value((*migration)->query());
}

std::string kbytes(int64_t bytes) {
  return std::to_string(bytes / 1024) + " kbytes";
}

std::string format_query_migrate(const Value& result, const Value&) {
  const std::string status = result.string_or("status", "");
  if (status.empty()) return "";
  std::string text = "Migration status: " + status + "\n";
  if (const Value* error = result.find("error-desc")) {
    text += "Error: " + error->as_string() + "\n";
  }
  // The times are kept in microseconds and shown in milliseconds.
  for (const auto& [member, label] :
       {std::pair{"total-time-us", "total time"}, std::pair{"downtime-us", "downtime"},
        std::pair{"expected-downtime-us", "expected downtime"},
        std::pair{"setup-time-us", "setup"}}) {
    if (const Value* us = result.find(member)) {
      char line[64];
      std::snprintf(line, sizeof line, "%s: %.3f ms\n", label,
                    static_cast<double>(us->as_int()) / 1000.0);
      text += line;
    }
  }
  if (const Value* addresses = result.find("socket-address")) {
    for (const Value& address : addresses->as_list()) {
      text += "socket address: " + socket_address_text(address) + "\n";
    }
  }
  if (const Value* ram = result.find("ram")) {
    text += "transferred ram: " + kbytes(ram->int_or("transferred", 0)) + "\n";
    text += "throughput: " + std::to_string(ram->int_or("mbps", 0)) + " mbps\n";
    text += "remaining ram: " + kbytes(ram->int_or("remaining", 0)) + "\n";
    text += "total ram: " + kbytes(ram->int_or("total", 0)) + "\n";
    text += "duplicate: " + std::to_string(ram->int_or("duplicate", 0)) + " pages\n";
    text += "normal: " + std::to_string(ram->int_or("normal", 0)) + " pages\n";
    text += "normal bytes: " + kbytes(ram->int_or("normal-bytes", 0)) + "\n";
    text += "dirty sync count: " + std::to_string(ram->int_or("dirty-sync-count", 0)) + "\n";
    text += "page size: " + kbytes(ram->int_or("page-size", 0)) + "\n";
    text += "multifd bytes: " + kbytes(ram->int_or("multifd-bytes", 0)) + "\n";
    text +=
        "dirty pages rate: " + std::to_string(ram->int_or("dirty-pages-rate", 0)) + " pages/s\n";
    text += "precopy ram: " + kbytes(ram->int_or("precopy-bytes", 0)) + "\n";
    text += "downtime ram: " + kbytes(ram->int_or("downtime-bytes", 0)) + "\n";
  }
  if (const Value* throttle = result.find("cpu-throttle-percentage")) {
    text += "cpu throttle percentage: " + std::to_string(throttle->as_int()) + "\n";
  }
  if (const Value* zero_copy = result.find("zero-copy")) {
    text += "zero-copy sends: " + std::to_string(zero_copy->int_or("sends", 0)) + "\n";
    text += "zero-copy completed: " + std::to_string(zero_copy->int_or("completed", 0)) + "\n";
    text +=
        "zero-copy copied syncs: " + std::to_string(zero_copy->int_or("copied-syncs", 0)) + "\n";
    text += "zero-copy enobufs: " + std::to_string(zero_copy->int_or("enobufs", 0)) + "\n";
    text += "zero-copy enobufs recovered: " +
            std::to_string(zero_copy->int_or("enobufs-recovered", 0)) + "\n";
  }
  return text;
}

// ---- capabilities

Value capabilities_value(const migration::MigrationCapabilities& capabilities) {
  Value list = Value::list();
  for (std::string_view name : migration::kCapabilityNames) {
    list.push(Value::dict()
                  .set("capability", Value::string(std::string(name)))
                  .set("state", Value::boolean(migration::capability_value(capabilities, name))));
  }
  return list;
}

Expected<Value> do_query_capabilities(CommandContext& context, const Value&) {
  Expected<MigrationControl*> migration = service(context);
  if (!migration) return migration.error();
  return capabilities_value((*migration)->capabilities());
}

std::string format_capabilities(const Value& result, const Value&) {
  std::string text;
  for (const Value& entry : result.as_list()) {
    text += entry.string_or("capability", "?") + ": " +
            (entry.bool_or("state", false) ? "on" : "off") + "\n";
  }
  return text;
}

Expected<Value> do_set_capabilities(CommandContext& context, const Value& arguments) {
  Expected<MigrationControl*> migration = service(context);
  if (!migration) return migration.error();
  const Value* list = arguments.find("capabilities");
  if (list == nullptr || list->type() != Value::Type::kList) {
    return Error("Parameter 'capabilities' is missing");
  }
  std::vector<std::pair<std::string, bool>> changes;
  for (const Value& entry : list->as_list()) {
    const Value* name = entry.find("capability");
    const Value* state = entry.find("state");
    if (entry.type() != Value::Type::kDict || name == nullptr ||
        name->type() != Value::Type::kString || state == nullptr ||
        state->type() != Value::Type::kBool || entry.as_dict().size() != 2) {
      return Error(
          "Parameter 'capabilities' expects a list of {\"capability\": NAME, \"state\": BOOL}");
    }
    changes.emplace_back(name->as_string(), state->as_bool());
  }
  if (Error error = (*migration)->set_capabilities(changes); !error.ok()) return error;
  return Value();
}

Expected<Value> do_hmp_set_capability(CommandContext& context, const Value& arguments) {
  Expected<MigrationControl*> migration = service(context);
  if (!migration) return migration.error();
  std::pair<std::string, bool> change{arguments.string_or("capability", ""),
                                      arguments.bool_or("state", false)};
  if (Error error = (*migration)->set_capabilities(std::span(&change, 1)); !error.ok()) {
    return error;
  }
  return Value();
}

// ---- parameters

Value parameters_value(const migration::MigrationParameters& parameters) {
  return Value::dict()
      .set("max-bandwidth", Value::integer(static_cast<int64_t>(parameters.max_bandwidth)))
      .set("downtime-limit", Value::integer(static_cast<int64_t>(parameters.downtime_limit_ms)))
      .set("multifd-channels", Value::integer(parameters.multifd_channels))
      .set("tls-creds", Value::string(parameters.tls_creds))
      .set("tls-hostname", Value::string(parameters.tls_hostname))
      .set("cpu-throttle-initial", Value::integer(parameters.throttle_initial))
      .set("cpu-throttle-increment", Value::integer(parameters.throttle_increment))
      .set("max-cpu-throttle", Value::integer(parameters.max_cpu_throttle));
}

Expected<Value> do_query_parameters(CommandContext& context, const Value&) {
  Expected<MigrationControl*> migration = service(context);
  if (!migration) return migration.error();
  return parameters_value((*migration)->parameters());
}

std::string format_parameters(const Value& result, const Value&) {
  std::string text;
  for (const auto& [name, value] : result.as_dict()) {
    text += name + ": ";
    if (value.type() == Value::Type::kString) {
      text += "'" + value.as_string() + "'";
    } else {
      text += std::to_string(value.as_int());
      if (name == "max-bandwidth") text += " bytes/second";
      if (name == "downtime-limit") text += " ms";
      if (name.find("throttle") != std::string::npos) text += " %";
    }
    text += "\n";
  }
  return text;
}

// The integer members migrate-set-parameters knows and where they go.
struct IntegerParameter {
  const char* name;
  std::optional<uint64_t> MigrationParameterChanges::*member;
};
constexpr IntegerParameter kIntegerParameters[] = {
    {"max-bandwidth", &MigrationParameterChanges::max_bandwidth},
    {"downtime-limit", &MigrationParameterChanges::downtime_limit_ms},
    {"multifd-channels", &MigrationParameterChanges::multifd_channels},
    {"cpu-throttle-initial", &MigrationParameterChanges::throttle_initial},
    {"cpu-throttle-increment", &MigrationParameterChanges::throttle_increment},
    {"max-cpu-throttle", &MigrationParameterChanges::max_cpu_throttle},
};

Expected<Value> do_set_parameters(CommandContext& context, const Value& arguments) {
  Expected<MigrationControl*> migration = service(context);
  if (!migration) return migration.error();
  MigrationParameterChanges changes;
  for (const IntegerParameter& parameter : kIntegerParameters) {
    if (const Value* value = arguments.find(parameter.name)) {
      if (value->as_int() < 0) {
        return Error(std::string("Parameter '") + parameter.name + "' must not be negative");
      }
      changes.*parameter.member = static_cast<uint64_t>(value->as_int());
    }
  }
  if (const Value* value = arguments.find("tls-creds")) changes.tls_creds = value->as_string();
  if (const Value* value = arguments.find("tls-hostname")) {
    changes.tls_hostname = value->as_string();
  }
  if (Error error = (*migration)->set_parameters(changes); !error.ok()) return error;
  return Value();
}

// A size as HMP's migrate_set_parameter max-bandwidth takes it: a number
// with an optional B/K/M/G/T suffix; a bare number is MiB (as QEMU).
Expected<uint64_t> parse_bandwidth(const std::string& text) {
  uint64_t multiplier = uint64_t{1} << 20;
  std::string digits = text;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'b':
      case 'B':
        multiplier = 1;
        break;
      case 'k':
      case 'K':
        multiplier = uint64_t{1} << 10;
        break;
      case 'm':
      case 'M':
        multiplier = uint64_t{1} << 20;
        break;
      case 'g':
      case 'G':
        multiplier = uint64_t{1} << 30;
        break;
      case 't':
      case 'T':
        multiplier = uint64_t{1} << 40;
        break;
      default:
        break;
    }
    if (std::isalpha(static_cast<unsigned char>(digits.back()))) digits.pop_back();
  }
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(digits.c_str(), &end, 10);
  if (digits.empty() || digits[0] == '-' || *end != '\0' || errno == ERANGE ||
      value > (uint64_t{1} << 50) / multiplier) {
    return Error("bad size '" + text + "' (e.g. 100M, 1G; a bare number is MiB)");
  }
  return value * multiplier;
}

Expected<uint64_t> parse_unsigned(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 0);
  if (text.empty() || text[0] == '-' || *end != '\0' || errno == ERANGE) {
    return Error("bad number '" + text + "'");
  }
  return value;
}

Expected<Value> do_hmp_set_parameter(CommandContext& context, const Value& arguments) {
  Expected<MigrationControl*> migration = service(context);
  if (!migration) return migration.error();
  const std::string name = arguments.string_or("parameter", "");
  std::string value = arguments.string_or("value", "");
  MigrationParameterChanges changes;
  if (name == "tls-creds" || name == "tls-hostname") {
    if (value == "\"\"" || value == "''") value.clear();
    (name == "tls-creds" ? changes.tls_creds : changes.tls_hostname) = value;
  } else if (name == "max-bandwidth") {
    Expected<uint64_t> bytes = parse_bandwidth(value);
    if (!bytes) return bytes.error().with_context(name);
    changes.max_bandwidth = *bytes;
  } else {
    const IntegerParameter* found = nullptr;
    for (const IntegerParameter& parameter : kIntegerParameters) {
      if (name == parameter.name) found = &parameter;
    }
    if (found == nullptr) {
      std::string known = "tls-creds, tls-hostname";
      for (const IntegerParameter& parameter : kIntegerParameters) {
        known += std::string(", ") + parameter.name;
      }
      return Error("unknown parameter '" + name + "' (" + known + ")");
    }
    Expected<uint64_t> number = parse_unsigned(value);
    if (!number) return number.error().with_context(name);
    changes.*found->member = *number;
  }
  if (Error error = (*migration)->set_parameters(changes); !error.ok()) return error;
  return Value();
}

// ---- the table

constexpr Parameter kMigrateParameters[] = {
    {"uri", ParameterType::kString, false}, {"detach", ParameterType::kBool, true},
    {"blk", ParameterType::kBool, true},    {"inc", ParameterType::kBool, true},
    {"resume", ParameterType::kBool, true},
};
constexpr Parameter kUriParameter[] = {{"uri", ParameterType::kString, false}};
constexpr Parameter kCapabilitiesParameter[] = {{"capabilities", ParameterType::kList, false}};
constexpr Parameter kSetParameters[] = {
    {"max-bandwidth", ParameterType::kInt, true},
    {"downtime-limit", ParameterType::kInt, true},
    {"multifd-channels", ParameterType::kInt, true},
    {"tls-creds", ParameterType::kString, true},
    {"tls-hostname", ParameterType::kString, true},
    {"cpu-throttle-initial", ParameterType::kInt, true},
    {"cpu-throttle-increment", ParameterType::kInt, true},
    {"max-cpu-throttle", ParameterType::kInt, true},
};
constexpr Parameter kHmpSetParameter[] = {
    {"parameter", ParameterType::kString, false},
    {"value", ParameterType::kString, false},
};
constexpr Parameter kHmpSetCapability[] = {
    {"capability", ParameterType::kString, false},
    {"state", ParameterType::kBool, false},
};

constexpr Command kMigrationCommands[] = {
    {"migrate", nullptr, true, kMigrateParameters, "", "migrate the VM to a URI", do_migrate,
     nullptr},
    // HMP spells it "migrate [-d] URI": its own entry (the name is only a key).
    {"hmp migrate", "migrate", false, kUriParameter, "[-d] uri",
     "migrate the VM to tcp:HOST:PORT, unix:PATH, exec:CMD, file:PATH[,offset=N] or fd:NAME",
     do_hmp_migrate, format_hmp_migrate},
    {"migrate-incoming", "migrate_incoming", true, kUriParameter, "uri",
     "receive the migration announced by -incoming defer from a URI", do_migrate_incoming, nullptr},
    {"migrate_cancel",
     "migrate_cancel",
     true,
     {},
     "",
     "cancel the current migration",
     do_migrate_cancel,
     nullptr},
    {"query-migrate",
     "info migrate",
     true,
     {},
     "",
     "show the migration status",
     do_query_migrate,
     format_query_migrate},
    {"migrate-set-capabilities", nullptr, true, kCapabilitiesParameter, "",
     "enable or disable migration capabilities", do_set_capabilities, nullptr},
    {"migrate_set_capability", "migrate_set_capability", false, kHmpSetCapability,
     "capability on|off", "enable or disable a migration capability", do_hmp_set_capability,
     nullptr},
    {"query-migrate-capabilities",
     "info migrate_capabilities",
     true,
     {},
     "",
     "show the migration capabilities",
     do_query_capabilities,
     format_capabilities},
    {"migrate-set-parameters", nullptr, true, kSetParameters, "", "set migration parameters",
     do_set_parameters, nullptr},
    {"migrate_set_parameter", "migrate_set_parameter", false, kHmpSetParameter, "parameter value",
     "set a migration parameter (max-bandwidth: a bare number is MiB/s)", do_hmp_set_parameter,
     nullptr},
    {"query-migrate-parameters",
     "info migrate_parameters",
     true,
     {},
     "",
     "show the migration parameters",
     do_query_parameters,
     format_parameters},
};

}  // namespace

std::span<const Command> migration_commands() {
  return kMigrationCommands;
}

}  // namespace cr16::system::monitor
