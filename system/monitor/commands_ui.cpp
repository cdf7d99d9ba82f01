#include "system/monitor/commands_ui.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "ui/display_hub.h"
#include "ui/keymap.h"
#include "ui/screendump.h"
#include "ui/vnc_server.h"

namespace cr16::system::monitor {

namespace {

constexpr int64_t kDefaultHoldMs = 100;  // QEMU's send-key default
constexpr int64_t kMaxHoldMs = 60'000;

Expected<ui::DisplayHub*> display(CommandContext& context) {
  ui::DisplayHub* hub = context.control.display();
  if (hub == nullptr) return Error("this machine has no display");
  return hub;
}

// ---- screendump

Expected<Value> do_screendump(CommandContext& context, const Value& arguments) {
  Expected<ui::DisplayHub*> hub = display(context);
  if (!hub) return hub.error();
  const std::string path = arguments.string_or("filename", "");
  if (path.empty()) return Error("screendump: empty file name");
  // HMP users may type "format=png" as QMP spells it.
  std::string format_text = arguments.string_or("format", "ppm");
  if (format_text.starts_with("format=")) format_text.erase(0, 7);
  Expected<ui::ImageFormat> format = ui::parse_image_format(format_text);
  if (!format) return format.error().with_context("screendump");
  if (const Value* head = arguments.find("head"); head != nullptr && head->as_int() != 0) {
    return Error("screendump: head " + std::to_string(head->as_int()) +
                 " does not exist (the display has one head, 0)");
  }
  if (Error error = ui::write_screendump((*hub)->capture(), path, *format); !error.ok()) {
    return error.with_context("screendump");
  }
  return Value();
}

// ---- keys

// One QMP KeyValue: {"type": "qcode", "data": "ctrl"} or
// {"type": "number", "data": 29}.
Expected<ui::Scancode> key_value(const Value& key) {
  if (key.type() != Value::Type::kDict) return Error("a key must be an object {type, data}");
  const std::string type = key.string_or("type", "");
  const Value* data = key.find("data");
  if (data == nullptr) return Error("a key needs 'data'");
  if (type == "qcode") {
    if (data->type() != Value::Type::kString) return Error("qcode key: 'data' must be a string");
    std::optional<ui::Scancode> code = ui::scancode_from_qcode(data->as_string());
    if (!code) return Error("unknown qcode '" + data->as_string() + "'");
    return *code;
  }
  if (type == "number") {
    if (data->type() != Value::Type::kInt) return Error("number key: 'data' must be an integer");
    if (data->as_int() < 0 || data->as_int() > 0xFF) {
      return Error("number key " + std::to_string(data->as_int()) + " out of range");
    }
    std::optional<ui::Scancode> code =
        ui::scancode_from_qnum(static_cast<uint32_t>(data->as_int()));
    if (!code) return Error("number key " + std::to_string(data->as_int()) + " is no key");
    return *code;
  }
  return Error("key type '" + type + "': expected qcode or number");
}

Expected<uint32_t> hold_time(const Value& arguments) {
  const int64_t hold = arguments.int_or("hold-time", kDefaultHoldMs);
  if (hold < 0 || hold > kMaxHoldMs) {
    return Error("hold-time " + std::to_string(hold) + " out of range (0 to " +
                 std::to_string(kMaxHoldMs) + " ms)");
  }
  return static_cast<uint32_t>(hold);
}

Expected<Value> do_send_key(CommandContext& context, const Value& arguments) {
  Expected<ui::DisplayHub*> hub = display(context);
  if (!hub) return hub.error();
  std::vector<ui::Scancode> keys;
  for (const Value& key : arguments.find("keys")->as_list()) {
    Expected<ui::Scancode> code = key_value(key);
    if (!code) return code.error().with_context("send-key");
    keys.push_back(*code);
  }
  Expected<uint32_t> hold = hold_time(arguments);
  if (!hold) return hold.error().with_context("send-key");
  if (Error error = (*hub)->send_keys(keys, *hold); !error.ok()) {
    return error.with_context("send-key");
  }
  return Value();
}

// HMP: "ctrl-alt-delete", QKeyCode names or numbers (0x1c) joined by '-'.
Expected<Value> do_sendkey(CommandContext& context, const Value& arguments) {
  Expected<ui::DisplayHub*> hub = display(context);
  if (!hub) return hub.error();
  const std::string text = arguments.string_or("keys", "");
  std::vector<ui::Scancode> keys;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('-', start);
    if (end == std::string::npos) end = text.size();
    const std::string name = text.substr(start, end - start);
    if (name.empty()) return Error("sendkey: empty key name in '" + text + "'");
    std::optional<ui::Scancode> code = ui::scancode_from_qcode(name);
    if (!code) {
      char* rest = nullptr;
      const unsigned long number = std::strtoul(name.c_str(), &rest, 0);
      if (rest != nullptr && *rest == '\0' && number <= 0xFF) {
        code = ui::scancode_from_qnum(static_cast<uint32_t>(number));
      }
    }
    if (!code) return Error("sendkey: unknown key '" + name + "'");
    keys.push_back(*code);
    start = end + 1;
  }
  Expected<uint32_t> hold = hold_time(arguments);
  if (!hold) return hold.error().with_context("sendkey");
  if (Error error = (*hub)->send_keys(keys, *hold); !error.ok()) {
    return error.with_context("sendkey");
  }
  return Value();
}

// input-send-event: {"type": "key", "data": {"down": bool, "key": KeyValue}}
// events; this machine has no pointing device, so btn/rel/abs are refused.
Expected<Value> do_input_send_event(CommandContext& context, const Value& arguments) {
  Expected<ui::DisplayHub*> hub = display(context);
  if (!hub) return hub.error();
  if (const Value* head = arguments.find("head"); head != nullptr && head->as_int() != 0) {
    return Error("input-send-event: head " + std::to_string(head->as_int()) + " does not exist");
  }
  struct KeyEvent {
    ui::Scancode code;
    bool down;
  };
  std::vector<KeyEvent> events;
  size_t bytes = 0;
  for (const Value& event : arguments.find("events")->as_list()) {
    if (event.type() != Value::Type::kDict) {
      return Error("input-send-event: an event must be an object {type, data}");
    }
    const std::string type = event.string_or("type", "");
    if (type == "btn" || type == "rel" || type == "abs" || type == "mtt") {
      return Error("input-send-event: event type '" + type +
                   "' needs a pointing device; this machine has only a keyboard");
    }
    if (type != "key") return Error("input-send-event: unknown event type '" + type + "'");
    const Value* data = event.find("data");
    const Value* down = data ? data->find("down") : nullptr;
    const Value* key = data ? data->find("key") : nullptr;
    if (down == nullptr || down->type() != Value::Type::kBool || key == nullptr) {
      return Error("input-send-event: a key event's data needs 'down' (bool) and 'key'");
    }
    Expected<ui::Scancode> code = key_value(*key);
    if (!code) return code.error().with_context("input-send-event");
    events.push_back({*code, down->as_bool()});
    bytes += ui::scancode_bytes(*code, down->as_bool()).size();
  }
  // All or nothing, as send-key: check the room first.
  if (!(*hub)->has_room_for(bytes)) {
    return Error("input-send-event: the keyboard buffer has no room for " + std::to_string(bytes) +
                 " more bytes (is the guest reading the keyboard?)");
  }
  for (const KeyEvent& event : events) (*hub)->send_key(event.code, event.down);
  return Value();
}

// ---- query-vnc

// QEMU's VncBasicInfo members of an address: host, service, family.
void set_address(Value& info, const io::SocketAddress& address) {
  if (address.kind == io::SocketAddress::Kind::kUnix) {
    info.set("host", Value::string(address.path));
    info.set("service", Value::string(address.path));
    info.set("family", Value::string("unix"));
    return;
  }
  info.set("host", Value::string(address.host.empty() ? "0.0.0.0" : address.host));
  info.set("service", Value::string(std::to_string(address.port)));
  info.set("family", Value::string(address.host.find(':') != std::string::npos ? "ipv6" : "ipv4"));
}

Expected<Value> do_query_vnc(CommandContext& context, const Value&) {
  Value info = Value::dict();
  ui::VncServer* server = context.control.vnc_server();
  info.set("enabled", Value::boolean(server != nullptr));
  if (server == nullptr) return info;
  const std::vector<io::SocketAddress> rfb = server->rfb_addresses();
  if (!rfb.empty()) set_address(info, rfb.front());
  info.set("auth", Value::string(server->tls() ? "vencrypt" : "none"));
  if (server->tls()) info.set("vencrypt", Value::string("x509-none"));
  Value websockets = Value::list();
  for (const io::SocketAddress& address : server->websocket_addresses()) {
    Value item = Value::dict();
    set_address(item, address);
    item.set("tls", Value::boolean(server->tls()));
    websockets.push(std::move(item));
  }
  info.set("websockets", std::move(websockets));
  Value clients = Value::list();
  for (const ui::VncClient* client : server->clients()) {
    Value item = Value::dict();
    if (client->peer()) set_address(item, *client->peer());
    item.set("websocket", Value::boolean(client->websocket()));
    clients.push(std::move(item));
  }
  info.set("clients", std::move(clients));
  return info;
}

std::string format_vnc(const Value& info, const Value&) {
  if (!info.bool_or("enabled", false)) return "VNC server: disabled (start with -vnc)\n";
  auto where = [](const Value& item) {
    if (item.string_or("family", "") == "unix" && item.string_or("host", "").empty()) {
      return std::string("a unix socket");
    }
    return item.string_or("host", "?") +
           (item.string_or("family", "") == "unix" ? "" : ":" + item.string_or("service", "?")) +
           " (" + item.string_or("family", "?") + ")";
  };
  std::string text = "VNC server: ";
  text += info.find("host") ? where(info) : std::string("no RFB listener");
  text += ", auth " + info.string_or("auth", "none");
  if (info.find("vencrypt")) text += " (" + info.string_or("vencrypt", "") + ")";
  text += "\n";
  for (const Value& websocket : info.find("websockets")->as_list()) {
    text += "  websocket: " + where(websocket) + (websocket.bool_or("tls", false) ? ", wss" : "") +
            "\n";
  }
  const Value::List& clients = info.find("clients")->as_list();
  if (clients.empty()) text += "  no clients\n";
  for (const Value& client : clients) {
    text += "  client: " + where(client) +
            (client.bool_or("websocket", false) ? " websocket" : "") + "\n";
  }
  return text;
}

constexpr Parameter kScreendumpParameters[] = {
    {"filename", ParameterType::kString, false},
    {"format", ParameterType::kString, true},
    {"device", ParameterType::kString, true},
    {"head", ParameterType::kInt, true},
};
constexpr Parameter kSendKeyParameters[] = {
    {"keys", ParameterType::kList, false},
    {"hold-time", ParameterType::kInt, true},
};
constexpr Parameter kSendkeyHmpParameters[] = {
    {"keys", ParameterType::kString, false},
    {"hold-time", ParameterType::kInt, true},
};
constexpr Parameter kInputSendEventParameters[] = {
    {"events", ParameterType::kList, false},
    {"device", ParameterType::kString, true},
    {"head", ParameterType::kInt, true},
};

constexpr Command kCommands[] = {
    {"screendump", "screendump", true, kScreendumpParameters, "filename [ppm|png]",
     "save the screen as an image (PPM, or PNG)", do_screendump, nullptr},
    {"send-key", nullptr, true, kSendKeyParameters, "",
     "press keys together, release them hold-time ms later", do_send_key, nullptr},
    {"sendkey", "sendkey", false, kSendkeyHmpParameters, "keys [hold_ms]",
     "press keys together (ctrl-alt-f1, 0x1c...) for hold_ms (default 100)", do_sendkey, nullptr},
    {"input-send-event", nullptr, true, kInputSendEventParameters, "",
     "send keyboard events (key down/up) to the guest", do_input_send_event, nullptr},
    {"query-vnc",
     "info vnc",
     true,
     {},
     "",
     "show the VNC server and its viewers",
     do_query_vnc,
     format_vnc},
};

}  // namespace

std::span<const Command> ui_commands() {
  return kCommands;
}

}  // namespace cr16::system::monitor
