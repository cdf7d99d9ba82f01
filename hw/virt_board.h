// The `virt` board: RAM from 0, the 1 MiB flash at 0xE00000, the devices from
// 0xFF0000 (sysctl, two UARTs, timer, RTC, watchdog, flash control) and the
// ICU at 0xFFFC00, wired to one CR16C/C+ core. Register map: docs/virt.md.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cpu/cpu.h"
#include "hw/address_space.h"
#include "hw/chardev.h"
#include "hw/device_clock.h"
#include "hw/device_state.h"
#include "util/error.h"

namespace cr16 {

class IcuDevice;
class UartDevice;
class TimerDevice;
class RtcDevice;
class SysctlDevice;
class WatchdogDevice;
class FlashDevice;

/// What the board is built from (the CLI fills it in).
struct VirtConfig {
  uint32_t ram_bytes = 2u << 20;  // -m; a multiple of 4 KiB, at most 14 MiB
  CpuModel cpu_model = CpuModel::kCr16cPlus;
  std::vector<uint8_t> bios_image;  // flash contents from -bios (raw, at 0xE00000); may be empty
  std::string pflash_path;  // persistent flash file (-pflash); empty = flash lives in memory only
  bool pflash_create = false;            // create a missing pflash file (erased) instead of failing
  std::array<CharBackend*, 2> serial{};  // UART0/UART1 backends (not owned); nullptr = unconnected
};

/// One virt machine. Machine thread only.
class VirtBoard {
 public:
  /// Builds the machine. With a pflash file, the flash contents come from the
  /// file (exactly 1 MiB; created erased only with pflash_create) and -bios,
  /// if given, is written over its start (and so persists). Errors name the
  /// bad setting or file.
  static Expected<std::unique_ptr<VirtBoard>> create(const VirtConfig& config, DeviceClock& clock);
  ~VirtBoard();

  /// The guest address space (loaders, semihosting, migration).
  AddressSpace& memory();
  /// The CPU core.
  Cpu& cpu();

  /// System reset: every device to its reset state, then the CPU with PC =
  /// reset_pc. RAM and flash contents are kept.
  void reset(uint32_t reset_pc);
  /// The flash base address, 0xE00000 (the reset PC when booting firmware).
  uint32_t flash_base() const;
  /// RAM size in bytes.
  uint32_t ram_bytes() const;

  /// Called when the guest writes sysctl power-off; the argument is the exit code.
  void set_poweroff_handler(std::function<void(int exit_code)> handler);
  /// Called when the guest asks for a reset (sysctl) or the watchdog expires.
  /// The handler decides (reset via reset(), or exit with -no-reboot). It is
  /// called from inside run_slice/device callbacks: the CPU is asked to stop
  /// its current slice first.
  void set_reset_request_handler(std::function<void()> handler);

  /// Runs the CPU for at most `budget` instructions; returns early when the
  /// CPU halts (wait/eiwait), or a device asks to stop (power-off, reset).
  /// The caller bounds `budget` by the next virtual-clock deadline.
  StopReason run_slice(uint64_t budget);

  /// Every device with migratable state, in a fixed order (for migration,
  /// snapshots and monitor dumps).
  std::vector<StatefulDevice*> stateful_devices();

  IcuDevice& icu();
  UartDevice& uart(unsigned index);  // 0 or 1
  TimerDevice& timer();
  RtcDevice& rtc();
  SysctlDevice& sysctl();
  WatchdogDevice& watchdog();
  FlashDevice& flash();

 private:
  struct Parts;
  VirtBoard();
  /// Routes a reset request (sysctl, watchdog) to the handler, deferring it
  /// to the end of the slice when the CPU is running.
  void request_reset();
  std::unique_ptr<Parts> parts_;
};

}  // namespace cr16
