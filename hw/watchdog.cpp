#include "hw/watchdog.h"

#include <array>
#include <cstddef>

#include "hw/virt_map.h"
#include "util/log.h"

namespace cr16 {
namespace {

constexpr uint32_t kAll = 0xFFFFFFFFu;

constexpr std::array<LegacyStateField, 6> kWatchdogFields = {{
    {"ctrl", LegacyFieldKind::kU32, offsetof(WatchdogState, ctrl), 1, virt::kWdtCtrlEnable},
    {"timeout", LegacyFieldKind::kU32, offsetof(WatchdogState, timeout), 1, kAll},
    {"count", LegacyFieldKind::kU32, offsetof(WatchdogState, count), 1, kAll},
    {"status", LegacyFieldKind::kU32, offsetof(WatchdogState, status), 1, virt::kWdtStatusWdtReset},
    {"sync_ns_lo", LegacyFieldKind::kU32, offsetof(WatchdogState, sync_ns_lo), 1, kAll},
    {"sync_ns_hi", LegacyFieldKind::kU32, offsetof(WatchdogState, sync_ns_hi), 1, kAll},
}};

const LegacyStateDescription kWatchdogDescription = {"watchdog", 1, 1, kWatchdogFields, nullptr};

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
  split_u64(clock_.now_ns(), &state_.sync_ns_lo, &state_.sync_ns_hi);
}

void WatchdogDevice::sync() {
  int64_t now = clock_.now_ns();
  int64_t since = join_u64(state_.sync_ns_lo, state_.sync_ns_hi);
  if (!(state_.ctrl & virt::kWdtCtrlEnable)) {
    split_u64(now, &state_.sync_ns_lo, &state_.sync_ns_hi);
    return;
  }
  if (now <= since) return;
  uint64_t ticks = static_cast<uint64_t>(now - since) / virt::kNsPerTick;
  since += static_cast<int64_t>(ticks) * virt::kNsPerTick;
  split_u64(since, &state_.sync_ns_lo, &state_.sync_ns_hi);
  state_.count = ticks >= state_.count ? 0 : state_.count - static_cast<uint32_t>(ticks);
}

void WatchdogDevice::reload() {
  state_.count = state_.timeout == 0 ? 1 : state_.timeout;
  split_u64(clock_.now_ns(), &state_.sync_ns_lo, &state_.sync_ns_hi);
}

void WatchdogDevice::rearm() {
  clock_.cancel(deadline_);
  deadline_ = 0;
  if (!(state_.ctrl & virt::kWdtCtrlEnable)) return;
  int64_t deadline = join_u64(state_.sync_ns_lo, state_.sync_ns_hi) +
                     static_cast<int64_t>(state_.count) * virt::kNsPerTick;
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

const LegacyStateDescription& WatchdogDevice::state_description() const {
  return kWatchdogDescription;
}

Error WatchdogDevice::post_load() {
  rearm();
  return Error();
}

}  // namespace cr16
