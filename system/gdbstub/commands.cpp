#include "system/gdbstub/commands.h"

#include <string>

#include "system/gdbstub/gdb_server_control.h"

namespace cr16::system::monitor {

namespace {

constexpr const char* kDefaultDevice = "tcp::1234";

// gdbserver [DEV]: (re)starts the server on DEV, or stops it with "none".
Expected<Value> do_gdbserver(CommandContext& context, const Value& arguments) {
  GdbServerControl* server = context.control.gdb_server();
  if (server == nullptr) return Error("this machine has no gdbstub");
  const std::string device = arguments.string_or("device", kDefaultDevice);
  if (Error error = server->start(device); !error.ok()) return error;
  const GdbServerControl::Status status = server->status();
  Value addresses = Value::list();
  for (const std::string& address : status.addresses) addresses.push(Value::string(address));
  return Value::dict()
      .set("listening", Value::boolean(status.listening))
      .set("device", Value::string(status.listening ? status.device : device))
      .set("addresses", std::move(addresses));
}

std::string format_gdbserver(const Value& result, const Value&) {
  if (!result.bool_or("listening", false)) return "Disabled gdbserver\n";
  std::string text =
      "Waiting for gdb connection on device '" + result.string_or("device", "") + "'";
  if (const Value* addresses = result.find("addresses"); addresses != nullptr) {
    std::string list;
    for (const Value& address : addresses->as_list()) {
      list += (list.empty() ? "" : ", ") + address.as_string();
    }
    if (!list.empty()) text += " (listening on " + list + ")";
  }
  return text + "\n";
}

constexpr Parameter kGdbserverParameters[] = {{"device", ParameterType::kString, true}};

constexpr Command kCommands[] = {
    {"gdbserver", "gdbserver", false, kGdbserverParameters, "[device]",
     "start the gdbstub on device (default tcp::1234: tcp::PORT, tcp:HOST:PORT, "
     "unix:PATH[,server=on]); 'none' stops it",
     do_gdbserver, format_gdbserver},
};

}  // namespace

std::span<const Command> gdb_commands() {
  return kCommands;
}

}  // namespace cr16::system::monitor
