// The SC14441 QSPI controller (docs/boards/sc14441-registers.md) at
// 0xFF0C00 in manual mode, driving a SpiNorFlash: CTRLBUS strobes CS#
// (EN_CS selects, DIS_CS deselects) and the I/O mode, WRITEDATA clocks out
// 1, 2 or 4 bytes (the access width, low byte first), a READDATA read
// clocks in 2 or 4 bytes (1 for a byte read) into RECVDATA (first byte in
// bits 7:0). Transfers finish at once: STATUS.BUSY is always 0. Dual and
// quad modes are stored and logged as unimplemented; transfers stay single.
// The auto-mode registers are storage.
//
// Also the XIP window at 0x0F0000: reads return the flash contents while
// CTRLMODE.AUTO_MD is set (its reset value), 0 otherwise; writes are guest
// errors.
#pragma once

#include <cstdint>

#include "hw/address_space.h"
#include "hw/device_state.h"
#include "hw/sc14441_sfr.h"

namespace cr16 {

class SpiNorFlash;

struct Sc14441QspiState {
  uint32_t regs[16] = {};  // every register by (offset / 4); storage ones kept as written
  uint32_t io_mode = 0;    // the last SET_SINGLE/DUAL/QUAD strobe: 0 single, 1 dual, 2 quad
};
static_assert(std::has_unique_object_representations_v<Sc14441QspiState>);

/// Section "sc14441-qspi", version 1.
const StateDescription& sc14441_qspi_state_description();

class Sc14441Qspi : public Sc14441SfrBlock, public Stateful {
 public:
  /// `flash` is not owned and must outlive the controller.
  explicit Sc14441Qspi(SpiNorFlash& flash);

  /// Reset values (auto mode, CS# released).
  void reset();
  bool auto_mode() const;

  uint32_t sfr_read(uint32_t address, AccessSize size, bool peek) override;
  void sfr_write(uint32_t address, AccessSize size, uint32_t value) override;

  /// The XIP window's device (map it at 0x0F0000, size xip_size()).
  MmioDevice& xip() { return xip_; }
  /// min(flash size, 0xFEF000 - 0x0F0000).
  uint32_t xip_size() const;

  const Sc14441QspiState& state() const { return state_; }
  const StateDescription& state_description() const override;
  void* state_data() override { return &state_; }

 private:
  class Xip : public MmioDevice {
   public:
    explicit Xip(Sc14441Qspi& qspi) : qspi_(qspi) {}
    uint32_t read(uint32_t offset, AccessSize size) override;
    void write(uint32_t offset, AccessSize size, uint32_t value) override;
    bool peek(uint32_t offset, AccessSize size, uint32_t* value) override;

   private:
    uint32_t contents(uint32_t offset, AccessSize size) const;
    Sc14441Qspi& qspi_;
  };

  void strobe(uint32_t bits);

  SpiNorFlash& flash_;
  Sc14441QspiState state_;
  Xip xip_{*this};
};

}  // namespace cr16
