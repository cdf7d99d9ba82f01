// The virt board keyboard controller (docs/virt.md section 11): a 32-entry
// FIFO of PC scancode set 1 bytes (make codes, break = make | 0x80, 0xE0
// prefixes as separate bytes), a data register that pops, a status register
// and an interrupt line. The host side (ui/, QMP send-key) pushes key
// events with push_scancodes().
#pragma once

#include <cstdint>
#include <span>

#include "hw/device_state.h"
#include "hw/irq.h"
#include "hw/register_device.h"

namespace cr16 {

/// Guest-visible keyboard state. The FIFO is a ring of virt::kKbdFifoSize
/// bytes: `count` bytes from index `head` (wrapping).
struct KeyboardState {
  uint8_t fifo[32] = {};
  uint32_t head = 0;
  uint32_t count = 0;
  uint32_t status_sticky = 0;  // OVERFLOW
  uint32_t ctrl = 0;           // IE
};
static_assert(std::has_unique_object_representations_v<KeyboardState>);

/// Section "keyboard", version 1.
const StateDescription& keyboard_state_description();

class KeyboardDevice : public RegisterDevice, public Stateful {
 public:
  /// `line` is the interrupt line (source 10): IE and FIFO not empty.
  explicit KeyboardDevice(IrqLine line);

  /// Empties the FIFO, clears CTRL and status.
  void reset();

  /// Host API (machine thread): appends the bytes of one key event (for
  /// example {0xE0, 0x48} for cursor up) to the FIFO. All or nothing: when
  /// they do not all fit, none is queued, STATUS.OVERFLOW is set and false
  /// is returned (so the guest never sees half of a sequence).
  bool push_scancodes(std::span<const uint8_t> codes);
  /// Bytes waiting in the FIFO.
  uint32_t level() const { return state_.count; }

  const KeyboardState& state() const { return state_; }
  const StateDescription& state_description() const override;
  void* state_data() override { return &state_; }
  /// Drives the line from the loaded state.
  void state_loaded() override;

 protected:
  uint32_t read_register(uint32_t reg, bool side_effects) override;
  void write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) override;

 private:
  uint32_t status() const;
  void update_line();

  IrqLine line_;
  KeyboardState state_;
};

}  // namespace cr16
