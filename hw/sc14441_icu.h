// The SC14441 interrupt controller (docs/boards/sc14441-registers.md): 15
// edge-latched sources with a 3-bit priority each (0 masks, 7 highest),
// SET/RESET_INT_PENDING, INT0..3_PRIORITY and PC_START_REG at 0xFF5400,
// and the CPU's acknowledge window at 0xFFFC00-0xFFFFFF: the maskable
// interrupt acknowledge read at 0xFFFE00 returns 16 + the source and clears
// its pending bit. No NMI source.
#pragma once

#include <cstdint>
#include <functional>

#include "hw/device_state.h"
#include "hw/sc14441_sfr.h"

namespace cr16 {

struct Sc14441IcuState {
  uint32_t pending = 0;       // bit n: source n latched
  uint32_t priority[4] = {};  // INT0..INT3_PRIORITY_REG
  uint32_t pc_start = 0;      // PC_START_REG (storage)
};
static_assert(std::has_unique_object_representations_v<Sc14441IcuState>);

/// Section "sc14441-icu", version 1.
const StateDescription& sc14441_icu_state_description();

class Sc14441Icu : public Sc14441HalfwordBlock, public Stateful {
 public:
  Sc14441Icu();

  /// Where the maskable request level goes (Cpu::set_irq_line).
  void set_irq_output(std::function<void(bool)> output);
  /// A request edge from source `source` (0..14): latches its pending bit.
  void request(unsigned source);
  /// Clears the pending bit of `source` (a peripheral's acknowledge).
  void clear_request(unsigned source);
  /// Back to reset: nothing pending, every priority 0.
  void reset();

  /// 3-bit priority of `source` (0 = masked).
  unsigned priority_of(unsigned source) const;
  /// The source INTA would return now, or -1 when nothing enabled is
  /// pending. Ties of equal priority go to the lowest source number.
  int best_source() const;
  /// True while an enabled source is pending.
  bool irq_requested() const { return best_source() >= 0; }
  const Sc14441IcuState& state() const { return state_; }

  /// The acknowledge window (0xFFFC00-0xFFFFFF): reads of 0xFFFE00 are the
  /// INTA cycle; every other address reads 0, writes are ignored.
  Sc14441SfrBlock& acknowledge_block() { return ack_; }

  const StateDescription& state_description() const override;
  void* state_data() override { return &state_; }
  void state_loaded() override { update_output(); }

 protected:
  uint16_t read_reg(uint32_t reg, bool side_effects) override;
  void write_reg(uint32_t reg, uint16_t value, uint16_t byte_mask) override;

 private:
  class Acknowledge : public Sc14441SfrBlock {
   public:
    explicit Acknowledge(Sc14441Icu& icu) : icu_(icu) {}
    uint32_t sfr_read(uint32_t address, AccessSize size, bool peek) override;
    void sfr_write(uint32_t, AccessSize, uint32_t) override {}

   private:
    Sc14441Icu& icu_;
  };

  void update_output();

  Sc14441IcuState state_;
  Acknowledge ack_{*this};
  std::function<void(bool)> irq_output_;
};

}  // namespace cr16
