// QMP, the machine protocol of the monitor, as QEMU speaks it: a greeting
// ({"QMP": {"version": ..., "capabilities": [...]}}), capabilities
// negotiation with qmp_capabilities, then {"execute": NAME, "arguments":
// {...}, "id": ANY} requests answered by {"return": ...} or {"error":
// {"class", "desc"}} with the id echoed, and asynchronous events
// ({"timestamp": {"seconds", "microseconds"}, "event": NAME, "data": ...})
// from MachineControl::events() once negotiated.
//
// QmpSession is the protocol of one client, independent of its transport:
// bytes in (receive), bytes out through a Writer. The transports are in
// qmp_server.h. Commands come from the shared command table (commands.h):
// the entries with `qmp` set.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "system/machine_control.h"
#include "system/monitor/events.h"
#include "system/monitor/json.h"
#include "system/monitor/value.h"

namespace cr16::system::monitor {

/// QMP error classes (QEMU's ErrorClass names).
inline constexpr const char* kGenericError = "GenericError";
inline constexpr const char* kCommandNotFound = "CommandNotFound";

/// How a session behaves.
struct QmpSessionOptions {
  bool pretty = false;  // -mon ...,pretty=on / -qmp-pretty: indented JSON
  JsonLimits limits;    // what one request may be
};

/// The greeting a client gets on connection (the version is query-version's).
Value qmp_greeting();

/// One QMP client's protocol state. Machine thread only.
class QmpSession {
 public:
  /// Hands a complete message (one JSON text and "\r\n", as QEMU ends its
  /// lines) to the transport. Returns false when the transport cannot take
  /// it (its queue is full): the session then goes quiet — it reads and
  /// sends nothing more — and the transport drops the client. A Writer must
  /// not destroy the session it belongs to (defer that to the loop).
  using Writer = std::function<bool(std::string_view message)>;

  /// Subscribes to `control.events()`; nothing is sent before start().
  QmpSession(MachineControl& control, Writer writer, QmpSessionOptions options = {});
  ~QmpSession();
  QmpSession(const QmpSession&) = delete;
  QmpSession& operator=(const QmpSession&) = delete;

  /// Sends the greeting; the session is in capabilities negotiation mode
  /// until qmp_capabilities.
  void start();
  /// Feeds bytes from the client; every complete request is executed and
  /// answered, in order, before this returns.
  void receive(std::string_view bytes);
  /// Executes one parsed request (or reports why it could not be parsed)
  /// and returns the response to send. For receive() and the fuzzer.
  Value handle(const Expected<Value>& request);

  /// True after a successful qmp_capabilities: commands run, events flow.
  bool negotiated() const { return negotiated_; }
  /// True once the Writer refused a message (the client is being dropped).
  bool quiet() const { return quiet_; }
  /// Requests answered so far.
  uint64_t requests() const { return requests_; }

 private:
  void send(const Value& message);
  void on_event(const Event& event);
  Value execute(const Value& request);

  MachineControl& control_;
  Writer writer_;
  QmpSessionOptions options_;
  JsonSplitter splitter_;
  EventBus::ListenerId listener_ = 0;
  bool started_ = false;
  bool negotiated_ = false;
  bool quiet_ = false;
  uint64_t requests_ = 0;
};

/// A QMP error response: {"error": {"class": CLASS, "desc": DESC}}, with
/// "id" first when `id` is not nullptr (QEMU's member order).
Value qmp_error(const char* error_class, const std::string& description, const Value* id = nullptr);

}  // namespace cr16::system::monitor
