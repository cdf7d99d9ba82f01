// The SC14441's small system registers (docs/boards/sc14441-registers.md),
// one object answering several SFR windows:
//   * clocks and PLL (0xFF4000-0xFF402F), TEST_ENV/BAT/CP (0xFF4800-
//     0xFF481F), timers (0xFF4970-0xFF497F): plain storage (BAT_STATUS bit
//     3 always reads 1);
//   * GPIO P0..P3 (0xFF4830 + 0x10 * n): DATA, SET_DATA (ORs into DATA),
//     RESET_DATA (clears DATA bits), DIR, MODE;
//   * the watchdog WATCHDOG_REG (0xFF4C00): an 8-bit counter going down by
//     one every 10 ms of device-clock time, reloaded by each write; reaching
//     0 asks for a chip reset. Reset state: running from 0xFF;
//   * SET_FREEZE_REG/RESET_FREEZE_REG (0xFF5000/2): freeze bits; FRZ_WDOG
//     (bit 3) stops the watchdog;
//   * DEBUG_REG (0xFF5004): writing bit 7 (SW_RESET) asks for a chip reset;
//     other bits are storage;
//   * the chip ID bytes (0xFFFBF4-0xFFFBFF): '4','4','1', 0, 0 at 0xFFFBF8,
//     the rest 0; read-only.
#pragma once

#include <cstdint>
#include <functional>

#include "hw/device_clock.h"
#include "hw/device_state.h"
#include "hw/sc14441_sfr.h"

namespace cr16 {

struct Sc14441SysregsState {
  uint16_t clock[0x18] = {};  // 0xFF4000..0xFF402F
  uint16_t power[0x10] = {};  // 0xFF4800..0xFF481F
  uint16_t gpio[0x20] = {};   // 0xFF4830..0xFF486F
  uint16_t timer[0x08] = {};  // 0xFF4970..0xFF497F
  uint16_t freeze = 0;
  uint16_t debug = 0;
  uint32_t watchdog = 0;         // WATCHDOG_REG at watchdog_sync_ns
  int64_t watchdog_sync_ns = 0;  // whole ticks only, so the phase is kept
};
static_assert(std::has_unique_object_representations_v<Sc14441SysregsState>);

/// Section "sc14441-sysregs", version 1.
const StateDescription& sc14441_sysregs_state_description();

class Sc14441Sysregs : public Sc14441HalfwordBlock, public Stateful {
 public:
  explicit Sc14441Sysregs(DeviceClock& clock);
  ~Sc14441Sysregs() override;

  /// Adds every window of this object to `window`.
  void map(Sc14441SfrWindow& window);
  /// Called when the watchdog expires or SW_RESET is written (the board
  /// resets the chip).
  void set_reset_handler(std::function<void()> handler);
  /// Reset values: storage 0 (BAT_STATUS 0x0008), nothing frozen, the
  /// watchdog running from 0xFF.
  void reset();

  /// The watchdog counter now.
  uint32_t watchdog_value();
  bool watchdog_frozen() const;
  const Sc14441SysregsState& state() const { return state_; }

  const StateDescription& state_description() const override;
  void* state_data() override { return &state_; }
  /// Re-arms the watchdog deadline.
  void state_loaded() override;

 protected:
  uint16_t read_reg(uint32_t reg, bool side_effects) override;
  void write_reg(uint32_t reg, uint16_t value, uint16_t byte_mask) override;

 private:
  /// The storage halfword behind `reg`, or nullptr.
  uint16_t* storage(uint32_t reg);
  void sync_watchdog();
  void rearm_watchdog();
  void watchdog_deadline();

  DeviceClock& clock_;
  Sc14441SysregsState state_;
  std::function<void()> reset_handler_;
  DeviceClock::TimerHandle deadline_ = 0;
};

}  // namespace cr16
