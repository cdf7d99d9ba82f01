#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "hw/manual_device_clock.h"
#include "hw/sysctl.h"
#include "hw/virt_map.h"
#include "hw/watchdog.h"
#include "test_helpers.h"
#include "util/log.h"

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

TEST(Sysctl, PoweroffNeedsTheKeyAndPassesTheExitCode) {
  SysctlDevice sysctl(plus_config());
  int code = -1;
  int calls = 0;
  sysctl.set_poweroff_handler([&](int exit_code) {
    code = exit_code;
    ++calls;
  });
  write32(sysctl, virt::kSysPoweroff, virt::kSysPoweroffKey | 3);
  EXPECT_EQ(code, 3);
  write32(sysctl, virt::kSysPoweroff, virt::kSysPoweroffKey);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(calls, 2);
}

TEST(Sysctl, StrayPoweroffWritesAreIgnored) {
  // What a runaway stack pushes through the device window: any value
  // without the key, and narrow writes even of the key's bytes.
  SysctlDevice sysctl(plus_config());
  int calls = 0;
  sysctl.set_poweroff_handler([&](int) { ++calls; });
  for (uint32_t value : {0u, 1u, 0x1203u, 0xFFFFFFFFu, 0x504F5600u, 0x404F5701u}) {
    write32(sysctl, virt::kSysPoweroff, value);
  }
  sysctl.write(virt::kSysPoweroff, AccessSize::kByte, 0);
  sysctl.write(virt::kSysPoweroff, AccessSize::kWord, 0x5700);
  sysctl.write(virt::kSysPoweroff + 2, AccessSize::kWord, 0x504F);
  EXPECT_EQ(calls, 0);
}

TEST(Sysctl, StrayPoweroffWritesAreLoggedAsGuestErrors) {
  SysctlDevice sysctl(plus_config());
  std::string path = testing::TempDir() + "sysctl-log-" + std::to_string(getpid()) + ".txt";
  ASSERT_TRUE(set_log_file(path).ok());
  uint32_t saved_mask = log_mask();
  set_log_mask(static_cast<uint32_t>(LogCategory::kGuestErrors));
  write32(sysctl, virt::kSysPoweroff, 0x1234);
  set_log_mask(saved_mask);
  ASSERT_TRUE(set_log_file("").ok());
  std::ifstream file(path);
  std::string log((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  EXPECT_NE(log.find("SYS_POWEROFF written with 0x00001234"), std::string::npos) << log;
}

// Records the level of one interrupt source.
struct LevelSink : IrqSink {
  void set_irq_level(unsigned source, bool level) override {
    last_source = source;
    this->level = level;
  }
  unsigned last_source = 99;
  bool level = false;
};

TEST(Sysctl, PowerButtonSetsStatusAndInterruptsWhenEnabled) {
  LevelSink sink;
  SysctlDevice sysctl(plus_config(), IrqLine(&sink, virt::kIrqPowerButton));
  EXPECT_EQ(read32(sysctl, virt::kSysPowerStatus), 0u);
  sysctl.press_power_button();
  EXPECT_EQ(read32(sysctl, virt::kSysPowerStatus), virt::kSysPowerStatusButton);
  EXPECT_FALSE(sink.level);  // not enabled yet
  write32(sysctl, virt::kSysPowerCtrl, virt::kSysPowerCtrlButtonIe);
  EXPECT_EQ(read32(sysctl, virt::kSysPowerCtrl), virt::kSysPowerCtrlButtonIe);
  EXPECT_TRUE(sink.level);
  EXPECT_EQ(sink.last_source, virt::kIrqPowerButton);
  write32(sysctl, virt::kSysPowerStatus, virt::kSysPowerStatusButton);  // W1C
  EXPECT_EQ(read32(sysctl, virt::kSysPowerStatus), 0u);
  EXPECT_FALSE(sink.level);
  sysctl.press_power_button();
  EXPECT_TRUE(sink.level);
  sysctl.reset(virt::kResetCauseExternal);  // every reset forgets the button
  EXPECT_FALSE(sink.level);
  EXPECT_EQ(read32(sysctl, virt::kSysPowerStatus), 0u);
  EXPECT_EQ(read32(sysctl, virt::kSysPowerCtrl), 0u);
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
