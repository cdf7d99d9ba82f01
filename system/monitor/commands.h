// The monitor's command table: one entry per command, shared by every front
// end (the human monitor here, QMP next). A handler takes parsed, typed
// arguments (a dictionary Value) and returns a Value or an Error; it never
// formats text for people. How a result is shown is the front end's
// business: HMP uses the entry's `format`, QMP will send the Value as JSON.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "system/machine_control.h"
#include "system/monitor/value.h"
#include "util/error.h"

namespace cr16::system::monitor {

/// The type of one argument.
enum class ParameterType : uint8_t {
  kString,
  kInt,     // HMP: a number (decimal, 0x hex, 0 octal) or $register
  kBool,    // HMP: on/off, true/false, yes/no
  kFormat,  // HMP only: "/NFU" (count, format letter, unit size) of x/xp;
            // parsed into the int "count", the string "format" and the int "size"
  kList,    // QMP only: a JSON list (snapshot-save's "devices"); HMP cannot type one
};

struct Parameter {
  const char* name;
  ParameterType type;
  bool optional;
};

/// What a handler may use.
struct CommandContext {
  MachineControl& control;
};

/// A command's work: arguments in, a Value (null when there is nothing to
/// return) or an Error out.
using CommandHandler = Expected<Value> (*)(CommandContext& context, const Value& arguments);
/// HMP's text for a result (may be empty); `arguments` are the call's.
using HmpFormatter = std::string (*)(const Value& result, const Value& arguments);

struct Command {
  /// The command's name for QMP when QMP serves it ("query-status"),
  /// otherwise HMP's ("x"); unique in the table.
  const char* name;
  /// How HMP spells it ("info status", "x"); nullptr: not in HMP.
  const char* hmp_name;
  /// True when QMP serves it.
  bool qmp;
  std::span<const Parameter> parameters;
  /// HMP help: the arguments as typed ("/fmt addr") and one line of text.
  const char* hmp_arguments;
  const char* help;
  CommandHandler handler;
  /// nullptr: HMP prints nothing for a null result.
  HmpFormatter format;
};

/// Every command: the areas' tables joined (names unique across them).
std::span<const Command> commands();
/// One area's table: run control, status, registers and memory (this
/// file). Other areas (migration, snapshots, the debugger) declare theirs
/// beside their handlers, and commands() joins them.
std::span<const Command> machine_commands();
/// Checks `arguments` (a dictionary) against the command's parameters, as a
/// front end that receives them ready-made (QMP) must: every required one
/// present, each of its type, nothing unknown. A kFormat parameter stands
/// for the optional "count" (int), "format" (string) and "size" (int).
/// The error names the argument.
Error validate_arguments(const Command& command, const Value& arguments);
/// The command whose `name` is `name`, or nullptr.
const Command* find_command(std::string_view name);

/// The version query-version and `info version` report.
struct VersionNumbers {
  int major = 0;
  int minor = 0;
  int micro = 0;
};
VersionNumbers emulator_version();

}  // namespace cr16::system::monitor
