// The `sc14441` board: a Dialog SC14441 DECT SoC as far as its UART boot
// ROM and a UART loader need it (docs/boards/sc14441-registers.md,
// docs/boards/sc14441-registers.md). One CR16C core; RAM at 0x000000 (16
// KiB), 0x009000 (4 KiB) and 0x010000 (32 KiB); the 2 KiB mask boot ROM at
// 0xFEF000 (-bios, or the default firmware; the CPU resets there); an SPI
// NOR flash behind the QSPI controller (-drive if=mtd) with its XIP window
// at 0x0F0000; the SFR window 0xFF0000-0xFFFFFF with the ICU, two UARTs,
// DMA, QSPI controller, watchdog, software reset and storage registers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hw/board.h"

namespace cr16 {

class Sc14441Icu;
class Sc14441Uart;
class Sc14441Dma;
class Sc14441Qspi;
class Sc14441Sysregs;
class SpiNorFlash;

/// The registry entry of the sc14441 board.
const BoardType& sc14441_board_type();

/// One SC14441 machine. Machine thread only.
class Sc14441Board final : public Board {
 public:
  /// Builds the machine. The SPI flash comes from config.mtd_path (size
  /// from the file, 1..16 MiB; never written with mtd_overlay) or is an
  /// erased 2 MiB flash in memory. Errors name the bad setting or file.
  static Expected<std::unique_ptr<Sc14441Board>> create(const BoardConfig& config,
                                                        DeviceClock& clock);
  ~Sc14441Board() override;

  const BoardType& type() const override;
  AddressSpace& memory() override;
  Cpu& cpu() override;
  uint32_t ram_bytes() const override;
  void set_reset_pc(uint32_t pc) override;
  uint32_t reset_pc() const override;
  /// Chip reset: every device to its reset state, the CPU at reset_pc().
  /// RAM, ROM and flash contents are kept.
  void reset() override;
  StopReason run_slice(uint64_t budget) override;
  /// The SC14441 has no power button: ignored.
  void request_powerdown() override {}
  void set_poweroff_handler(std::function<void(int exit_code)> handler) override;
  /// Called after the slice in which the guest wrote DEBUG_REG.SW_RESET or
  /// the watchdog expired. Without a handler the board resets itself.
  void set_reset_request_handler(std::function<void()> handler) override;
  void set_panic_handler(std::function<void(const std::string& why)> handler) override;
  std::vector<BoardDevice> devices() const override;
  /// cpu.0, sc14441-icu.0, sc14441-uart.0, sc14441-uart.1, sc14441-dma.0,
  /// sc14441-qspi.0, sc14441-sysregs.0, spi-nor.0, spi-nor-contents.0.
  std::vector<StateSection> state_sections() override;

  Sc14441Icu& icu();
  /// UART (0) or UART2 (1); other indexes are a programming error.
  Sc14441Uart& uart(unsigned index);
  Sc14441Dma& dma();
  Sc14441Qspi& qspi();
  Sc14441Sysregs& sysregs();
  SpiNorFlash& flash();

 private:
  struct Parts;
  Sc14441Board();
  std::unique_ptr<Parts> parts_;
};

}  // namespace cr16
