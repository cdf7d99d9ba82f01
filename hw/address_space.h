// The 24-bit guest address space of a board: a page table (4 KiB pages) of
// RAM, ROM and MMIO regions that implements the CPU's Bus, plus the dirty log
// (migration, display), code-page tracking (the CPU's predecode cache) and the
// loader/DMA API used by system/ and migration/. See hw/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cpu/bus.h"
#include "util/error.h"

namespace cr16 {

/// A device's register window. Offsets are relative to the region base;
/// values are little-endian and only the low `size` bytes are meaningful.
/// Called on the machine thread only; guest input must never assert.
class MmioDevice {
 public:
  virtual ~MmioDevice() = default;
  /// Reads a register. `size` is one of the widths the region accepts.
  virtual uint32_t read(uint32_t offset, AccessSize size) = 0;
  /// Writes a register. `size` is one of the widths the region accepts.
  virtual void write(uint32_t offset, AccessSize size, uint32_t value) = 0;
  /// Reads a register for a debugger without any guest-visible effect (no
  /// FIFO pop, no acknowledge, no latch, no interrupt line change, no
  /// guest_errors log). Returns false when the device cannot do that; the
  /// default, so a device must opt in.
  virtual bool peek(uint32_t offset, AccessSize size, uint32_t* value) { return false; }
};

/// Bit mask of AccessSize values (1 << 0 byte, 1 << 1 word, 1 << 2 dword).
enum AccessSizeMask : uint8_t {
  kAllowByte = 1,
  kAllowWord = 2,
  kAllowDword = 4,
  kAllowAll = 7,
};

/// How an MMIO region treats access widths it does not accept:
/// a dword access to a region that accepts words becomes two word accesses
/// (low half at the lower address first); any other unaccepted width is
/// logged under guest_errors, reads return 0 and writes are dropped.
struct MmioAccessRules {
  uint8_t allowed = kAllowAll;
};

/// What kind of thing answers at a region.
enum class RegionKind : uint8_t {
  kRam,        // read/write host memory, fast path both ways
  kRom,        // read-only host memory; guest writes are dropped (guest_errors)
  kRomDevice,  // host memory read on the fast path; guest writes go to a device (flash)
  kMmio,       // every access goes to a device
};

/// Which user of the dirty log is asking; each has its own bitmap.
/// kSnapshot: pages changed since the last savevm/loadvm, whose stored
/// digests the snapshot service can then no longer reuse.
enum class DirtyLogClient : uint8_t { kMigration = 0, kDisplay = 1, kSnapshot = 2 };
inline constexpr unsigned kDirtyLogClientCount = 3;

/// A mapped region as seen by enumerating users (migration, monitors).
struct RegionInfo {
  std::string name;
  RegionKind kind;
  uint32_t base;
  uint32_t size;
  int priority;
  uint8_t* host = nullptr;  // backing memory (RAM/ROM/ROM device), else nullptr
};

/// How write_bytes treats read-only memory.
enum class LoaderWrite : uint8_t {
  kAsGuest,    // ROM and ROM-device pages refuse the write (error)
  kBypassRom,  // loaders and flash models may fill ROM
};

/// The board's memory map. Owns the host memory of RAM/ROM regions
/// (page-aligned anonymous mmap, so migration can send pages zero-copy);
/// MMIO devices are owned by the board and must outlive their mapping.
///
/// Overlap: a region with a higher priority hides lower ones where they
/// overlap; overlapping regions of equal priority are refused when mapped.
/// RAM/ROM regions must be page-aligned; MMIO regions may be any size and
/// share pages with other MMIO regions.
///
/// Machine thread only (the migration sender may read RAM host memory from
/// another thread under the dirty log; it never calls these methods).
class AddressSpace : public Bus {
 public:
  AddressSpace();
  ~AddressSpace() override;
  AddressSpace(const AddressSpace&) = delete;
  AddressSpace& operator=(const AddressSpace&) = delete;

  /// Maps zero-filled RAM at [base, base+size). Returns its host memory,
  /// owned by the address space. Errors: misaligned, outside 24 bits,
  /// equal-priority overlap, or the allocation failed.
  Expected<uint8_t*> add_ram(const std::string& name, uint32_t base, uint32_t size,
                             int priority = 0);
  /// Maps ROM filled with 0xFF (erased flash) that the guest can read and not
  /// write. Fill it with write_bytes(..., LoaderWrite::kBypassRom) or through
  /// the returned host pointer followed by note_host_write().
  Expected<uint8_t*> add_rom(const std::string& name, uint32_t base, uint32_t size,
                             int priority = 0);
  /// Like add_rom, but guest writes go to `write_handler` (offset relative to
  /// base) instead of being dropped. Used by the flash model.
  Expected<uint8_t*> add_rom_device(const std::string& name, uint32_t base, uint32_t size,
                                    MmioDevice* write_handler, int priority = 0);
  /// Maps a device register window at [base, base+size).
  Error add_mmio(const std::string& name, uint32_t base, uint32_t size, MmioDevice* device,
                 MmioAccessRules rules = {}, int priority = 0);

  /// All regions in mapping order.
  std::vector<RegionInfo> regions() const;

  // --- Bus ---------------------------------------------------------------
  BusStatus read_slow(uint32_t address, AccessSize size, uint32_t* value) override;
  BusStatus write_slow(uint32_t address, AccessSize size, uint32_t value) override;
  /// RAM/ROM directly, MMIO through MmioDevice::peek; kBusError for
  /// unmapped space and devices that cannot peek.
  BusStatus peek(uint32_t address, AccessSize size, uint32_t* value) override;
  /// True when every byte of the range is RAM (the visible region).
  bool is_ram(uint32_t address, uint32_t length) const override;
  void watch_code_page(uint32_t page_index) override;
  /// True while `page_index` is watched as code (not yet written since).
  bool code_page_watched(uint32_t page_index) const;

  // --- Loader / DMA API --------------------------------------------------
  /// Copies `data` into RAM/ROM at `address` (no MMIO). Marks the pages dirty
  /// and reports watched code pages to the listener. ROM needs kBypassRom.
  /// On error nothing is written and the error names the first bad address.
  Error write_bytes(uint32_t address, std::span<const uint8_t> data,
                    LoaderWrite mode = LoaderWrite::kAsGuest);
  /// Copies RAM/ROM at `address` into `out` (no MMIO, no side effects).
  Error read_bytes(uint32_t address, std::span<uint8_t> out) const;
  /// True when every byte of [address, address+length) is RAM or ROM
  /// (the visible, highest-priority region). Length 0 is true.
  bool range_is_memory(uint32_t address, uint32_t length) const;
  /// Host pointer to [address, address+length) when the whole range lies in
  /// one RAM region (contiguous host memory), else nullptr. A caller that
  /// writes through it must call note_host_write() afterwards.
  uint8_t* host_pointer(uint32_t address, uint32_t length);
  /// Records that host code changed guest memory directly: marks the pages
  /// dirty and reports watched code pages to the listener.
  void note_host_write(uint32_t address, uint32_t length);

  // --- Dirty log ---------------------------------------------------------
  /// Starts logging for `client` with every page clean. While any client
  /// logs, clean RAM pages have no fast write pointer, so the first write to
  /// a page takes the slow path once, is recorded, and restores the pointer.
  void start_dirty_log(DirtyLogClient client);
  /// Stops logging for `client` and forgets its bitmap.
  void stop_dirty_log(DirtyLogClient client);
  bool dirty_log_active(DirtyLogClient client) const;
  /// Returns the pages written since the last sync (bit p of word p/64 set
  /// = page p dirty, kPageCount bits) and clears them, re-arming tracking.
  std::vector<uint64_t> sync_dirty_log(DirtyLogClient client);
  /// True when page `page_index` is dirty for `client` (no clearing).
  bool page_dirty(DirtyLogClient client, uint32_t page_index) const;

 private:
  struct Region;
  struct Page;

  Expected<uint8_t*> add_memory_region(const std::string& name, RegionKind kind, uint32_t base,
                                       uint32_t size, MmioDevice* device, int priority);
  Error check_new_region(const std::string& name, uint32_t base, uint32_t size, int priority) const;
  void rebuild_page(uint32_t page_index);
  /// Recomputes the pages overlapping [base, base+size) after a mapping change.
  void rebuild_pages(uint32_t base, uint32_t size);
  void refresh_write_pointer(uint32_t page_index);
  const Region* region_at(uint32_t address) const;
  /// True when every byte of [address, address+length) lies in a region
  /// (the visible one) that passes `test`; length 0 is true.
  template <typename Test>
  bool range_all(uint32_t address, uint32_t length, Test&& test) const;
  /// True when the BYTES at ADDRESS all lie in REGION (the one at ADDRESS,
  /// maybe null) and in one page, so one access can serve them.
  bool within_one_region(const Region* region, uint32_t address, unsigned bytes) const;
  BusStatus mmio_read(const Region& region, uint32_t address, AccessSize size, uint32_t* value);
  BusStatus mmio_write(const Region& region, uint32_t address, AccessSize size, uint32_t value);
  BusStatus mmio_peek(const Region& region, uint32_t offset, AccessSize size, uint32_t* value);
  /// Bus: the page's debugger watch bits changed.
  void refresh_fast_path(uint32_t page_index) override { rebuild_page(page_index); }
  void page_written(uint32_t page_index);
  bool any_dirty_logging() const;

  std::vector<std::unique_ptr<Region>> regions_;
  std::vector<Page> pages_;
  std::vector<uint64_t> code_watch_;  // bitmap over pages
  std::vector<uint64_t> dirty_[kDirtyLogClientCount];
  bool dirty_active_[kDirtyLogClientCount] = {};
};

}  // namespace cr16
