// The virt board's interrupt control unit (docs/virt.md section 3): 32
// level-triggered sources with enable, software latches and 4-bit
// priorities, the vector register IVCT at 0xFFFE00 that the CPU reads to
// acknowledge, and a software NMI.
#pragma once

#include <cstdint>
#include <functional>

#include "hw/device_state.h"
#include "hw/irq.h"
#include "hw/register_device.h"

namespace cr16 {

/// Guest-visible ICU state (the migrated fields).
struct IcuState {
  uint32_t raw = 0;           // device line levels
  uint32_t enable = 0;        // ICU_ENABLE
  uint32_t soft = 0;          // software latches
  uint32_t priority[4] = {};  // ICU_PRIO0..3
  uint32_t nmi_status = 0;    // ICU_NMI_STATUS
};
static_assert(std::has_unique_object_representations_v<IcuState>);

/// Section "icu", version 1.
const StateDescription& icu_state_description();

class IcuDevice : public RegisterDevice, public IrqSink, public Stateful {
 public:
  IcuDevice();

  /// Where the maskable request goes (Cpu::set_irq_line); called with the new
  /// level whenever it may have changed.
  void set_irq_output(std::function<void(bool)> output);
  /// Where NMI edges go (Cpu::raise_nmi).
  void set_nmi_output(std::function<void()> output);

  void set_irq_level(unsigned source, bool level) override;
  /// Back to reset values (lines low, nothing enabled); updates the output.
  void reset();

  /// True while any source is pending and enabled.
  bool irq_requested() const;
  /// The vector IVCT would return now (16 + n, or 48 when nothing is active).
  uint32_t current_vector() const;
  const IcuState& state() const { return state_; }

  const StateDescription& state_description() const override;
  void* state_data() override { return &state_; }
  /// Drives the CPU's interrupt request from the loaded state.
  void state_loaded() override;

 protected:
  uint32_t read_register(uint32_t reg, bool side_effects) override;
  void write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) override;

 private:
  uint32_t active() const { return (state_.raw | state_.soft) & state_.enable; }
  void update_output();

  IcuState state_;
  std::function<void(bool)> irq_output_;
  std::function<void()> nmi_output_;
};

}  // namespace cr16
