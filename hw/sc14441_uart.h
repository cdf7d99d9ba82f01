// The SC14441 UART (docs/boards/sc14441-registers.md) at 0xFF4900, and
// UART2 at 0xFF4910 with the same model. TX is instantaneous: a byte
// written to RX_TX goes to the backend at once and sets TI. RX is never
// paced at the baud rate: host input waits in a 4 KiB buffer the guest
// cannot see, and moves into the one-byte holding register (RI) whenever
// that is empty and REN is set. The baud-rate field is stored only.
//
// Interrupts: each byte entering the holding register is an RI request
// edge to the ICU, each transmitted byte a TI request edge, unless the
// DMA channel serving that direction has DINT_MODE set (then the channel
// raises the source itself). CLEAR_RX_INT / CLEAR_TX_INT acknowledge the
// request (the ICU's pending bit); CLEAR_TX_INT also clears TI, while RI
// keeps showing "holding register full" until the byte is read.
#pragma once

#include <cstdint>
#include <functional>

#include "hw/chardev.h"
#include "hw/device_state.h"
#include "hw/sc14441_map.h"
#include "hw/sc14441_sfr.h"

namespace cr16 {

class Sc14441Icu;

struct Sc14441UartState {
  uint8_t input[sc14441::kUartInputBufferSize] = {};  // host bytes not yet in the holding register
  uint32_t input_head = 0;
  uint32_t input_count = 0;
  uint32_t ctrl = 0;          // the writable CTRL bits
  uint32_t ti = 0;            // TI status
  uint32_t holding = 0;       // the received byte (RX_TX read)
  uint32_t holding_full = 0;  // RI status
  uint32_t error = 0;         // UART_ERROR_REG (storage)
};
static_assert(std::has_unique_object_representations_v<Sc14441UartState>);

/// Section "sc14441-uart" (one per UART), version 1.
const StateDescription& sc14441_uart_state_description();

class Sc14441Uart : public Sc14441HalfwordBlock, public CharFrontend, public Stateful {
 public:
  /// `name` for logs ("uart", "uart2"); `base` 0xFF4900 or 0xFF4910;
  /// `backend` may be nullptr (output dropped, no input). `icu` gets the RI
  /// and TI requests as sources `rx_source` and `tx_source`.
  Sc14441Uart(const char* name, uint32_t base, CharBackend* backend, Sc14441Icu* icu,
              unsigned rx_source, unsigned tx_source);
  ~Sc14441Uart() override;

  /// The DMA's hooks: `rerouted(rx)` is true while the channel of that
  /// direction has DINT_MODE (no per-byte requests to the ICU); `rx_ready`
  /// is called when the holding register fills, `tx_ready` when a byte was
  /// sent or TEN was set.
  void set_dma_hooks(std::function<bool(bool rx)> rerouted, std::function<void()> rx_ready,
                     std::function<void()> tx_ready);

  /// Reset values; buffered host input is kept (it is still on the wire).
  void reset();

  /// RI: a byte waits in the holding register.
  bool rx_full() const { return state_.holding_full != 0; }
  /// The transmitter takes a byte now (TEN set; TX never backs up).
  bool tx_ready() const { return (state_.ctrl & sc14441::kUartTen) != 0; }
  const Sc14441UartState& state() const { return state_; }

  // CharFrontend
  size_t can_receive() override;
  void receive(std::span<const uint8_t> bytes) override;

  const StateDescription& state_description() const override;
  void* state_data() override { return &state_; }
  void state_loaded() override;

 protected:
  uint16_t read_reg(uint32_t reg, bool side_effects) override;
  void write_reg(uint32_t reg, uint16_t value, uint16_t byte_mask) override;

 private:
  /// Moves the next buffered byte into an empty holding register (REN set).
  void fill();
  void transmit(uint8_t byte);

  const char* name_;
  uint32_t base_;
  CharBackend* backend_;
  Sc14441Icu* icu_;
  unsigned rx_source_, tx_source_;
  std::function<bool(bool)> rerouted_;
  std::function<void()> rx_ready_, tx_ready_;
  Sc14441UartState state_;
  bool in_receive_ = false;  // inside receive() (not state)
};

}  // namespace cr16
