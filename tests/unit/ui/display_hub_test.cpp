// The display hub over a real display controller and keyboard: the screen
// follows the framebuffer at vertical blank, listeners hear only rows that
// really changed, mode changes resize, disabling turns the screen black,
// capture() reads afresh, and keys reach the keyboard FIFO as set 1 bytes,
// send_keys() all or nothing.
#include <gtest/gtest.h>

#include <vector>

#include "hw/address_space.h"
#include "hw/display.h"
#include "hw/keyboard.h"
#include "hw/manual_device_clock.h"
#include "hw/virt_map.h"
#include "test_helpers.h"
#include "ui/display_hub.h"

namespace cr16::ui {
namespace {

using test::read32;
using test::write32;
using namespace virt;

constexpr int64_t kFrameNs = 1'000'000'000 / 60 + 1;
constexpr uint32_t kBase = 0x100000;

struct RecordingListener : DisplayListener {
  void screen_updated(const Screen& screen, const ScreenUpdate& update) override {
    updates.push_back(update);
    last_width = screen.width;
    last_pixel = screen.pixels.empty() ? 0 : screen.pixels[0];
  }
  std::vector<ScreenUpdate> updates;
  uint32_t last_width = 0;
  uint32_t last_pixel = 0;
};

struct DisplayHubTest : ::testing::Test {
  DisplayHubTest()
      : display(clock, memory, IrqLine(&irqs, kIrqDisplay)),
        keyboard(IrqLine(&irqs, kIrqKeyboard)),
        hub(display, keyboard) {
    ram = *memory.add_ram("ram", 0, 0x200000);
    write32(display, kDispBase, kBase);
  }
  void enable() { write32(display, kDispCtrl, kDispCtrlEnable); }
  void put565(uint32_t x, uint32_t y, uint16_t value) {
    const uint8_t bytes[2] = {static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8)};
    ASSERT_TRUE(memory.write_bytes(kBase + y * 640 + x * 2, bytes).ok());
  }
  void frame() { clock.advance_by(kFrameNs); }

  ManualDeviceClock clock;
  AddressSpace memory;
  test::RecordingIrqSink irqs;
  DisplayDevice display;
  KeyboardDevice keyboard;
  DisplayHub hub;
  uint8_t* ram = nullptr;
};

TEST(ScreenUpdate, RunsJoinNeighbouringRows) {
  ScreenUpdate update;
  update.rows = {false, true, true, false, true, false, false, true};
  const std::vector<ScreenUpdate::Run> runs = update.runs();
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].first, 1u);
  EXPECT_EQ(runs[0].count, 2u);
  EXPECT_EQ(runs[1].first, 4u);
  EXPECT_EQ(runs[1].count, 1u);
  EXPECT_EQ(runs[2].first, 7u);
  EXPECT_TRUE(update.any());
  update.rows.assign(8, false);
  EXPECT_FALSE(update.any());
}

TEST_F(DisplayHubTest, FirstListenerGetsTheWholeScreenAtOnce) {
  RecordingListener listener;
  hub.add_listener(&listener);
  ASSERT_EQ(listener.updates.size(), 1u);
  EXPECT_TRUE(listener.updates[0].resized);
  EXPECT_EQ(hub.screen().width, 320u);
  EXPECT_EQ(hub.screen().height, 240u);
  EXPECT_EQ(hub.screen().pixels.size(), 320u * 240);
  hub.remove_listener(&listener);
}

TEST_F(DisplayHubTest, OnlyRowsThatReallyChangedAreReported) {
  enable();
  RecordingListener listener;
  hub.add_listener(&listener);
  listener.updates.clear();
  put565(5, 10, 0xF800);  // red at (5, 10): its 4 KiB page holds rows 6..12
  frame();
  ASSERT_EQ(listener.updates.size(), 1u);
  const ScreenUpdate& update = listener.updates[0];
  EXPECT_FALSE(update.resized);
  for (uint32_t y = 0; y < 240; ++y) EXPECT_EQ(update.rows[y], y == 10) << "row " << y;
  EXPECT_EQ(hub.screen().row(10)[5], 0xFF0000u);
  // Nothing written: a frame tells nobody.
  frame();
  EXPECT_EQ(listener.updates.size(), 1u);
  // The same value again: the page is dirty but no pixel changed.
  put565(5, 10, 0xF800);
  frame();
  EXPECT_EQ(listener.updates.size(), 1u);
  hub.remove_listener(&listener);
}

TEST_F(DisplayHubTest, ModeChangeResizesAndDisableTurnsBlack) {
  enable();
  put565(0, 0, 0x001F);  // blue
  RecordingListener listener;
  hub.add_listener(&listener);
  EXPECT_EQ(hub.screen().pixels[0], 0x0000FFu);
  write32(display, kDispMode, kDispModeRes640x480);
  frame();
  ASSERT_FALSE(listener.updates.empty());
  EXPECT_TRUE(listener.updates.back().resized);
  EXPECT_EQ(listener.last_width, 640u);
  EXPECT_EQ(hub.screen().pixels[0], 0x0000FFu);
  const size_t before = listener.updates.size();
  write32(display, kDispCtrl, 0);  // no more blanks, but the host hears it once
  EXPECT_EQ(listener.updates.size(), before + 1);
  EXPECT_EQ(listener.last_pixel, 0u);
  EXPECT_FALSE(hub.screen().enabled);
  hub.remove_listener(&listener);
}

TEST_F(DisplayHubTest, WithoutListenersNothingIsRead) {
  enable();
  put565(0, 0, 0xFFFF);
  frame();
  EXPECT_EQ(hub.screen().width, 0u);  // never refreshed
  const Screen capture = hub.capture();
  EXPECT_EQ(capture.width, 320u);
  EXPECT_EQ(capture.pixels[0], 0xFFFFFFu);
}

TEST_F(DisplayHubTest, KeysReachTheKeyboardAsSet1Bytes) {
  EXPECT_TRUE(hub.send_key(0x1E, true));     // a down
  EXPECT_TRUE(hub.send_key(0xE048, false));  // cursor up released
  ASSERT_EQ(keyboard.level(), 3u);
  EXPECT_EQ(read32(keyboard, kKbdData), 0x1Eu);
  EXPECT_EQ(read32(keyboard, kKbdData), 0xE0u);
  EXPECT_EQ(read32(keyboard, kKbdData), 0xC8u);
}

TEST_F(DisplayHubTest, SendKeysPressesInOrderReleasesInReverseWithoutALoop) {
  const Scancode keys[] = {0x2A, 0x23};  // shift, h
  ASSERT_TRUE(hub.send_keys(keys, 100).ok());
  std::vector<uint32_t> bytes;
  while (keyboard.level() > 0) bytes.push_back(read32(keyboard, kKbdData));
  EXPECT_EQ(bytes, (std::vector<uint32_t>{0x2A, 0x23, 0xA3, 0xAA}));
}

TEST_F(DisplayHubTest, SendKeysIsAllOrNothing) {
  std::vector<Scancode> many(9, 0xE048);  // 9 * 4 bytes > 32
  const Error error = hub.send_keys(many, 0);
  EXPECT_FALSE(error.ok());
  EXPECT_NE(error.message().find("room"), std::string::npos) << error.message();
  EXPECT_EQ(keyboard.level(), 0u);
  EXPECT_FALSE(hub.send_keys({}, 0).ok());
}

}  // namespace
}  // namespace cr16::ui
