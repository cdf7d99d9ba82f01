// The SC14441 DMA controller (docs/boards/sc14441-registers.md): four
// channels at 0xFF4400 + 0x10 * n moving bytes, halfwords or words from A
// to B through the board's address space (so RAM writes are seen by the
// dirty log and the code cache like CPU stores).
//
// Setting DMA_ON starts a channel with IDX = 0 and its pointers at the start
// addresses. Without DREQ_MODE it runs to completion at once (memory to
// memory). With DREQ_MODE one unit moves per peripheral request: channel 2
// while the UART's holding register is full (RI), channel 3 while the UART
// transmitter is enabled (TX is instantaneous, so it never backs up);
// channels 0/1 (SPI) are not modelled. IDX counts units; at LEN the channel
// wraps (CIRCULAR: IDX 0, pointers back to the start) or stops (DMA_ON
// cleared). With DINT_MODE the channel raises its peripheral's source
// (UART_RI for 2, UART_TI for 3) when IDX reaches INT_REG, and the UART
// raises none per byte. Service is synchronous.
#pragma once

#include <cstdint>
#include <functional>

#include "hw/address_space.h"
#include "hw/device_state.h"
#include "hw/sc14441_map.h"
#include "hw/sc14441_sfr.h"

namespace cr16 {

class Sc14441Icu;
class Sc14441Uart;

struct Sc14441DmaChannelState {
  uint32_t a_start = 0;  // 24 bits: A_STARTH:A_STARTL
  uint32_t b_start = 0;
  uint32_t int_reg = 0;
  uint32_t len = 0;
  uint32_t ctrl = 0;
  uint32_t idx = 0;
  uint32_t a_pointer = 0;  // the next unit's addresses while running
  uint32_t b_pointer = 0;
};
static_assert(std::has_unique_object_representations_v<Sc14441DmaChannelState>);

struct Sc14441DmaState {
  Sc14441DmaChannelState channel[sc14441::kDmaChannels];
};
static_assert(std::has_unique_object_representations_v<Sc14441DmaState>);

/// Section "sc14441-dma", version 1.
const StateDescription& sc14441_dma_state_description();

class Sc14441Dma : public Sc14441HalfwordBlock, public Stateful {
 public:
  /// `uart` is the peripheral of channels 2 and 3; `icu` gets DINT_MODE
  /// requests. None owned.
  Sc14441Dma(AddressSpace& memory, Sc14441Uart& uart, Sc14441Icu& icu);

  /// Every channel stopped, registers 0.
  void reset();
  /// The UART's hooks: DINT_MODE of channel 2 (rx) or 3 (tx).
  bool uart_rerouted(bool rx) const;
  /// A UART request: serve channel 2 (RX) or 3 (TX) while it is on in DREQ
  /// mode and the request stands.
  void uart_rx_request();
  void uart_tx_request();

  /// Called after a transfer that moved many units in one go (a memory-to-
  /// memory channel runs to completion inside the guest's register write):
  /// the board ends the CPU slice there, so a guest restarting long
  /// transfers in a loop cannot keep the machine from its io and signals.
  void set_long_transfer_handler(std::function<void()> handler) {
    long_transfer_ = std::move(handler);
  }
  /// Units a transfer may move before the long-transfer handler is called.
  static constexpr uint32_t kLongTransferUnits = 256;

  const Sc14441DmaState& state() const { return state_; }
  const StateDescription& state_description() const override;
  void* state_data() override { return &state_; }

 protected:
  uint16_t read_reg(uint32_t reg, bool side_effects) override;
  void write_reg(uint32_t reg, uint16_t value, uint16_t byte_mask) override;

 private:
  void start(unsigned index);
  /// Moves units while the channel is on and its request stands.
  void service(unsigned index);
  bool request_stands(unsigned index) const;
  /// Moves one unit; false when the channel stopped.
  bool move_unit(unsigned index);

  AddressSpace& memory_;
  Sc14441Uart& uart_;
  Sc14441Icu& icu_;
  Sc14441DmaState state_;
  bool running_[sc14441::kDmaChannels] = {};  // service() in progress (not state)
  std::function<void()> long_transfer_;
};

}  // namespace cr16
