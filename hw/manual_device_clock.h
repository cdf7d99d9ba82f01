// A DeviceClock whose time only moves when told to: for unit tests and for
// anything that needs fully deterministic device time.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <utility>

#include "hw/device_clock.h"

namespace cr16 {

/// Time starts at `start_ns`; advance_to() fires due callbacks in deadline
/// order (ties in arming order), each seeing now_ns() == its deadline.
class ManualDeviceClock : public DeviceClock {
 public:
  explicit ManualDeviceClock(int64_t start_ns = 0) : now_(start_ns) {}

  int64_t now_ns() override { return now_; }

  TimerHandle arm(int64_t deadline_ns, std::function<void()> callback) override {
    TimerHandle handle = next_handle_++;
    timers_.emplace(std::make_pair(deadline_ns, handle), std::move(callback));
    return handle;
  }

  void cancel(TimerHandle handle) override {
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
      if (it->first.second == handle) {
        timers_.erase(it);
        return;
      }
    }
  }

  /// Moves time forward to `target_ns`, running every callback due on the way
  /// (including ones armed by callbacks). Time never moves backwards.
  void advance_to(int64_t target_ns) {
    while (!timers_.empty() && timers_.begin()->first.first <= target_ns) {
      auto it = timers_.begin();
      if (it->first.first > now_) now_ = it->first.first;
      std::function<void()> callback = std::move(it->second);
      timers_.erase(it);
      callback();
    }
    if (target_ns > now_) now_ = target_ns;
  }
  /// Drops every armed deadline and sets the time to `start_ns` (it may go
  /// back): for reusing one set of devices across independent runs, such as
  /// fuzz inputs, after their state was restored.
  void restart(int64_t start_ns) {
    timers_.clear();
    now_ = start_ns;
  }

  /// advance_to(now + delta_ns).
  void advance_by(int64_t delta_ns) { advance_to(now_ + delta_ns); }

  /// The earliest armed deadline, or INT64_MAX when none.
  int64_t next_deadline() const {
    return timers_.empty() ? std::numeric_limits<int64_t>::max() : timers_.begin()->first.first;
  }
  /// Number of armed deadlines.
  size_t armed_count() const { return timers_.size(); }

 private:
  int64_t now_;
  TimerHandle next_handle_ = 1;
  std::map<std::pair<int64_t, TimerHandle>, std::function<void()>> timers_;
};

}  // namespace cr16
