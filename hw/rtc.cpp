#include "hw/rtc.h"

#include <cstddef>

#include "hw/virt_map.h"
#include "util/log.h"

namespace cr16 {
namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;

constexpr StateField kRtcFields[] = {
    CR16_STATE_FIELD(RtcState, base_ns),
    CR16_STATE_FIELD(RtcState, base_seconds),
    CR16_STATE_FIELD(RtcState, alarm),
    CR16_STATE_FIELD(RtcState, ctrl).mask(virt::kRtcCtrlAlarmIe),
    CR16_STATE_FIELD(RtcState, status).mask(virt::kRtcStatusAlarm),
};

// base_ns is subtracted from "now" and added to up to 2^32 seconds when the
// alarm is armed: in [0, 2^62) that stays below 2^63.
Error validate_rtc(void* object) {
  const auto* state = static_cast<const RtcState*>(object);
  return check_state_time("base_ns", state->base_ns);
}

const StateDescription kRtcDescription = {"rtc",      1,  1,           sizeof(RtcState),
                                          kRtcFields, {}, validate_rtc};

}  // namespace

RtcDevice::RtcDevice(DeviceClock& clock, uint32_t initial_seconds, IrqLine alarm_line)
    : RegisterDevice("rtc"), clock_(clock), line_(alarm_line) {
  set_time(initial_seconds);
  update_line();
}

RtcDevice::~RtcDevice() {
  clock_.cancel(alarm_deadline_);
}

void RtcDevice::reset() {
  state_.alarm = 0;
  state_.ctrl = 0;
  state_.status = 0;
  rearm_alarm();
  update_line();
}

uint32_t RtcDevice::time_seconds() {
  int64_t elapsed = clock_.now_ns() - state_.base_ns;
  if (elapsed < 0) elapsed = 0;
  return state_.base_seconds + static_cast<uint32_t>(elapsed / kNsPerSecond);
}

void RtcDevice::set_time(uint32_t seconds) {
  state_.base_seconds = seconds;
  state_.base_ns = clock_.now_ns();
  rearm_alarm();
}

void RtcDevice::rearm_alarm() {
  clock_.cancel(alarm_deadline_);
  alarm_deadline_ = 0;
  int64_t base_ns = state_.base_ns;
  int64_t elapsed = clock_.now_ns() - base_ns;
  if (elapsed < 0) elapsed = 0;
  int64_t elapsed_seconds = elapsed / kNsPerSecond;
  uint32_t seconds_to_alarm =
      state_.alarm - (state_.base_seconds + static_cast<uint32_t>(elapsed_seconds));
  if (seconds_to_alarm == 0) return;  // already equal: the alarm fires on becoming equal
  int64_t deadline = base_ns + (elapsed_seconds + int64_t{seconds_to_alarm}) * kNsPerSecond;
  alarm_deadline_ = clock_.arm(deadline, [this] {
    alarm_deadline_ = 0;
    state_.status |= virt::kRtcStatusAlarm;
    update_line();
  });
}

void RtcDevice::update_line() {
  line_.set((state_.status & virt::kRtcStatusAlarm) && (state_.ctrl & virt::kRtcCtrlAlarmIe));
}

uint32_t RtcDevice::read_register(uint32_t reg, bool side_effects) {
  switch (reg) {
    case virt::kRtcTime:
      return time_seconds();
    case virt::kRtcAlarm:
      return state_.alarm;
    case virt::kRtcCtrl:
      return state_.ctrl;
    case virt::kRtcStatus:
      return state_.status;
    default:
      log_bad_register("read", reg);
      return 0;
  }
}

void RtcDevice::write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) {
  switch (reg) {
    case virt::kRtcTime:
      set_time(merge(time_seconds(), value, byte_mask));
      return;
    case virt::kRtcAlarm:
      state_.alarm = merge(state_.alarm, value, byte_mask);
      rearm_alarm();
      return;
    case virt::kRtcCtrl:
      state_.ctrl = merge(state_.ctrl, value, byte_mask) & virt::kRtcCtrlAlarmIe;
      update_line();
      return;
    case virt::kRtcStatus:
      state_.status &= ~(value & virt::kRtcStatusAlarm);
      update_line();
      return;
    default:
      log_bad_register("write", reg);
      return;
  }
}

const StateDescription& rtc_state_description() {
  return kRtcDescription;
}

const StateDescription& RtcDevice::state_description() const {
  return kRtcDescription;
}

void RtcDevice::state_loaded() {
  rearm_alarm();
  update_line();
}

}  // namespace cr16
