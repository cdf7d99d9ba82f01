#include "hw/sc14441_sysregs.h"

#include <cstddef>

#include "hw/sc14441_map.h"
#include "util/log.h"

namespace cr16 {
namespace {

using namespace sc14441;

constexpr StateField kSysregsFields[] = {
    CR16_STATE_FIELD(Sc14441SysregsState, clock),
    CR16_STATE_FIELD(Sc14441SysregsState, power),
    CR16_STATE_FIELD(Sc14441SysregsState, gpio),
    CR16_STATE_FIELD(Sc14441SysregsState, timer),
    CR16_STATE_FIELD(Sc14441SysregsState, freeze).mask(kFreezeMask),
    CR16_STATE_FIELD(Sc14441SysregsState, debug).mask(kDebugMask),
    CR16_STATE_FIELD(Sc14441SysregsState, watchdog).mask(0xFF),
    CR16_STATE_FIELD(Sc14441SysregsState, watchdog_sync_ns),
};

Error validate_sysregs(void* object) {
  const auto* state = static_cast<const Sc14441SysregsState*>(object);
  return check_state_time("watchdog_sync_ns", state->watchdog_sync_ns);
}

const StateDescription kSysregsDescription = {
    "sc14441-sysregs", 1, 1, sizeof(Sc14441SysregsState), kSysregsFields, {}, validate_sysregs};

constexpr uint32_t kChipIdEnd = kChipIdBase + kChipIdSize;

}  // namespace

Sc14441Sysregs::Sc14441Sysregs(DeviceClock& clock) : clock_(clock) {
  reset();
}

Sc14441Sysregs::~Sc14441Sysregs() {
  clock_.cancel(deadline_);
}

void Sc14441Sysregs::map(Sc14441SfrWindow& window) {
  window.add(kClkBase, kClkSize, this);
  window.add(kPowerBase, kPowerSize, this);
  window.add(kGpioBase, kGpioSize, this);
  window.add(kTimerBase, kTimerSize, this);
  window.add(kWatchdogReg, kWatchdogSize, this);
  window.add(kSysCtlBase, kSysCtlSize, this);
  window.add(kChipIdBase, kChipIdSize, this);
}

void Sc14441Sysregs::set_reset_handler(std::function<void()> handler) {
  reset_handler_ = std::move(handler);
}

void Sc14441Sysregs::reset() {
  state_ = Sc14441SysregsState{};
  state_.power[(kBatStatusReg - kPowerBase) / 2] = kBatStatusReset;
  state_.watchdog = kWatchdogReset;
  state_.watchdog_sync_ns = clock_.now_ns();
  rearm_watchdog();
}

bool Sc14441Sysregs::watchdog_frozen() const {
  return (state_.freeze & kFreezeWatchdog) != 0;
}

void Sc14441Sysregs::sync_watchdog() {
  const int64_t now = clock_.now_ns();
  if (watchdog_frozen() || now <= state_.watchdog_sync_ns) {
    if (watchdog_frozen()) state_.watchdog_sync_ns = now;
    return;
  }
  const uint64_t ticks = static_cast<uint64_t>(now - state_.watchdog_sync_ns) / kWatchdogTickNs;
  state_.watchdog_sync_ns += static_cast<int64_t>(ticks) * kWatchdogTickNs;
  state_.watchdog = ticks >= state_.watchdog ? 0 : state_.watchdog - static_cast<uint32_t>(ticks);
}

uint32_t Sc14441Sysregs::watchdog_value() {
  sync_watchdog();
  return state_.watchdog;
}

// The reset comes when the counter steps from 1 to 0 (a write of 0 counts
// as 1: the reset comes at the next step).
void Sc14441Sysregs::rearm_watchdog() {
  clock_.cancel(deadline_);
  deadline_ = 0;
  if (watchdog_frozen()) return;
  const int64_t ticks = state_.watchdog;
  deadline_ = clock_.arm(state_.watchdog_sync_ns + ticks * kWatchdogTickNs,
                         [this] { watchdog_deadline(); });
}

void Sc14441Sysregs::watchdog_deadline() {
  deadline_ = 0;
  if (watchdog_frozen()) return;
  sync_watchdog();
  if (state_.watchdog != 0) {  // woken early: wait for the rest
    rearm_watchdog();
    return;
  }
  log_printf(LogCategory::kTrace, "sc14441: watchdog expired, resetting the chip");
  if (reset_handler_) reset_handler_();
}

uint16_t* Sc14441Sysregs::storage(uint32_t reg) {
  if (reg >= kClkBase && reg < kClkBase + kClkSize) return &state_.clock[(reg - kClkBase) / 2];
  if (reg >= kPowerBase && reg < kPowerBase + kPowerSize) {
    return &state_.power[(reg - kPowerBase) / 2];
  }
  if (reg >= kGpioBase && reg < kGpioBase + kGpioSize) return &state_.gpio[(reg - kGpioBase) / 2];
  if (reg >= kTimerBase && reg < kTimerBase + kTimerSize) {
    return &state_.timer[(reg - kTimerBase) / 2];
  }
  return nullptr;
}

uint16_t Sc14441Sysregs::read_reg(uint32_t reg, bool side_effects) {
  if (reg >= kChipIdBase && reg < kChipIdEnd) {
    uint16_t value = 0;
    for (uint32_t i = 0; i < 2; ++i) {
      const uint32_t at = reg + i;
      if (at >= kChipId1Reg && at < kChipId1Reg + sizeof kChipId) {
        value |= static_cast<uint16_t>(kChipId[at - kChipId1Reg] << (8 * i));
      }
    }
    return value;
  }
  if (reg == kWatchdogReg) {
    if (side_effects) return static_cast<uint16_t>(watchdog_value());
    Sc14441SysregsState saved = state_;  // a peek computes on a copy
    const auto value = static_cast<uint16_t>(watchdog_value());
    state_ = saved;
    return value;
  }
  if (reg == kSetFreezeReg || reg == kResetFreezeReg) return state_.freeze;
  if (reg == kDebugReg) return state_.debug;
  if (reg >= kGpioBase && reg < kGpioBase + kGpioSize) {
    const uint32_t port_reg = (reg - kGpioBase) % 0x10;
    if (port_reg == kGpioSetData || port_reg == kGpioResetData) return 0;
  }
  if (reg == kBatStatusReg) return state_.power[(reg - kPowerBase) / 2] | kBatStatusReset;
  if (uint16_t* stored = storage(reg)) return *stored;
  return 0;
}

void Sc14441Sysregs::write_reg(uint32_t reg, uint16_t value, uint16_t byte_mask) {
  if (reg >= kChipIdBase && reg < kChipIdEnd) {
    log_printf(LogCategory::kGuestErrors, "sc14441: write to the read-only chip ID at 0x%06x",
               reg);
    return;
  }
  if (reg == kWatchdogReg) {
    if (!(byte_mask & 0x00FF)) return;  // the counter is bits 7:0
    sync_watchdog();
    state_.watchdog = (value & 0xFF) == 0 ? 1 : value & 0xFF;
    state_.watchdog_sync_ns = clock_.now_ns();
    rearm_watchdog();
    return;
  }
  if (reg == kSetFreezeReg || reg == kResetFreezeReg) {
    sync_watchdog();
    if (reg == kSetFreezeReg) {
      state_.freeze |= value & kFreezeMask;
    } else {
      state_.freeze &= ~value;
    }
    state_.watchdog_sync_ns = clock_.now_ns();
    rearm_watchdog();
    return;
  }
  if (reg == kDebugReg) {
    state_.debug = merge(state_.debug, value, byte_mask) & kDebugMask;
    if (value & kDebugSwReset) {
      log_printf(LogCategory::kTrace, "sc14441: software reset (DEBUG_REG.SW_RESET)");
      if (reset_handler_) reset_handler_();
    }
    return;
  }
  if (reg >= kGpioBase && reg < kGpioBase + kGpioSize) {
    const uint32_t port_reg = (reg - kGpioBase) % 0x10;
    uint16_t& data = state_.gpio[(reg - kGpioBase - port_reg) / 2];
    if (port_reg == kGpioSetData) {
      data |= value;
      return;
    }
    if (port_reg == kGpioResetData) {
      data &= static_cast<uint16_t>(~value);
      return;
    }
  }
  if (uint16_t* stored = storage(reg)) *stored = merge(*stored, value, byte_mask);
}

const StateDescription& sc14441_sysregs_state_description() {
  return kSysregsDescription;
}

const StateDescription& Sc14441Sysregs::state_description() const {
  return kSysregsDescription;
}

void Sc14441Sysregs::state_loaded() {
  rearm_watchdog();
}

}  // namespace cr16
