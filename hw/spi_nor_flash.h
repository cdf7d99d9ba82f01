// A JEDEC serial (SPI) NOR flash as a byte-serial device, for boards whose
// flash sits behind a (Q)SPI controller (the SC14441's QSPIC). The
// controller drives it with select()/deselect() (CS#) and transfer() (one
// byte out on MOSI, one byte back on MISO); the flash decodes single-I/O
// commands (docs/boards/sc14441-flash.md lists them). Program and erase
// change the array when CS# is released and then keep WIP set for a
// modelled time of the board's DeviceClock; WIP is worked out from the
// clock when the flash is next touched, so no deadline has to be armed.
//
// The array (1..16 MiB, a power of two) is owned here. With a backing
// image (-drive if=mtd,file=IMG,format=raw) its size comes from the file,
// and changed 4 KiB sectors are written back through hw/flash_backing.h
// (asynchronously, locked, or kept in memory with -snapshot).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hw/device_clock.h"
#include "hw/device_state.h"
#include "hw/flash_backing.h"
#include "util/error.h"

namespace cr16 {

/// Opcodes the flash decodes (single I/O, 24-bit big-endian addresses).
namespace spi_nor {
inline constexpr uint8_t kWriteStatus = 0x01;  // not supported: ignored, logged
inline constexpr uint8_t kPageProgram = 0x02;
inline constexpr uint8_t kRead = 0x03;
inline constexpr uint8_t kWriteDisable = 0x04;
inline constexpr uint8_t kReadStatus = 0x05;
inline constexpr uint8_t kWriteEnable = 0x06;
inline constexpr uint8_t kFastRead = 0x0B;
inline constexpr uint8_t kSectorErase = 0x20;  // 4 KiB
inline constexpr uint8_t kBlockErase32 = 0x52;
inline constexpr uint8_t kReadSfdp = 0x5A;
inline constexpr uint8_t kResetEnable = 0x66;
inline constexpr uint8_t kReset = 0x99;  // only right after RESET ENABLE
inline constexpr uint8_t kChipErase = 0x60;
inline constexpr uint8_t kReadManufacturerDeviceId = 0x90;
inline constexpr uint8_t kJedecId = 0x9F;
inline constexpr uint8_t kReleasePowerDown = 0xAB;  // also reads the electronic signature
inline constexpr uint8_t kPowerDown = 0xB9;
inline constexpr uint8_t kChipEraseAlt = 0xC7;
inline constexpr uint8_t kBlockErase64 = 0xD8;

/// Status register bits (READ STATUS).
inline constexpr uint8_t kStatusWip = 0x01;  // write (program/erase) in progress
inline constexpr uint8_t kStatusWel = 0x02;  // write enable latch

inline constexpr uint32_t kPageSize = 256;
inline constexpr uint32_t kSectorSize = 4096;
inline constexpr uint32_t kMinSize = 1u << 20;
inline constexpr uint32_t kMaxSize = 16u << 20;
/// Where the basic flash parameter table sits in the SFDP space.
inline constexpr uint32_t kSfdpBasicTableOffset = 0x30;
}  // namespace spi_nor

/// How long program and erase keep WIP set, in ns of the device clock.
struct SpiNorTiming {
  int64_t page_program_ns;
  int64_t sector_erase_ns;   // 4 KiB
  int64_t block32_erase_ns;  // 32 KiB
  int64_t block64_erase_ns;  // 64 KiB
  int64_t chip_erase_ns;

  /// The default: done within a few status polls of a loader running at a
  /// few MIPS (docs/boards/sc14441.md asks for that, since loaders
  /// count polls, not time): 20 us program, 50/100/200 us erase, 1 ms chip.
  static constexpr SpiNorTiming quick() { return {20'000, 50'000, 100'000, 200'000, 1'000'000}; }
  /// Typical values of common 16-Mbit serial NOR datasheets: 0.7 ms program,
  /// 45 ms sector, 120 ms and 150 ms block erase, 5 s chip erase.
  static constexpr SpiNorTiming datasheet() {
    return {700'000, 45'000'000, 120'000'000, 150'000'000, 5'000'000'000};
  }
};

/// How the flash identifies itself. The capacity byte of JEDEC ID is
/// always log2(size) (0x14 for 1 MiB), the convention of Winbond's W25Q
/// family, whose codes are the default; the electronic signature (RELEASE
/// POWER DOWN, READ MANUFACTURER/DEVICE ID) is log2(size) - 1 like theirs.
struct SpiNorIdentity {
  uint8_t manufacturer = 0xEF;
  uint8_t memory_type = 0x40;
};

struct SpiNorOptions {
  SpiNorTiming timing = SpiNorTiming::quick();
  SpiNorIdentity identity;
  /// kOverlay (-snapshot): the image is only read, changes stay in memory.
  FlashBackingMode mode = FlashBackingMode::kWriteBack;
};

/// Where the flash is in decoding the bytes of one CS# cycle.
enum class SpiNorStage : uint8_t {
  kOpcode = 0,  // selected, waiting for the opcode (or not selected at all)
  kCommand,     // `opcode` is being decoded: `count` bytes after it so far
  kIgnore,      // the rest of this cycle is ignored (busy, powered down, unknown opcode)
};

/// The transient state: the command in progress, the status register, the
/// end of the program/erase in progress and power-down. The array is not
/// in here (SpiNorFlash::contents_state() describes it).
struct SpiNorState {
  uint8_t page_buffer[256] = {};  // PAGE PROGRAM data of this cycle, by column; 0xFF = untouched
  int64_t busy_until_ns = 0;      // WIP ends at this device-clock time; 0 when idle
  uint32_t address = 0;           // address of the command (24 bits), advanced by reads
  uint32_t count = 0;             // bytes after the opcode in this cycle (saturates)
  uint32_t status = 0;            // kStatusWip | kStatusWel
  uint32_t selected = 0;          // CS# asserted
  uint32_t stage = 0;             // SpiNorStage
  uint32_t opcode = 0;            // valid in kCommand
  uint32_t powered_down = 0;      // after POWER DOWN until RELEASE
  uint32_t reset_enabled = 0;     // the last command was RESET ENABLE
};
static_assert(std::has_unique_object_representations_v<SpiNorState>);

/// The contents of the array as a state object (one StateBuffer).
struct SpiNorContentsState {
  StateBuffer array;
};
static_assert(std::has_unique_object_representations_v<SpiNorContentsState>);

/// Section "spi-nor" (the transient state), version 1.
const StateDescription& spi_nor_state_description();
/// Section "spi-nor-contents" (the array as one buffer), version 1.
const StateDescription& spi_nor_contents_state_description();

class SpiNorFlash : public Stateful {
 public:
  /// Opens the raw image `path` read-write (read-only with kOverlay) and
  /// loads it; the flash takes the file's size. Errors name the file: it
  /// is missing, not a regular file, unreadable, locked by another process,
  /// or its size is not a power of two in 1..16 MiB (the size is named).
  /// Blocks for the open and the read: call before the machine runs.
  static Expected<std::unique_ptr<SpiNorFlash>> open(DeviceClock& clock, const std::string& path,
                                                     const SpiNorOptions& options = {});
  /// A flash of `size` bytes without a file, erased (0xFF): for tests and
  /// boards without -drive if=mtd. Error: size not a power of two in 1..16 MiB.
  static Expected<std::unique_ptr<SpiNorFlash>> create_erased(DeviceClock& clock, uint32_t size,
                                                              const SpiNorOptions& options = {});
  /// Waits for the backing file's queued write-backs (nothing is lost).
  ~SpiNorFlash() override;
  SpiNorFlash(const SpiNorFlash&) = delete;
  SpiNorFlash& operator=(const SpiNorFlash&) = delete;

  // ---- The bus side (the controller calls these; machine thread).

  /// CS# asserted: a new command starts with the next byte. Asserting it
  /// again while selected is ignored.
  void select();
  /// CS# released: a complete WRITE ENABLE/DISABLE, program, erase or
  /// (release) power down takes effect now; an incomplete command is dropped.
  void deselect();
  /// Clocks one byte: `mosi` goes to the flash, the result is what it
  /// drives on MISO meanwhile (0xFF when it drives nothing). Without CS#
  /// the byte is ignored and 0xFF returned.
  uint8_t transfer(uint8_t mosi);
  /// transfer() for each byte of `out`, the MISO bytes into `in` (same size
  /// or empty: discarded).
  void transfer(std::span<const uint8_t> out, std::span<uint8_t> in);

  // ---- Inspection and the host side.

  /// The array's size in bytes (a power of two, 1..16 MiB).
  uint32_t size() const { return static_cast<uint32_t>(array_.size()); }
  /// The array (size() bytes). Changing it behind the flash's back is not
  /// written back; use contents_loaded() after doing so.
  std::span<const uint8_t> contents() const { return array_; }
  /// The status register now (WIP worked out from the clock).
  uint8_t status();
  /// WIP now: a program or erase has not finished yet.
  bool busy() { return (status() & spi_nor::kStatusWip) != 0; }
  /// After POWER DOWN, until RELEASE: only 0xAB is decoded.
  bool powered_down() const { return state_.powered_down != 0; }
  /// CS# is asserted.
  bool selected() const { return state_.selected != 0; }
  /// The transient state (for monitors and tests).
  const SpiNorState& state() const { return state_; }
  /// The SFDP space as the flash answers READ SFDP from address 0 (header,
  /// one parameter header, the 9-DWORD basic table at 0x30).
  std::span<const uint8_t> sfdp() const { return sfdp_; }
  /// JEDEC ID bytes: manufacturer, memory type, capacity (log2 of size).
  uint8_t capacity_code() const { return capacity_code_; }

  /// A loader (loadvm, an incoming migration) replaced [offset,
  /// offset+length) of the array through contents_state() or directly: the
  /// new bytes are the truth and go to the backing file. Offsets are clipped
  /// to the array.
  void contents_loaded(uint32_t offset, uint32_t length);
  /// Waits until every change so far is in the backing file and syncs it.
  /// An error names the file when some sectors could not be written; the
  /// array stays the truth and the writes are retried later. No file: ok.
  /// Blocks: for exit, savevm and tests.
  Error flush();
  /// The backing file, or nullptr.
  FlashBacking* backing() { return backing_.get(); }

  /// Power-on state: deselected, idle, status 0, not powered down (a
  /// program or erase in progress completes at once). Contents kept.
  void reset();

  // ---- State.

  const StateDescription& state_description() const override;
  void* state_data() override { return &state_; }
  /// Nothing derives from the state (WIP is worked out from the clock).
  void state_loaded() override {}

  /// The array as its own state object (section "spi-nor-contents"), for a
  /// board that ships the contents in a section rather than as a RAM block;
  /// after a load the whole array goes to the backing file.
  Stateful& contents_state() { return contents_state_; }

 private:
  class ContentsState : public Stateful {
   public:
    explicit ContentsState(SpiNorFlash& flash) : flash_(flash) {}
    const StateDescription& state_description() const override;
    void* state_data() override { return &state_; }
    void state_loaded() override;
    SpiNorContentsState state_;

   private:
    SpiNorFlash& flash_;
  };

  SpiNorFlash(DeviceClock& clock, uint32_t size, const SpiNorOptions& options);
  /// Ends a finished program/erase: clears WIP and WEL.
  void settle();
  uint8_t command_byte(uint8_t mosi);
  void start_command(uint8_t opcode);
  void finish_command();
  void start_busy(int64_t duration_ns);
  void erase(uint32_t address, uint32_t unit);
  void program_page();
  /// Reports [offset, offset+length) changed to the backing file.
  void changed(uint32_t offset, uint32_t length);
  void build_sfdp();

  DeviceClock& clock_;
  SpiNorOptions options_;
  std::vector<uint8_t> array_;
  std::vector<uint8_t> sfdp_;
  uint8_t capacity_code_ = 0;
  std::unique_ptr<FlashBacking> backing_;
  SpiNorState state_;
  ContentsState contents_state_;
};

}  // namespace cr16
