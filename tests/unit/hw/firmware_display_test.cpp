// The default firmware (roms/virt-firmware.bin) with the display and the
// keyboard: the boot screen it draws (checked pixel for pixel through a
// checksum), lines typed on the keyboard (PC scancode set 1) running like
// lines typed on UART0, and the `gfx` and `anim` commands switching the
// display's mode and coming back to the console.
//
// With CR16_FIRMWARE_DISPLAY_DUMP=DIR set, each test writes the pictures it
// checks as PPM files into DIR (to look at them, or to record a new
// checksum after changing the boot screen on purpose).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "hw/display.h"
#include "hw/keyboard.h"
#include "hw/manual_device_clock.h"
#include "hw/virt_board.h"
#include "hw/virt_map.h"
#include "test_helpers.h"

namespace cr16 {
namespace {

constexpr uint32_t kConsoleFramebuffer = 0x03E000;  // roms/README.md, RAM layout
constexpr uint32_t kGraphicsFramebuffer = 0x0D4000;
constexpr uint32_t kLogoRows = 112;

// CRC-32 (IEEE, as zlib.crc32) of the picture as RGB bytes, row-major: the
// pixel data of a P6 PPM screendump of it.
uint32_t picture_crc(const std::vector<uint32_t>& pixels, size_t count) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < count; ++i) {
    const uint8_t rgb[3] = {static_cast<uint8_t>(pixels[i] >> 16),
                            static_cast<uint8_t>(pixels[i] >> 8), static_cast<uint8_t>(pixels[i])};
    for (uint8_t byte : rgb) {
      crc ^= byte;
      for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
  }
  return ~crc;
}

// Set 1 make codes of the US layout for the characters the tests type;
// `shift` tells whether Shift must be held.
struct KeyCode {
  uint8_t code;
  bool shift;
};

std::optional<KeyCode> key_for(char c) {
  static const std::string kRows[] = {"1234567890-=", "qwertyuiop[]", "asdfghjkl;'`",
                                      "\\zxcvbnm,./"};
  static const std::string kShiftedRows[] = {"!@#$%^&*()_+", "QWERTYUIOP{}", "ASDFGHJKL:\"~",
                                             "|ZXCVBNM<>?"};
  static const uint8_t kFirstCode[] = {0x02, 0x10, 0x1E, 0x2B};
  if (c == ' ') return KeyCode{0x39, false};
  if (c == '\r') return KeyCode{0x1C, false};
  if (c == '\b') return KeyCode{0x0E, false};
  for (int row = 0; row < 4; ++row) {
    size_t at = kRows[row].find(c);
    if (at != std::string::npos) return KeyCode{static_cast<uint8_t>(kFirstCode[row] + at), false};
    at = kShiftedRows[row].find(c);
    if (at != std::string::npos) return KeyCode{static_cast<uint8_t>(kFirstCode[row] + at), true};
  }
  return std::nullopt;
}

std::vector<uint8_t> default_firmware() {
  std::string here = __FILE__;  // tests/unit/hw/firmware_display_test.cpp
  std::string root = here.substr(0, here.rfind("/tests/unit/hw/"));
  std::ifstream in(root + "/roms/virt-firmware.bin", std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

class FirmwareDisplay : public ::testing::Test {
 protected:
  void SetUp() override {
    VirtConfig config;
    config.bios_image = default_firmware();
    ASSERT_FALSE(config.bios_image.empty());
    config.serial = {&serial0, nullptr};
    auto created = VirtBoard::create(config, clock);
    ASSERT_TRUE(created.has_value()) << created.error().message();
    board = std::move(*created);
    board->set_poweroff_handler([this](int code) { exit_code = code; });
    board->reset(board->flash_base());
    ASSERT_TRUE(run_until("cr16> ")) << output();
  }

  std::string output() const { return std::string(serial0.output.begin(), serial0.output.end()); }

  // Runs 1 ms of virtual time (at most kBudget instructions).
  void step() {
    constexpr uint64_t kBudget = 100000;
    (void)board->run_slice(kBudget);
    clock.advance_by(1000000);
  }

  // Runs until `text` appears on UART0 after byte `from` (at most `ms`
  // milliseconds of virtual time).
  bool run_until(const std::string& text, size_t from = 0, int ms = 3000) {
    for (int i = 0; i < ms && !exit_code; ++i) {
      if (output().find(text, from) != std::string::npos) return true;
      step();
    }
    return output().find(text, from) != std::string::npos;
  }

  void run_ms(int ms) {
    for (int i = 0; i < ms; ++i) step();
  }

  // Presses and releases the key of `c` (with Shift around it if needed),
  // running the machine between the events as a typist would.
  void press(const KeyCode& key) {
    auto event = [this](std::initializer_list<uint8_t> codes) {
      ASSERT_TRUE(board->keyboard().push_scancodes(std::vector<uint8_t>(codes)));
      run_ms(2);
    };
    if (key.shift) event({0x2A});
    event({key.code});
    event({static_cast<uint8_t>(key.code | 0x80)});
    if (key.shift) event({0xAA});
  }

  void type_on_keyboard(const std::string& text) {
    for (char c : text) {
      std::optional<KeyCode> key = key_for(c);
      ASSERT_TRUE(key.has_value()) << "no key for '" << c << "'";
      press(*key);
    }
  }

  std::vector<uint32_t> pixels() const {
    std::vector<uint32_t> out;
    board->display().read_pixels(&out);
    return out;
  }

  void dump(const std::string& name) const {
    const char* directory = std::getenv("CR16_FIRMWARE_DISPLAY_DUMP");
    if (!directory) return;
    DisplayMode mode = board->display().mode();
    std::vector<uint32_t> picture = pixels();
    std::ofstream out(std::string(directory) + "/" + name + ".ppm", std::ios::binary);
    out << "P6\n" << mode.width << " " << mode.height << "\n255\n";
    for (uint32_t p : picture) {
      const char rgb[3] = {static_cast<char>(p >> 16), static_cast<char>(p >> 8),
                           static_cast<char>(p)};
      out.write(rgb, 3);
    }
  }

  ManualDeviceClock clock;
  test::FakeCharBackend serial0;
  std::unique_ptr<VirtBoard> board;
  std::optional<int> exit_code;
};

TEST_F(FirmwareDisplay, BootScreenIsTheRecordedPicture) {
  DisplayDevice& display = board->display();
  ASSERT_TRUE(display.enabled());
  DisplayMode mode = display.mode();
  EXPECT_EQ(mode.width, 640u);
  EXPECT_EQ(mode.height, 480u);
  EXPECT_EQ(mode.format, PixelFormat::kRgb565);
  EXPECT_EQ(mode.base, kConsoleFramebuffer);
  EXPECT_TRUE(display.framebuffer_valid());
  dump("boot");
  std::vector<uint32_t> picture = pixels();
  ASSERT_EQ(picture.size(), 640u * 480u);
  size_t black = 0;
  for (uint32_t p : picture) black += (p & 0xFFFFFF) == 0;
  EXPECT_LT(black, picture.size());
  // The logo alone, then the whole screen: logo, banner, prompt and cursor.
  // A deliberate change of the boot screen or the font changes these.
  EXPECT_EQ(picture_crc(picture, 640u * kLogoRows), 0x4713BA76u);
  EXPECT_EQ(picture_crc(picture, picture.size()), 0x54EEAA4Au);
  // The banner's text shows up in the console rows: some pixels below the
  // logo are lit.
  size_t lit = 0;
  for (size_t i = 640u * kLogoRows; i < picture.size(); ++i) lit += (picture[i] & 0xFFFFFF) != 0;
  EXPECT_GT(lit, 1000u);
}

TEST_F(FirmwareDisplay, KeyboardLineRunsLikeAUartLine) {
  size_t start = output().size();
  type_on_keyboard("echo Hello, World! (a_b) \"q\" ~x|y\r");
  EXPECT_TRUE(run_until("cr16> ", start + 1)) << output();
  EXPECT_EQ(output().substr(start),
            "echo Hello, World! (a_b) \"q\" ~x|y\r\nHello, World! (a_b) \"q\" ~x|y\r\ncr16> ");
}

TEST_F(FirmwareDisplay, KeyboardBackspaceAndUnknownCommand) {
  size_t start = output().size();
  type_on_keyboard("echx\bo 1+1=2\r");
  ASSERT_TRUE(run_until("cr16> ", start + 1)) << output();
  EXPECT_EQ(output().substr(start), "echx\b \bo 1+1=2\r\n1+1=2\r\ncr16> ");
  start = output().size();
  type_on_keyboard("Nope\r");
  ASSERT_TRUE(run_until("cr16> ", start + 1)) << output();
  EXPECT_EQ(output().substr(start), "Nope\r\nerror: unknown command 'Nope' (try 'help')\r\ncr16> ");
}

TEST_F(FirmwareDisplay, CapsLockCtrlCAndExtendedKeys) {
  size_t start = output().size();
  press({0x3A, false});  // Caps Lock on
  type_on_keyboard("echo ");
  press({0x3A, false});  // and off again
  type_on_keyboard("Abc");
  // Cursor up (0xE0 0x48 / 0xE0 0xC8) types nothing; keypad Enter ends the line.
  ASSERT_TRUE(board->keyboard().push_scancodes(std::vector<uint8_t>{0xE0, 0x48}));
  ASSERT_TRUE(board->keyboard().push_scancodes(std::vector<uint8_t>{0xE0, 0xC8}));
  ASSERT_TRUE(board->keyboard().push_scancodes(std::vector<uint8_t>{0xE0, 0x1C}));
  ASSERT_TRUE(run_until("cr16> ", start + 1)) << output();
  EXPECT_EQ(output().substr(start),
            "ECHO Abc\r\nerror: unknown command 'ECHO' (try 'help')\r\ncr16> ");
  // Ctrl-C on the keyboard stops `count` like 0x03 on the UART.
  start = output().size();
  type_on_keyboard("count 100000\r");
  ASSERT_TRUE(run_until("\r\n3\r\n", start)) << output();
  ASSERT_TRUE(board->keyboard().push_scancodes(std::vector<uint8_t>{0x1D}));  // Ctrl
  press({0x2E, false});                                                       // C
  ASSERT_TRUE(board->keyboard().push_scancodes(std::vector<uint8_t>{0x9D}));
  EXPECT_TRUE(run_until("count: stopped at", start)) << output();
  EXPECT_TRUE(run_until("cr16> ", start + 1)) << output();
}

TEST_F(FirmwareDisplay, GfxShowsThePatternUntilAKey) {
  std::vector<uint32_t> console = pixels();
  size_t start = output().size();
  type_on_keyboard("gfx\r");
  ASSERT_TRUE(run_until("cr16> ", start + 1)) << output();
  EXPECT_NE(output().find("gfx: test pattern on the display"), std::string::npos) << output();
  EXPECT_EQ(board->display().mode().base, kGraphicsFramebuffer);
  EXPECT_EQ(board->display().mode().format, PixelFormat::kRgb565);
  dump("gfx");
  std::vector<uint32_t> pattern = pixels();
  EXPECT_EQ(pattern[640 * 100 + 40] & 0xFFFFFF, 0xFFFFFFu);  // the white bar
  EXPECT_EQ(pattern[640 * 100 + 520] & 0xFFFFFF, 0x0000FFu) << std::hex << pattern[640 * 100 + 520];
  // The next key (here on the UART) brings the console back, with the
  // lines printed meanwhile.
  start = output().size();
  serial0.type(std::vector<uint8_t>{'e', 'c', 'h', 'o', ' ', 'k', '\r'});
  ASSERT_TRUE(run_until("cr16> ", start + 1)) << output();
  EXPECT_EQ(board->display().mode().base, kConsoleFramebuffer);
  dump("after-gfx");
  EXPECT_NE(pixels(), console);
}

TEST_F(FirmwareDisplay, AnimChangesEveryPixelEachFrameUntilAKey) {
  size_t start = output().size();
  type_on_keyboard("anim\r");
  ASSERT_TRUE(run_until("until a key is pressed\r\n", start)) << output();
  run_ms(200);
  DisplayMode mode = board->display().mode();
  EXPECT_EQ(mode.format, PixelFormat::kXrgb8888);
  EXPECT_EQ(mode.base, kGraphicsFramebuffer);
  EXPECT_EQ(mode.width, 640u);
  std::vector<uint32_t> first = pixels();
  dump("anim");
  // Run to the next frame: every pixel differs.
  uint32_t frame = board->display().state().frames;
  while (board->display().state().frames < frame + 3) step();
  std::vector<uint32_t> second = pixels();
  size_t same = 0;
  for (size_t i = 0; i < first.size(); ++i) same += (first[i] & 0xFFFFFF) == (second[i] & 0xFFFFFF);
  EXPECT_EQ(same, 0u);
  start = output().size();
  press({0x39, false});  // space
  ASSERT_TRUE(run_until("cr16> ", start)) << output();
  std::string tail = output().substr(start);
  unsigned long frames = 0;
  ASSERT_EQ(std::sscanf(tail.c_str(), "anim: %lu frames\r\ncr16> ", &frames), 1) << tail;
  EXPECT_GT(frames, 2u);
  mode = board->display().mode();
  EXPECT_EQ(mode.format, PixelFormat::kRgb565);
  EXPECT_EQ(mode.base, kConsoleFramebuffer);
}

}  // namespace
}  // namespace cr16
