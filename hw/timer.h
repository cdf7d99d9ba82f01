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
  int64_t sync_ns = 0;
};
static_assert(std::has_unique_object_representations_v<TimerChannelState>);

struct TimerState {
  int64_t epoch_ns = 0;    // virtual time of the last reset (NOW = 0)
  uint64_t now_latch = 0;  // NOW as read through NOW_LO; NOW_HI returns its upper half
  TimerChannelState channel[2];
};
static_assert(std::has_unique_object_representations_v<TimerState>);

/// Section "timer", version 1.
const StateDescription& timer_state_description();

class TimerDevice : public RegisterDevice, public Stateful {
 public:
  /// `lines[c]` is channel c's interrupt line.
  TimerDevice(DeviceClock& clock, std::array<IrqLine, 2> lines);
  ~TimerDevice() override;

  /// Stops both channels and restarts NOW from 0.
  void reset();

  const TimerState& state() const { return state_; }
  const StateDescription& state_description() const override;
  void* state_data() override { return &state_; }
  /// Re-arms each running channel's deadline and drives the lines.
  void state_loaded() override;

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
