#include "system/monitor/events.h"

#include <sys/time.h>

#include <algorithm>

namespace cr16::system::monitor {

EventBus::ListenerId EventBus::add(Listener listener) {
  const ListenerId id = next_id_++;
  listeners_.emplace_back(id, std::move(listener));
  return id;
}

void EventBus::remove(ListenerId id) {
  std::erase_if(listeners_, [id](const auto& entry) { return entry.first == id; });
}

void EventBus::emit(std::string name, Value data) {
  Event event;
  event.name = std::move(name);
  event.data = std::move(data);
  timeval now{};
  gettimeofday(&now, nullptr);
  event.seconds = now.tv_sec;
  event.microseconds = now.tv_usec;
  ++emitted_;
  // A listener may change the list (a client that goes away unsubscribes).
  const auto snapshot = listeners_;
  for (const auto& [id, listener] : snapshot) {
    if (std::any_of(listeners_.begin(), listeners_.end(),
                    [id = id](const auto& entry) { return entry.first == id; })) {
      listener(event);
    }
  }
}

const std::vector<std::string>& known_events() {
  static const std::vector<std::string> names = {
      "STOP",           "RESUME",    "RESET",          "SHUTDOWN",          "POWERDOWN",
      "GUEST_PANICKED", "MIGRATION", "MIGRATION_PASS", "JOB_STATUS_CHANGE",
  };
  return names;
}

}  // namespace cr16::system::monitor
