// The virt board timer (docs/virt.md section 6): a 64-bit microsecond
// counter and two down-counting channels (periodic or one-shot) at 1 MHz of
// virtual time, each with an interrupt line. Counts are computed from the
// clock on demand; a deadline is armed only for the next expiry.
#pragma once

#include <array>
#include <cstdint>

#include "hw/device_clock.h"
#include "hw/device_state.h"
#include "hw/irq.h"
#include "hw/register_device.h"

namespace cr16 {

/// One channel's guest-visible state. `sync_ns` is the virtual time `count`
/// was last brought up to date (whole ticks only, so the phase is kept).
struct TimerChannelState {
  uint32_t load = 0;
  uint32_t count = 0;
  uint32_t ctrl = 0;
  uint32_t status = 0;
  uint32_t sync_ns_lo = 0, sync_ns_hi = 0;
};

struct TimerState {
  uint32_t epoch_ns_lo = 0, epoch_ns_hi = 0;  // virtual time of the last reset (NOW = 0)
  uint32_t now_hi_latch = 0;
  TimerChannelState channel[2];
};

class TimerDevice : public RegisterDevice, public StatefulDevice {
 public:
  /// `lines[c]` is channel c's interrupt line.
  TimerDevice(DeviceClock& clock, std::array<IrqLine, 2> lines);
  ~TimerDevice() override;

  /// Stops both channels and restarts NOW from 0.
  void reset();

  const TimerState& state() const { return state_; }
  const LegacyStateDescription& state_description() const override;
  void* state_data() override { return &state_; }
  Error post_load() override;

 protected:
  uint32_t read_register(uint32_t reg, bool side_effects) override;
  void write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) override;

 private:
  void sync_channel(unsigned channel);
  void rearm(unsigned channel);
  void expire(unsigned channel);
  void update_line(unsigned channel);

  DeviceClock& clock_;
  std::array<IrqLine, 2> lines_;
  TimerState state_;
  std::array<DeviceClock::TimerHandle, 2> deadlines_{};
};

}  // namespace cr16
