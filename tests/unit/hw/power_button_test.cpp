// The power button end to end on the virt board with the real default
// firmware (roms/virt-firmware.bin): pressing it (what the monitor's
// system_powerdown does) makes the firmware print a line and power off
// cleanly with code 0.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "hw/manual_device_clock.h"
#include "hw/sysctl.h"
#include "hw/virt_board.h"
#include "hw/virt_map.h"
#include "test_helpers.h"

namespace cr16 {
namespace {

std::vector<uint8_t> default_firmware() {
  std::string here = __FILE__;  // tests/unit/hw/power_button_test.cpp
  std::string root = here.substr(0, here.rfind("/tests/unit/hw/"));
  std::ifstream in(root + "/roms/virt-firmware.bin", std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

struct PowerButton : ::testing::Test {
  std::string output() const { return std::string(serial0.output.begin(), serial0.output.end()); }
  // Runs the machine (1 ms of virtual time per slice) until `text` appears
  // on UART0 or the guest powers off.
  bool run_until(VirtBoard& board, const std::string& text) {
    for (int i = 0; i < 2000 && !exit_code; ++i) {
      if (output().find(text) != std::string::npos) return true;
      (void)board.run_slice(20000);
      clock.advance_by(1000000);
    }
    return output().find(text) != std::string::npos;
  }

  ManualDeviceClock clock;
  test::FakeCharBackend serial0;
  std::optional<int> exit_code;
};

TEST_F(PowerButton, DefaultFirmwarePowersOffWhenPressed) {
  std::vector<uint8_t> firmware = default_firmware();
  ASSERT_FALSE(firmware.empty());
  VirtConfig config;
  config.bios_image = firmware;
  config.serial = {&serial0, nullptr};
  auto board = VirtBoard::create(config, clock);
  ASSERT_TRUE(board.has_value()) << board.error().message();
  (*board)->set_poweroff_handler([this](int code) { exit_code = code; });
  (*board)->reset((*board)->flash_base());
  ASSERT_TRUE(run_until(**board, "cr16> ")) << output();
  EXPECT_FALSE(exit_code.has_value());
  (*board)->sysctl().press_power_button();
  run_until(**board, "never printed");
  ASSERT_TRUE(exit_code.has_value()) << output();
  EXPECT_EQ(*exit_code, 0);
  EXPECT_NE(output().find("power button pressed: powering off"), std::string::npos) << output();
}

}  // namespace
}  // namespace cr16
