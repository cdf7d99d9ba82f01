#include "system/monitor/qmp.h"

#include "system/monitor/commands.h"

namespace cr16::system::monitor {

namespace {

constexpr const char* kCapabilitiesCommand = "qmp_capabilities";

// QMP's capabilities, as the greeting lists them and qmp_capabilities's
// "enable" names them. We advertise none: out-of-band execution ("oob")
// would need commands that may run out of band, and every command here
// completes at once on the machine thread.
constexpr const char* kKnownCapabilities[] = {"oob"};

}  // namespace

Value qmp_greeting() {
  return Value::dict().set(
      "QMP", Value::dict().set("version", version_info()).set("capabilities", Value::list()));
}

Value qmp_error(const char* error_class, const std::string& description, const Value* id) {
  Value response = Value::dict();
  if (id != nullptr) response.set("id", *id);
  response.set("error", Value::dict()
                            .set("class", Value::string(error_class))
                            .set("desc", Value::string(description)));
  return response;
}

QmpSession::QmpSession(MachineControl& control, Writer writer, QmpSessionOptions options)
    : control_(control), writer_(std::move(writer)), options_(options), splitter_(options.limits) {
  listener_ = control_.events().add([this](const Event& event) { on_event(event); });
}

QmpSession::~QmpSession() {
  control_.events().remove(listener_);
}

void QmpSession::start() {
  if (started_) return;
  started_ = true;
  send(qmp_greeting());
}

void QmpSession::receive(std::string_view bytes) {
  if (quiet_) return;
  splitter_.feed(bytes, [this](Expected<Value> request) {
    if (quiet_) return;  // dropped while this batch was being answered
    ++requests_;
    send(handle(request));
  });
}

void QmpSession::send(const Value& message) {
  if (quiet_) return;
  std::string text;
  append_json(text, message, options_.pretty);
  text += "\r\n";  // QEMU ends every message with CR LF
  if (!writer_(text)) quiet_ = true;
}

void QmpSession::on_event(const Event& event) {
  if (!negotiated_ || quiet_) return;
  Value message =
      Value::dict()
          .set("timestamp", Value::dict()
                                .set("seconds", Value::integer(event.seconds))
                                .set("microseconds", Value::integer(event.microseconds)))
          .set("event", Value::string(event.name));
  // QEMU leaves "data" out for events that carry nothing (STOP, RESUME, ...).
  const bool empty = event.data.type() == Value::Type::kDict && event.data.as_dict().empty();
  if (!empty) message.set("data", event.data);
  send(message);
}

Value QmpSession::handle(const Expected<Value>& request) {
  if (!request) return qmp_error(kGenericError, request.error().message());
  return execute(*request);
}

Value QmpSession::execute(const Value& request) {
  if (request.type() != Value::Type::kDict) {
    return qmp_error(kGenericError, "QMP input must be a JSON object");
  }
  const Value* id = request.find("id");
  for (const auto& [key, member] : request.as_dict()) {
    if (key == "execute") {
      if (member.type() != Value::Type::kString) {
        return qmp_error(kGenericError, "QMP input member 'execute' must be a string", id);
      }
    } else if (key == "arguments") {
      if (member.type() != Value::Type::kDict) {
        return qmp_error(kGenericError, "QMP input member 'arguments' must be an object", id);
      }
    } else if (key != "id") {
      // "exec-oob" included: no capability enables it here.
      return qmp_error(kGenericError, "QMP input member '" + key + "' is unexpected", id);
    }
  }
  const Value* execute = request.find("execute");
  if (execute == nullptr) return qmp_error(kGenericError, "QMP input lacks member 'execute'", id);
  const std::string& name = execute->as_string();
  if (!negotiated_ && name != kCapabilitiesCommand) {
    return qmp_error(kCommandNotFound, "Expecting capabilities negotiation with 'qmp_capabilities'",
                     id);
  }
  if (negotiated_ && name == kCapabilitiesCommand) {
    return qmp_error(kCommandNotFound,
                     "Capabilities negotiation is already complete, command ignored", id);
  }
  const Command* command = find_command(name);
  if (command == nullptr || !command->qmp) {
    return qmp_error(kCommandNotFound, "The command " + name + " has not been found", id);
  }
  static const Value kNoArguments = Value::dict();
  const Value* arguments = request.find("arguments");
  if (arguments == nullptr) arguments = &kNoArguments;
  if (Error error = validate_arguments(*command, *arguments, ArgumentErrors::kQmp); !error.ok()) {
    return qmp_error(kGenericError, error.message(), id);
  }
  Value result;
  if (name == kCapabilitiesCommand) {
    if (const Value* enable = arguments->find("enable")) {
      for (const Value& capability : enable->as_list()) {
        if (capability.type() != Value::Type::kString) {
          return qmp_error(kGenericError,
                           "Invalid parameter type for 'enable' member, expected: string", id);
        }
        bool known = false;
        for (const char* candidate : kKnownCapabilities)
          known = known || capability.as_string() == candidate;
        if (!known) {
          return qmp_error(
              kGenericError,
              "Parameter 'enable' does not accept value '" + capability.as_string() + "'", id);
        }
        return qmp_error(kGenericError, "Capability '" + capability.as_string() + "' not available",
                         id);
      }
    }
    negotiated_ = true;
  } else {
    CommandContext context{control_};
    Expected<Value> outcome = command->handler(context, *arguments);
    if (!outcome) return qmp_error(kGenericError, outcome.error().message(), id);
    result = std::move(*outcome);
  }
  Value response = Value::dict();
  response.set("return", result.is_null() ? Value::dict() : std::move(result));
  if (id != nullptr) response.set("id", *id);
  return response;
}

}  // namespace cr16::system::monitor
