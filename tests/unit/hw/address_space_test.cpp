#include "hw/address_space.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace cr16 {
namespace {

// Records every access; reads return 0xA0000000 | offset.
class RecordingDevice : public MmioDevice {
 public:
  struct Access {
    bool write;
    uint32_t offset;
    AccessSize size;
    uint32_t value;
  };
  uint32_t read(uint32_t offset, AccessSize size) override {
    accesses.push_back({false, offset, size, 0});
    return 0xA0000000u | offset;
  }
  void write(uint32_t offset, AccessSize size, uint32_t value) override {
    accesses.push_back({true, offset, size, value});
  }
  std::vector<Access> accesses;
};

class RecordingListener : public CodeWriteListener {
 public:
  void code_page_written(uint32_t page_index) override { pages.push_back(page_index); }
  std::vector<uint32_t> pages;
};

bool bit_set(const std::vector<uint64_t>& bits, uint32_t page) {
  return (bits[page / 64] >> (page % 64)) & 1;
}

TEST(AddressSpace, RamHasFastPointersBothWays) {
  AddressSpace space;
  auto ram = space.add_ram("ram", 0, 0x10000);
  ASSERT_TRUE(ram.has_value());
  EXPECT_EQ(space.read_page[0], *ram);
  EXPECT_EQ(space.write_page[15], *ram + 15 * kPageSize);
  EXPECT_EQ(space.read_page[16], nullptr);
  space.write_page[1][4] = 0x5A;
  uint32_t value = 0;
  EXPECT_EQ(space.read_slow(0x1004, AccessSize::kByte, &value), BusStatus::kOk);
  EXPECT_EQ(value, 0x5Au);
}

TEST(AddressSpace, SlowPathReadsAndWritesLittleEndian) {
  AddressSpace space;
  ASSERT_TRUE(space.add_ram("ram", 0, 0x2000).has_value());
  EXPECT_EQ(space.write_slow(0x100, AccessSize::kDword, 0x11223344), BusStatus::kOk);
  uint32_t value = 0;
  ASSERT_EQ(space.read_slow(0x100, AccessSize::kWord, &value), BusStatus::kOk);
  EXPECT_EQ(value, 0x3344u);
  ASSERT_EQ(space.read_slow(0x103, AccessSize::kByte, &value), BusStatus::kOk);
  EXPECT_EQ(value, 0x11u);
}

TEST(AddressSpace, AccessAcrossPageBoundaryIsSplit) {
  AddressSpace space;
  auto ram = space.add_ram("ram", 0, 0x2000);
  ASSERT_TRUE(ram.has_value());
  EXPECT_EQ(space.write_slow(0xFFE, AccessSize::kDword, 0xAABBCCDD), BusStatus::kOk);
  EXPECT_EQ((*ram)[0xFFE], 0xDD);
  EXPECT_EQ((*ram)[0x1001], 0xAA);
  uint32_t value = 0;
  ASSERT_EQ(space.read_slow(0xFFF, AccessSize::kWord, &value), BusStatus::kOk);
  EXPECT_EQ(value, 0xBBCCu);
}

TEST(AddressSpace, UnmappedAccessIsBusError) {
  AddressSpace space;
  ASSERT_TRUE(space.add_ram("ram", 0, 0x1000).has_value());
  uint32_t value = 0;
  EXPECT_EQ(space.read_slow(0x1000, AccessSize::kWord, &value), BusStatus::kBusError);
  EXPECT_EQ(space.write_slow(0x800000, AccessSize::kByte, 1), BusStatus::kBusError);
  // A dword that runs off the end of RAM faults and writes nothing.
  EXPECT_EQ(space.write_slow(0xFFE, AccessSize::kDword, 0xFFFFFFFF), BusStatus::kBusError);
  ASSERT_EQ(space.read_slow(0xFFE, AccessSize::kWord, &value), BusStatus::kOk);
  EXPECT_EQ(value, 0u);
}

TEST(AddressSpace, HigherPriorityRegionHidesLowerOne) {
  AddressSpace space;
  RecordingDevice device;
  auto ram = space.add_ram("ram", 0, 0x4000);
  ASSERT_TRUE(ram.has_value());
  ASSERT_TRUE(space.add_mmio("dev", 0x1100, 0x100, &device, {}, 1).ok());
  // The page holding the device loses its fast pointers, the others keep them.
  EXPECT_EQ(space.read_page[1], nullptr);
  EXPECT_EQ(space.write_page[1], nullptr);
  EXPECT_NE(space.read_page[0], nullptr);
  EXPECT_NE(space.read_page[2], nullptr);
  uint32_t value = 0;
  ASSERT_EQ(space.read_slow(0x1104, AccessSize::kWord, &value), BusStatus::kOk);
  EXPECT_EQ(value, 0xA0000004u);
  ASSERT_EQ(device.accesses.size(), 1u);
  // Outside the device window on the same page: still RAM.
  EXPECT_EQ(space.write_slow(0x1200, AccessSize::kByte, 0x77), BusStatus::kOk);
  EXPECT_EQ((*ram)[0x1200], 0x77);
  EXPECT_EQ(device.accesses.size(), 1u);
}

TEST(AddressSpace, LowerPriorityRegionMappedLaterStaysHidden) {
  AddressSpace space;
  RecordingDevice device;
  ASSERT_TRUE(space.add_mmio("dev", 0x0000, 0x1000, &device, {}, 5).ok());
  ASSERT_TRUE(space.add_ram("ram", 0, 0x2000).has_value());
  EXPECT_EQ(space.read_page[0], nullptr);
  EXPECT_NE(space.read_page[1], nullptr);
  uint32_t value = 0;
  ASSERT_EQ(space.read_slow(0x10, AccessSize::kByte, &value), BusStatus::kOk);
  EXPECT_EQ(device.accesses.size(), 1u);
}

TEST(AddressSpace, EqualPriorityOverlapIsRefused) {
  AddressSpace space;
  RecordingDevice device;
  ASSERT_TRUE(space.add_ram("ram", 0, 0x2000).has_value());
  Error error = space.add_mmio("dev", 0x1000, 0x10, &device);
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("overlaps 'ram'"), std::string::npos);
}

TEST(AddressSpace, MisalignedOrOversizedMemoryIsRefused) {
  AddressSpace space;
  EXPECT_FALSE(space.add_ram("a", 0x800, 0x1000).has_value());
  EXPECT_FALSE(space.add_ram("b", 0, 0x1800).has_value());
  EXPECT_FALSE(space.add_ram("c", 0xFFF000, 0x2000).has_value());
  EXPECT_FALSE(space.add_ram("d", 0, 0).has_value());
}

TEST(AddressSpace, RomIsReadOnlyForTheGuest) {
  AddressSpace space;
  auto rom = space.add_rom("rom", 0x10000, 0x1000);
  ASSERT_TRUE(rom.has_value());
  EXPECT_EQ((*rom)[0], 0xFF);  // starts erased
  EXPECT_NE(space.read_page[0x10], nullptr);
  EXPECT_EQ(space.write_page[0x10], nullptr);
  const uint8_t image[] = {1, 2, 3, 4};
  ASSERT_TRUE(space.write_bytes(0x10000, image, LoaderWrite::kBypassRom).ok());
  EXPECT_EQ(space.write_slow(0x10000, AccessSize::kWord, 0xBEEF), BusStatus::kOk);  // dropped
  uint32_t value = 0;
  ASSERT_EQ(space.read_slow(0x10000, AccessSize::kDword, &value), BusStatus::kOk);
  EXPECT_EQ(value, 0x04030201u);
  // Loaders must ask to bypass the protection.
  EXPECT_FALSE(space.write_bytes(0x10000, image).ok());
}

TEST(AddressSpace, RomDeviceSendsWritesToItsHandler) {
  AddressSpace space;
  RecordingDevice handler;
  auto rom = space.add_rom_device("flash", 0x20000, 0x2000, &handler);
  ASSERT_TRUE(rom.has_value());
  EXPECT_NE(space.read_page[0x21], nullptr);
  EXPECT_EQ(space.write_slow(0x21002, AccessSize::kWord, 0x1234), BusStatus::kOk);
  ASSERT_EQ(handler.accesses.size(), 1u);
  EXPECT_TRUE(handler.accesses[0].write);
  EXPECT_EQ(handler.accesses[0].offset, 0x1002u);
  EXPECT_EQ(handler.accesses[0].value, 0x1234u);
  EXPECT_EQ((*rom)[0x1002], 0xFF);
}

TEST(AddressSpace, MmioWidthRules) {
  AddressSpace space;
  RecordingDevice device;
  ASSERT_TRUE(space.add_mmio("words", 0x100, 0x10, &device, MmioAccessRules{kAllowWord}).ok());
  uint32_t value = 0;
  // A dword becomes two word accesses, low half first.
  ASSERT_EQ(space.read_slow(0x104, AccessSize::kDword, &value), BusStatus::kOk);
  EXPECT_EQ(value, 0x00060004u);
  ASSERT_EQ(device.accesses.size(), 2u);
  EXPECT_EQ(device.accesses[0].offset, 4u);
  EXPECT_EQ(device.accesses[1].offset, 6u);
  EXPECT_EQ(device.accesses[1].size, AccessSize::kWord);
  ASSERT_EQ(space.write_slow(0x108, AccessSize::kDword, 0x12345678), BusStatus::kOk);
  ASSERT_EQ(device.accesses.size(), 4u);
  EXPECT_EQ(device.accesses[2].value, 0x5678u);
  EXPECT_EQ(device.accesses[3].value, 0x1234u);
  // A byte access is not accepted: logged, read as 0, write dropped.
  ASSERT_EQ(space.read_slow(0x100, AccessSize::kByte, &value), BusStatus::kOk);
  EXPECT_EQ(value, 0u);
  EXPECT_EQ(space.write_slow(0x100, AccessSize::kByte, 1), BusStatus::kOk);
  EXPECT_EQ(device.accesses.size(), 4u);
}

TEST(AddressSpace, DirtyLogRecordsFirstWriteAndRestoresFastPointer) {
  AddressSpace space;
  auto ram = space.add_ram("ram", 0, 0x8000);
  ASSERT_TRUE(ram.has_value());
  space.start_dirty_log(DirtyLogClient::kMigration);
  for (uint32_t page = 0; page < 8; ++page) EXPECT_EQ(space.write_page[page], nullptr);
  EXPECT_NE(space.read_page[3], nullptr);  // reads stay fast
  ASSERT_EQ(space.write_slow(0x3010, AccessSize::kWord, 0xCAFE), BusStatus::kOk);
  EXPECT_TRUE(space.page_dirty(DirtyLogClient::kMigration, 3));
  EXPECT_EQ(space.write_page[3], *ram + 0x3000);  // later writes are fast again
  EXPECT_FALSE(space.page_dirty(DirtyLogClient::kMigration, 4));

  std::vector<uint64_t> dirty = space.sync_dirty_log(DirtyLogClient::kMigration);
  ASSERT_EQ(dirty.size(), kPageCount / 64);
  EXPECT_TRUE(bit_set(dirty, 3));
  EXPECT_FALSE(bit_set(dirty, 2));
  // Sync cleared the bit and re-armed tracking.
  EXPECT_FALSE(space.page_dirty(DirtyLogClient::kMigration, 3));
  EXPECT_EQ(space.write_page[3], nullptr);
  EXPECT_FALSE(bit_set(space.sync_dirty_log(DirtyLogClient::kMigration), 3));

  space.stop_dirty_log(DirtyLogClient::kMigration);
  EXPECT_NE(space.write_page[3], nullptr);
  EXPECT_FALSE(space.dirty_log_active(DirtyLogClient::kMigration));
}

TEST(AddressSpace, DirtyLogClientsAreIndependent) {
  AddressSpace space;
  ASSERT_TRUE(space.add_ram("ram", 0, 0x4000).has_value());
  space.start_dirty_log(DirtyLogClient::kMigration);
  space.start_dirty_log(DirtyLogClient::kDisplay);
  ASSERT_EQ(space.write_slow(0x1000, AccessSize::kByte, 1), BusStatus::kOk);
  (void)space.sync_dirty_log(DirtyLogClient::kDisplay);
  // The display synced; migration still sees the page dirty, and the page is
  // slow again because the display needs to see the next write.
  EXPECT_TRUE(space.page_dirty(DirtyLogClient::kMigration, 1));
  EXPECT_FALSE(space.page_dirty(DirtyLogClient::kDisplay, 1));
  EXPECT_EQ(space.write_page[1], nullptr);
  ASSERT_EQ(space.write_slow(0x1000, AccessSize::kByte, 2), BusStatus::kOk);
  EXPECT_TRUE(space.page_dirty(DirtyLogClient::kDisplay, 1));
  EXPECT_NE(space.write_page[1], nullptr);
}

TEST(AddressSpace, LoaderWritesMarkPagesDirty) {
  AddressSpace space;
  ASSERT_TRUE(space.add_ram("ram", 0, 0x4000).has_value());
  space.start_dirty_log(DirtyLogClient::kMigration);
  std::vector<uint8_t> data(0x1800, 0x42);
  ASSERT_TRUE(space.write_bytes(0x0800, data).ok());
  EXPECT_TRUE(space.page_dirty(DirtyLogClient::kMigration, 0));
  EXPECT_TRUE(space.page_dirty(DirtyLogClient::kMigration, 1));
  EXPECT_FALSE(space.page_dirty(DirtyLogClient::kMigration, 2));
  space.note_host_write(0x2FFF, 2);
  EXPECT_TRUE(space.page_dirty(DirtyLogClient::kMigration, 2));
  EXPECT_TRUE(space.page_dirty(DirtyLogClient::kMigration, 3));
}

TEST(AddressSpace, CodeWatchNotifiesOnceOnSlowWrite) {
  AddressSpace space;
  RecordingListener listener;
  space.set_code_write_listener(&listener);
  auto ram = space.add_ram("ram", 0, 0x4000);
  ASSERT_TRUE(ram.has_value());
  space.watch_code_page(2);
  EXPECT_TRUE(space.code_page_watched(2));
  EXPECT_EQ(space.write_page[2], nullptr);
  EXPECT_NE(space.read_page[2], nullptr);
  ASSERT_EQ(space.write_slow(0x2002, AccessSize::kWord, 0x1234), BusStatus::kOk);
  ASSERT_EQ(listener.pages.size(), 1u);
  EXPECT_EQ(listener.pages[0], 2u);
  EXPECT_EQ((*ram)[0x2002], 0x34);  // the write happened
  EXPECT_FALSE(space.code_page_watched(2));
  EXPECT_EQ(space.write_page[2], *ram + 0x2000);
  ASSERT_EQ(space.write_slow(0x2004, AccessSize::kWord, 1), BusStatus::kOk);
  EXPECT_EQ(listener.pages.size(), 1u);
}

TEST(AddressSpace, CodeWatchNotifiesOnLoaderWrite) {
  AddressSpace space;
  RecordingListener listener;
  space.set_code_write_listener(&listener);
  ASSERT_TRUE(space.add_ram("ram", 0, 0x4000).has_value());
  auto rom = space.add_rom("rom", 0x8000, 0x1000);
  ASSERT_TRUE(rom.has_value());
  space.watch_code_page(1);
  space.watch_code_page(8);
  const uint8_t bytes[] = {0xAA, 0xBB};
  ASSERT_TRUE(space.write_bytes(0x1FFF, bytes).ok());  // touches pages 1 and 2
  ASSERT_EQ(listener.pages.size(), 1u);
  EXPECT_EQ(listener.pages[0], 1u);
  ASSERT_TRUE(space.write_bytes(0x8000, bytes, LoaderWrite::kBypassRom).ok());
  ASSERT_EQ(listener.pages.size(), 2u);
  EXPECT_EQ(listener.pages[1], 8u);
}

TEST(AddressSpace, CodeWatchSurvivesDirtyLogSync) {
  AddressSpace space;
  RecordingListener listener;
  space.set_code_write_listener(&listener);
  ASSERT_TRUE(space.add_ram("ram", 0, 0x4000).has_value());
  space.start_dirty_log(DirtyLogClient::kMigration);
  ASSERT_EQ(space.write_slow(0x1000, AccessSize::kByte, 1), BusStatus::kOk);
  space.watch_code_page(1);
  EXPECT_EQ(space.write_page[1], nullptr);  // dirty, but watched
  (void)space.sync_dirty_log(DirtyLogClient::kMigration);
  ASSERT_EQ(space.write_slow(0x1000, AccessSize::kByte, 2), BusStatus::kOk);
  EXPECT_EQ(listener.pages.size(), 1u);
  EXPECT_TRUE(space.page_dirty(DirtyLogClient::kMigration, 1));
}

TEST(AddressSpace, LoaderApiRefusesNonMemoryAndWritesNothing) {
  AddressSpace space;
  RecordingDevice device;
  auto ram = space.add_ram("ram", 0, 0x4000);
  ASSERT_TRUE(ram.has_value());
  ASSERT_TRUE(space.add_mmio("dev", 0x2000, 0x10, &device, {}, 1).ok());
  std::vector<uint8_t> data(0x1100, 0x99);
  Error error = space.write_bytes(0x1000, data);
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("0x002000"), std::string::npos) << error.message();
  EXPECT_EQ((*ram)[0x1000], 0);  // nothing written
  EXPECT_TRUE(device.accesses.empty());
  std::vector<uint8_t> out(0x10);
  EXPECT_FALSE(space.read_bytes(0x3FF8, out).ok());  // runs past RAM
  EXPECT_TRUE(space.read_bytes(0x2010, out).ok());   // RAM right after the device
  EXPECT_FALSE(space.write_bytes(0xFFFFFF, std::vector<uint8_t>(2, 0)).ok());
}

TEST(AddressSpace, RangeIsMemoryAndHostPointer) {
  AddressSpace space;
  RecordingDevice device;
  auto ram = space.add_ram("ram", 0, 0x4000);
  ASSERT_TRUE(ram.has_value());
  ASSERT_TRUE(space.add_rom("rom", 0x4000, 0x1000).has_value());
  ASSERT_TRUE(space.add_mmio("dev", 0x2000, 0x10, &device, {}, 1).ok());
  EXPECT_TRUE(space.range_is_memory(0, 0x2000));
  EXPECT_FALSE(space.range_is_memory(0x1FF0, 0x20));
  EXPECT_TRUE(space.range_is_memory(0x2010, 0x2FF0));  // RAM then ROM
  EXPECT_FALSE(space.range_is_memory(0x4F00, 0x200));  // runs past ROM
  EXPECT_TRUE(space.range_is_memory(0x123456, 0));
  EXPECT_EQ(space.host_pointer(0x100, 0x100), *ram + 0x100);
  EXPECT_EQ(space.host_pointer(0x1F00, 0x200), nullptr);  // crosses the device
  EXPECT_EQ(space.host_pointer(0x3F00, 0x200), nullptr);  // leaves RAM
  EXPECT_EQ(space.host_pointer(0x4000, 0x10), nullptr);   // ROM is not writable host memory
}

TEST(AddressSpace, RamIsPageAlignedHostMemory) {
  AddressSpace space;
  auto ram = space.add_ram("ram", 0, 0x10000);
  ASSERT_TRUE(ram.has_value());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(*ram) % 4096, 0u);
  std::vector<RegionInfo> regions = space.regions();
  ASSERT_EQ(regions.size(), 1u);
  EXPECT_EQ(regions[0].kind, RegionKind::kRam);
  EXPECT_EQ(regions[0].host, *ram);
}

}  // namespace
}  // namespace cr16
