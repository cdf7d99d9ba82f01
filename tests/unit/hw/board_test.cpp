// The board registry and the Board interface as system/ sees it: limits and
// property checks with clear messages, creation through the registry, the
// state sections (one per CPU and device, instances told apart by id), and
// programmer errors that stop instead of silently meaning something else.
#include "hw/board.h"

#include <gtest/gtest.h>

#include <set>

#include "hw/manual_device_clock.h"
#include "hw/rtc.h"
#include "hw/virt_board.h"
#include "hw/virt_map.h"
#include "migration/state_sections.h"
#include "test_helpers.h"

namespace cr16 {
namespace {

TEST(BoardRegistry, VirtIsTheDefaultAndListedFirst) {
  ASSERT_FALSE(board_types().empty());
  EXPECT_STREQ(board_types().front()->name, "virt");
  EXPECT_STREQ(default_board_type().name, "virt");
  EXPECT_EQ(find_board_type("virt"), &virt_board_type());
  EXPECT_EQ(find_board_type("pc"), nullptr);
  std::string help = board_help_text();
  EXPECT_NE(help.find("virt "), std::string::npos);
  EXPECT_NE(help.find("(default)"), std::string::npos);
}

TEST(BoardRegistry, VirtLimitsAreTheBoardFacts) {
  const BoardLimits& limits = virt_board_type().limits;
  EXPECT_EQ(limits.ram_min, 64u << 10);
  EXPECT_EQ(limits.ram_max, 14u << 20);
  EXPECT_EQ(limits.ram_default, 2u << 20);
  EXPECT_EQ(limits.ram_granule, 4096u);
  EXPECT_EQ(limits.flash_base, 0xE00000u);
  EXPECT_EQ(limits.flash_size, 1u << 20);
  EXPECT_EQ(limits.serial_ports, 2u);
  EXPECT_EQ(limits.default_cpu, CpuModel::kCr16cPlus);
}

TEST(BoardRegistry, RamSizeOutsideTheLimitsNamesThem) {
  const BoardType& virt = virt_board_type();
  EXPECT_TRUE(check_ram_size(virt, 64u << 10).ok());
  EXPECT_TRUE(check_ram_size(virt, 14u << 20).ok());
  Error small = check_ram_size(virt, 8u << 10);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.message(),
            "RAM size must be a multiple of 4K between 64K and 14M on the virt board");
  EXPECT_FALSE(check_ram_size(virt, (14u << 20) + 4096).ok());
  EXPECT_FALSE(check_ram_size(virt, (64u << 10) + 2).ok());
}

TEST(BoardRegistry, FormatSizeUsesTheLargestExactUnit) {
  EXPECT_EQ(format_size(64u << 10), "64K");
  EXPECT_EQ(format_size(14u << 20), "14M");
  EXPECT_EQ(format_size(1536u << 10), "1536K");
  EXPECT_EQ(format_size(uint64_t{2} << 30), "2G");
  EXPECT_EQ(format_size(4097), "4097B");
}

TEST(BoardRegistry, UnknownPropertyIsNamedWithTheKnownOnes) {
  const BoardType& virt = virt_board_type();
  Error unknown = check_board_property(virt, "foo", "bar");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("'foo'"), std::string::npos);
  EXPECT_NE(unknown.message().find("rtc-base"), std::string::npos);
  EXPECT_TRUE(check_board_property(virt, "rtc-base", "now").ok());
  EXPECT_TRUE(check_board_property(virt, "rtc-base", "1000000000").ok());
  Error bad = check_board_property(virt, "rtc-base", "yesterday");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("rtc-base"), std::string::npos);
  EXPECT_NE(bad.message().find("yesterday"), std::string::npos);
}

struct RegistryBoard : ::testing::Test {
  std::unique_ptr<Board> make(BoardConfig config) {
    auto board = default_board_type().create(config, clock);
    EXPECT_TRUE(board) << board.error().message();
    return board ? std::move(*board) : nullptr;
  }
  ManualDeviceClock clock;
  test::FakeCharBackend serial0, serial1;
};

TEST_F(RegistryBoard, CreatesThroughTheRegistryWithDefaults) {
  auto board = make({});
  ASSERT_TRUE(board);
  EXPECT_STREQ(board->type().name, "virt");
  EXPECT_EQ(board->ram_bytes(), 2u << 20);  // 0 = the board's default
  EXPECT_EQ(board->serial_port_count(), 2u);
  EXPECT_EQ(board->reset_pc(), 0xE00000u);
  EXPECT_EQ(board->cpu().model(), CpuModel::kCr16cPlus);
}

TEST_F(RegistryBoard, RefusesMoreSerialBackendsThanPortsAndUnknownProperties) {
  BoardConfig config;
  config.serial = {&serial0, &serial1, &serial0};
  auto too_many = default_board_type().create(config, clock);
  ASSERT_FALSE(too_many);
  EXPECT_NE(too_many.error().message().find("2 serial ports"), std::string::npos);
  BoardConfig props;
  props.properties["foo"] = "bar";
  auto unknown = default_board_type().create(props, clock);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("'foo'"), std::string::npos);
}

TEST_F(RegistryBoard, RtcBasePropertySetsThePowerOnReading) {
  BoardConfig config;
  config.properties["rtc-base"] = "1234567";
  auto board = make(config);
  ASSERT_TRUE(board);
  uint32_t seconds = 0;
  ASSERT_EQ(
      board->memory().read_slow(virt::kRtcBase + virt::kRtcTime, AccessSize::kDword, &seconds),
      BusStatus::kOk);
  EXPECT_EQ(seconds, 1234567u);
}

TEST_F(RegistryBoard, StateSectionsNameTheCpuAndEveryDeviceOnce) {
  auto board = make({});
  ASSERT_TRUE(board);
  std::vector<StateSection> sections = board->state_sections();
  std::set<std::string> labels;
  for (const StateSection& section : sections) {
    EXPECT_NE(section.object, nullptr) << section.label();
    EXPECT_TRUE(labels.insert(section.label()).second) << "duplicate " << section.label();
  }
  EXPECT_EQ(sections.front().label(), "cpu.0");
  for (const char* label : {"icu.0", "sysctl.0", "uart.0", "uart.1", "timer.0", "rtc.0",
                            "watchdog.0", "flash.0", "display.0", "keyboard.0"}) {
    EXPECT_TRUE(labels.count(label)) << label;
  }
  EXPECT_EQ(sections.size(), 11u);
}

TEST_F(RegistryBoard, SectionsSaveAndLoadTheCpuAndDevicesThroughTheEngine) {
  auto board = make({});
  ASSERT_TRUE(board);
  Stateful* cpu = board->state_sections().front().object;
  EXPECT_STREQ(cpu->state_description().name, "cpu");
  EXPECT_EQ(cpu->state_data(), &board->cpu().state());
  board->cpu().state().r[3] = 0x1234;
  auto saved = migration::save_state_sections(board->state_sections());
  ASSERT_TRUE(saved.ok()) << saved.error().message();
  board->cpu().state().r[3] = 0;
  ASSERT_TRUE(migration::load_state_sections(board->state_sections(), *saved).ok());
  EXPECT_EQ(board->cpu().state().r[3], 0x1234u);
}

TEST_F(RegistryBoard, DevicesListTheWindows) {
  auto board = make({});
  ASSERT_TRUE(board);
  bool found = false;
  for (const BoardDevice& device : board->devices()) {
    if (device.name == "uart1") {
      found = true;
      EXPECT_EQ(device.type, "uart");
      EXPECT_EQ(device.base, virt::kUart1Base);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(RegistryBoard, ResetStartsAtTheResetPc) {
  auto board = make({});
  ASSERT_TRUE(board);
  board->set_reset_pc(0x1000);
  board->cpu().state().pc = 0x2222;
  board->reset();
  EXPECT_EQ(board->cpu().state().pc, 0x1000u);
  board->request_powerdown();  // reaches the sysctl button; the guest decides
}

TEST(VirtBoardDeathTest, UartIndexOutOfRangeIsAProgrammingError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ManualDeviceClock clock;
  auto board = VirtBoard::create({}, clock);
  ASSERT_TRUE(board);
  EXPECT_DEATH((*board)->uart(2), "not UART 2");
}

}  // namespace
}  // namespace cr16
