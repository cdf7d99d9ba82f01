// Every device describes its state with a util/state.h table: the table is
// well formed for the engine, and moving the state into a fresh device
// through the engine (migration/) resumes the device's behaviour.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "hw/device_state.h"
#include "hw/flash.h"
#include "hw/icu.h"
#include "hw/manual_device_clock.h"
#include "hw/rtc.h"
#include "hw/sysctl.h"
#include "hw/timer.h"
#include "hw/uart.h"
#include "hw/virt_map.h"
#include "hw/watchdog.h"
#include "migration/state_codec.h"
#include "migration/state_sections.h"
#include "test_helpers.h"

namespace cr16 {
namespace {

using test::read32;
using test::write32;

// Saves `from` as a one-section stream and loads it into `to` (same
// section name), as migration would between two machines.
void transfer(Stateful& from, Stateful& to) {
  const StateSection source[] = {{from.state_description().name, 0, &from}};
  auto bytes = migration::save_state_sections(source);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message();
  const StateSection target[] = {{to.state_description().name, 0, &to}};
  const Error error = migration::load_state_sections(target, *bytes);
  ASSERT_TRUE(error.ok()) << error.message();
}

TEST(DeviceState, TablesAreWellFormed) {
  ASSERT_EQ(hw_state_descriptions().size(), 16u);
  for (const StateDescription* description : hw_state_descriptions()) {
    const Error error = migration::check_state_description(*description);
    EXPECT_TRUE(error.ok()) << error.message();
  }
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

TEST(DeviceState, TimerNowHighHalfLatchSurvivesTransfer) {
  ManualDeviceClock clock;
  TimerDevice a(clock, {IrqLine(), IrqLine()});
  clock.advance_by((int64_t{5} << 32) * virt::kNsPerTick + 7 * virt::kNsPerTick);
  EXPECT_EQ(read32(a, virt::kTimerNowLo), 7u);  // latches NOW's upper half
  TimerDevice b(clock, {IrqLine(), IrqLine()});
  transfer(a, b);
  EXPECT_EQ(read32(b, virt::kTimerNowHi), 5u);
}

TEST(DeviceState, WatchdogAndRtcDeadlinesResumeAfterTransfer) {
  ManualDeviceClock clock(1'000'000);
  WatchdogDevice a(clock);
  write32(a, virt::kWdtTimeout, 500);
  write32(a, virt::kWdtCtrl, virt::kWdtCtrlEnable);
  RtcDevice rtc_a(clock, 100, IrqLine());
  write32(rtc_a, virt::kRtcAlarm, 103);
  clock.advance_by(200 * virt::kNsPerTick);

  WatchdogDevice b(clock);
  int expired = 0;
  b.set_expiry_handler([&] { ++expired; });
  transfer(a, b);
  test::RecordingIrqSink irqs;
  RtcDevice rtc_b(clock, 0, IrqLine(&irqs, 3));
  transfer(rtc_a, rtc_b);
  a.reset(false);
  write32(rtc_a, virt::kRtcAlarm, 0);
  EXPECT_EQ(read32(b, virt::kWdtCount), 300u);
  EXPECT_EQ(read32(rtc_b, virt::kRtcTime), 100u);
  write32(rtc_b, virt::kRtcCtrl, virt::kRtcCtrlAlarmIe);
  clock.advance_by(299 * virt::kNsPerTick);
  EXPECT_EQ(expired, 0);
  clock.advance_by(1 * virt::kNsPerTick);
  EXPECT_EQ(expired, 1);
  clock.advance_by(3'000'000'000);
  EXPECT_EQ(read32(rtc_b, virt::kRtcStatus), virt::kRtcStatusAlarm);
  EXPECT_TRUE(irqs.levels[3]);
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

TEST(DeviceState, UartPendingOutputIsRetriedAfterTransfer) {
  ManualDeviceClock clock;
  test::FakeCharBackend backend_a, backend_b;
  backend_a.accept_limit = 0;  // the host side is stuck: output stays queued
  UartDevice a("uart0", clock, &backend_a, IrqLine(), IrqLine());
  write32(a, virt::kUartData, 'o');
  write32(a, virt::kUartData, 'k');
  UartDevice b("uart0", clock, &backend_b, IrqLine(), IrqLine());
  transfer(a, b);
  EXPECT_TRUE(backend_b.output.empty());
  clock.advance_by(UartDevice::kTxRetryNs);
  EXPECT_EQ(std::string(backend_b.output.begin(), backend_b.output.end()), "ok");
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

TEST(DeviceState, FlashControllerStateSurvivesTransfer) {
  AddressSpace memory_a, memory_b;
  test::RecordingIrqSink irqs;
  auto a = FlashDevice::create(memory_a, virt::kFlashBase, "", IrqLine());
  auto b = FlashDevice::create(memory_b, virt::kFlashBase, "", IrqLine(&irqs, 9));
  ASSERT_TRUE(a.ok() && b.ok());
  write32(**a, virt::kFlashKey, virt::kFlashKey1);
  write32(**a, virt::kFlashKey, virt::kFlashKey2);
  write32(**a, virt::kFlashCtrl, virt::kFlashCtrlDoneIe);
  write32(**a, virt::kFlashAddr, 0x10);
  write32(**a, virt::kFlashData, 0x1234);
  write32(**a, virt::kFlashCmd, virt::kFlashCmdProgram);
  transfer(**a, **b);
  EXPECT_TRUE(irqs.levels[9]);  // DONE with DONE_IE: the line is driven again
  EXPECT_NE(read32(**b, virt::kFlashStatus) & virt::kFlashStatusUnlocked, 0u);
  EXPECT_EQ(read32(**b, virt::kFlashAddr), 0x10u);
}

TEST(DeviceState, PressedPowerButtonTravelsInItsSubsection) {
  test::RecordingIrqSink irqs_a, irqs_b;
  const SysctlConfig config{virt::kRamMinSize, virt::kSysCpuModelCr16cPlus, "CR16C+"};
  SysctlDevice a(config, IrqLine(&irqs_a, virt::kIrqPowerButton));
  // Untouched, the section carries no subsection: it matches docs/migration-format.md.
  auto plain = migration::save_state_object(a.state_description(), a.state_data());
  ASSERT_TRUE(plain.ok());
  write32(a, virt::kSysPowerCtrl, virt::kSysPowerCtrlButtonIe);
  a.press_power_button();
  ASSERT_TRUE(irqs_a.levels[virt::kIrqPowerButton]);
  auto pressed = migration::save_state_object(a.state_description(), a.state_data());
  ASSERT_TRUE(pressed.ok());
  EXPECT_GT(pressed->size(), plain->size());  // the power-button subsection came along
  SysctlDevice b(config, IrqLine(&irqs_b, virt::kIrqPowerButton));
  transfer(a, b);
  EXPECT_TRUE(irqs_b.levels[virt::kIrqPowerButton]);  // state_loaded re-drove the line
  EXPECT_EQ(read32(b, virt::kSysPowerStatus) & virt::kSysPowerStatusButton,
            virt::kSysPowerStatusButton);
}

TEST(DeviceState, InvalidFieldValuesAreRejected) {
  ManualDeviceClock clock;
  UartDevice uart("uart0", clock, nullptr, IrqLine(), IrqLine());
  const StateDescription& description = uart.state_description();
  const StateField* count = state_field_find(description, "rx_count");
  ASSERT_NE(count, nullptr);
  UartState candidate = uart.state();
  EXPECT_FALSE(state_field_set(*count, &candidate, 0x20).ok());  // outside the mask
  ASSERT_TRUE(state_field_set(*count, &candidate, 17).ok());     // inside the mask, too big
  EXPECT_FALSE(description.post_load(&candidate).ok());
}

TEST(DeviceState, RestoredStateAndRestartedClockReplayIdentically) {
  // What the MMIO fuzzer relies on to reuse one board: save the state, run,
  // put it back and restart the clock, run again: the same.
  ManualDeviceClock clock;
  test::RecordingIrqSink irqs;
  TimerDevice timer(clock, {IrqLine(&irqs, 0), IrqLine(&irqs, 1)});
  const StateSection sections[] = {{"timer", 0, &timer}};
  auto saved = migration::save_state_sections(sections);
  ASSERT_TRUE(saved.ok());
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
  ASSERT_TRUE(migration::load_state_sections(sections, *saved).ok());
  EXPECT_EQ(read32(timer, virt::kTimerChannelBase + virt::kTimerChCtrl), 0u);
  EXPECT_EQ(run(), first);
}

}  // namespace
}  // namespace cr16
