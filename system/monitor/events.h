// Asynchronous monitor events: what QMP sends unasked ({"event": NAME,
// "data": {...}, "timestamp": {"seconds", "microseconds"}}). The machine
// translates its run-state changes and machine events into QEMU's events
// (STOP, RESUME, RESET, SHUTDOWN, POWERDOWN, GUEST_PANICKED); migration,
// snapshot jobs and the debugger emit theirs (MIGRATION, MIGRATION_PASS,
// JOB_STATUS_CHANGE, ...) through the same bus. Front ends subscribe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "system/monitor/value.h"

namespace cr16::system::monitor {

/// One event as QMP reports it.
struct Event {
  std::string name;            // "STOP", "MIGRATION", ...
  Value data = Value::dict();  // QEMU's members for that event
  int64_t seconds = 0;         // wall-clock time of emission (gettimeofday)
  int64_t microseconds = 0;
};

/// Subscribers and emission. Machine thread only; a listener may add or
/// remove listeners (it sees the list as it was when emission began).
class EventBus {
 public:
  using ListenerId = uint64_t;
  using Listener = std::function<void(const Event& event)>;

  /// Subscribes; returns an id (never 0) for remove().
  ListenerId add(Listener listener);
  /// Unsubscribes; unknown ids are ignored.
  void remove(ListenerId id);
  /// Stamps the event with the current wall-clock time and tells every
  /// listener. `data` must be a dictionary.
  void emit(std::string name, Value data = Value::dict());
  /// Events emitted so far (for `query-events`-like statistics and tests).
  uint64_t emitted() const { return emitted_; }

 private:
  std::vector<std::pair<ListenerId, Listener>> listeners_;
  ListenerId next_id_ = 1;
  uint64_t emitted_ = 0;
};

/// The events this emulator can emit, by name, for QMP's query-events. An
/// area that adds an event adds its name here.
const std::vector<std::string>& known_events();

}  // namespace cr16::system::monitor
