// The `virt` board: RAM from 0, the 1 MiB flash at 0xE00000, the devices from
// 0xFF0000 (sysctl, two UARTs, timer, RTC, watchdog, flash control, keyboard),
// the display controller at 0xFF1000 and the ICU at 0xFFFC00, wired to one CR16C/C+ core. Register
// map: docs/virt.md. It is the registry's default board (hw/board.h).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cpu/cpu.h"
#include "hw/address_space.h"
#include "hw/board.h"
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
class DisplayDevice;
class KeyboardDevice;

/// The virt board is built from the common BoardConfig (two serial ports).
using VirtConfig = BoardConfig;

/// The registry entry of the virt board (limits, properties, create).
const BoardType& virt_board_type();

/// One virt machine. Machine thread only.
class VirtBoard final : public Board {
 public:
  /// Builds the machine. With a pflash file, the flash contents come from the
  /// file (exactly 1 MiB; created erased only with pflash_create) and -bios,
  /// if given, is written over its start (and so persists). Errors name the
  /// bad setting or file. Property: rtc-base=now|SECONDS (the RTC's reading
  /// at power-on, seconds since 1970; default now).
  static Expected<std::unique_ptr<VirtBoard>> create(const BoardConfig& config, DeviceClock& clock);
  ~VirtBoard() override;

  // Board
  const BoardType& type() const override;
  AddressSpace& memory() override;
  Cpu& cpu() override;
  uint32_t ram_bytes() const override;
  void set_reset_pc(uint32_t pc) override;
  uint32_t reset_pc() const override;
  void reset() override;
  /// Runs the CPU for at most `budget` instructions; returns early when the
  /// CPU halts (wait/eiwait), or a device asks to stop (power-off, reset).
  /// The caller bounds `budget` by the next virtual-clock deadline.
  StopReason run_slice(uint64_t budget) override;
  /// Presses the sysctl power button.
  void request_powerdown() override;
  void set_poweroff_handler(std::function<void(int exit_code)> handler) override;
  /// Called when the guest asks for a reset (sysctl) or the watchdog expires.
  /// It is called after the slice in which the request happened.
  void set_reset_request_handler(std::function<void()> handler) override;
  void set_panic_handler(std::function<void(const std::string& why)> handler) override;
  std::vector<BoardDevice> devices() const override;
  /// cpu.0, icu.0, sysctl.0, uart.0, uart.1, timer.0, rtc.0, watchdog.0, flash.0,
  /// display.0, keyboard.0.
  std::vector<StateSection> state_sections() override;

  /// set_reset_pc(reset_pc) and reset().
  void reset(uint32_t reset_pc);
  /// The flash base address, 0xE00000 (the reset PC when booting firmware).
  uint32_t flash_base() const;

  /// Every device with migratable state, in a fixed order (the devices of
  /// state_sections(), without the CPU).
  std::vector<StatefulDevice*> stateful_devices();

  IcuDevice& icu();
  /// UART 0 or 1; any other index is a programming error (asserts).
  UartDevice& uart(unsigned index);
  TimerDevice& timer();
  RtcDevice& rtc();
  SysctlDevice& sysctl();
  WatchdogDevice& watchdog();
  FlashDevice& flash();
  /// The display controller (host API for ui/: mode, pixels, changed rows).
  DisplayDevice& display();
  /// The keyboard controller (host API: push_scancodes).
  KeyboardDevice& keyboard();
  DisplayDevice* display_device() override { return &display(); }
  KeyboardDevice* keyboard_device() override { return &keyboard(); }

 private:
  struct Parts;
  VirtBoard();
  /// Routes a reset request (sysctl, watchdog) to the handler, deferring it
  /// to the end of the slice when the CPU is running.
  std::unique_ptr<Parts> parts_;
};

}  // namespace cr16
