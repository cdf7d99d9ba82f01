#include <gtest/gtest.h>

#include <string>

#include "hw/manual_device_clock.h"
#include "hw/sysctl.h"
#include "hw/virt_map.h"
#include "hw/watchdog.h"
#include "test_helpers.h"

namespace cr16 {
namespace {

using test::read32;
using test::write32;

constexpr int64_t kUs = 1000;

SysctlConfig plus_config() {
  return SysctlConfig{0x400000, 1, "CR16C+"};
}

TEST(Sysctl, ReportsIdentity) {
  SysctlDevice sysctl(plus_config());
  EXPECT_EQ(read32(sysctl, virt::kSysBoardId), virt::kSysBoardIdValue);
  EXPECT_EQ(read32(sysctl, virt::kSysBoardVersion), virt::kSysBoardVersionValue);
  EXPECT_EQ(read32(sysctl, virt::kSysRamSize), 0x400000u);
  EXPECT_EQ(read32(sysctl, virt::kSysFlashSize), virt::kFlashSize);
  EXPECT_EQ(read32(sysctl, virt::kSysCpuModel), virt::kSysCpuModelCr16cPlus);
  std::string name;
  for (uint32_t i = 0; i < virt::kSysNameLength; ++i) {
    uint32_t byte = sysctl.read(virt::kSysCpuName + i, AccessSize::kByte);
    if (byte == 0) break;
    name.push_back(static_cast<char>(byte));
  }
  EXPECT_EQ(name, "CR16C+");
  EXPECT_EQ(sysctl.read(virt::kSysBoardName, AccessSize::kWord), uint32_t{'v' | ('i' << 8)});
  EXPECT_EQ(read32(sysctl, virt::kSysBoardName), 0x74726976u);  // "virt"
  EXPECT_EQ(read32(sysctl, virt::kSysBoardName + 4), 0u);
}

TEST(Sysctl, PoweroffPassesTheExitCode) {
  SysctlDevice sysctl(plus_config());
  int code = -1;
  sysctl.set_poweroff_handler([&](int exit_code) { code = exit_code; });
  write32(sysctl, virt::kSysPoweroff, 0x1203);
  EXPECT_EQ(code, 3);
  sysctl.write(virt::kSysPoweroff, AccessSize::kByte, 0);
  EXPECT_EQ(code, 0);
}

TEST(Sysctl, ResetNeedsTheKey) {
  SysctlDevice sysctl(plus_config());
  int requests = 0;
  sysctl.set_reset_handler([&] { ++requests; });
  write32(sysctl, virt::kSysReset, 1);
  EXPECT_EQ(requests, 0);
  write32(sysctl, virt::kSysReset, virt::kSysResetKey);
  EXPECT_EQ(requests, 1);
}

TEST(Sysctl, ResetCauseAndScratch) {
  SysctlDevice sysctl(plus_config());
  EXPECT_EQ(read32(sysctl, virt::kSysResetCause), virt::kResetCausePowerOn);
  write32(sysctl, virt::kSysResetCause, virt::kResetCausePowerOn);
  EXPECT_EQ(read32(sysctl, virt::kSysResetCause), 0u);
  write32(sysctl, virt::kSysScratch, 0xDEADBEEF);
  sysctl.write(virt::kSysScratch + 2, AccessSize::kWord, 0x1234);
  EXPECT_EQ(read32(sysctl, virt::kSysScratch), 0x1234BEEFu);
  sysctl.reset(virt::kResetCauseSoftware);
  EXPECT_EQ(read32(sysctl, virt::kSysResetCause), virt::kResetCauseSoftware);
  EXPECT_EQ(read32(sysctl, virt::kSysScratch), 0x1234BEEFu);  // kept
  sysctl.reset(virt::kResetCausePowerOn);
  EXPECT_EQ(read32(sysctl, virt::kSysScratch), 0u);
  write32(sysctl, virt::kSysRamSize, 1);  // read-only
  EXPECT_EQ(read32(sysctl, virt::kSysRamSize), 0x400000u);
}

struct WatchdogFixture : ::testing::Test {
  WatchdogFixture() : clock(123'456), watchdog(clock) {
    watchdog.set_expiry_handler([this] { ++expiries; });
  }
  ManualDeviceClock clock;
  WatchdogDevice watchdog;
  int expiries = 0;
};

TEST_F(WatchdogFixture, ExpiresAfterTimeoutUnlessKicked) {
  EXPECT_EQ(read32(watchdog, virt::kWdtTimeout), virt::kWdtTimeoutReset);
  write32(watchdog, virt::kWdtTimeout, 1000);
  write32(watchdog, virt::kWdtCtrl, virt::kWdtCtrlEnable);
  EXPECT_EQ(read32(watchdog, virt::kWdtCount), 1000u);
  clock.advance_by(999 * kUs);
  EXPECT_EQ(read32(watchdog, virt::kWdtCount), 1u);
  write32(watchdog, virt::kWdtKick, virt::kWdtKickKey);
  EXPECT_EQ(read32(watchdog, virt::kWdtCount), 1000u);
  clock.advance_by(999 * kUs);
  EXPECT_EQ(expiries, 0);
  write32(watchdog, virt::kWdtKick, 0x12345678);  // wrong key: ignored
  clock.advance_by(1 * kUs);
  EXPECT_EQ(expiries, 1);
  EXPECT_EQ(read32(watchdog, virt::kWdtCtrl), 0u);  // disabled itself
  clock.advance_by(5000 * kUs);
  EXPECT_EQ(expiries, 1);
}

TEST_F(WatchdogFixture, DisabledWatchdogNeverFires) {
  write32(watchdog, virt::kWdtTimeout, 10);
  clock.advance_by(100 * kUs);
  write32(watchdog, virt::kWdtCtrl, virt::kWdtCtrlEnable);
  write32(watchdog, virt::kWdtCtrl, 0);
  clock.advance_by(100 * kUs);
  EXPECT_EQ(expiries, 0);
  EXPECT_EQ(clock.armed_count(), 0u);
}

TEST_F(WatchdogFixture, StatusTellsAWatchdogResetApart) {
  EXPECT_EQ(read32(watchdog, virt::kWdtStatus), 0u);
  watchdog.reset(true);
  EXPECT_EQ(read32(watchdog, virt::kWdtStatus), virt::kWdtStatusWdtReset);
  EXPECT_EQ(read32(watchdog, virt::kWdtCtrl), 0u);
  write32(watchdog, virt::kWdtStatus, virt::kWdtStatusWdtReset);
  EXPECT_EQ(read32(watchdog, virt::kWdtStatus), 0u);
  watchdog.reset(true);
  watchdog.reset(false);
  EXPECT_EQ(read32(watchdog, virt::kWdtStatus), 0u);
}

}  // namespace
}  // namespace cr16
