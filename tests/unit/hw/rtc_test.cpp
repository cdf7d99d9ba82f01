#include "hw/rtc.h"

#include <gtest/gtest.h>

#include "hw/manual_device_clock.h"
#include "hw/virt_map.h"
#include "test_helpers.h"

namespace cr16 {
namespace {

using test::read32;
using test::write32;

constexpr int64_t kSecond = 1'000'000'000;

struct RtcFixture : ::testing::Test {
  RtcFixture() : clock(777), rtc(clock, 1'700'000'000u, IrqLine(&irqs, virt::kIrqRtc)) {}
  ManualDeviceClock clock;
  test::RecordingIrqSink irqs;
  RtcDevice rtc;
};

TEST_F(RtcFixture, StartsAtHostTimeAndAdvancesWithVirtualTime) {
  EXPECT_EQ(read32(rtc, virt::kRtcTime), 1'700'000'000u);
  clock.advance_by(2 * kSecond + kSecond / 2);
  EXPECT_EQ(read32(rtc, virt::kRtcTime), 1'700'000'002u);
}

TEST_F(RtcFixture, WritingTimeSetsIt) {
  clock.advance_by(kSecond / 2);
  write32(rtc, virt::kRtcTime, 5000);
  EXPECT_EQ(read32(rtc, virt::kRtcTime), 5000u);
  clock.advance_by(kSecond - 1);
  EXPECT_EQ(read32(rtc, virt::kRtcTime), 5000u);
  clock.advance_by(1);
  EXPECT_EQ(read32(rtc, virt::kRtcTime), 5001u);
  rtc.write(virt::kRtcTime, AccessSize::kByte, 0xFF);  // narrow write: low byte only
  EXPECT_EQ(read32(rtc, virt::kRtcTime), (5001u & ~0xFFu) | 0xFF);
}

TEST_F(RtcFixture, AlarmFiresWhenTimeBecomesEqual) {
  write32(rtc, virt::kRtcTime, 100);
  write32(rtc, virt::kRtcAlarm, 103);
  write32(rtc, virt::kRtcCtrl, virt::kRtcCtrlAlarmIe);
  clock.advance_by(3 * kSecond - 1);
  EXPECT_EQ(read32(rtc, virt::kRtcStatus), 0u);
  EXPECT_FALSE(irqs.levels[virt::kIrqRtc]);
  clock.advance_by(1);
  EXPECT_EQ(read32(rtc, virt::kRtcStatus), virt::kRtcStatusAlarm);
  EXPECT_TRUE(irqs.levels[virt::kIrqRtc]);
  write32(rtc, virt::kRtcStatus, virt::kRtcStatusAlarm);
  EXPECT_FALSE(irqs.levels[virt::kIrqRtc]);
}

TEST_F(RtcFixture, ResetKeepsTimeButClearsAlarm) {
  write32(rtc, virt::kRtcTime, 42);
  write32(rtc, virt::kRtcAlarm, 50);
  write32(rtc, virt::kRtcCtrl, 1);
  rtc.reset();
  EXPECT_EQ(read32(rtc, virt::kRtcTime), 42u);
  EXPECT_EQ(read32(rtc, virt::kRtcAlarm), 0u);
  EXPECT_EQ(read32(rtc, virt::kRtcCtrl), 0u);
  clock.advance_by(10 * kSecond);
  EXPECT_EQ(read32(rtc, virt::kRtcStatus), 0u);
}

}  // namespace
}  // namespace cr16
