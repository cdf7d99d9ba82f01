#include "hw/timer.h"

#include <gtest/gtest.h>

#include "hw/manual_device_clock.h"
#include "hw/virt_map.h"
#include "test_helpers.h"

namespace cr16 {
namespace {

using test::read32;
using test::write32;

constexpr int64_t kUs = 1000;

uint32_t ch(unsigned channel, uint32_t reg) {
  return virt::kTimerChannelBase + channel * virt::kTimerChannelStride + reg;
}

struct TimerFixture : ::testing::Test {
  TimerFixture()
      : clock(5'000'000),
        timer(clock, {IrqLine(&irqs, virt::kIrqTimer0), IrqLine(&irqs, virt::kIrqTimer1)}) {}
  bool line(unsigned channel) const { return irqs.levels[channel]; }
  bool expired(unsigned channel) {
    return read32(timer, ch(channel, virt::kTimerChStatus)) & virt::kTimerChStatusExpired;
  }

  ManualDeviceClock clock;
  test::RecordingIrqSink irqs;
  TimerDevice timer;
};

TEST_F(TimerFixture, FreeRunningCounterCountsMicrosecondsSinceReset) {
  EXPECT_EQ(read32(timer, virt::kTimerFreq), virt::kTimerFreqHz);
  EXPECT_EQ(read32(timer, virt::kTimerNowLo), 0u);
  clock.advance_by(1500 * kUs + 999);
  EXPECT_EQ(read32(timer, virt::kTimerNowLo), 1500u);
  EXPECT_EQ(read32(timer, virt::kTimerNowHi), 0u);
  clock.advance_by((int64_t{1} << 32) * kUs);
  EXPECT_EQ(read32(timer, virt::kTimerNowHi), 0u);  // latched by the last NOW_LO read
  EXPECT_EQ(read32(timer, virt::kTimerNowLo), 1500u);
  EXPECT_EQ(read32(timer, virt::kTimerNowHi), 1u);
  timer.reset();
  EXPECT_EQ(read32(timer, virt::kTimerNowLo), 0u);
}

TEST_F(TimerFixture, PeriodicChannelExpiresEveryLoadTicks) {
  write32(timer, ch(0, virt::kTimerChLoad), 100);
  write32(timer, ch(0, virt::kTimerChCtrl), virt::kTimerChCtrlEnable | virt::kTimerChCtrlIe);
  EXPECT_EQ(read32(timer, ch(0, virt::kTimerChCount)), 100u);
  clock.advance_by(99 * kUs);
  EXPECT_EQ(read32(timer, ch(0, virt::kTimerChCount)), 1u);
  EXPECT_FALSE(expired(0));
  EXPECT_FALSE(line(0));
  clock.advance_by(1 * kUs);
  EXPECT_TRUE(expired(0));
  EXPECT_TRUE(line(0));
  EXPECT_EQ(read32(timer, ch(0, virt::kTimerChCount)), 100u);  // reloaded in the same tick
  write32(timer, ch(0, virt::kTimerChStatus), virt::kTimerChStatusExpired);
  EXPECT_FALSE(line(0));
  clock.advance_by(100 * kUs);
  EXPECT_TRUE(line(0));
  EXPECT_FALSE(line(1));
}

TEST_F(TimerFixture, LateDeadlineCatchesUpWithoutDrift) {
  write32(timer, ch(1, virt::kTimerChLoad), 100);
  write32(timer, ch(1, virt::kTimerChCtrl), virt::kTimerChCtrlEnable);
  // Read the count 350 µs later without the deadline having fired in between.
  ManualDeviceClock& c = clock;
  int64_t target = c.now_ns() + 350 * kUs;
  c.advance_to(target);
  EXPECT_EQ(read32(timer, ch(1, virt::kTimerChCount)), 50u);
  EXPECT_TRUE(expired(1));
  EXPECT_FALSE(line(1));  // IE off: status only
}

TEST_F(TimerFixture, OneShotChannelStopsAfterExpiry) {
  write32(timer, ch(0, virt::kTimerChLoad), 10);
  write32(timer, ch(0, virt::kTimerChCtrl),
          virt::kTimerChCtrlEnable | virt::kTimerChCtrlOneshot | virt::kTimerChCtrlIe);
  clock.advance_by(10 * kUs);
  EXPECT_TRUE(line(0));
  EXPECT_EQ(read32(timer, ch(0, virt::kTimerChCount)), 0u);
  EXPECT_EQ(read32(timer, ch(0, virt::kTimerChCtrl)) & virt::kTimerChCtrlEnable, 0u);
  write32(timer, ch(0, virt::kTimerChStatus), virt::kTimerChStatusExpired);
  clock.advance_by(1000 * kUs);
  EXPECT_FALSE(line(0));
  EXPECT_EQ(clock.armed_count(), 0u);
}

TEST_F(TimerFixture, DisablingKeepsCountAndLoadChangesOnlyNextReload) {
  write32(timer, ch(0, virt::kTimerChLoad), 50);
  write32(timer, ch(0, virt::kTimerChCtrl), virt::kTimerChCtrlEnable);
  clock.advance_by(20 * kUs);
  write32(timer, ch(0, virt::kTimerChLoad), 10);
  EXPECT_EQ(read32(timer, ch(0, virt::kTimerChCount)), 30u);
  write32(timer, ch(0, virt::kTimerChCtrl), 0);
  clock.advance_by(500 * kUs);
  EXPECT_EQ(read32(timer, ch(0, virt::kTimerChCount)), 30u);
  EXPECT_FALSE(expired(0));
  EXPECT_EQ(clock.armed_count(), 0u);
  // Re-enabling reloads from the new LOAD.
  write32(timer, ch(0, virt::kTimerChCtrl), virt::kTimerChCtrlEnable);
  EXPECT_EQ(read32(timer, ch(0, virt::kTimerChCount)), 10u);
}

TEST_F(TimerFixture, LoadOfZeroCountsAsOne) {
  write32(timer, ch(0, virt::kTimerChCtrl), virt::kTimerChCtrlEnable | virt::kTimerChCtrlIe);
  EXPECT_EQ(read32(timer, ch(0, virt::kTimerChCount)), 1u);
  clock.advance_by(1 * kUs);
  EXPECT_TRUE(line(0));
}

TEST_F(TimerFixture, ResetStopsChannels) {
  write32(timer, ch(0, virt::kTimerChLoad), 5);
  write32(timer, ch(0, virt::kTimerChCtrl), virt::kTimerChCtrlEnable | virt::kTimerChCtrlIe);
  clock.advance_by(5 * kUs);
  EXPECT_TRUE(line(0));
  timer.reset();
  EXPECT_FALSE(line(0));
  EXPECT_EQ(clock.armed_count(), 0u);
  EXPECT_EQ(read32(timer, ch(0, virt::kTimerChLoad)), 0u);
}

}  // namespace
}  // namespace cr16
