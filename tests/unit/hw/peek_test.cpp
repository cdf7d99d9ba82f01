// Debugger access to the bus without side effects: AddressSpace::peek (RAM,
// ROM, unmapped space, devices with and without a peek), every register of
// every virt device peeked with its state, interrupt lines and deadlines
// unchanged (a UART data peek does not pop, an IVCT peek does not
// acknowledge, a NOW peek does not latch), is_ram(), and the per-page watch
// bits that force accesses to the slow path.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "hw/address_space.h"
#include "hw/icu.h"
#include "hw/keyboard.h"
#include "hw/manual_device_clock.h"
#include "hw/virt_board.h"
#include "hw/virt_map.h"
#include "test_helpers.h"

namespace cr16 {
namespace {

// ---- AddressSpace::peek.

/// Counts reads; peeks only when `peekable`, and only words.
class CountingDevice : public MmioDevice {
 public:
  explicit CountingDevice(bool peekable) : peekable_(peekable) {}
  uint32_t read(uint32_t offset, AccessSize size) override {
    ++reads;
    return 0xA000u | offset;
  }
  void write(uint32_t offset, AccessSize size, uint32_t value) override { ++writes; }
  bool peek(uint32_t offset, AccessSize size, uint32_t* value) override {
    if (!peekable_) return false;
    ++peeks;
    *value = 0xB000u | offset;
    return true;
  }
  int reads = 0, writes = 0, peeks = 0;

 private:
  bool peekable_;
};

struct PeekSpace : ::testing::Test {
  PeekSpace() : plain(false), peekable(true) {
    ram = *space.add_ram("ram", 0x0000, 0x2000);
    rom = *space.add_rom("rom", 0x10000, 0x1000);
    EXPECT_TRUE(space.add_mmio("plain", 0x20000, 0x100, &plain).ok());
    EXPECT_TRUE(space.add_mmio("words", 0x30000, 0x100, &peekable, {kAllowWord}).ok());
    std::memcpy(ram + 0x10, "\x11\x22\x33\x44", 4);
    rom[0x20] = 0x5A;
  }
  AddressSpace space;
  CountingDevice plain, peekable;
  uint8_t* ram = nullptr;
  uint8_t* rom = nullptr;
};

TEST_F(PeekSpace, ReadsRamAndRomDirectly) {
  uint32_t value = 0;
  ASSERT_EQ(space.peek(0x10, AccessSize::kDword, &value), BusStatus::kOk);
  EXPECT_EQ(value, 0x44332211u);
  ASSERT_EQ(space.peek(0x10020, AccessSize::kByte, &value), BusStatus::kOk);
  EXPECT_EQ(value, 0x5Au);
}

TEST_F(PeekSpace, RefusesUnmappedSpaceAndDevicesThatCannotPeek) {
  uint32_t value = 0;
  EXPECT_EQ(space.peek(0x5000, AccessSize::kWord, &value), BusStatus::kBusError);
  EXPECT_EQ(space.peek(0x1FFF, AccessSize::kWord, &value), BusStatus::kBusError);  // half unmapped
  EXPECT_EQ(space.peek(0x20004, AccessSize::kDword, &value), BusStatus::kBusError);
  EXPECT_EQ(plain.reads, 0);  // never fell back to a real read
}

TEST_F(PeekSpace, AdaptsWidthsToWhatTheRegionAccepts) {
  uint32_t value = 0;
  ASSERT_EQ(space.peek(0x30010, AccessSize::kWord, &value), BusStatus::kOk);
  EXPECT_EQ(value, 0xB010u);
  ASSERT_EQ(space.peek(0x30010, AccessSize::kDword, &value), BusStatus::kOk);
  EXPECT_EQ(value, 0xB012B010u);  // two words, low first
  ASSERT_EQ(space.peek(0x30011, AccessSize::kByte, &value), BusStatus::kOk);
  EXPECT_EQ(value, 0xB0u);  // high byte of the word at 0x10
  EXPECT_EQ(peekable.reads, 0);
}

TEST_F(PeekSpace, IsRamOnlyForRam) {
  EXPECT_TRUE(space.is_ram(0x0, 0x2000));
  EXPECT_TRUE(space.is_ram(0x1FFA, 6));
  EXPECT_TRUE(space.is_ram(0x5000, 0));
  EXPECT_FALSE(space.is_ram(0x1FFC, 6));    // runs past the end of RAM
  EXPECT_FALSE(space.is_ram(0x10000, 2));   // ROM
  EXPECT_FALSE(space.is_ram(0x20000, 2));   // device
  EXPECT_FALSE(space.is_ram(0x5000, 2));    // unmapped
  EXPECT_FALSE(space.is_ram(0xFFFFFE, 4));  // past 24 bits
}

// ---- Page watch bits.

TEST_F(PeekSpace, PageWatchBitsForceTheSlowPathAndRestoreIt) {
  ASSERT_NE(space.read_page[1], nullptr);
  ASSERT_NE(space.write_page[1], nullptr);
  space.set_page_watch(1, page_watch::kRead);
  EXPECT_EQ(space.read_page[1], nullptr);
  EXPECT_NE(space.write_page[1], nullptr);
  space.set_page_watch(1, page_watch::kWrite);
  EXPECT_NE(space.read_page[1], nullptr);
  EXPECT_EQ(space.write_page[1], nullptr);
  // A slow write to the watched RAM page still lands (and keeps the bit).
  ASSERT_EQ(space.write_slow(0x1004, AccessSize::kWord, 0xBEEF), BusStatus::kOk);
  EXPECT_EQ(ram[0x1004] | (ram[0x1005] << 8), 0xBEEF);
  EXPECT_EQ(space.write_page[1], nullptr);
  space.set_page_watch(1, page_watch::kNone);
  EXPECT_NE(space.read_page[1], nullptr);
  EXPECT_NE(space.write_page[1], nullptr);
  EXPECT_EQ(space.page_watch(1), page_watch::kNone);
}

TEST_F(PeekSpace, PageWatchCombinesWithCodeWatchAndDirtyLog) {
  space.watch_code_page(0);
  space.set_page_watch(0, page_watch::kWrite);
  space.set_page_watch(0, page_watch::kNone);
  EXPECT_EQ(space.write_page[0], nullptr);  // still watched as code
  space.start_dirty_log(DirtyLogClient::kMigration);
  space.set_page_watch(1, page_watch::kWrite);
  ASSERT_EQ(space.write_slow(0x1000, AccessSize::kByte, 1), BusStatus::kOk);
  EXPECT_TRUE(space.page_dirty(DirtyLogClient::kMigration, 1));
  EXPECT_EQ(space.write_page[1], nullptr);  // dirty now, but watched
  space.set_page_watch(1, page_watch::kNone);
  EXPECT_NE(space.write_page[1], nullptr);  // dirty and unwatched: fast again
}

// ---- The virt devices.

struct VirtPeek : ::testing::Test {
  VirtPeek() {
    VirtConfig config;
    config.serial = {&serial0, nullptr};
    auto created = VirtBoard::create(config, clock);
    EXPECT_TRUE(created.ok());
    board = std::move(*created);
    board->reset(0x1000);
  }
  uint32_t read(uint32_t address) {
    uint32_t value = 0;
    EXPECT_EQ(board->memory().read_slow(address, AccessSize::kDword, &value), BusStatus::kOk);
    return value;
  }
  void write(uint32_t address, uint32_t value) {
    EXPECT_EQ(board->memory().write_slow(address, AccessSize::kDword, value), BusStatus::kOk);
  }
  uint32_t peek(uint32_t address, AccessSize size = AccessSize::kDword) {
    uint32_t value = 0;
    EXPECT_EQ(board->memory().peek(address, size, &value), BusStatus::kOk);
    return value;
  }

  /// What a peek must not change: every device's described state, the
  /// CPU's interrupt line, the armed deadlines, the UART backend's wakeups.
  struct Snapshot {
    std::vector<std::vector<uint8_t>> devices;
    bool irq_line;
    size_t armed;
    int64_t next_deadline;
    int ready_calls;
    bool operator==(const Snapshot&) const = default;
  };
  Snapshot snapshot() {
    Snapshot s;
    for (StatefulDevice* device : board->stateful_devices()) {
      const auto* bytes = static_cast<const uint8_t*>(device->state_data());
      s.devices.emplace_back(bytes, bytes + device->state_description().object_size);
    }
    s.irq_line = board->cpu().irq_line();
    s.armed = clock.armed_count();
    s.next_deadline = clock.next_deadline();
    s.ready_calls = serial0.ready_calls;
    return s;
  }

  ManualDeviceClock clock;
  test::FakeCharBackend serial0;
  std::unique_ptr<VirtBoard> board;
};

TEST_F(VirtPeek, EveryDeviceRegisterPeeksWithoutChangingAnything) {
  using namespace virt;
  // Give every device state a peek could disturb.
  const uint8_t typed[] = {'a', 'b', 'c'};
  serial0.type(typed);
  write(kUart0Base + kUartCtrl, kUartCtrlRxie);
  write(kIcuBase + kIcuEnableSet, 0xFFFFFFFF);
  write(kIcuBase + kIcuSoftSet, 1u << kIrqSoftFirst);
  const uint32_t channel0 = kTimerBase + kTimerChannelBase;
  write(channel0 + kTimerChLoad, 5);
  write(channel0 + kTimerChCtrl, kTimerChCtrlEnable | kTimerChCtrlIe);
  write(kWatchdogBase + kWdtTimeout, 100);
  write(kWatchdogBase + kWdtCtrl, kWdtCtrlEnable);
  write(kDisplayBase + kDispCtrl, kDispCtrlEnable | kDispCtrlVblankIe);
  const uint8_t key[] = {0x1E, 0x9E};
  ASSERT_TRUE(board->keyboard().push_scancodes(key));
  write(kKeyboardBase + kKbdCtrl, kKbdCtrlIe);
  clock.advance_by(3 * kNsPerTick);  // a read now would bring the timer/watchdog forward
  const Snapshot before = snapshot();

  unsigned peeks = 0;
  for (const RegionInfo& region : board->memory().regions()) {
    if (region.kind != RegionKind::kMmio) continue;
    for (uint32_t offset = 0; offset < region.size; ++offset) {
      for (AccessSize size : {AccessSize::kByte, AccessSize::kWord, AccessSize::kDword}) {
        if (offset + static_cast<uint32_t>(size) > region.size) continue;
        uint32_t value = 0;
        (void)board->memory().peek(region.base + offset, size, &value);
        ++peeks;
      }
    }
  }
  EXPECT_GT(peeks, 10000u);
  EXPECT_TRUE(snapshot() == before);
  // The same registers read by the guest do change things (the test can see it).
  (void)read(kUart0Base + kUartData);
  (void)read(channel0 + kTimerChCount);
  EXPECT_FALSE(snapshot() == before);
}

TEST_F(VirtPeek, PeekedValuesAreWhatTheGuestWouldRead) {
  using namespace virt;
  const uint32_t channel0 = kTimerBase + kTimerChannelBase;
  write(channel0 + kTimerChLoad, 50);
  write(channel0 + kTimerChCtrl, kTimerChCtrlEnable);
  write(kWatchdogBase + kWdtTimeout, 100);
  write(kWatchdogBase + kWdtCtrl, kWdtCtrlEnable);
  clock.advance_by(7 * kNsPerTick);
  EXPECT_EQ(peek(channel0 + kTimerChCount), 43u);
  EXPECT_EQ(peek(kWatchdogBase + kWdtCount), 93u);
  EXPECT_EQ(read(channel0 + kTimerChCount), 43u);
  EXPECT_EQ(read(kWatchdogBase + kWdtCount), 93u);
  EXPECT_EQ(peek(kSysctlBase + kSysBoardId), kSysBoardIdValue);
  EXPECT_EQ(peek(kUart0Base + kUartFifoDepth), kUartFifoDepthValue);
}

TEST_F(VirtPeek, UartDataPeekDoesNotPop) {
  using namespace virt;
  const uint8_t typed[] = {'x', 'y'};
  serial0.type(typed);
  EXPECT_EQ(peek(kUart0Base + kUartData, AccessSize::kByte), uint32_t{'x'});
  EXPECT_EQ(peek(kUart0Base + kUartData, AccessSize::kByte), uint32_t{'x'});
  EXPECT_EQ((peek(kUart0Base + kUartStatus) >> kUartStatusRxLevelShift) & kUartStatusLevelMask, 2u);
  EXPECT_EQ(read(kUart0Base + kUartData) & 0xFF, uint32_t{'x'});  // the guest pops
  EXPECT_EQ(peek(kUart0Base + kUartData, AccessSize::kByte), uint32_t{'y'});
}

TEST_F(VirtPeek, KeyboardDataPeekDoesNotPop) {
  using namespace virt;
  const uint8_t key[] = {0xE0, 0x48};
  ASSERT_TRUE(board->keyboard().push_scancodes(key));
  EXPECT_EQ(peek(kKeyboardBase + kKbdData, AccessSize::kByte), 0xE0u);
  EXPECT_EQ(peek(kKeyboardBase + kKbdData), 0xE0u);
  EXPECT_EQ((peek(kKeyboardBase + kKbdStatus) >> kKbdStatusLevelShift) & kKbdStatusLevelMask, 2u);
  Expected<uint32_t> value = board->cpu().debug_read(kKeyboardBase + kKbdData, AccessSize::kByte);
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 0xE0u);
  EXPECT_EQ(read(kKeyboardBase + kKbdData) & 0xFF, 0xE0u);  // the guest pops
  EXPECT_EQ(peek(kKeyboardBase + kKbdData, AccessSize::kByte), 0x48u);
}

TEST_F(VirtPeek, IcuVectorPeekDoesNotAcknowledge) {
  using namespace virt;
  write(kIcuBase + kIcuEnableSet, 1u << kIrqSoftFirst);
  write(kIcuBase + kIcuSoftSet, 1u << kIrqSoftFirst);
  const uint32_t vector = kIrqVectorBase + kIrqSoftFirst;
  EXPECT_TRUE(board->cpu().irq_line());
  EXPECT_EQ(peek(kIcuBase + kIcuIvct, AccessSize::kByte), vector);
  EXPECT_EQ(peek(kIcuBase + kIcuIvct), vector);
  EXPECT_TRUE(board->cpu().irq_line());
  EXPECT_EQ(read(kIcuBase + kIcuIvct), vector);  // acknowledges: the soft request clears
  EXPECT_EQ(peek(kIcuBase + kIcuIvct), kSpuriousVector);
  EXPECT_FALSE(board->cpu().irq_line());
}

TEST_F(VirtPeek, TimerNowPeekDoesNotLatchTheHighWord) {
  using namespace virt;
  clock.advance_to((int64_t{1} << 32) * kNsPerTick + 5 * kNsPerTick);  // past 2^32 µs
  EXPECT_EQ(peek(kTimerBase + kTimerNowLo), 5u);
  EXPECT_EQ(peek(kTimerBase + kTimerNowHi), 0u);  // not latched by the peek
  EXPECT_EQ(read(kTimerBase + kTimerNowLo), 5u);
  EXPECT_EQ(peek(kTimerBase + kTimerNowHi), 1u);  // latched by the read
}

TEST_F(VirtPeek, CpuDebugReadsGoThroughPeek) {
  using namespace virt;
  const uint8_t typed[] = {'q'};
  serial0.type(typed);
  Expected<uint32_t> value = board->cpu().debug_read(kUart0Base + kUartData, AccessSize::kByte);
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, uint32_t{'q'});
  uint8_t block[4] = {};
  ASSERT_TRUE(board->cpu().debug_read_block(kUart0Base + kUartData, block, sizeof block).ok());
  EXPECT_EQ(block[0], 'q');
  EXPECT_EQ(read(kUart0Base + kUartData) & 0xFF, uint32_t{'q'});  // still there for the guest
}

}  // namespace
}  // namespace cr16
