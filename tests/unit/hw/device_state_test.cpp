// Every device describes its state with a field table (cpu/state.h): the
// table must cover valid offsets, and copying the described fields into a
// fresh device followed by post_load must reproduce the device's behaviour.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "hw/flash.h"
#include "hw/icu.h"
#include "hw/manual_device_clock.h"
#include "hw/rtc.h"
#include "hw/sysctl.h"
#include "hw/timer.h"
#include "hw/uart.h"
#include "hw/virt_map.h"
#include "hw/watchdog.h"
#include "test_helpers.h"

namespace cr16 {
namespace {

using test::read32;
using test::write32;

size_t field_width(LegacyFieldKind kind) {
  switch (kind) {
    case LegacyFieldKind::kU8:
      return 1;
    case LegacyFieldKind::kU16:
      return 2;
    case LegacyFieldKind::kU32:
      return 4;
  }
  return 4;
}

// Checks the table against the size of the struct it describes.
void expect_well_formed(const LegacyStateDescription& description, size_t state_size) {
  std::set<std::string> names;
  EXPECT_GE(description.version, description.minimum_version);
  EXPECT_FALSE(description.fields.empty());
  for (const LegacyStateField& field : description.fields) {
    EXPECT_TRUE(names.insert(field.name).second)
        << description.section << ": duplicate " << field.name;
    EXPECT_LE(field.offset + field_width(field.kind), state_size)
        << description.section << "." << field.name;
  }
}

// Copies every described field from `from` to `to` through the accessors a
// migration stream would use, then runs post_load.
void transfer(StatefulDevice& from, StatefulDevice& to) {
  const Error error = restore_state_fields(to, save_state_fields(from));
  ASSERT_TRUE(error.ok()) << error.message();
}

TEST(DeviceState, TablesAreWellFormed) {
  ManualDeviceClock clock;
  IcuDevice icu;
  UartDevice uart("uart0", clock, nullptr, IrqLine(), IrqLine());
  TimerDevice timer(clock, {IrqLine(), IrqLine()});
  RtcDevice rtc(clock, 0, IrqLine());
  SysctlDevice sysctl(SysctlConfig{0x10000, 1, "CR16C+"});
  WatchdogDevice watchdog(clock);
  AddressSpace memory;
  auto flash = FlashDevice::create(memory, virt::kFlashBase, "", IrqLine());
  ASSERT_TRUE(flash.has_value());
  expect_well_formed(icu.state_description(), sizeof(IcuState));
  expect_well_formed(uart.state_description(), sizeof(UartState));
  expect_well_formed(timer.state_description(), sizeof(TimerState));
  expect_well_formed(rtc.state_description(), sizeof(RtcState));
  expect_well_formed(sysctl.state_description(), sizeof(SysctlState));
  expect_well_formed(watchdog.state_description(), sizeof(WatchdogState));
  expect_well_formed((*flash)->state_description(), sizeof(FlashState));
}

TEST(DeviceState, TimerResumesMidPeriodAfterTransfer) {
  ManualDeviceClock clock;
  test::RecordingIrqSink irqs_a, irqs_b;
  TimerDevice a(clock, {IrqLine(&irqs_a, 0), IrqLine(&irqs_a, 1)});
  write32(a, virt::kTimerChannelBase + virt::kTimerChLoad, 100);
  write32(a, virt::kTimerChannelBase + virt::kTimerChCtrl,
          virt::kTimerChCtrlEnable | virt::kTimerChCtrlIe);
  clock.advance_by(30 * virt::kNsPerTick);
  TimerDevice b(clock, {IrqLine(&irqs_b, 0), IrqLine(&irqs_b, 1)});
  transfer(a, b);
  a.reset();  // the source stops (as after migration)
  EXPECT_EQ(read32(b, virt::kTimerChannelBase + virt::kTimerChCount), 70u);
  clock.advance_by(69 * virt::kNsPerTick);
  EXPECT_FALSE(irqs_b.levels[0]);
  clock.advance_by(1 * virt::kNsPerTick);
  EXPECT_TRUE(irqs_b.levels[0]);
}

TEST(DeviceState, UartFifoContentsSurviveTransfer) {
  ManualDeviceClock clock;
  test::FakeCharBackend backend_a, backend_b;
  UartDevice a("uart0", clock, &backend_a, IrqLine(), IrqLine());
  const uint8_t input[] = {'m', 'i', 'g'};
  (void)backend_a.type(input);
  (void)read32(a, virt::kUartData);  // pop 'm': the ring head moves
  UartDevice b("uart0", clock, &backend_b, IrqLine(), IrqLine());
  transfer(a, b);
  EXPECT_EQ(read32(b, virt::kUartData), uint32_t{'i'});
  EXPECT_EQ(read32(b, virt::kUartData), uint32_t{'g'});
  EXPECT_EQ(read32(b, virt::kUartStatus) & virt::kUartStatusRxAvail, 0u);
}

TEST(DeviceState, IcuOutputIsRebuiltAfterTransfer) {
  IcuDevice a;
  write32(a, virt::kIcuEnable, 1u << 17);
  write32(a, virt::kIcuSoftSet, 1u << 17);
  IcuDevice b;
  bool irq = false;
  b.set_irq_output([&](bool level) { irq = level; });
  transfer(a, b);
  EXPECT_TRUE(irq);
  EXPECT_EQ(read32(b, virt::kIcuIvct), 16u + 17);
}

TEST(DeviceState, InvalidFieldValuesAreRejected) {
  ManualDeviceClock clock;
  UartDevice uart("uart0", clock, nullptr, IrqLine(), IrqLine());
  const LegacyStateDescription& description = uart.state_description();
  const LegacyStateField* count = legacy_state_field_find(description, "rx_count");
  ASSERT_NE(count, nullptr);
  EXPECT_FALSE(legacy_state_field_set(*count, uart.state_data(), 0x20).ok());  // outside the mask
  ASSERT_TRUE(legacy_state_field_set(*count, uart.state_data(), 17).ok());  // inside mask, too big
  EXPECT_FALSE(description.post_load(uart.state_data()).ok());
}

TEST(DeviceState, RestoredStateAndRestartedClockReplayIdentically) {
  // What the MMIO fuzzer relies on to reuse one board: save the described
  // fields, run, put them back and restart the clock, run again: the same.
  ManualDeviceClock clock;
  test::RecordingIrqSink irqs;
  TimerDevice timer(clock, {IrqLine(&irqs, 0), IrqLine(&irqs, 1)});
  const std::vector<uint32_t> saved = save_state_fields(timer);
  auto run = [&] {
    write32(timer, virt::kTimerChannelBase + virt::kTimerChLoad, 50);
    write32(timer, virt::kTimerChannelBase + virt::kTimerChCtrl,
            virt::kTimerChCtrlEnable | virt::kTimerChCtrlIe);
    clock.advance_by(120 * virt::kNsPerTick);
    return std::make_pair(read32(timer, virt::kTimerChannelBase + virt::kTimerChCount),
                          read32(timer, virt::kTimerChannelBase + virt::kTimerChStatus));
  };
  const auto first = run();
  EXPECT_EQ(first.first, 30u);  // 120 ticks of a 50-tick period: 20 into the third
  clock.restart(0);
  EXPECT_EQ(clock.armed_count(), 0u);
  ASSERT_TRUE(restore_state_fields(timer, saved).ok());
  EXPECT_EQ(read32(timer, virt::kTimerChannelBase + virt::kTimerChCtrl), 0u);
  EXPECT_EQ(run(), first);
}

}  // namespace
}  // namespace cr16
