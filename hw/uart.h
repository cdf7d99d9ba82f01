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

/// Guest-visible UART state. FIFOs are ring buffers packed into words.
struct UartState {
  uint32_t rx_fifo[4] = {};  // 16 bytes
  uint32_t tx_fifo[4] = {};
  uint32_t rx_head = 0, rx_count = 0;
  uint32_t tx_head = 0, tx_count = 0;
  uint32_t status_sticky = 0;  // RX_OVERRUN | TX_OVERRUN
  uint32_t ctrl = 0;
};

class UartDevice : public RegisterDevice, public CharFrontend, public StatefulDevice {
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
  const LegacyStateDescription& state_description() const override;
  void* state_data() override { return &state_; }
  Error post_load() override;

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
  uint8_t fifo_byte(const uint32_t* fifo, uint32_t index) const;
  void set_fifo_byte(uint32_t* fifo, uint32_t index, uint8_t value);

  DeviceClock& clock_;
  CharBackend* backend_;
  IrqLine rx_line_, tx_line_;
  UartState state_;
  DeviceClock::TimerHandle tx_retry_ = 0;
};

}  // namespace cr16
