// Boards behind one interface, and the registry of board types that drives
// `-M help`, `-M NAME[,prop=value...]` and the `-m` limits. system/ knows no
// board facts: flash base and size, RAM limits, serial port count and the
// default CPU all come from here. See docs/machine.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cpu/cpu.h"
#include "hw/address_space.h"
#include "hw/chardev.h"
#include "hw/device_clock.h"
#include "hw/device_state.h"
#include "util/error.h"

namespace cr16 {

class Board;
class DisplayDevice;
class KeyboardDevice;

/// What a board type allows and defaults to.
struct BoardLimits {
  uint32_t ram_min = 0;       // bytes
  uint32_t ram_max = 0;       // bytes
  uint32_t ram_default = 0;   // bytes, used without -m
  uint32_t ram_granule = 0;   // RAM sizes are multiples of this (bytes)
  uint32_t flash_base = 0;    // where -bios images go and firmware boots
  uint32_t flash_size = 0;    // bytes
  unsigned serial_ports = 0;  // one -serial each, in order
  CpuModel default_cpu = CpuModel::kCr16cPlus;
  /// The image loaded at flash_base when neither -bios nor -kernel is given
  /// (a file name searched on the firmware path, roms/).
  const char* default_firmware = nullptr;
  /// The default firmware is the chip's boot ROM: it is loaded even with
  /// -kernel (which then only fills RAM), and -bios replaces it.
  bool firmware_is_boot_rom = false;
  /// >= 0: the board's CPU runs at a fixed rate paced to the host clock by
  /// default (-icount shift=N,align=on: one instruction every 2^N ns of
  /// virtual time, virtual time kept in step with real time), as firmware
  /// that counts loop passes for its timeouts needs. -1: as fast as it can.
  int default_icount_shift = -1;
  /// Whether semihosting (SVC host calls) may be enabled: a board whose
  /// firmware uses `excp svc` for itself has it off even for -semihosting.
  bool semihosting = true;
  /// Whether -drive if=mtd (an SPI NOR flash image) is accepted.
  bool mtd_flash = false;
};

/// A property `-M NAME,prop=value` accepts.
struct BoardProperty {
  const char* name;
  const char* help;  // one line for -M NAME,help
  /// Checks a value at option time; the error names the value. nullptr:
  /// any value.
  Error (*check)(std::string_view value);
};

/// What a board is built from (the command line fills it in).
struct BoardConfig {
  uint32_t ram_bytes = 0;  // 0: the board's default
  CpuModel cpu_model = CpuModel::kCr16cPlus;
  std::vector<uint8_t> bios_image;  // flash contents from -bios, from the flash base; may be empty
  std::string pflash_path;          // persistent flash file (-pflash); empty = flash in memory only
  bool pflash_create = false;       // create a missing pflash file (erased) instead of failing
  bool pflash_overlay = false;      // -snapshot: read the pflash file, never write it
  /// -drive if=mtd,file=PATH: the raw image backing the board's SPI NOR
  /// flash (its size is the flash size). Empty: the board's default (an
  /// erased flash in memory). mtd_overlay (-snapshot): never write it.
  std::string mtd_path;
  bool mtd_overlay = false;
  /// Backends of the serial ports in order (not owned; must outlive the
  /// board). Missing entries and nullptr leave a port unconnected.
  std::vector<CharBackend*> serial;
  /// `-M NAME,prop=value` properties, already checked against the type.
  std::map<std::string, std::string> properties;
};

/// One entry of the registry.
struct BoardType {
  const char* name;         // -M NAME
  const char* description;  // one line for -M help
  bool is_default;          // the board without -M
  BoardLimits limits;
  std::span<const BoardProperty> properties;
  /// Builds a board; `clock` (the machine's virtual clock) must outlive it.
  /// Errors name the bad setting or file.
  Expected<std::unique_ptr<Board>> (*create)(const BoardConfig& config, DeviceClock& clock);
};

/// Every board type, the default one first.
std::span<const BoardType* const> board_types();
/// The type named `name`, or nullptr.
const BoardType* find_board_type(std::string_view name);
/// The type used without -M.
const BoardType& default_board_type();
/// Checks a RAM size against the type's limits; the error is one line with
/// the limits ("RAM size must be a multiple of 4K between 64K and 14M on
/// the virt board").
Error check_ram_size(const BoardType& type, uint64_t bytes);
/// Checks one -M property: known to the type, and a valid value. The error
/// names the property (and lists the known ones).
Error check_board_property(const BoardType& type, std::string_view name, std::string_view value);
/// A size in bytes as -m writes it: "64K", "14M", "1536K", "4097B".
std::string format_size(uint64_t bytes);
/// The `-M help` text: every type, its description, "(default)".
std::string board_help_text();

/// A device of a board, for monitors (info mtree, info qtree).
struct BoardDevice {
  std::string name;  // "uart0"
  std::string type;  // "uart"
  uint32_t base = 0;
  uint32_t size = 0;
};

/// A board: memory, one CPU, devices and their wiring. Machine thread only.
class Board {
 public:
  virtual ~Board() = default;

  /// The registry entry this board was built from (name, limits).
  virtual const BoardType& type() const = 0;
  /// The guest address space (loaders, semihosting, monitors, migration).
  virtual AddressSpace& memory() = 0;
  /// The CPU core.
  virtual Cpu& cpu() = 0;
  /// RAM size in bytes.
  virtual uint32_t ram_bytes() const = 0;
  /// Number of serial ports (the type's limit).
  unsigned serial_port_count() const { return type().limits.serial_ports; }

  /// The PC the CPU starts at after reset() (default: the flash base; the
  /// machine sets the image's entry).
  virtual void set_reset_pc(uint32_t pc) = 0;
  virtual uint32_t reset_pc() const = 0;
  /// System reset: every device to its reset state, then the CPU at
  /// reset_pc(). RAM and flash contents are kept.
  virtual void reset() = 0;

  /// Runs the CPU for at most `budget` instructions; returns early when the
  /// CPU sleeps (wait/eiwait) or a device asks to stop (power-off, reset).
  /// Events raised during the slice are delivered after it returns.
  virtual StopReason run_slice(uint64_t budget) = 0;

  /// Asks the guest to power down (ACPI-style button): the guest decides.
  virtual void request_powerdown() = 0;

  /// Called when the guest powers off; the argument is its exit code.
  virtual void set_poweroff_handler(std::function<void(int exit_code)> handler) = 0;
  /// Called when the guest (or a watchdog) asks for a reset. Without a
  /// handler the board resets itself.
  virtual void set_reset_request_handler(std::function<void()> handler) = 0;
  /// Called when the guest can no longer run (an exception it cannot take);
  /// the argument says why in one line.
  virtual void set_panic_handler(std::function<void(const std::string& why)> handler) = 0;

  /// Every device, for monitors.
  virtual std::vector<BoardDevice> devices() const = 0;
  /// The CPU and every device with state, keyed by (name, instance id) —
  /// cpu.0, icu.0, uart.0, uart.1, ... — in a fixed order (migration,
  /// snapshots, monitor dumps). The objects belong to the board.
  virtual std::vector<StateSection> state_sections() = 0;

  /// The display controller and keyboard the host's user interface
  /// (ui/) shows and feeds; nullptr on a board without them.
  virtual DisplayDevice* display_device() { return nullptr; }
  virtual KeyboardDevice* keyboard_device() { return nullptr; }
};

}  // namespace cr16
