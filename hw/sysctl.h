// The virt board's system controller (docs/virt.md section 4): board and CPU
// identity, RAM size, reset cause, power-off with an exit code and reset.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "hw/device_state.h"
#include "hw/register_device.h"

namespace cr16 {

struct SysctlState {
  uint32_t reset_cause = 0;  // SYS_RESET_CAUSE
  uint32_t scratch = 0;      // SYS_SCRATCH
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
  /// Starts in the power-on state (reset cause POWERON).
  explicit SysctlDevice(SysctlConfig config);

  /// Called when the guest writes SYS_POWEROFF, with bits 7:0 of the value.
  void set_poweroff_handler(std::function<void(int exit_code)> handler);
  /// Called when the guest writes the reset key to SYS_RESET.
  void set_reset_handler(std::function<void()> handler);

  /// Machine reset with `cause` (a virt::kResetCause* bit): records it.
  void reset(uint32_t cause);

  /// The host pressed the power button (system_powerdown): the guest is told
  /// and decides. (Placeholder: the guest-visible button is added by the
  /// sysctl behaviour change; until then this does nothing.)
  void press_power_button();

  const SysctlState& state() const { return state_; }
  const StateDescription& state_description() const override;
  void* state_data() override { return &state_; }
  // state_loaded(): nothing derives from the sysctl's state.

 protected:
  uint32_t read_register(uint32_t reg, bool side_effects) override;
  void write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) override;

 private:
  static uint32_t name_word(const std::string& name, uint32_t offset);

  SysctlConfig config_;
  SysctlState state_;
  std::function<void(int)> poweroff_handler_;
  std::function<void()> reset_handler_;
};

}  // namespace cr16
