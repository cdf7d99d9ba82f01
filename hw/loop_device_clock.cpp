#include "hw/loop_device_clock.h"

#include <utility>

namespace cr16 {

int64_t LoopDeviceClock::now_ns() {
  return loop_.now(io::ClockType::kVirtual);
}

DeviceClock::TimerHandle LoopDeviceClock::arm(int64_t deadline_ns, std::function<void()> callback) {
  // Loop timer ids start at 1, so 0 stays free for "no timer".
  return loop_.add_timer(io::ClockType::kVirtual, deadline_ns, std::move(callback));
}

void LoopDeviceClock::cancel(TimerHandle handle) {
  if (handle != 0) loop_.cancel_timer(handle);
}

}  // namespace cr16
