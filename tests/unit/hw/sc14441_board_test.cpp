// The sc14441 board as system/ sees it: its registry entry, the memory map,
// the boot ROM, a tiny ROM running on the CPU (UART output and a software
// reset), and the state sections.
#include "hw/sc14441_board.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>

#include "cpu/engines.h"
#include "hw/sc14441_dma.h"
#include "hw/sc14441_icu.h"
#include "hw/sc14441_qspi.h"
#include "hw/sc14441_sysregs.h"
#include "hw/sc14441_uart.h"
#include "hw/spi_nor_flash.h"
#include "migration/state_sections.h"
#include "sc14441_fixture.h"
#include "util/log.h"

namespace cr16 {
namespace {

using namespace sc14441;
using Sc14441BoardTest = test::Sc14441Fixture;

// cr16-elf-as, linked at 0xFEF000:
//   movw $2, r0 ; storw r0, 0xff4900      UART_CTRL = TEN
//   movw $3, r2
// loop:
//   movw $0x41, r1 ; storw r1, 0xff4902   send 'A'
//   addw $-1, r2 ; cmpw $0, r2 ; bne loop
//   movw $0x80, r0 ; storw r0, 0xff5004   DEBUG_REG = SW_RESET
// spin: br spin
const std::vector<uint8_t> kRom = {0x20, 0x5a, 0x13, 0x00, 0x0f, 0xff, 0x00, 0x49, 0x32, 0x5a,
                                   0xb1, 0x5a, 0x41, 0x00, 0x13, 0x00, 0x1f, 0xff, 0x02, 0x49,
                                   0x92, 0x32, 0x02, 0x52, 0x19, 0x1f, 0xb0, 0x5a, 0x80, 0x00,
                                   0x13, 0x00, 0x0f, 0xff, 0x04, 0x50, 0xe0, 0x10};

TEST(Sc14441Registry, LimitsAreTheBoardFacts) {
  const BoardType* type = find_board_type("sc14441");
  ASSERT_NE(type, nullptr);
  EXPECT_EQ(type, &sc14441_board_type());
  EXPECT_FALSE(type->is_default);
  const BoardLimits& limits = type->limits;
  EXPECT_EQ(limits.ram_min, 52u << 10);
  EXPECT_EQ(limits.ram_max, 52u << 10);
  EXPECT_EQ(limits.ram_default, 52u << 10);
  EXPECT_EQ(limits.flash_base, 0xFEF000u);
  EXPECT_EQ(limits.flash_size, 0x800u);
  EXPECT_EQ(limits.serial_ports, 2u);
  EXPECT_EQ(limits.default_cpu, CpuModel::kCr16c);
  EXPECT_STREQ(limits.default_firmware, "sc14441-bootrom.bin");
  EXPECT_TRUE(limits.firmware_is_boot_rom);
  EXPECT_EQ(limits.default_icount_shift, 8);
  EXPECT_FALSE(limits.semihosting);
  EXPECT_TRUE(limits.mtd_flash);
  EXPECT_TRUE(check_ram_size(*type, 52u << 10).ok());
  EXPECT_EQ(check_ram_size(*type, 64u << 10).message(), "the sc14441 board has a fixed 52K of RAM");
  EXPECT_NE(board_help_text().find("sc14441"), std::string::npos);
  EXPECT_STREQ(board_types().front()->name, "virt");
}

TEST_F(Sc14441BoardTest, RamWindowsAreThereAndZeroed) {
  for (uint32_t base : {kRam0Base, kRamAdmBase, kSharedRamBase}) {
    EXPECT_EQ(rd(base, AccessSize::kDword), 0u);
    wr(base + 2, 0xBEEF);
    EXPECT_EQ(rd(base + 2), 0xBEEFu);
  }
  EXPECT_EQ(rd(kSharedRamBase + kSharedRamSize - 2), 0u);
  uint32_t value = 0;
  EXPECT_EQ(board->memory().read_slow(kRam0Size, AccessSize::kWord, &value), BusStatus::kBusError);
  EXPECT_EQ(board->memory().read_slow(0x018000, AccessSize::kWord, &value), BusStatus::kBusError);
  EXPECT_EQ(board->ram_bytes(), 52u << 10);
}

TEST_F(Sc14441BoardTest, BootRomHoldsTheImageAndIsWhereTheCpuStarts) {
  BoardConfig config;
  config.bios_image = kRom;
  build(config);
  EXPECT_EQ(board->cpu().state().pc, kBootRomBase);
  EXPECT_EQ(board->reset_pc(), kBootRomBase);
  EXPECT_EQ(rd(kBootRomBase), 0x5A20u);
  wr(kBootRomBase, 0);  // ROM: dropped
  EXPECT_EQ(rd(kBootRomBase), 0x5A20u);
  EXPECT_EQ(rd(kBootRomBase + kBootRomSize), 0xFFFFu);
  config.bios_image.assign(kBootRomSize + 1, 0);
  config.serial = {&serial0, &serial1};
  auto too_big = Sc14441Board::create(config, clock);
  ASSERT_FALSE(too_big);
  EXPECT_NE(too_big.error().message().find("2 KiB"), std::string::npos);
}

TEST_F(Sc14441BoardTest, RomRunsWritesToTheUartAndResetsItself) {
  BoardConfig config;
  config.bios_image = kRom;
  build(config);
  board->run_slice(1000);
  EXPECT_EQ(std::string(serial0.output.begin(), serial0.output.end()), "AAA");
  EXPECT_EQ(resets, 1);  // DEBUG_REG.SW_RESET, delivered after the slice
  EXPECT_EQ(board->cpu().state().pc, kBootRomBase);
  board->run_slice(1000);
  EXPECT_EQ(std::string(serial0.output.begin(), serial0.output.end()), "AAAAAA");
  EXPECT_EQ(resets, 2);
}

std::vector<uint8_t> from_hex(const std::string& hex) {
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

// cr16-elf-as, linked at 0xFEF000: ISP = 0x14000, INTBASE = 0x10000,
// CFG.ED = 1, dispatch entry 21 (UART_TI) = 0xFEF100 >> 1, INT2_PRIORITY =
// 0x0020 (UART_TI priority 2), UART_CTRL = TEN, PSR.I = 1, ei, send 'K',
// spin. At 0xFEF100: movw $0x1234, r5; send 'I'; spin.
const std::string kIrqRomMain =
    "010500401400c010010500001400a01014008020b02600011400800070007f00807801c75400b05a2000"
    "13000fff0854205a13000fff004914009020b0260008140090000500b05a4b0013000fff0249e010";
const std::string kIrqRomHandler = "b55a3412b05a490013000fff0249e010";

TEST_F(Sc14441BoardTest, UartTiInterruptReachesItsHandlerThroughInta) {
  BoardConfig config;
  config.bios_image = from_hex(kIrqRomMain);
  config.bios_image.resize(0x100, 0);
  const std::vector<uint8_t> handler = from_hex(kIrqRomHandler);
  config.bios_image.insert(config.bios_image.end(), handler.begin(), handler.end());
  build(config);
  const StopReason reason = board->run_slice(200);
  EXPECT_NE(reason, StopReason::kGuestPanic) << board->cpu().panic_message();
  EXPECT_EQ(std::string(serial0.output.begin(), serial0.output.end()), "KI")
      << std::hex << board->cpu().state().pc;
  EXPECT_EQ(board->cpu().state().r[5], 0x1234u);
  // The handler's own byte latched a new UART_TI request; INTA cleared the first.
  EXPECT_EQ(rd(kSetIntPendingReg), 1u << kIrqUartTi);
  EXPECT_EQ(resets, 0);
}

// cr16-elf-as, linked at 0xFEF000: movw $0x12, r0; nop; nop; storw r0,
// 0xff6000 (at 0xFEF008); loadw 0xff6002, r1 (at 0xFEF00E); spin.
const std::string kUnimpRom = "b05a1200002c002c13000fff00601f890260e010";

TEST_F(Sc14441BoardTest, UnimplementedSfrLinesNameTheAccessingInstruction) {
  // Not the start of the translated block (0xFEF000): the store's and the
  // load's own addresses, as the CPU reports them to devices (access_pc()).
  const std::string path = testing::TempDir() + "sc14441-pc-" + std::to_string(getpid());
  ASSERT_TRUE(set_log_file(path).ok());
  const uint32_t saved_mask = log_mask();
  set_log_mask(static_cast<uint32_t>(LogCategory::kUnimp));
  BoardConfig config;
  config.bios_image = from_hex(kUnimpRom);
  build(config);
  board->run_slice(8);
  set_log_mask(saved_mask);
  ASSERT_TRUE(set_log_file("").ok());
  std::ifstream file(path);
  std::string log((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  EXPECT_NE(log.find("write of 0x0012 to 0xff6000 (16-bit) at pc 0xfef008"), std::string::npos)
      << log;
  EXPECT_NE(log.find("read at 0xff6002 (16-bit) at pc 0xfef00e"), std::string::npos) << log;
}

// cr16-elf-as, linked at 0xFEF000: movw $0x80, r0; movw $0, r2; loop:
// storw r0, DEBUG_REG (SW_RESET); addw $1, r2; storw r2, 0x100; br loop.
const std::string kResetLoopRom = "b05a8000025a13000fff0450123220c90001ea1f";

TEST_F(Sc14441BoardTest, AResetRequestEndsTheSliceAtTheBlockUnderEveryEngine) {
  // The request is delivered when the slice returns, and the slice returns
  // at the end of the block that asked: one pass of the loop, whatever the
  // engine (the JIT used to enter its translation again and again, up to
  // the budget, which also kept SIGTERM waiting behind a guest's DMA loop).
  for (const EngineKindInfo& info : engine_kinds()) {
    if (!engine_available(info.kind)) continue;
    SCOPED_TRACE(info.name);
    BoardConfig config;
    config.bios_image = from_hex(kResetLoopRom);
    build(config);
    board->cpu().set_engine(std::move(make_engine(info.kind, board->cpu()).value()));
    int requests = 0;
    board->set_reset_request_handler([&requests] { ++requests; });
    for (int slice = 1; slice <= 3; ++slice) {
      board->run_slice(1000);
      EXPECT_EQ(requests, slice);
      uint32_t passes = 0;
      ASSERT_EQ(board->memory().read_slow(0x100, AccessSize::kWord, &passes), BusStatus::kOk);
      EXPECT_EQ(passes, static_cast<uint32_t>(slice));
    }
  }
}

TEST_F(Sc14441BoardTest, StateSectionsRoundTripThroughTheEngine) {
  const std::vector<StateSection> sections = board->state_sections();
  std::vector<std::string> labels;
  for (const StateSection& section : sections) {
    EXPECT_NE(section.object, nullptr);
    labels.push_back(section.label());
  }
  EXPECT_EQ(labels,
            (std::vector<std::string>{"cpu.0", "sc14441-icu.0", "sc14441-uart.0", "sc14441-uart.1",
                                      "sc14441-dma.0", "sc14441-qspi.0", "sc14441-sysregs.0",
                                      "spi-nor.0", "spi-nor-contents.0"}));
  wr(kInt0PriorityReg + 4, 0x0002);
  wr(kUartBase + kUartCtrl, kUartRen | kUartTen);
  const uint8_t input[] = {'s', 't'};
  type(input);
  wr(kDmaBase + 0x20 + kDmaLenReg, 0x400);
  wr(kQspiBase + kQspiCtrlMode, 0x002C);
  wr(kWatchdogReg, 0x40);
  wr(kGpioBase + kGpioDir, 3);
  board->cpu().state().r[5] = 0x55;
  auto saved = migration::save_state_sections(board->state_sections());
  ASSERT_TRUE(saved.ok()) << saved.error().message();

  board->reset();
  (void)rd(kUartBase + kUartRxTx);
  board->cpu().state().r[5] = 0;
  ASSERT_TRUE(migration::load_state_sections(board->state_sections(), *saved).ok());
  EXPECT_EQ(board->cpu().state().r[5], 0x55u);
  EXPECT_EQ(rd(kInt0PriorityReg + 4), 2u);
  EXPECT_EQ(rd(kSetIntPendingReg), 1u << kIrqUartRi);
  EXPECT_EQ(rd(kDmaBase + 0x20 + kDmaLenReg), 0x400u);
  EXPECT_EQ(rd(kQspiBase + kQspiCtrlMode), 0x002Cu);
  EXPECT_EQ(rd(kWatchdogReg), 0x40u);
  EXPECT_EQ(rd(kGpioBase + kGpioDir), 3u);
  EXPECT_EQ(rd(kUartBase + kUartRxTx), uint32_t{'s'});
  EXPECT_EQ(rd(kUartBase + kUartRxTx), uint32_t{'t'});
  clock.advance_by(640'000'000);  // the reloaded watchdog's deadline was re-armed
  EXPECT_EQ(resets, 1);
}

TEST_F(Sc14441BoardTest, PeekingEverySfrChangesNothing) {
  wr(kInt0PriorityReg + 4, 0x0022);
  wr(kUartBase + kUartCtrl, kUartRen | kUartTen);
  const uint8_t input[] = {'p', 'q'};
  type(input);
  wr(kUartBase + kUartRxTx, 'x');
  wr(kQspiBase + kQspiCtrlBus, kQspiBusEnCs, AccessSize::kDword);
  wr(kQspiBase + kQspiWriteData, 0x9F, AccessSize::kByte);
  clock.advance_by(15'000'000);
  auto before = migration::save_state_sections(board->state_sections());
  ASSERT_TRUE(before.ok());
  for (uint32_t address = kSfrBase; address <= 0xFFFFFE; address += 2) {
    uint32_t value = 0;
    ASSERT_EQ(board->memory().peek(address, AccessSize::kWord, &value), BusStatus::kOk);
  }
  auto after = migration::save_state_sections(board->state_sections());
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(*before == *after);
  uint32_t value = 0;
  ASSERT_EQ(board->memory().peek(kUartBase + kUartRxTx, AccessSize::kWord, &value), BusStatus::kOk);
  EXPECT_EQ(value, uint32_t{'p'});
  ASSERT_EQ(board->memory().peek(kWatchdogReg, AccessSize::kWord, &value), BusStatus::kOk);
  EXPECT_EQ(value, 0xFEu);
  EXPECT_EQ(rd(kUartBase + kUartRxTx), uint32_t{'p'});  // the guest's read takes it
}

TEST_F(Sc14441BoardTest, DevicesListTheBlocks) {
  std::set<std::string> names;
  for (const BoardDevice& device : board->devices()) names.insert(device.name);
  for (const char* name :
       {"uart", "uart2", "dma", "icu", "qspi", "qspi-xip", "boot-rom", "watchdog", "chip-id"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
}

TEST_F(Sc14441BoardTest, RefusesPflashAndExtraSerialPorts) {
  BoardConfig config;
  config.pflash_path = "/tmp/nothing.img";
  EXPECT_FALSE(Sc14441Board::create(config, clock));
  BoardConfig three;
  three.serial = {&serial0, &serial1, &serial0};
  EXPECT_FALSE(Sc14441Board::create(three, clock));
}

}  // namespace
}  // namespace cr16
