// The virt board's system controller (docs/virt.md section 4): board and CPU
// identity, RAM size, reset cause, power-off with a key and an exit code,
// reset, and the power button (an interrupt the firmware answers by
// powering off).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "hw/device_state.h"
#include "hw/irq.h"
#include "hw/register_device.h"

namespace cr16 {

struct SysctlState {
  uint32_t reset_cause = 0;   // SYS_RESET_CAUSE
  uint32_t scratch = 0;       // SYS_SCRATCH
  uint32_t power_status = 0;  // SYS_POWER_STATUS: BUTTON (pressed, not yet cleared)
  uint32_t power_ctrl = 0;    // SYS_POWER_CTRL: BUTTON_IE
};
static_assert(std::has_unique_object_representations_v<SysctlState>);

/// Section "sysctl", version 1.
const StateDescription& sysctl_state_description();

/// Fixed facts the sysctl reports.
struct SysctlConfig {
  uint32_t ram_bytes = 0;
  uint32_t cpu_model = 1;  // SYS_CPU_MODEL value: 0 CR16C, 1 CR16C+
  std::string cpu_name;    // "CR16C+" or "CR16C" (at most 16 bytes)
};

class SysctlDevice : public RegisterDevice, public Stateful {
 public:
  /// Starts in the power-on state (reset cause POWERON). `power_button_line`
  /// is the ICU source of the power button (virt::kIrqPowerButton).
  explicit SysctlDevice(SysctlConfig config, IrqLine power_button_line = IrqLine());

  /// Called when the guest writes the power-off key to SYS_POWEROFF (a
  /// 32-bit write of virt::kSysPoweroffKey | code), with the code (bits
  /// 7:0). Any other write is ignored and logged under guest_errors: a
  /// runaway stack sweeping the device window does not power off.
  void set_poweroff_handler(std::function<void(int exit_code)> handler);

  /// Presses the power button (monitor system_powerdown): sets
  /// SYS_POWER_STATUS.BUTTON and raises its interrupt when enabled. The
  /// firmware decides what to do; the default one powers off.
  void press_power_button();
  /// Called when the guest writes the reset key to SYS_RESET.
  void set_reset_handler(std::function<void()> handler);

  /// Machine reset with `cause` (a virt::kResetCause* bit): records it.
  void reset(uint32_t cause);

  const SysctlState& state() const { return state_; }
  const StateDescription& state_description() const override;
  void* state_data() override { return &state_; }
  /// Re-drives the power button's interrupt line.
  void state_loaded() override { update_line(); }

 protected:
  uint32_t read_register(uint32_t reg, bool side_effects) override;
  void write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) override;

 private:
  static uint32_t name_word(const std::string& name, uint32_t offset);
  void update_line();

  SysctlConfig config_;
  SysctlState state_;
  IrqLine power_button_line_;
  std::function<void(int)> poweroff_handler_;
  std::function<void()> reset_handler_;
};

}  // namespace cr16
