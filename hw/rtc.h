// The virt board RTC (docs/virt.md section 7): seconds since the epoch,
// initialised from host time, settable, advancing with virtual time, with an
// alarm interrupt. Its time survives machine resets.
#pragma once

#include <cstdint>

#include "hw/device_clock.h"
#include "hw/device_state.h"
#include "hw/irq.h"
#include "hw/register_device.h"

namespace cr16 {

/// RTC_TIME = base_seconds + whole seconds of virtual time since base_ns.
struct RtcState {
  int64_t base_ns = 0;
  uint32_t base_seconds = 0;
  uint32_t alarm = 0;
  uint32_t ctrl = 0;
  uint32_t status = 0;
};
static_assert(std::has_unique_object_representations_v<RtcState>);

/// Section "rtc", version 1.
const StateDescription& rtc_state_description();

class RtcDevice : public RegisterDevice, public Stateful {
 public:
  /// Starts at `initial_seconds` (the board passes the host's time(nullptr)).
  RtcDevice(DeviceClock& clock, uint32_t initial_seconds, IrqLine alarm_line);
  ~RtcDevice() override;

  /// Clears alarm, control and status; the time keeps running.
  void reset();
  /// The current RTC_TIME.
  uint32_t time_seconds();

  const StateDescription& state_description() const override;
  void* state_data() override { return &state_; }
  /// Re-arms the alarm deadline and drives the line.
  void state_loaded() override;

 protected:
  uint32_t read_register(uint32_t reg, bool side_effects) override;
  void write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) override;

 private:
  void set_time(uint32_t seconds);
  void rearm_alarm();
  void update_line();

  DeviceClock& clock_;
  IrqLine line_;
  RtcState state_;
  DeviceClock::TimerHandle alarm_deadline_ = 0;
};

}  // namespace cr16
