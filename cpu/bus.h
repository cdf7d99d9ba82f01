// The CPU's view of the outside world. Boards (hw/) and unit tests implement
// Bus; the CPU never knows what sits behind an address.
#pragma once

#include <array>
#include <cstdint>

namespace cr16 {

/// The CR16C address space is 24 bits (16 MiB).
inline constexpr uint32_t kAddressSpaceSize = 1u << 24;
inline constexpr uint32_t kAddressMask = kAddressSpaceSize - 1;
/// The page granule of the fast-path table, the dirty log and code tracking.
inline constexpr unsigned kPageBits = 12;
inline constexpr uint32_t kPageSize = 1u << kPageBits;
inline constexpr uint32_t kPageCount = kAddressSpaceSize >> kPageBits;

/// Outcome of a slow-path access.
enum class BusStatus : uint8_t {
  kOk,
  kBusError,  // nothing answered, or the device refused: CR16C+ AHB error response
};

/// Access width in bytes: 1, 2 or 4. Values are little-endian.
enum class AccessSize : uint8_t { kByte = 1, kWord = 2, kDword = 4 };

/// Debugger bits of one page (Bus::set_page_watch): while set, every CPU read
/// (write) of the page takes the slow path, so the CPU sees each access and
/// can check it against its watchpoints.
namespace page_watch {
inline constexpr uint8_t kNone = 0;
inline constexpr uint8_t kRead = 1u << 0;   // force reads to the slow path
inline constexpr uint8_t kWrite = 1u << 1;  // force writes to the slow path
}  // namespace page_watch

/// Notified when a page that holds predecoded code is written, so the CPU can
/// drop its predecoded blocks for that page (self-modifying code, loaders).
class CodeWriteListener {
 public:
  virtual ~CodeWriteListener() = default;
  /// Called on the machine thread after the write has happened.
  virtual void code_page_written(uint32_t page_index) = 0;
};

/// The memory bus seen by the CPU.
///
/// Fast path: `read_page[p]` / `write_page[p]` point at the host bytes of
/// guest page p (address p << kPageBits) when plain RAM/ROM can be accessed
/// directly; nullptr means "use read_slow/write_slow". A board keeps
/// write_page[p] null for ROM, MMIO, pages watched as code, clean pages
/// while the dirty log is active, and pages whose debugger bit says so
/// (page_watch::kWrite), so that such writes reach the slow path, which
/// records them and restores the pointer where appropriate; read_page[p] is
/// null for MMIO, unmapped space and pages with page_watch::kRead.
///
/// All members are used from the machine thread only.
class Bus {
 public:
  virtual ~Bus() = default;

  /// Reads `size` bytes at `address` (already masked to 24 bits) through the
  /// slow path: MMIO, unmapped space, or a page without a fast pointer.
  virtual BusStatus read_slow(uint32_t address, AccessSize size, uint32_t* value) = 0;
  /// Writes through the slow path (see read_slow). Must notify the code-write
  /// listener when the page is watched as code.
  virtual BusStatus write_slow(uint32_t address, AccessSize size, uint32_t value) = 0;

  /// Reads `size` bytes at `address` (24 bits) for a debugger, without any
  /// side effect: RAM and ROM directly, device registers through the
  /// device's own side-effect-free read (a UART's data register does not
  /// pop its FIFO, an interrupt controller does not acknowledge). Nothing is
  /// marked dirty, no listener is told, no guest error is logged. kBusError
  /// when nothing answers or the device cannot be read without side effects.
  virtual BusStatus peek(uint32_t address, AccessSize size, uint32_t* value) = 0;

  /// True when every byte of [address, address + length) is plain RAM that a
  /// write changes (not ROM, not a device window, not unmapped). The CPU asks
  /// before pushing an exception frame: a frame that would land anywhere
  /// else is a guest panic. Length 0 is true.
  virtual bool is_ram(uint32_t address, uint32_t length) const = 0;

  /// The CPU calls this when it predecodes instructions from a page; from then
  /// on writes to that page must go through write_slow and be reported to the
  /// listener (once: the watch ends when reported, until watched again).
  virtual void watch_code_page(uint32_t page_index) = 0;

  /// Registers who hears about code-page writes (the CPU). May be nullptr.
  void set_code_write_listener(CodeWriteListener* listener) { code_listener_ = listener; }

  /// Sets the debugger bits (page_watch::k*) of one page and recomputes its
  /// fast pointers, so that from now on the accesses the bits name reach
  /// read_slow/write_slow. Used by the CPU for watchpoints.
  void set_page_watch(uint32_t page_index, uint8_t bits) {
    if (page_index >= kPageCount) return;
    page_watch_[page_index] = bits;
    refresh_fast_path(page_index);
  }
  /// The debugger bits of a page.
  uint8_t page_watch(uint32_t page_index) const {
    return page_index < kPageCount ? page_watch_[page_index] : page_watch::kNone;
  }

  std::array<uint8_t*, kPageCount> read_page{};
  std::array<uint8_t*, kPageCount> write_page{};

 protected:
  /// Recomputes read_page[p] and write_page[p] after the page's debugger
  /// bits changed; must leave read_page[p] null while page_watch::kRead is
  /// set and write_page[p] null while page_watch::kWrite is set.
  virtual void refresh_fast_path(uint32_t page_index) = 0;

  CodeWriteListener* code_listener_ = nullptr;
  std::array<uint8_t, kPageCount> page_watch_{};
};

}  // namespace cr16
