// The SC14441 system registers: the watchdog (10 ms steps, reload, freeze,
// expiry resets the chip), DEBUG_REG software reset, chip ID bytes,
// storage registers, GPIO, and unknown SFRs reading 0 with an unimp line.
#include "hw/sc14441_sysregs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>

#include "hw/sc14441_dma.h"
#include "hw/sc14441_uart.h"
#include "sc14441_fixture.h"
#include "util/log.h"

namespace cr16 {
namespace {

using namespace sc14441;
using Sc14441SysregsTest = test::Sc14441Fixture;

TEST_F(Sc14441SysregsTest, WatchdogCountsDownEveryTenMilliseconds) {
  EXPECT_EQ(rd(kWatchdogReg), 0xFFu);
  clock.advance_by(25'000'000);
  EXPECT_EQ(rd(kWatchdogReg), 0xFDu);
  wr(kWatchdogReg, 0x00FF);  // the loader's kick
  clock.advance_by(2'540'000'000);
  EXPECT_EQ(rd(kWatchdogReg), 1u);
  EXPECT_EQ(resets, 0);
  clock.advance_by(10'000'000);
  EXPECT_EQ(resets, 1);
  EXPECT_EQ(rd(kWatchdogReg), 0xFFu);  // the chip reset restarted it
}

TEST_F(Sc14441SysregsTest, WatchdogWriteReloadsIt) {
  wr(kWatchdogReg, 0x0003);
  clock.advance_by(29'000'000);
  EXPECT_EQ(resets, 0);
  wr(kWatchdogReg, 0x0003);
  clock.advance_by(29'000'000);
  EXPECT_EQ(resets, 0);
  clock.advance_by(1'000'000);
  EXPECT_EQ(resets, 1);
}

TEST_F(Sc14441SysregsTest, FreezeStopsTheWatchdog) {
  wr(kSetFreezeReg, kFreezeWatchdog);
  EXPECT_EQ(rd(kSetFreezeReg), kFreezeWatchdog);
  EXPECT_EQ(rd(kResetFreezeReg), kFreezeWatchdog);
  clock.advance_by(10'000'000'000);
  EXPECT_EQ(resets, 0);
  EXPECT_EQ(rd(kWatchdogReg), 0xFFu);
  wr(kResetFreezeReg, kFreezeWatchdog);
  EXPECT_EQ(rd(kSetFreezeReg), 0u);
  clock.advance_by(100'000'000);
  EXPECT_EQ(rd(kWatchdogReg), 0xF5u);
  clock.advance_by(2'450'000'000);
  EXPECT_EQ(resets, 1);
}

TEST_F(Sc14441SysregsTest, SoftwareResetResetsTheChipButKeepsRam) {
  wr(0x010080, 0x1234);
  wr(kUartBase + kUartCtrl, 3);
  wr(kInt0PriorityReg + 4, 2);
  wr(kDmaBase + 0x20 + kDmaLenReg, 0x400);
  wr(kSetFreezeReg, kFreezeWatchdog);
  wr(kClkAmbaReg, 0x000A);
  board->cpu().state().pc = 0x010100;
  wr(kDebugReg, rd(kDebugReg) | kDebugSwReset);  // the loader's read-modify-write
  EXPECT_EQ(resets, 1);
  EXPECT_EQ(board->cpu().state().pc, kBootRomBase);
  EXPECT_EQ(rd(0x010080), 0x1234u);
  EXPECT_EQ(rd(kUartBase + kUartCtrl), 0u);
  EXPECT_EQ(rd(kInt0PriorityReg + 4), 0u);
  EXPECT_EQ(rd(kDmaBase + 0x20 + kDmaLenReg), 0u);
  EXPECT_EQ(rd(kSetFreezeReg), 0u);
  EXPECT_EQ(rd(kClkAmbaReg), 0u);
  EXPECT_EQ(rd(kDebugReg), 0u);
  wr(kDebugReg, 0x1001);  // other bits are storage
  EXPECT_EQ(rd(kDebugReg), 0x1001u);
  EXPECT_EQ(resets, 1);
}

TEST_F(Sc14441SysregsTest, ChipIdBytesAreReadOnly) {
  const uint8_t expected[] = {0x34, 0x34, 0x31, 0x00, 0x00};
  for (uint32_t i = 0; i < 5; ++i) {
    EXPECT_EQ(rd(kChipId1Reg + i, AccessSize::kByte), expected[i]) << i;
  }
  EXPECT_EQ(rd(kChipId1Reg), 0x3434u);
  EXPECT_EQ(rd(kChipId1Reg + 1), 0x3134u);            // odd address: two bytes
  EXPECT_EQ(rd(kChipIdBase, AccessSize::kByte), 0u);  // TEST1
  EXPECT_EQ(rd(0xFFFBFF, AccessSize::kByte), 0u);     // CONFIG3
  wr(kChipId1Reg, 0, AccessSize::kByte);
  EXPECT_EQ(rd(kChipId1Reg, AccessSize::kByte), 0x34u);
}

TEST_F(Sc14441SysregsTest, StorageRegistersKeepWhatIsWritten) {
  EXPECT_NE(rd(kBatStatusReg) & 0x8, 0u);
  wr(kBatStatusReg, 0);
  EXPECT_NE(rd(kBatStatusReg) & 0x8, 0u);
  wr(kBatCtrl2Reg, rd(kBatCtrl2Reg) | 0x8000);
  EXPECT_EQ(rd(kBatCtrl2Reg), 0x8000u);
  wr(kCpCtrlReg, 0x0105);
  EXPECT_EQ(rd(kCpCtrlReg), 0x0105u);
  wr(kClkPer10DivReg, 0x0500);
  EXPECT_EQ(rd(kClkPer10DivReg), 0x0500u);
  wr(kClkPllCtrlReg, 0x00C3, AccessSize::kByte);
  EXPECT_EQ(rd(kClkPllCtrlReg), 0x00C3u);
  wr(kTimerCtrlReg, 0x0010);
  EXPECT_EQ(rd(kTimerCtrlReg), 0x0010u);
  wr(kTestEnvReg, 1);
  EXPECT_EQ(rd(kTestEnvReg), 1u);
}

TEST_F(Sc14441SysregsTest, GpioSetAndResetActOnData) {
  const uint32_t p1 = kGpioBase + 0x10;
  wr(kGpioBase + kGpioDir, rd(kGpioBase + kGpioDir) | 3);
  wr(kGpioBase + kGpioMode, rd(kGpioBase + kGpioMode) | 1);
  EXPECT_EQ(rd(kGpioBase + kGpioDir), 3u);
  EXPECT_EQ(rd(kGpioBase + kGpioMode), 1u);
  wr(p1 + kGpioSetData, 0x00F0);
  wr(p1 + kGpioResetData, 0x0030);
  EXPECT_EQ(rd(p1 + kGpioData), 0x00C0u);
  EXPECT_EQ(rd(kGpioBase + kGpioData), 0u);
}

TEST_F(Sc14441SysregsTest, UnknownSfrsReadZeroAndAreLoggedAsUnimplemented) {
  const std::string path = testing::TempDir() + "sc14441-unimp-" + std::to_string(getpid());
  ASSERT_TRUE(set_log_file(path).ok());
  const uint32_t saved_mask = log_mask();
  set_log_mask(static_cast<uint32_t>(LogCategory::kUnimp));
  wr(0xFF6000, 0x0012);
  EXPECT_EQ(rd(0xFF6000), 0u);
  EXPECT_EQ(rd(0xFF4904), 0u);  // UART_CLEAR_TX_INT reads 0 but is modelled
  set_log_mask(saved_mask);
  ASSERT_TRUE(set_log_file("").ok());
  std::ifstream file(path);
  std::string log((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  EXPECT_NE(log.find("sc14441: unimplemented SFR write of 0x0012 to 0xff6000 (16-bit) at pc "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("unimplemented SFR read at 0xff6000 (16-bit)"), std::string::npos) << log;
  EXPECT_EQ(log.find("0xff4904"), std::string::npos) << log;
}

TEST_F(Sc14441SysregsTest, RandomAccessesAnywhereInTheSfrWindowNeverCrash) {
  std::mt19937 random(1);
  const AccessSize sizes[] = {AccessSize::kByte, AccessSize::kWord, AccessSize::kDword};
  for (int i = 0; i < 100000; ++i) {
    // Mostly the modelled blocks, sometimes anywhere.
    const uint32_t blocks[] = {kQspiBase, kClkBase,    kDmaBase,        kPowerBase,
                               kUartBase, kTimerBase,  kWatchdogReg,    kSysCtlBase,
                               kIcuBase,  kChipIdBase, kAckBase + 0x200};
    uint32_t address = (random() % 4 == 0) ? kSfrBase + random() % kSfrSize
                                           : blocks[random() % 11] + random() % 0x40;
    address &= 0xFFFFFF;
    if (address < kSfrBase) continue;
    const AccessSize size = sizes[random() % 3];
    uint32_t value = random();
    if (random() & 1) {
      (void)board->memory().write_slow(address, size, value);
    } else {
      (void)board->memory().read_slow(address, size, &value);
    }
    if (i % 100 == 0) {
      const uint8_t input[] = {static_cast<uint8_t>(value), 0xA5};
      type(input);
      clock.advance_by(random() % 20'000'000);
    }
  }
  SUCCEED();
}

}  // namespace
}  // namespace cr16
