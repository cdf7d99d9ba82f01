// DeviceClock over the main loop's virtual clock: what the program hands to
// the board. Timers fire from io::Loop dispatch on the machine thread.
#pragma once

#include <cstdint>
#include <functional>

#include "hw/device_clock.h"
#include "io/loop.h"

namespace cr16 {

class LoopDeviceClock : public DeviceClock {
 public:
  /// Uses `loop`'s virtual clock; the loop must outlive this object.
  explicit LoopDeviceClock(io::Loop& loop) : loop_(loop) {}

  int64_t now_ns() override;
  TimerHandle arm(int64_t deadline_ns, std::function<void()> callback) override;
  void cancel(TimerHandle handle) override;

 private:
  io::Loop& loop_;
};

}  // namespace cr16
