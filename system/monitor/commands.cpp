#include "system/monitor/commands.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cpu/disas.h"
#include "system/gdbstub/commands.h"
#include "system/monitor/commands_migration.h"
#include "system/monitor/commands_snapshot.h"
#include "system/monitor/commands_ui.h"
#include "system/monitor/hmp.h"
#include "util/fd_write.h"

#ifndef CR16_VERSION
#define CR16_VERSION "0.1.0"
#endif

namespace cr16::system::monitor {

namespace {

constexpr uint64_t kAddressLimit = uint64_t{1} << 24;
constexpr int64_t kMaxDumpCount = 4096;
constexpr unsigned kMaxInstructionBytes = 6;

std::string hex(uint64_t value, unsigned digits) {
  char text[32];
  std::snprintf(text, sizeof text, "%0*" PRIx64, static_cast<int>(digits), value);
  return text;
}

// ---- help

Expected<Value> do_help(CommandContext&, const Value& arguments) {
  const std::string topic = arguments.string_or("command", "");
  Value list = Value::list();
  for (const Command& command : commands()) {
    if (command.hmp_name == nullptr) continue;
    std::string_view name = command.hmp_name;
    if (!topic.empty() && name != topic && !name.starts_with(topic + " ")) continue;
    list.push(Value::dict()
                  .set("name", Value::string(command.hmp_name))
                  .set("arguments", Value::string(command.hmp_arguments))
                  .set("help", Value::string(command.help)));
  }
  if (list.as_list().empty()) return Error("unknown command: '" + topic + "'");
  return list;
}

std::string format_help(const Value& result, const Value&) {
  std::string text;
  for (const Value& entry : result.as_list()) {
    std::string usage = entry.string_or("name", "");
    std::string arguments = entry.string_or("arguments", "");
    if (!arguments.empty()) usage += " " + arguments;
    text += usage + " -- " + entry.string_or("help", "") + "\n";
  }
  return text;
}

// ---- query-status / info status

Expected<Value> do_query_status(CommandContext& context, const Value&) {
  RunState state = context.control.run_state();
  // QEMU's member order.
  return Value::dict()
      .set("status", Value::string(run_state_name(state)))
      .set("singlestep", Value::boolean(false))
      .set("running", Value::boolean(state == RunState::kRunning));
}

std::string format_status(const Value& result, const Value&) {
  std::string status = result.string_or("status", "");
  std::string text = "VM status: ";
  text += result.bool_or("running", false) ? "running" : "paused";
  if (status != "running" && status != "paused") text += " (" + status + ")";
  return text + "\n";
}

// ---- query-version / info version

Expected<Value> do_query_version(CommandContext&, const Value&) {
  return version_info();
}

std::string format_version(const Value& result, const Value&) {
  const Value* numbers = result.find("qemu");
  if (numbers == nullptr) return "";
  return std::to_string(numbers->int_or("major", 0)) + "." +
         std::to_string(numbers->int_or("minor", 0)) + "." +
         std::to_string(numbers->int_or("micro", 0)) + " (" + result.string_or("package", "") +
         ")\n";
}

// ---- info registers

Expected<Value> do_info_registers(CommandContext& context, const Value&) {
  Value list = Value::list();
  for (const RegisterValue& reg : context.control.registers()) {
    list.push(Value::dict()
                  .set("name", Value::string(reg.name))
                  .set("value", Value::integer(static_cast<int64_t>(reg.value)))
                  .set("bits", Value::integer(reg.bits)));
  }
  return list;
}

std::string format_registers(const Value& result, const Value&) {
  constexpr size_t kPerLine = 6;
  std::string text;
  size_t column = 0;
  for (const Value& reg : result.as_list()) {
    unsigned bits = static_cast<unsigned>(reg.int_or("bits", 32));
    std::string item = reg.string_or("name", "?") + "=" +
                       hex(static_cast<uint64_t>(reg.int_or("value", 0)), (bits + 3) / 4);
    text += (column == 0 ? "" : " ") + item;
    if (++column == kPerLine) {
      text += "\n";
      column = 0;
    }
  }
  if (column != 0) text += "\n";
  return text;
}

// ---- run control

// stop, cont, system_reset, system_powerdown: one MachineControl call each,
// nothing to return.
template <Error (MachineControl::*call)()>
Expected<Value> do_control(CommandContext& context, const Value&) {
  if (Error error = (context.control.*call)(); !error.ok()) return error;
  return Value();
}

Expected<Value> do_quit(CommandContext& context, const Value&) {
  context.control.quit(ShutdownCause::kHostQmpQuit);
  return Value();
}

// ---- x / xp: memory dumps (device registers peeked: no side effects)

Expected<Value> do_memory_dump(CommandContext& context, const Value& arguments) {
  const int64_t count = arguments.int_or("count", 1);
  const std::string format = arguments.string_or("format", "x");
  const int64_t size = arguments.int_or("size", format == "c" ? 1 : 4);
  const int64_t address = arguments.int_or("address", -1);
  if (count < 1 || count > kMaxDumpCount) {
    return Error("count must be between 1 and " + std::to_string(kMaxDumpCount));
  }
  if (format.size() != 1 || std::string_view("xduoci").find(format[0]) == std::string::npos) {
    return Error("invalid format '" + format + "' (x, d, u, o, c or i)");
  }
  if (size != 1 && size != 2 && size != 4 && size != 8) {
    return Error("invalid unit size " + std::to_string(size) + " (b, h, w or g)");
  }
  if (address < 0 || static_cast<uint64_t>(address) >= kAddressLimit) {
    return Error("address " + std::to_string(address) + " is outside the 24-bit address space");
  }
  Value result = Value::dict()
                     .set("address", Value::integer(address))
                     .set("format", Value::string(format))
                     .set("size", Value::integer(size));
  if (format == "i") {
    Value instructions = Value::list();
    uint32_t pc = static_cast<uint32_t>(address);
    for (int64_t i = 0; i < count; ++i) {
      std::array<uint8_t, kMaxInstructionBytes> bytes{};
      unsigned readable = kMaxInstructionBytes;
      while (readable > 0 &&
             !context.control.read_memory(pc, std::span(bytes.data(), readable)).ok()) {
        readable -= 2;  // near the end of a region: the instruction may be shorter
      }
      if (readable == 0) {
        if (i == 0) return context.control.read_memory(pc, std::span(bytes.data(), 2));
        break;
      }
      Disassembly disassembly = disassemble_bytes(std::span(bytes.data(), readable), pc);
      std::string text = disassembly.text;
      std::replace(text.begin(), text.end(), '\t', ' ');
      instructions.push(
          Value::dict().set("address", Value::integer(pc)).set("text", Value::string(text)));
      pc = (pc + disassembly.size_bytes) & static_cast<uint32_t>(kAddressLimit - 1);
    }
    result.set("instructions", std::move(instructions));
    return result;
  }
  const uint64_t length = static_cast<uint64_t>(count) * static_cast<uint64_t>(size);
  if (static_cast<uint64_t>(address) + length > kAddressLimit) {
    return Error("the dump runs past the 24-bit address space");
  }
  std::vector<uint8_t> bytes(length);
  if (Error error = context.control.read_memory(static_cast<uint32_t>(address), bytes);
      !error.ok()) {
    return error;
  }
  Value values = Value::list();
  for (int64_t i = 0; i < count; ++i) {
    uint64_t unit = 0;
    for (int64_t b = size - 1; b >= 0; --b) unit = (unit << 8) | bytes[i * size + b];
    values.push(Value::integer(static_cast<int64_t>(unit)));
  }
  result.set("values", std::move(values));
  return result;
}

std::string format_unit(uint64_t unit, unsigned size, char format) {
  char text[40];
  const unsigned bits = size * 8;
  switch (format) {
    case 'd': {
      int64_t value = static_cast<int64_t>(unit);
      if (bits < 64 && (unit >> (bits - 1)) & 1)
        value = static_cast<int64_t>(unit - (1ull << bits));
      std::snprintf(text, sizeof text, "%" PRId64, value);
      break;
    }
    case 'u':
      std::snprintf(text, sizeof text, "%" PRIu64, unit);
      break;
    case 'o':
      std::snprintf(text, sizeof text, "0%" PRIo64, unit);
      break;
    case 'c':
      if (unit >= 0x20 && unit < 0x7f) {
        std::snprintf(text, sizeof text, "'%c'", static_cast<char>(unit));
      } else {
        std::snprintf(text, sizeof text, "'\\x%02" PRIx64 "'", unit & 0xff);
      }
      break;
    default:
      return "0x" + hex(unit, size * 2);
  }
  return text;
}

std::string format_memory_dump(const Value& result, const Value&) {
  const uint32_t address = static_cast<uint32_t>(result.int_or("address", 0));
  const std::string format = result.string_or("format", "x");
  std::string text;
  if (const Value* instructions = result.find("instructions")) {
    for (const Value& instruction : instructions->as_list()) {
      text += hex(static_cast<uint64_t>(instruction.int_or("address", 0)), 8) + ": " +
              instruction.string_or("text", "") + "\n";
    }
    return text;
  }
  const Value* values = result.find("values");
  if (values == nullptr) return text;
  const unsigned size = static_cast<unsigned>(result.int_or("size", 4));
  const size_t per_line = std::max(1u, 16u / size);
  const std::vector<Value>& list = values->as_list();
  for (size_t i = 0; i < list.size(); ++i) {
    if (i % per_line == 0) {
      if (i != 0) text += "\n";
      text += hex(address + i * size, 8) + ":";
    }
    text += " " + format_unit(static_cast<uint64_t>(list[i].as_int()), size, format[0]);
  }
  if (!list.empty()) text += "\n";
  return text;
}

// ---- print / p: an expression's value

Expected<Value> do_print(CommandContext&, const Value& arguments) {
  const std::string format = arguments.string_or("format", "x");
  if (format.size() != 1 || std::string_view("xduoc").find(format[0]) == std::string::npos) {
    return Error("invalid format '" + format + "' for print (x, d, u, o or c)");
  }
  return Value::dict()
      .set("value", Value::integer(arguments.int_or("expression", 0)))
      .set("format", Value::string(format));
}

std::string format_print(const Value& result, const Value&) {
  const auto value = static_cast<uint64_t>(result.int_or("value", 0));
  char text[40];
  switch (result.string_or("format", "x")[0]) {
    case 'd':
      std::snprintf(text, sizeof text, "%" PRId64, static_cast<int64_t>(value));
      break;
    case 'u':
      std::snprintf(text, sizeof text, "%" PRIu64, value);
      break;
    case 'o':
      std::snprintf(text, sizeof text, "%#" PRIo64, value);
      break;
    case 'c':
      return format_unit(value & 0xff, 1, 'c') + "\n";
    default:
      std::snprintf(text, sizeof text, "%#" PRIx64, value);
      break;
  }
  return std::string(text) + "\n";
}

// ---- memsave / pmemsave: guest memory into a host file

// The only CPU is number 0 (QMP's optional "cpu-index").
Error check_cpu_index(const Value& arguments) {
  const Value* index = arguments.find("cpu-index");
  if (index == nullptr || index->as_int() == 0) return Error();
  return Error("cpu-index " + std::to_string(index->as_int()) +
               " does not exist (this machine has CPU 0 only)");
}

Expected<Value> do_memory_save(CommandContext& context, const Value& arguments) {
  if (Error error = check_cpu_index(arguments); !error.ok()) return error;
  const int64_t address = arguments.int_or("val", -1);
  const int64_t size = arguments.int_or("size", -1);
  const std::string filename = arguments.string_or("filename", "");
  if (address < 0 || static_cast<uint64_t>(address) >= kAddressLimit) {
    return Error("address " + std::to_string(address) + " is outside the 24-bit address space");
  }
  if (size < 0 || static_cast<uint64_t>(address) + static_cast<uint64_t>(size) > kAddressLimit) {
    return Error("size " + std::to_string(size) + " at 0x" +
                 hex(static_cast<uint64_t>(address), 6) + " runs past the 24-bit address space");
  }
  if (filename.empty()) return Error("empty filename");
  // Read everything first: a hole in the range leaves no file behind.
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (Error error = context.control.read_memory(static_cast<uint32_t>(address), bytes);
      !error.ok()) {
    return error;
  }
  // Non-blocking: a FIFO without a reader (or a full one) fails instead of
  // stalling the machine thread.
  const int fd = open(filename.c_str(),
                      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0666);
  if (fd < 0) return Error("Could not open '" + filename + "': " + std::strerror(errno), errno);
  if (const int failed = write_fully(fd, bytes); failed != 0) {
    close(fd);
    return Error("Error writing to '" + filename + "': " + std::strerror(failed), failed);
  }
  if (close(fd) != 0) {
    return Error("Error writing to '" + filename + "': " + std::strerror(errno), errno);
  }
  return Value();
}

// ---- inject-nmi / nmi

Expected<Value> do_inject_nmi(CommandContext& context, const Value& arguments) {
  if (Error error = check_cpu_index(arguments); !error.ok()) return error;
  if (Error error = context.control.inject_nmi(); !error.ok()) return error;
  return Value();
}

// ---- human-monitor-command: an HMP line from QMP

Expected<Value> do_human_monitor_command(CommandContext& context, const Value& arguments) {
  if (Error error = check_cpu_index(arguments); !error.ok()) return error;
  const std::string output =
      execute_hmp_line(arguments.string_or("command-line", ""), context.control);
  std::string text;  // QEMU's monitor ends its lines with CR LF
  text.reserve(output.size() + 16);
  for (char c : output) {
    if (c == '\n') text.push_back('\r');
    text.push_back(c);
  }
  return Value::string(std::move(text));
}

constexpr Parameter kHelpParameters[] = {{"command", ParameterType::kString, true}};
constexpr Parameter kPrintParameters[] = {
    {"fmt", ParameterType::kFormat, true},
    {"expression", ParameterType::kInt, false},
};
constexpr Parameter kMemorySaveParameters[] = {
    {"val", ParameterType::kInt, false},
    {"size", ParameterType::kInt, false},
    {"filename", ParameterType::kString, false},
    {"cpu-index", ParameterType::kInt, true},
};
constexpr Parameter kCpuIndexParameters[] = {{"cpu-index", ParameterType::kInt, true}};
constexpr Parameter kHumanMonitorParameters[] = {
    {"command-line", ParameterType::kString, false},
    {"cpu-index", ParameterType::kInt, true},
};
constexpr Parameter kDumpParameters[] = {
    {"fmt", ParameterType::kFormat, true},
    {"address", ParameterType::kInt, false},
};

constexpr Command kCommands[] = {
    {"help", "help", false, kHelpParameters, "[command]", "show the commands, or one of them",
     do_help, format_help},
    {"query-status",
     "info status",
     true,
     {},
     "",
     "show the VM's run state",
     do_query_status,
     format_status},
    {"info registers",
     "info registers",
     false,
     {},
     "",
     "show the CPU registers",
     do_info_registers,
     format_registers},
    {"query-version",
     "info version",
     true,
     {},
     "",
     "show the emulator's version",
     do_query_version,
     format_version},
    {"stop", "stop", true, {}, "", "stop the VM", do_control<&MachineControl::stop>, nullptr},
    {"cont", "cont", true, {}, "", "resume the VM", do_control<&MachineControl::cont>, nullptr},
    {"system_reset",
     "system_reset",
     true,
     {},
     "",
     "reset the machine",
     do_control<&MachineControl::reset>,
     nullptr},
    {"system_powerdown",
     "system_powerdown",
     true,
     {},
     "",
     "ask the guest to power down (power button)",
     do_control<&MachineControl::powerdown>,
     nullptr},
    {"quit", "quit", true, {}, "", "quit the emulator", do_quit, nullptr},
    {"x", "x", false, kDumpParameters, "/fmt addr",
     "dump memory at addr (fmt: count, format x/d/u/o/c/i, size b/h/w/g)", do_memory_dump,
     format_memory_dump},
    {"xp", "xp", false, kDumpParameters, "/fmt addr",
     "dump physical memory at addr (the same as x: CR16 has no MMU)", do_memory_dump,
     format_memory_dump},
    {"print", "print", false, kPrintParameters, "/fmt expr",
     "print an expression's value (fmt: x, d, u, o, c; $reg reads a register)", do_print,
     format_print},
    {"p", "p", false, kPrintParameters, "/fmt expr", "the same as print", do_print, format_print},
    {"memsave", "memsave", true, kMemorySaveParameters, "addr size file",
     "save size bytes of memory at addr to file (device registers are peeked)", do_memory_save,
     nullptr},
    {"pmemsave", "pmemsave", true, kMemorySaveParameters, "addr size file",
     "save size bytes of physical memory at addr to file (the same as memsave: no MMU)",
     do_memory_save, nullptr},
    {"inject-nmi", "nmi", true, kCpuIndexParameters, "", "inject a non-maskable interrupt",
     do_inject_nmi, nullptr},
    {"human-monitor-command", nullptr, true, kHumanMonitorParameters, "",
     "run a human monitor command line and return its output", do_human_monitor_command, nullptr},
};

}  // namespace

std::span<const Command> machine_commands() {
  return kCommands;
}

std::span<const Command> commands() {
  // Each area's table, in the order `help` lists them. An area that adds
  // commands (migration, snapshots, the debugger) adds its table here.
  static const std::vector<Command> all = [] {
    std::vector<Command> list;
    for (std::span<const Command> area :
         {machine_commands(), info_commands(), gdb_commands(), migration_commands(),
          snapshot_commands(), ui_commands()}) {
      list.insert(list.end(), area.begin(), area.end());
    }
    return list;
  }();
  return all;
}

Error validate_arguments(const Command& command, const Value& arguments, ArgumentErrors wording) {
  const bool qmp = wording == ArgumentErrors::kQmp;
  const std::string prefix = std::string(command.name) + ": ";
  if (arguments.type() != Value::Type::kDict) {
    return Error(qmp ? "QMP input member 'arguments' must be an object"
                     : prefix + "arguments must be a dictionary");
  }
  // QEMU's names for the types (QMP) and ours (HMP).
  auto type_name = [qmp](ParameterType type) -> std::string {
    switch (type) {
      case ParameterType::kInt:
        return qmp ? "integer" : "an integer";
      case ParameterType::kString:
        return qmp ? "string" : "a string";
      case ParameterType::kBool:
        return qmp ? "boolean" : "a boolean";
      case ParameterType::kNumber:
        return qmp ? "number" : "a number";
      case ParameterType::kList:
        return qmp ? "array" : "a list";
      case ParameterType::kDict:
        return qmp ? "object" : "a dictionary";
      default:
        return qmp ? "value" : "a value";
    }
  };
  auto matches = [](ParameterType type, const Value& value) {
    switch (type) {
      case ParameterType::kString:
        return value.type() == Value::Type::kString;
      case ParameterType::kInt:
        return value.type() == Value::Type::kInt;
      case ParameterType::kBool:
        return value.type() == Value::Type::kBool;
      case ParameterType::kNumber:
        return value.type() == Value::Type::kInt || value.type() == Value::Type::kDouble;
      case ParameterType::kList:
        return value.type() == Value::Type::kList;
      case ParameterType::kDict:
        return value.type() == Value::Type::kDict;
      case ParameterType::kAny:
      case ParameterType::kFormat:
        return true;
    }
    return false;
  };
  auto expect = [&](const char* name, ParameterType type, bool optional) -> Error {
    const Value* value = arguments.find(name);
    if (value == nullptr) {
      if (optional) return Error();
      return Error(qmp ? std::string("Parameter '") + name + "' is missing"
                       : prefix + "missing argument '" + name + "'");
    }
    if (!matches(type, *value)) {
      return Error(qmp ? std::string("Invalid parameter type for '") + name +
                             "', expected: " + type_name(type)
                       : prefix + "argument '" + name + "' must be " + type_name(type));
    }
    return Error();
  };
  for (const Parameter& parameter : command.parameters) {
    Error error;
    if (parameter.type == ParameterType::kFormat) {
      error = expect("count", ParameterType::kInt, true);
      if (error.ok()) error = expect("format", ParameterType::kString, true);
      if (error.ok()) error = expect("size", ParameterType::kInt, true);
    } else {
      error = expect(parameter.name, parameter.type, parameter.optional);
    }
    if (!error.ok()) return error;
  }
  for (const auto& [key, value] : arguments.as_dict()) {
    bool known = false;
    for (const Parameter& parameter : command.parameters) {
      known = known || key == parameter.name ||
              (parameter.type == ParameterType::kFormat &&
               (key == "count" || key == "format" || key == "size"));
    }
    if (!known) {
      return Error(qmp ? "Parameter '" + key + "' is unexpected"
                       : prefix + "unknown argument '" + key + "'");
    }
  }
  return Error();
}

const Command* find_command(std::string_view name) {
  for (const Command& command : commands()) {
    if (name == command.name) return &command;
  }
  return nullptr;
}

Value version_info() {
  const VersionNumbers version = emulator_version();
  return Value::dict()
      .set("qemu", Value::dict()
                       .set("micro", Value::integer(version.micro))
                       .set("minor", Value::integer(version.minor))
                       .set("major", Value::integer(version.major)))
      .set("package", Value::string("cr16-system"));
}

VersionNumbers emulator_version() {
  VersionNumbers version;
  std::sscanf(CR16_VERSION, "%d.%d.%d", &version.major, &version.minor, &version.micro);
  return version;
}

}  // namespace cr16::system::monitor
