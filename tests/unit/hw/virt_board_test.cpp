// The virt board with the real CPU: hand-assembled programs (bytes from
// cr16-elf-as, listed beside each instruction) run from flash and RAM, talk
// to the UART, take a timer interrupt through the ICU and power off.
#include "hw/virt_board.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <optional>
#include <string>
#include <vector>

#include "hw/display.h"
#include "hw/keyboard.h"
#include "hw/manual_device_clock.h"
#include "hw/sysctl.h"
#include "hw/virt_map.h"
#include "hw/watchdog.h"
#include "test_helpers.h"

namespace cr16 {
namespace {

// Prints "Hi" on UART0, powers off with code 7 (a 32-bit write of the
// power-off key | 7), then waits.
const std::vector<uint8_t> kHelloProgram = {
    0x70, 0x00, 0xff, 0x00, 0x00, 0x01,  // movd $0xff0100, (r1,r0)
    0xb2, 0x5a, 0x48, 0x00,              // movw $0x48, r2
    0x20, 0xd0,                          // storw r2, 0(r1,r0)
    0xb2, 0x5a, 0x69, 0x00,              // movw $0x69, r2
    0x20, 0xd0,                          // storw r2, 0(r1,r0)
    0x70, 0x00, 0xff, 0x00, 0x18, 0x00,  // movd $0xff0018, (r1,r0)
    0x72, 0x00, 0x4f, 0x50, 0x07, 0x57,  // movd $0x504f5707, (r3,r2)
    0x20, 0xe0,                          // stord (r3,r2), 0(r1,r0)
    0x06, 0x00,                          // wait
};

// Sets SP/ISP/INTBASE (0x6000)/CFG.ED, enables ICU source 0, starts timer
// channel 0 one-shot for 10 µs with IE, enables interrupts (PSR.I|E) and
// waits; the handler (at +0x50) sets r4 = 42, clears the timer, prints "I"
// and returns; then the program powers off with code r4 (key | r4).
const std::vector<uint8_t> kTimerInterruptProgram = {
    0xf0, 0x05, 0x00, 0x80,              // movd $0x8000, (sp)
    0xb0, 0x54, 0x00, 0x70,              // movd $0x7000, (r1,r0)
    0x14, 0x00, 0xc0, 0x10,              // lprd (r1,r0), isp
    0xb0, 0x54, 0x00, 0x60,              // movd $0x6000, (r1,r0)
    0x14, 0x00, 0xa0, 0x10,              // lprd (r1,r0), intbase
    0xb0, 0x5a, 0x00, 0x01,              // movw $0x100, r0
    0x14, 0x00, 0x80, 0x00,              // lpr r0, cfg
    0x72, 0x00, 0xff, 0x00, 0x18, 0xfc,  // movd $0xfffc18, (r3,r2)
    0x10, 0x5a,                          // movw $1, r0
    0x02, 0xd0,                          // storw r0, 0(r3,r2)
    0x72, 0x00, 0xff, 0x00, 0x20, 0x03,  // movd $0xff0320, (r3,r2)
    0xa0, 0x5a,                          // movw $10, r0
    0x02, 0xd0,                          // storw r0, 0(r3,r2)
    0x70, 0x5a,                          // movw $7, r0
    0x02, 0xd4,                          // storw r0, 8(r3,r2)
    0xb0, 0x5a, 0x00, 0x0a,              // movw $0xa00, r0
    0x14, 0x00, 0x90, 0x00,              // lpr r0, psr
    0x06, 0x00,                          // wait
    0x72, 0x00, 0xff, 0x00, 0x18, 0x00,  // movd $0xff0018, (r3,r2)
    0xb5, 0x5a, 0x4f, 0x50,              // movw $0x504f, r5
    0xb4, 0x26, 0x00, 0x57,              // orw $0x5700, r4
    0x42, 0xe0,                          // stord (r5,r4), 0(r3,r2)
    0x06, 0x00,                          // wait
    // handler (offset 0x50):
    0xb4, 0x5a, 0x2a, 0x00,              // movw $0x2a, r4
    0x72, 0x00, 0xff, 0x00, 0x2c, 0x03,  // movd $0xff032c, (r3,r2)
    0x10, 0x5a,                          // movw $1, r0
    0x02, 0xd0,                          // storw r0, 0(r3,r2)
    0x72, 0x00, 0xff, 0x00, 0x00, 0x01,  // movd $0xff0100, (r3,r2)
    0xb0, 0x5a, 0x49, 0x00,              // movw $0x49, r0
    0x02, 0xd0,                          // storw r0, 0(r3,r2)
    0x03, 0x00,                          // retx
};
constexpr uint32_t kHandlerOffset = 0x50;

struct BoardFixture : ::testing::Test {
  std::unique_ptr<VirtBoard> make(std::vector<uint8_t> bios, uint32_t ram = 2u << 20) {
    VirtConfig config;
    config.ram_bytes = ram;
    config.bios_image = std::move(bios);
    config.serial = {&serial0, nullptr};
    auto board = VirtBoard::create(config, clock);
    EXPECT_TRUE(board.has_value()) << board.error().message();
    if (!board) return nullptr;
    (*board)->set_poweroff_handler([this](int code) { exit_code = code; });
    (*board)->set_reset_request_handler([this] { ++reset_requests; });
    return std::move(*board);
  }
  std::string output() const { return std::string(serial0.output.begin(), serial0.output.end()); }

  ManualDeviceClock clock;
  test::FakeCharBackend serial0;
  std::optional<int> exit_code;
  int reset_requests = 0;
};

TEST_F(BoardFixture, RunsFirmwareFromFlash) {
  auto board = make(kHelloProgram);
  ASSERT_TRUE(board);
  EXPECT_EQ(board->flash_base(), 0xE00000u);
  board->reset(board->flash_base());
  StopReason reason = board->run_slice(1000);
  EXPECT_EQ(output(), "Hi");
  ASSERT_TRUE(exit_code.has_value());
  EXPECT_EQ(*exit_code, 7);
  EXPECT_NE(reason, StopReason::kBudget);
}

TEST_F(BoardFixture, RunsCodeLoadedIntoRam) {
  auto board = make({});
  ASSERT_TRUE(board);
  ASSERT_TRUE(board->memory().write_bytes(0x1000, kHelloProgram).ok());
  board->reset(0x1000);
  (void)board->run_slice(1000);
  EXPECT_EQ(output(), "Hi");
  EXPECT_EQ(exit_code, 7);
}

TEST_F(BoardFixture, TimerInterruptWakesTheCpuThroughTheIcu) {
  auto board = make(kTimerInterruptProgram);
  ASSERT_TRUE(board);
  // Dispatch table entry for vector 16 (ED=1: handler address >> 1).
  uint32_t entry = (board->flash_base() + kHandlerOffset) >> 1;
  const uint8_t entry_bytes[] = {uint8_t(entry), uint8_t(entry >> 8), uint8_t(entry >> 16), 0};
  ASSERT_TRUE(board->memory().write_bytes(0x6000 + 4 * virt::kIrqVectorBase, entry_bytes).ok());
  board->reset(board->flash_base());
  EXPECT_EQ(board->run_slice(1000), StopReason::kHalted);
  EXPECT_TRUE(board->cpu().halted());
  EXPECT_FALSE(exit_code.has_value());
  clock.advance_by(10 * virt::kNsPerTick);  // the timer expires
  EXPECT_TRUE(board->cpu().irq_line());
  (void)board->run_slice(1000);
  EXPECT_EQ(output(), "I");
  EXPECT_EQ(exit_code, 42);
}

TEST_F(BoardFixture, ReprogrammedFlashCodeIsExecutedNotTheStaleBlock) {
  auto board = make(kHelloProgram);
  ASSERT_TRUE(board);
  board->reset(board->flash_base());
  (void)board->run_slice(1000);
  ASSERT_EQ(output(), "Hi");
  // Program the immediate of "movw $0x48, r2" (flash offset 8) to 0x40 ('@'):
  // NOR programming ANDs, 0x48 & 0x40 = 0x40.
  AddressSpace& memory = board->memory();
  auto reg = [&](uint32_t offset, uint32_t value) {
    ASSERT_EQ(memory.write_slow(virt::kFlashControlBase + offset, AccessSize::kDword, value),
              BusStatus::kOk);
  };
  reg(virt::kFlashKey, virt::kFlashKey1);
  reg(virt::kFlashKey, virt::kFlashKey2);
  reg(virt::kFlashAddr, 8);
  reg(virt::kFlashData, 0x0040);
  reg(virt::kFlashCmd, virt::kFlashCmdProgram);
  EXPECT_FALSE(memory.code_page_watched(board->flash_base() >> kPageBits));
  // Jump back to the start without a reset (which would drop every block).
  board->cpu().state().halted = 0;
  board->cpu().state().pc = board->flash_base();
  serial0.output.clear();
  (void)board->run_slice(1000);
  EXPECT_EQ(output(), "@i");
}

TEST_F(BoardFixture, PflashFileKeepsTheFirmwareAcrossMachines) {
  char pattern[] = "/tmp/cr16-board-test-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  std::string path = std::string(pattern) + "/flash.img";
  {
    VirtConfig config;
    config.bios_image = kHelloProgram;
    config.pflash_path = path;
    config.pflash_create = true;  // a new image, erased, then the firmware over it
    auto board = VirtBoard::create(config, clock);
    ASSERT_TRUE(board.has_value()) << board.error().message();
  }
  VirtConfig config;  // no -bios this time: the code comes from the file
  config.pflash_path = path;
  config.serial = {&serial0, nullptr};
  auto board = VirtBoard::create(config, clock);
  ASSERT_TRUE(board.has_value()) << board.error().message();
  (*board)->set_poweroff_handler([this](int code) { exit_code = code; });
  (*board)->reset((*board)->flash_base());
  (void)(*board)->run_slice(1000);
  EXPECT_EQ(output(), "Hi");
  EXPECT_EQ(exit_code, 7);
  std::remove(path.c_str());
  rmdir(pattern);
}

TEST_F(BoardFixture, SysctlResetRequestIsDeliveredAfterTheSlice) {
  // movd $0xff001c,(r1,r0); movd $0x52534554,(r3,r2); stord (r3,r2),0(r1,r0); wait
  auto board = make({});
  ASSERT_TRUE(board);
  const std::vector<uint8_t> program = {
      0x70, 0x00, 0xff, 0x00, 0x1c, 0x00,  // movd $0xff001c, (r1,r0)
      0x72, 0x00, 0x53, 0x52, 0x54, 0x45,  // movd $0x52534554, (r3,r2)
      0x20, 0xe0,                          // stord (r3,r2), 0(r1,r0)
      0x06, 0x00,                          // wait
  };
  ASSERT_TRUE(board->memory().write_bytes(0x100, program).ok());
  board->reset(0x100);
  (void)board->run_slice(1000);
  EXPECT_EQ(reset_requests, 1);
  // The handler resets the machine; the sysctl then reports a software reset.
  board->reset(0x100);
  uint32_t cause = 0;
  ASSERT_EQ(board->memory().read_slow(virt::kSysctlBase + virt::kSysResetCause, AccessSize::kDword,
                                      &cause),
            BusStatus::kOk);
  EXPECT_EQ(cause, virt::kResetCauseSoftware);
}

TEST_F(BoardFixture, WatchdogExpiryRequestsResetWithWatchdogCause) {
  auto board = make({});
  ASSERT_TRUE(board);
  AddressSpace& memory = board->memory();
  ASSERT_EQ(memory.write_slow(virt::kWatchdogBase + virt::kWdtTimeout, AccessSize::kDword, 100),
            BusStatus::kOk);
  ASSERT_EQ(memory.write_slow(virt::kWatchdogBase + virt::kWdtCtrl, AccessSize::kDword, 1),
            BusStatus::kOk);
  clock.advance_by(100 * virt::kNsPerTick);
  EXPECT_EQ(reset_requests, 1);
  board->reset(board->flash_base());
  uint32_t value = 0;
  ASSERT_EQ(memory.read_slow(virt::kSysctlBase + virt::kSysResetCause, AccessSize::kDword, &value),
            BusStatus::kOk);
  EXPECT_EQ(value, virt::kResetCauseWatchdog);
  ASSERT_EQ(memory.read_slow(virt::kWatchdogBase + virt::kWdtStatus, AccessSize::kDword, &value),
            BusStatus::kOk);
  EXPECT_EQ(value, virt::kWdtStatusWdtReset);
  // The next reset is an external one and clears the watchdog flag.
  board->reset(board->flash_base());
  ASSERT_EQ(memory.read_slow(virt::kSysctlBase + virt::kSysResetCause, AccessSize::kDword, &value),
            BusStatus::kOk);
  EXPECT_EQ(value, virt::kResetCauseExternal);
  ASSERT_EQ(memory.read_slow(virt::kWatchdogBase + virt::kWdtStatus, AccessSize::kDword, &value),
            BusStatus::kOk);
  EXPECT_EQ(value, 0u);
}

TEST_F(BoardFixture, MemoryMapMatchesTheDocument) {
  auto board = make({}, 0x100000);
  ASSERT_TRUE(board);
  AddressSpace& memory = board->memory();
  uint32_t value = 0;
  EXPECT_EQ(memory.read_slow(0x0FFFFE, AccessSize::kWord, &value), BusStatus::kOk);
  EXPECT_EQ(memory.read_slow(0x100000, AccessSize::kWord, &value), BusStatus::kBusError);
  EXPECT_EQ(memory.read_slow(0xF00000, AccessSize::kWord, &value), BusStatus::kBusError);
  EXPECT_EQ(memory.read_slow(0xFF0800, AccessSize::kWord, &value), BusStatus::kBusError);
  ASSERT_EQ(memory.read_slow(virt::kSysctlBase + virt::kSysRamSize, AccessSize::kDword, &value),
            BusStatus::kOk);
  EXPECT_EQ(value, 0x100000u);
  ASSERT_EQ(memory.read_slow(virt::kSysctlBase + virt::kSysResetCause, AccessSize::kDword, &value),
            BusStatus::kOk);
  EXPECT_EQ(value, virt::kResetCausePowerOn);
  ASSERT_EQ(memory.read_slow(virt::kDisplayBase + virt::kDispWidth, AccessSize::kDword, &value),
            BusStatus::kOk);
  EXPECT_EQ(value, 320u);
  ASSERT_EQ(memory.read_slow(virt::kKeyboardBase + virt::kKbdFifoDepth, AccessSize::kDword, &value),
            BusStatus::kOk);
  EXPECT_EQ(value, virt::kKbdFifoSize);
  EXPECT_EQ(memory.read_slow(virt::kFlashBase + virt::kFlashSize - 2, AccessSize::kWord, &value),
            BusStatus::kOk);
  EXPECT_EQ(value, 0xFFFFu);
  EXPECT_TRUE(memory.range_is_memory(0, 0x100000));
  EXPECT_FALSE(memory.range_is_memory(virt::kUart0Base, 4));
  EXPECT_EQ(board->stateful_devices().size(), 10u);
}

TEST_F(BoardFixture, DisplayAndKeyboardLinesReachTheIcu) {
  auto board = make({});
  ASSERT_TRUE(board);
  board->reset(0x1000);
  const size_t armed_at_reset = clock.armed_count();
  AddressSpace& memory = board->memory();
  auto write = [&](uint32_t address, uint32_t value) {
    ASSERT_EQ(memory.write_slow(address, AccessSize::kDword, value), BusStatus::kOk);
  };
  auto raw = [&] {
    uint32_t value = 0;
    EXPECT_EQ(memory.read_slow(virt::kIcuBase + virt::kIcuRaw, AccessSize::kDword, &value),
              BusStatus::kOk);
    return value;
  };
  write(virt::kDisplayBase + virt::kDispCtrl, virt::kDispCtrlEnable | virt::kDispCtrlVblankIe);
  EXPECT_EQ(raw(), 0u);
  clock.advance_by(1'000'000'000 / 60);
  EXPECT_EQ(raw(), 1u << virt::kIrqDisplay);
  write(virt::kDisplayBase + virt::kDispStatus, virt::kDispStatusVblank);
  EXPECT_EQ(raw(), 0u);
  write(virt::kKeyboardBase + virt::kKbdCtrl, virt::kKbdCtrlIe);
  const uint8_t key[] = {0x1E};
  ASSERT_TRUE(board->keyboard().push_scancodes(key));
  EXPECT_EQ(raw(), 1u << virt::kIrqKeyboard);
  board->reset(0x1000);  // every reset clears both devices
  EXPECT_EQ(raw(), 0u);
  EXPECT_FALSE(board->display().enabled());
  EXPECT_EQ(board->keyboard().level(), 0u);
  EXPECT_EQ(clock.armed_count(), armed_at_reset);  // no vblank deadline left
}

TEST_F(BoardFixture, RejectsBadConfiguration) {
  VirtConfig config;
  config.ram_bytes = 15u << 20;
  auto too_big = VirtBoard::create(config, clock);
  ASSERT_FALSE(too_big.has_value());
  EXPECT_NE(too_big.error().message().find("RAM size"), std::string::npos);
  config.ram_bytes = 0x10800;
  EXPECT_FALSE(VirtBoard::create(config, clock).has_value());
  config.ram_bytes = 2u << 20;
  config.bios_image.resize(virt::kFlashSize + 1);
  auto big_bios = VirtBoard::create(config, clock);
  ASSERT_FALSE(big_bios.has_value());
  EXPECT_NE(big_bios.error().message().find("larger than the 1 MiB flash"), std::string::npos);
}

TEST_F(BoardFixture, CpuModelIsReported) {
  VirtConfig config;
  config.cpu_model = CpuModel::kCr16c;
  auto board = VirtBoard::create(config, clock);
  ASSERT_TRUE(board.has_value());
  uint32_t value = 0;
  ASSERT_EQ((*board)->memory().read_slow(virt::kSysctlBase + virt::kSysCpuModel, AccessSize::kDword,
                                         &value),
            BusStatus::kOk);
  EXPECT_EQ(value, virt::kSysCpuModelCr16c);
  ASSERT_EQ((*board)->memory().read_slow(virt::kSysctlBase + virt::kSysCpuName, AccessSize::kDword,
                                         &value),
            BusStatus::kOk);
  EXPECT_EQ(value, 0x36315243u);  // "CR16"
}

}  // namespace
}  // namespace cr16
