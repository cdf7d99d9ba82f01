// The virt board watchdog (docs/virt.md section 8): once enabled it counts
// down at 1 MHz of virtual time and resets the machine unless kicked.
#pragma once

#include <cstdint>
#include <functional>

#include "hw/device_clock.h"
#include "hw/device_state.h"
#include "hw/register_device.h"

namespace cr16 {

/// COUNT at the time `sync_ns` (whole ticks only, so the phase is kept).
struct WatchdogState {
  uint32_t ctrl = 0;
  uint32_t timeout = 0;
  uint32_t count = 0;
  uint32_t status = 0;
  int64_t sync_ns = 0;
};
static_assert(std::has_unique_object_representations_v<WatchdogState>);

/// Section "watchdog", version 1.
const StateDescription& watchdog_state_description();

class WatchdogDevice : public RegisterDevice, public Stateful {
 public:
  explicit WatchdogDevice(DeviceClock& clock);
  ~WatchdogDevice() override;

  /// Called when COUNT reaches 0 (the board resets the machine with cause
  /// WATCHDOG). The watchdog disables itself first.
  void set_expiry_handler(std::function<void()> handler);

  /// Machine reset: disabled, TIMEOUT back to 1 s; STATUS.WDT_RESET set only
  /// when `by_watchdog`.
  void reset(bool by_watchdog);

  const WatchdogState& state() const { return state_; }
  const StateDescription& state_description() const override;
  void* state_data() override { return &state_; }
  /// Re-arms the expiry deadline when enabled.
  void state_loaded() override;

 protected:
  uint32_t read_register(uint32_t reg, bool side_effects) override;
  void write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) override;

 private:
  void sync();
  void reload();
  void rearm();
  void expire();

  DeviceClock& clock_;
  WatchdogState state_;
  std::function<void()> expiry_handler_;
  DeviceClock::TimerHandle deadline_ = 0;
};

}  // namespace cr16
