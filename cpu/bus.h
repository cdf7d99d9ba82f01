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
/// write_page[p] null for ROM, MMIO, pages watched as code, and clean pages
/// while the dirty log is active, so that such writes reach the slow path,
/// which records them and restores the pointer where appropriate.
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

  /// The CPU calls this when it predecodes instructions from a page; from then
  /// on writes to that page must go through write_slow and be reported to the
  /// listener (once: the watch ends when reported, until watched again).
  virtual void watch_code_page(uint32_t page_index) = 0;

  /// Registers who hears about code-page writes (the CPU). May be nullptr.
  void set_code_write_listener(CodeWriteListener* listener) { code_listener_ = listener; }

  std::array<uint8_t*, kPageCount> read_page{};
  std::array<uint8_t*, kPageCount> write_page{};

 protected:
  CodeWriteListener* code_listener_ = nullptr;
};

}  // namespace cr16
