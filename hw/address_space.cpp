#include "hw/address_space.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/log.h"

namespace cr16 {

struct AddressSpace::Region {
  std::string name;
  RegionKind kind;
  uint32_t base;
  uint32_t size;
  int priority;
  uint8_t* host = nullptr;  // mmap'd, owned
  size_t host_bytes = 0;
  MmioDevice* device = nullptr;
  MmioAccessRules rules;

  bool contains(uint32_t address) const { return address >= base && address - base < size; }
  bool is_memory() const { return host != nullptr; }

  ~Region() {
    if (host != nullptr) munmap(host, host_bytes);
  }
};

// What answers on one guest page: `whole` when one region is visible across
// the entire page, `mixed` when several are (or holes), neither = unmapped.
struct AddressSpace::Page {
  const Region* whole = nullptr;
  bool mixed = false;
};

namespace {

bool test_bit(const std::vector<uint64_t>& bits, uint32_t index) {
  return (bits[index / 64] >> (index % 64)) & 1u;
}
void set_bit(std::vector<uint64_t>& bits, uint32_t index) {
  bits[index / 64] |= uint64_t{1} << (index % 64);
}
void clear_bit(std::vector<uint64_t>& bits, uint32_t index) {
  bits[index / 64] &= ~(uint64_t{1} << (index % 64));
}

constexpr size_t kBitmapWords = kPageCount / 64;

}  // namespace

AddressSpace::AddressSpace() : pages_(kPageCount), code_watch_(kBitmapWords, 0) {
  for (auto& bitmap : dirty_) bitmap.assign(kBitmapWords, 0);
}

AddressSpace::~AddressSpace() = default;

Error AddressSpace::check_new_region(const std::string& name, uint32_t base, uint32_t size,
                                     int priority) const {
  if (size == 0) return Error("region '" + name + "': size is 0");
  if (base >= kAddressSpaceSize || size > kAddressSpaceSize - base) {
    return Error("region '" + name + "' does not fit in the 24-bit address space");
  }
  for (const auto& other : regions_) {
    bool overlaps = base < other->base + other->size && other->base < base + size;
    if (overlaps && other->priority == priority) {
      return Error("region '" + name + "' overlaps '" + other->name + "' at the same priority");
    }
  }
  return Error();
}

Expected<uint8_t*> AddressSpace::add_memory_region(const std::string& name, RegionKind kind,
                                                   uint32_t base, uint32_t size, MmioDevice* device,
                                                   int priority) {
  if (Error error = check_new_region(name, base, size, priority); !error.ok()) return error;
  if ((base | size) & (kPageSize - 1)) {
    return Error("memory region '" + name + "' must be aligned to 4 KiB pages");
  }
  void* memory = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return Error::from_errno("allocating region '" + name + "'", errno);
  auto region = std::make_unique<Region>();
  region->name = name;
  region->kind = kind;
  region->base = base;
  region->size = size;
  region->priority = priority;
  region->host = static_cast<uint8_t*>(memory);
  region->host_bytes = size;
  region->device = device;
  if (kind != RegionKind::kRam) std::memset(region->host, 0xFF, size);
  uint8_t* host = region->host;
  regions_.push_back(std::move(region));
  rebuild_pages(base, size);
  return host;
}

Expected<uint8_t*> AddressSpace::add_ram(const std::string& name, uint32_t base, uint32_t size,
                                         int priority) {
  return add_memory_region(name, RegionKind::kRam, base, size, nullptr, priority);
}

Expected<uint8_t*> AddressSpace::add_rom(const std::string& name, uint32_t base, uint32_t size,
                                         int priority) {
  return add_memory_region(name, RegionKind::kRom, base, size, nullptr, priority);
}

Expected<uint8_t*> AddressSpace::add_rom_device(const std::string& name, uint32_t base,
                                                uint32_t size, MmioDevice* write_handler,
                                                int priority) {
  if (write_handler == nullptr) return Error("ROM device '" + name + "' needs a write handler");
  return add_memory_region(name, RegionKind::kRomDevice, base, size, write_handler, priority);
}

Error AddressSpace::add_mmio(const std::string& name, uint32_t base, uint32_t size,
                             MmioDevice* device, MmioAccessRules rules, int priority) {
  if (device == nullptr) return Error("MMIO region '" + name + "' needs a device");
  if ((rules.allowed & kAllowAll) == 0) return Error("MMIO region '" + name + "' allows no width");
  if (Error error = check_new_region(name, base, size, priority); !error.ok()) return error;
  auto region = std::make_unique<Region>();
  region->name = name;
  region->kind = RegionKind::kMmio;
  region->base = base;
  region->size = size;
  region->priority = priority;
  region->device = device;
  region->rules = rules;
  regions_.push_back(std::move(region));
  rebuild_pages(base, size);
  return Error();
}

std::vector<RegionInfo> AddressSpace::regions() const {
  std::vector<RegionInfo> out;
  for (const auto& region : regions_) {
    out.push_back(RegionInfo{region->name, region->kind, region->base, region->size,
                             region->priority, region->host});
  }
  return out;
}

void AddressSpace::rebuild_pages(uint32_t base, uint32_t size) {
  uint32_t last = (base + size - 1) >> kPageBits;
  for (uint32_t page = base >> kPageBits; page <= last; ++page) rebuild_page(page);
}

void AddressSpace::rebuild_page(uint32_t page_index) {
  uint32_t start = page_index << kPageBits;
  uint32_t end = start + kPageSize;  // exclusive
  const Region* top = nullptr;
  bool any = false;
  for (const auto& region : regions_) {
    if (region->base >= end || region->base + region->size <= start) continue;
    any = true;
    if (top == nullptr || region->priority > top->priority) top = region.get();
  }
  Page& page = pages_[page_index];
  page.whole = nullptr;
  page.mixed = false;
  if (any) {
    if (top->base <= start && top->base + top->size >= end) {
      page.whole = top;
    } else {
      page.mixed = true;
    }
  }
  read_page[page_index] = page.whole != nullptr && page.whole->host != nullptr &&
                                  !(page_watch_[page_index] & page_watch::kRead)
                              ? page.whole->host + (start - page.whole->base)
                              : nullptr;
  refresh_write_pointer(page_index);
}

bool AddressSpace::any_dirty_logging() const {
  for (bool active : dirty_active_) {
    if (active) return true;
  }
  return false;
}

void AddressSpace::refresh_write_pointer(uint32_t page_index) {
  const Page& page = pages_[page_index];
  uint8_t* pointer = nullptr;
  if (page.whole != nullptr && page.whole->kind == RegionKind::kRam &&
      !test_bit(code_watch_, page_index) && !(page_watch_[page_index] & page_watch::kWrite)) {
    bool all_dirty = true;
    for (unsigned client = 0; client < kDirtyLogClientCount; ++client) {
      if (dirty_active_[client] && !test_bit(dirty_[client], page_index)) all_dirty = false;
    }
    if (all_dirty) pointer = page.whole->host + ((page_index << kPageBits) - page.whole->base);
  }
  write_page[page_index] = pointer;
}

const AddressSpace::Region* AddressSpace::region_at(uint32_t address) const {
  address &= kAddressMask;
  const Page& page = pages_[address >> kPageBits];
  if (page.whole != nullptr) return page.whole;
  if (!page.mixed) return nullptr;
  const Region* best = nullptr;
  for (const auto& region : regions_) {
    if (region->contains(address) && (best == nullptr || region->priority > best->priority)) {
      best = region.get();
    }
  }
  return best;
}

void AddressSpace::page_written(uint32_t page_index) {
  for (unsigned client = 0; client < kDirtyLogClientCount; ++client) {
    if (dirty_active_[client]) set_bit(dirty_[client], page_index);
  }
  bool was_watched = test_bit(code_watch_, page_index);
  if (was_watched) clear_bit(code_watch_, page_index);
  refresh_write_pointer(page_index);
  if (was_watched && code_listener_ != nullptr) code_listener_->code_page_written(page_index);
}

// --- Bus ------------------------------------------------------------------

bool AddressSpace::within_one_region(const Region* region, uint32_t address, unsigned bytes) const {
  return region != nullptr && (address & (kPageSize - 1)) + bytes <= kPageSize &&
         address - region->base + bytes <= region->size &&
         (!pages_[address >> kPageBits].mixed || region_at(address + bytes - 1) == region);
}

BusStatus AddressSpace::read_slow(uint32_t address, AccessSize size, uint32_t* value) {
  address &= kAddressMask;
  unsigned bytes = static_cast<unsigned>(size);
  const Region* region = region_at(address);
  bool single = within_one_region(region, address, bytes);
  if (!single && size != AccessSize::kByte) {
    uint32_t result = 0;
    for (unsigned i = 0; i < bytes; ++i) {
      uint32_t byte = 0;
      if (read_slow(address + i, AccessSize::kByte, &byte) != BusStatus::kOk) {
        return BusStatus::kBusError;
      }
      result |= (byte & 0xFF) << (8 * i);
    }
    *value = result;
    return BusStatus::kOk;
  }
  if (region == nullptr) {
    log_printf(LogCategory::kGuestErrors, "bus error: read of %u byte(s) at unmapped 0x%06x", bytes,
               address);
    return BusStatus::kBusError;
  }
  if (region->kind == RegionKind::kMmio) return mmio_read(*region, address, size, value);
  uint32_t result = 0;
  std::memcpy(&result, region->host + (address - region->base), bytes);
  *value = result;
  return BusStatus::kOk;
}

BusStatus AddressSpace::write_slow(uint32_t address, AccessSize size, uint32_t value) {
  address &= kAddressMask;
  unsigned bytes = static_cast<unsigned>(size);
  const Region* region = region_at(address);
  bool single = within_one_region(region, address, bytes);
  if (!single && size != AccessSize::kByte) {
    // Check every byte first so a faulting access changes nothing.
    for (unsigned i = 0; i < bytes; ++i) {
      if (region_at(address + i) == nullptr) {
        log_printf(LogCategory::kGuestErrors, "bus error: write of %u byte(s) at 0x%06x", bytes,
                   address);
        return BusStatus::kBusError;
      }
    }
    for (unsigned i = 0; i < bytes; ++i) {
      (void)write_slow(address + i, AccessSize::kByte, (value >> (8 * i)) & 0xFF);
    }
    return BusStatus::kOk;
  }
  if (region == nullptr) {
    log_printf(LogCategory::kGuestErrors, "bus error: write of %u byte(s) at unmapped 0x%06x",
               bytes, address);
    return BusStatus::kBusError;
  }
  uint32_t offset = address - region->base;
  switch (region->kind) {
    case RegionKind::kRam:
      std::memcpy(region->host + offset, &value, bytes);
      page_written(address >> kPageBits);
      return BusStatus::kOk;
    case RegionKind::kRom:
      log_printf(LogCategory::kGuestErrors, "write of %u byte(s) to ROM '%s' at 0x%06x dropped",
                 bytes, region->name.c_str(), address);
      return BusStatus::kOk;
    case RegionKind::kRomDevice:
      region->device->write(offset, size, value);
      return BusStatus::kOk;
    case RegionKind::kMmio:
      return mmio_write(*region, address, size, value);
  }
  return BusStatus::kBusError;
}

BusStatus AddressSpace::mmio_read(const Region& region, uint32_t address, AccessSize size,
                                  uint32_t* value) {
  uint32_t offset = address - region.base;
  uint8_t width = static_cast<uint8_t>(size);
  if (region.rules.allowed & width) {
    *value = region.device->read(offset, size);
    return BusStatus::kOk;
  }
  if (size == AccessSize::kDword && (region.rules.allowed & kAllowWord)) {
    uint32_t low = region.device->read(offset, AccessSize::kWord) & 0xFFFF;
    uint32_t high = region.device->read(offset + 2, AccessSize::kWord) & 0xFFFF;
    *value = low | (high << 16);
    return BusStatus::kOk;
  }
  log_printf(LogCategory::kGuestErrors, "%s: unsupported %u-byte read at offset 0x%x",
             region.name.c_str(), width, offset);
  *value = 0;
  return BusStatus::kOk;
}

BusStatus AddressSpace::mmio_write(const Region& region, uint32_t address, AccessSize size,
                                   uint32_t value) {
  uint32_t offset = address - region.base;
  uint8_t width = static_cast<uint8_t>(size);
  if (region.rules.allowed & width) {
    region.device->write(offset, size, value);
    return BusStatus::kOk;
  }
  if (size == AccessSize::kDword && (region.rules.allowed & kAllowWord)) {
    region.device->write(offset, AccessSize::kWord, value & 0xFFFF);
    region.device->write(offset + 2, AccessSize::kWord, value >> 16);
    return BusStatus::kOk;
  }
  log_printf(LogCategory::kGuestErrors, "%s: unsupported %u-byte write at offset 0x%x dropped",
             region.name.c_str(), width, offset);
  return BusStatus::kOk;
}

BusStatus AddressSpace::peek(uint32_t address, AccessSize size, uint32_t* value) {
  address &= kAddressMask;
  unsigned bytes = static_cast<unsigned>(size);
  const Region* region = region_at(address);
  if (!within_one_region(region, address, bytes) && size != AccessSize::kByte) {
    uint32_t result = 0;
    for (unsigned i = 0; i < bytes; ++i) {
      uint32_t byte = 0;
      if (peek((address + i) & kAddressMask, AccessSize::kByte, &byte) != BusStatus::kOk) {
        return BusStatus::kBusError;
      }
      result |= (byte & 0xFF) << (8 * i);
    }
    *value = result;
    return BusStatus::kOk;
  }
  if (region == nullptr) return BusStatus::kBusError;
  if (region->kind == RegionKind::kMmio) {
    return mmio_peek(*region, address - region->base, size, value);
  }
  uint32_t result = 0;
  std::memcpy(&result, region->host + (address - region->base), bytes);
  *value = result;
  return BusStatus::kOk;
}

BusStatus AddressSpace::mmio_peek(const Region& region, uint32_t offset, AccessSize size,
                                  uint32_t* value) {
  const auto width = static_cast<uint8_t>(size);
  if (region.rules.allowed & width) {
    return region.device->peek(offset, size, value) ? BusStatus::kOk : BusStatus::kBusError;
  }
  if (size != AccessSize::kByte) {
    // Wider than the region accepts: two halves, low half first.
    const auto half = static_cast<AccessSize>(width / 2);
    const unsigned half_bits = 4u * width;
    uint32_t low = 0, high = 0;
    if (mmio_peek(region, offset, half, &low) != BusStatus::kOk ||
        offset + width / 2 >= region.size ||
        mmio_peek(region, offset + width / 2, half, &high) != BusStatus::kOk) {
      return BusStatus::kBusError;
    }
    const uint32_t half_mask = (1u << half_bits) - 1;
    *value = (low & half_mask) | ((high & half_mask) << half_bits);
    return BusStatus::kOk;
  }
  // A byte of a region that takes only wider accesses: peek the aligned unit.
  for (uint8_t unit = 2; unit <= 4; unit *= 2) {
    if (!(region.rules.allowed & unit)) continue;
    const uint32_t aligned = offset & ~uint32_t{unit - 1u};
    if (aligned + unit > region.size) return BusStatus::kBusError;
    uint32_t word = 0;
    if (mmio_peek(region, aligned, static_cast<AccessSize>(unit), &word) != BusStatus::kOk) {
      return BusStatus::kBusError;
    }
    *value = (word >> (8 * (offset - aligned))) & 0xFF;
    return BusStatus::kOk;
  }
  return BusStatus::kBusError;
}

template <typename Test>
bool AddressSpace::range_all(uint32_t address, uint32_t length, Test&& test) const {
  if (length == 0) return true;
  if (address >= kAddressSpaceSize || length > kAddressSpaceSize - address) return false;
  uint64_t end = uint64_t{address} + length;
  uint64_t at = address;
  while (at < end) {
    const Page& page = pages_[at >> kPageBits];
    if (page.whole != nullptr) {  // one region covers the page: test it once
      if (!test(*page.whole)) return false;
      at = ((at >> kPageBits) + 1) << kPageBits;
      continue;
    }
    const Region* region = region_at(static_cast<uint32_t>(at));
    if (region == nullptr || !test(*region)) return false;
    ++at;
  }
  return true;
}

bool AddressSpace::is_ram(uint32_t address, uint32_t length) const {
  return range_all(address, length,
                   [](const Region& region) { return region.kind == RegionKind::kRam; });
}

void AddressSpace::watch_code_page(uint32_t page_index) {
  if (page_index >= kPageCount) return;
  set_bit(code_watch_, page_index);
  write_page[page_index] = nullptr;
}

bool AddressSpace::code_page_watched(uint32_t page_index) const {
  return page_index < kPageCount && test_bit(code_watch_, page_index);
}

// --- Loader / DMA ---------------------------------------------------------

namespace {

// Checks a host-side range and reports "0xADDR" style errors.
Error range_error(const char* what, uint32_t address, size_t length) {
  char text[128];
  std::snprintf(text, sizeof text, "%s 0x%06x..0x%06llx", what, address,
                static_cast<unsigned long long>(address) + length - 1);
  return Error(text);
}

}  // namespace

Error AddressSpace::write_bytes(uint32_t address, std::span<const uint8_t> data, LoaderWrite mode) {
  if (data.empty()) return Error();
  if (address >= kAddressSpaceSize || data.size() > kAddressSpaceSize - address) {
    return range_error("write outside the 24-bit address space:", address, data.size());
  }
  for (size_t i = 0; i < data.size(); ++i) {
    uint32_t at = address + static_cast<uint32_t>(i);
    const Region* region = region_at(at);
    if (region == nullptr || !region->is_memory()) {
      return range_error("not RAM or ROM at", at, data.size() - i);
    }
    if (region->kind != RegionKind::kRam && mode != LoaderWrite::kBypassRom) {
      return range_error("read-only memory at", at, data.size() - i);
    }
    // Skip to the end of this region's visible run on a whole page.
    if (pages_[at >> kPageBits].whole == region) {
      uint32_t page_end = ((at >> kPageBits) + 1) << kPageBits;
      uint32_t stop = std::min<uint64_t>(page_end, uint64_t{address} + data.size()) - address;
      i = stop - 1;
    }
  }
  size_t done = 0;
  while (done < data.size()) {
    uint32_t at = address + static_cast<uint32_t>(done);
    const Region* region = region_at(at);
    uint32_t page_end = ((at >> kPageBits) + 1) << kPageBits;
    size_t chunk = std::min<size_t>(page_end - at, data.size() - done);
    if (pages_[at >> kPageBits].mixed) chunk = 1;
    std::memcpy(region->host + (at - region->base), data.data() + done, chunk);
    page_written(at >> kPageBits);
    done += chunk;
  }
  return Error();
}

Error AddressSpace::read_bytes(uint32_t address, std::span<uint8_t> out) const {
  if (out.empty()) return Error();
  if (address >= kAddressSpaceSize || out.size() > kAddressSpaceSize - address) {
    return range_error("read outside the 24-bit address space:", address, out.size());
  }
  size_t done = 0;
  while (done < out.size()) {
    uint32_t at = address + static_cast<uint32_t>(done);
    const Region* region = region_at(at);
    if (region == nullptr || !region->is_memory()) {
      return range_error("not RAM or ROM at", at, out.size() - done);
    }
    uint32_t page_end = ((at >> kPageBits) + 1) << kPageBits;
    size_t chunk = std::min<size_t>(page_end - at, out.size() - done);
    if (pages_[at >> kPageBits].mixed) chunk = 1;
    std::memcpy(out.data() + done, region->host + (at - region->base), chunk);
    done += chunk;
  }
  return Error();
}

bool AddressSpace::range_is_memory(uint32_t address, uint32_t length) const {
  return range_all(address, length, [](const Region& region) { return region.is_memory(); });
}

uint8_t* AddressSpace::host_pointer(uint32_t address, uint32_t length) {
  if (address >= kAddressSpaceSize || length > kAddressSpaceSize - address) return nullptr;
  const Region* region = region_at(address);
  if (region == nullptr || region->kind != RegionKind::kRam) return nullptr;
  if (address - region->base + uint64_t{length} > region->size) return nullptr;
  // A higher-priority region may hide part of the range.
  uint64_t end = uint64_t{address} + length;
  for (uint64_t at = address; at < end;) {
    const Page& page = pages_[at >> kPageBits];
    if (page.whole != region && region_at(static_cast<uint32_t>(at)) != region) return nullptr;
    at = page.whole == region ? ((at >> kPageBits) + 1) << kPageBits : at + 1;
  }
  return region->host + (address - region->base);
}

void AddressSpace::note_host_write(uint32_t address, uint32_t length) {
  if (length == 0 || address >= kAddressSpaceSize) return;
  uint64_t last = std::min<uint64_t>(uint64_t{address} + length - 1, kAddressMask);
  for (uint64_t page = address >> kPageBits; page <= (last >> kPageBits); ++page) {
    page_written(static_cast<uint32_t>(page));
  }
}

// --- Dirty log ------------------------------------------------------------

void AddressSpace::start_dirty_log(DirtyLogClient client) {
  unsigned index = static_cast<unsigned>(client);
  dirty_active_[index] = true;
  std::fill(dirty_[index].begin(), dirty_[index].end(), 0);
  for (uint32_t page = 0; page < kPageCount; ++page) refresh_write_pointer(page);
}

void AddressSpace::stop_dirty_log(DirtyLogClient client) {
  unsigned index = static_cast<unsigned>(client);
  dirty_active_[index] = false;
  std::fill(dirty_[index].begin(), dirty_[index].end(), 0);
  for (uint32_t page = 0; page < kPageCount; ++page) refresh_write_pointer(page);
}

bool AddressSpace::dirty_log_active(DirtyLogClient client) const {
  return dirty_active_[static_cast<unsigned>(client)];
}

std::vector<uint64_t> AddressSpace::sync_dirty_log(DirtyLogClient client) {
  unsigned index = static_cast<unsigned>(client);
  std::vector<uint64_t> out(kBitmapWords, 0);
  if (!dirty_active_[index]) return out;
  out.swap(dirty_[index]);
  for (uint32_t word = 0; word < kBitmapWords; ++word) {
    for (uint64_t bits = out[word]; bits != 0; bits &= bits - 1) {
      refresh_write_pointer(word * 64 + static_cast<uint32_t>(__builtin_ctzll(bits)));
    }
  }
  return out;
}

bool AddressSpace::page_dirty(DirtyLogClient client, uint32_t page_index) const {
  return page_index < kPageCount && test_bit(dirty_[static_cast<unsigned>(client)], page_index);
}

}  // namespace cr16
