#include "hw/watchdog.h"

#include <cstddef>

#include "hw/virt_map.h"
#include "util/log.h"

namespace cr16 {
namespace {

constexpr StateField kWatchdogFields[] = {
    CR16_STATE_FIELD(WatchdogState, ctrl).mask(virt::kWdtCtrlEnable),
    CR16_STATE_FIELD(WatchdogState, timeout),
    CR16_STATE_FIELD(WatchdogState, count),
    CR16_STATE_FIELD(WatchdogState, status).mask(virt::kWdtStatusWdtReset),
    CR16_STATE_FIELD(WatchdogState, sync_ns),
};

// sync_ns is added to up to 2^32 ticks and subtracted from "now". Any
// count is fine: 0 while enabled expires at the next deadline.
Error validate_watchdog(void* object) {
  const auto* state = static_cast<const WatchdogState*>(object);
  return check_state_time("sync_ns", state->sync_ns);
}

const StateDescription kWatchdogDescription = {
    "watchdog", 1, 1, sizeof(WatchdogState), kWatchdogFields, {}, validate_watchdog};

}  // namespace

WatchdogDevice::WatchdogDevice(DeviceClock& clock) : RegisterDevice("watchdog"), clock_(clock) {
  reset(false);
}

WatchdogDevice::~WatchdogDevice() {
  clock_.cancel(deadline_);
}

void WatchdogDevice::set_expiry_handler(std::function<void()> handler) {
  expiry_handler_ = std::move(handler);
}

void WatchdogDevice::reset(bool by_watchdog) {
  clock_.cancel(deadline_);
  deadline_ = 0;
  state_ = WatchdogState{};
  state_.timeout = virt::kWdtTimeoutReset;
  state_.status = by_watchdog ? virt::kWdtStatusWdtReset : 0;
  state_.sync_ns = clock_.now_ns();
}

void WatchdogDevice::sync() {
  int64_t now = clock_.now_ns();
  if (!(state_.ctrl & virt::kWdtCtrlEnable)) {
    state_.sync_ns = now;
    return;
  }
  if (now <= state_.sync_ns) return;
  uint64_t ticks = static_cast<uint64_t>(now - state_.sync_ns) / virt::kNsPerTick;
  state_.sync_ns += static_cast<int64_t>(ticks) * virt::kNsPerTick;
  state_.count = ticks >= state_.count ? 0 : state_.count - static_cast<uint32_t>(ticks);
}

void WatchdogDevice::reload() {
  state_.count = state_.timeout == 0 ? 1 : state_.timeout;
  state_.sync_ns = clock_.now_ns();
}

void WatchdogDevice::rearm() {
  clock_.cancel(deadline_);
  deadline_ = 0;
  if (!(state_.ctrl & virt::kWdtCtrlEnable)) return;
  int64_t deadline = state_.sync_ns + static_cast<int64_t>(state_.count) * virt::kNsPerTick;
  deadline_ = clock_.arm(deadline, [this] { expire(); });
}

void WatchdogDevice::expire() {
  deadline_ = 0;
  sync();
  if (!(state_.ctrl & virt::kWdtCtrlEnable)) return;
  if (state_.count != 0) {  // woken early (clock adjusted): wait for the rest
    rearm();
    return;
  }
  log_printf(LogCategory::kTrace, "watchdog: expired, resetting the machine");
  state_.ctrl &= ~virt::kWdtCtrlEnable;
  if (expiry_handler_) expiry_handler_();
}

uint32_t WatchdogDevice::read_register(uint32_t reg, bool side_effects) {
  switch (reg) {
    case virt::kWdtCtrl:
      return state_.ctrl;
    case virt::kWdtTimeout:
      return state_.timeout;
    case virt::kWdtKick:
      return 0;
    case virt::kWdtCount: {
      if (side_effects) {
        sync();
        return state_.count;
      }
      // A peek: the same count, computed on a copy of the state.
      WatchdogState saved = state_;
      sync();
      uint32_t count = state_.count;
      state_ = saved;
      return count;
    }
    case virt::kWdtStatus:
      return state_.status;
    default:
      log_bad_register("read", reg);
      return 0;
  }
}

void WatchdogDevice::write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) {
  switch (reg) {
    case virt::kWdtCtrl: {
      sync();
      bool was_enabled = state_.ctrl & virt::kWdtCtrlEnable;
      state_.ctrl = merge(state_.ctrl, value, byte_mask) & virt::kWdtCtrlEnable;
      if (!was_enabled && (state_.ctrl & virt::kWdtCtrlEnable)) reload();
      rearm();
      return;
    }
    case virt::kWdtTimeout:
      state_.timeout = merge(state_.timeout, value, byte_mask);
      return;
    case virt::kWdtKick:
      if (value != virt::kWdtKickKey) {
        log_printf(LogCategory::kGuestErrors, "watchdog: kick with wrong key 0x%08x ignored",
                   value);
        return;
      }
      reload();
      rearm();
      return;
    case virt::kWdtCount:
      return;  // read-only
    case virt::kWdtStatus:
      state_.status &= ~(value & virt::kWdtStatusWdtReset);
      return;
    default:
      log_bad_register("write", reg);
      return;
  }
}

const StateDescription& watchdog_state_description() {
  return kWatchdogDescription;
}

const StateDescription& WatchdogDevice::state_description() const {
  return kWatchdogDescription;
}

void WatchdogDevice::state_loaded() {
  rearm();
}

}  // namespace cr16
