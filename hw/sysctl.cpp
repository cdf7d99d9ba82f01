#include "hw/sysctl.h"

#include <array>
#include <cstddef>

#include "hw/virt_map.h"
#include "util/log.h"

namespace cr16 {
namespace {

constexpr uint32_t kCauseBits = virt::kResetCausePowerOn | virt::kResetCauseSoftware |
                                virt::kResetCauseWatchdog | virt::kResetCauseExternal;

constexpr StateField kSysctlFields[] = {
    CR16_STATE_FIELD(SysctlState, reset_cause).mask(kCauseBits),
    CR16_STATE_FIELD(SysctlState, scratch),
};

// The masks are the whole rule: any cause bits and any scratch value, a
// pressed button and its interrupt enable.
Error validate_sysctl(void*) {
  return Error();
}

// The power button's registers travel only while they hold something (the
// button was pressed or its interrupt enabled), so a stream from a guest
// that never used them stays the two-field section.
constexpr StateField kPowerButtonFields[] = {
    CR16_STATE_FIELD(SysctlState, power_status).mask(virt::kSysPowerStatusButton),
    CR16_STATE_FIELD(SysctlState, power_ctrl).mask(virt::kSysPowerCtrlButtonIe),
};
const StateDescription kPowerButtonDescription = {
    "power-button", 1, 1, sizeof(SysctlState), kPowerButtonFields, {}, validate_sysctl};
bool power_button_needed(const void* object) {
  const auto* state = static_cast<const SysctlState*>(object);
  return state->power_status != 0 || state->power_ctrl != 0;
}
const StateSubsection kSysctlSubsections[] = {{&kPowerButtonDescription, power_button_needed}};

const StateDescription kSysctlDescription = {
    "sysctl", 1, 1, sizeof(SysctlState), kSysctlFields, kSysctlSubsections, validate_sysctl};

}  // namespace

SysctlDevice::SysctlDevice(SysctlConfig config, IrqLine power_button_line)
    : RegisterDevice("sysctl"), config_(std::move(config)), power_button_line_(power_button_line) {
  state_.reset_cause = virt::kResetCausePowerOn;
}

void SysctlDevice::press_power_button() {
  log_printf(LogCategory::kTrace, "sysctl: power button pressed");
  state_.power_status |= virt::kSysPowerStatusButton;
  update_line();
}

void SysctlDevice::update_line() {
  power_button_line_.set((state_.power_status & virt::kSysPowerStatusButton) &&
                         (state_.power_ctrl & virt::kSysPowerCtrlButtonIe));
}

void SysctlDevice::set_poweroff_handler(std::function<void(int)> handler) {
  poweroff_handler_ = std::move(handler);
}

void SysctlDevice::set_reset_handler(std::function<void()> handler) {
  reset_handler_ = std::move(handler);
}

void SysctlDevice::reset(uint32_t cause) {
  state_.reset_cause = cause & kCauseBits;
  if (cause & virt::kResetCausePowerOn) state_.scratch = 0;
  state_.power_status = 0;
  state_.power_ctrl = 0;
  update_line();
}

uint32_t SysctlDevice::name_word(const std::string& name, uint32_t offset) {
  uint32_t value = 0;
  for (uint32_t i = 0; i < 4; ++i) {
    uint32_t index = offset + i;
    uint8_t byte = index < name.size() ? static_cast<uint8_t>(name[index]) : 0;
    value |= uint32_t{byte} << (8 * i);
  }
  return value;
}

uint32_t SysctlDevice::read_register(uint32_t reg, bool side_effects) {
  switch (reg) {
    case virt::kSysBoardId:
      return virt::kSysBoardIdValue;
    case virt::kSysBoardVersion:
      return virt::kSysBoardVersionValue;
    case virt::kSysRamSize:
      return config_.ram_bytes;
    case virt::kSysFlashSize:
      return virt::kFlashSize;
    case virt::kSysCpuModel:
      return config_.cpu_model;
    case virt::kSysResetCause:
      return state_.reset_cause;
    case virt::kSysPoweroff:
    case virt::kSysReset:
      return 0;
    case virt::kSysScratch:
      return state_.scratch;
    case virt::kSysPowerStatus:
      return state_.power_status;
    case virt::kSysPowerCtrl:
      return state_.power_ctrl;
    default:
      break;
  }
  if (reg >= virt::kSysCpuName && reg < virt::kSysCpuName + virt::kSysNameLength) {
    return name_word(config_.cpu_name, reg - virt::kSysCpuName);
  }
  if (reg >= virt::kSysBoardName && reg < virt::kSysBoardName + virt::kSysNameLength) {
    return name_word("virt", reg - virt::kSysBoardName);
  }
  log_bad_register("read", reg);
  return 0;
}

void SysctlDevice::write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) {
  switch (reg) {
    case virt::kSysResetCause:
      state_.reset_cause &= ~value;
      return;
    case virt::kSysPoweroff: {
      // Only a whole 32-bit write carrying the key powers off; the bytes
      // of a narrower write count as zero, so it can never match.
      if (byte_mask != 0xFFFFFFFFu ||
          (value & virt::kSysPoweroffKeyMask) != virt::kSysPoweroffKey) {
        log_printf(LogCategory::kGuestErrors,
                   "sysctl: SYS_POWEROFF written with 0x%08x (byte mask 0x%08x), not the "
                   "power-off key 0x%08x | code; ignored",
                   value, byte_mask, virt::kSysPoweroffKey);
        return;
      }
      int code = static_cast<int>(value & virt::kSysPoweroffCodeMask);
      log_printf(LogCategory::kTrace, "sysctl: power-off with exit code %d", code);
      if (poweroff_handler_) poweroff_handler_(code);
      return;
    }
    case virt::kSysReset:
      if (value != virt::kSysResetKey) {
        log_printf(LogCategory::kGuestErrors, "sysctl: SYS_RESET written with 0x%08x, not the key",
                   value);
        return;
      }
      log_printf(LogCategory::kTrace, "sysctl: reset requested");
      if (reset_handler_) reset_handler_();
      return;
    case virt::kSysScratch:
      state_.scratch = merge(state_.scratch, value, byte_mask);
      return;
    case virt::kSysPowerStatus:
      state_.power_status &= ~(value & virt::kSysPowerStatusButton);
      update_line();
      return;
    case virt::kSysPowerCtrl:
      state_.power_ctrl = merge(state_.power_ctrl, value, byte_mask) & virt::kSysPowerCtrlButtonIe;
      update_line();
      return;
    case virt::kSysBoardId:
    case virt::kSysBoardVersion:
    case virt::kSysRamSize:
    case virt::kSysFlashSize:
    case virt::kSysCpuModel:
      log_printf(LogCategory::kGuestErrors, "sysctl: write to read-only register 0x%02x", reg);
      return;
    default:
      if (reg >= virt::kSysCpuName && reg < virt::kSysBoardName + virt::kSysNameLength) return;
      log_bad_register("write", reg);
      return;
  }
}

const StateDescription& sysctl_state_description() {
  return kSysctlDescription;
}

const StateDescription& SysctlDevice::state_description() const {
  return kSysctlDescription;
}

}  // namespace cr16
