// A virt board UART (docs/virt.md section 5): 16-byte RX and TX FIFOs, RX/TX
// interrupt lines, backed by a character device. Input is taken only while
// the RX FIFO has room (no loss); output goes to the backend as soon as it
// accepts it, and what it refuses stays in the TX FIFO and is retried.
#pragma once

#include <cstdint>

#include "hw/chardev.h"
#include "hw/device_clock.h"
#include "hw/device_state.h"
#include "hw/irq.h"
#include "hw/register_device.h"

namespace cr16 {

/// Guest-visible UART state. The FIFOs are rings of virt::kUartFifoSize
/// bytes: `count` bytes from index `head` (wrapping).
struct UartState {
  uint8_t rx_fifo[16] = {};
  uint8_t tx_fifo[16] = {};
  uint32_t rx_head = 0, rx_count = 0;
  uint32_t tx_head = 0, tx_count = 0;
  uint32_t status_sticky = 0;  // RX_OVERRUN | TX_OVERRUN
  uint32_t ctrl = 0;
};
static_assert(std::has_unique_object_representations_v<UartState>);

/// Section "uart" (one instance per UART), version 1.
const StateDescription& uart_state_description();

class UartDevice : public RegisterDevice, public CharFrontend, public Stateful {
 public:
  /// `name` names the device in logs and state ("uart0"); `backend` may be
  /// nullptr (output discarded, no input). Lines: RX and TX sources.
  UartDevice(const char* name, DeviceClock& clock, CharBackend* backend, IrqLine rx_line,
             IrqLine tx_line);
  ~UartDevice() override;

  /// Empties the FIFOs, clears CTRL and status; resumes input.
  void reset();

  // CharFrontend
  size_t can_receive() override;
  void receive(std::span<const uint8_t> bytes) override;

  const UartState& state() const { return state_; }
  const StateDescription& state_description() const override;
  void* state_data() override { return &state_; }
  /// Drives the lines, retries pending output later and lets the backend
  /// send input again when the RX FIFO has room.
  void state_loaded() override;

  /// Virtual time between retries when the backend refuses output.
  static constexpr int64_t kTxRetryNs = 100'000;

 protected:
  uint32_t read_register(uint32_t reg, bool side_effects) override;
  void write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) override;

 private:
  uint32_t status() const;
  void update_lines();
  void flush_tx();
  void schedule_tx_retry();

  DeviceClock& clock_;
  CharBackend* backend_;
  IrqLine rx_line_, tx_line_;
  UartState state_;
  DeviceClock::TimerHandle tx_retry_ = 0;
};

}  // namespace cr16
