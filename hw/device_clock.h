// The time base devices use. Devices never talk to io::Loop directly: the
// board hands them a DeviceClock, which is the loop's virtual clock in the
// program (hw/loop_device_clock.h) and a manual clock in unit tests
// (hw/manual_device_clock.h).
#pragma once

#include <cstdint>
#include <functional>

namespace cr16 {

/// Virtual time in nanoseconds (stops while the VM is paused) and one-shot
/// deadline callbacks. Machine thread only.
class DeviceClock {
 public:
  /// Identifies an armed deadline; 0 never names a timer.
  using TimerHandle = uint64_t;

  virtual ~DeviceClock() = default;
  /// The current virtual time in nanoseconds.
  virtual int64_t now_ns() = 0;
  /// Calls `callback` once, on the machine thread, when virtual time reaches
  /// `deadline_ns` (immediately at the next dispatch if already past).
  /// Returns a handle for cancel().
  virtual TimerHandle arm(int64_t deadline_ns, std::function<void()> callback) = 0;
  /// Cancels an armed deadline; unknown or already fired handles (and 0) are
  /// ignored.
  virtual void cancel(TimerHandle handle) = 0;
};

}  // namespace cr16
