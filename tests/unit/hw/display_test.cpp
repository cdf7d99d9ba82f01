// The display controller (docs/virt.md section 10): registers, modes and
// formats, the 60 Hz vertical blank in virtual time with its interrupt and
// acknowledge, framebuffer readback in both formats, the rows changed since
// the last query, and state save/restore including hostile loads.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "hw/address_space.h"
#include "hw/display.h"
#include "hw/manual_device_clock.h"
#include "hw/virt_map.h"
#include "migration/state_codec.h"
#include "migration/state_sections.h"
#include "test_helpers.h"

namespace cr16 {
namespace {

using test::read32;
using test::write32;
using namespace virt;

constexpr int64_t kSecond = 1'000'000'000;

struct DisplayTest : ::testing::Test {
  DisplayTest() : display(clock, memory, IrqLine(&irqs, kIrqDisplay)) {
    ram = *memory.add_ram("ram", 0, kRamSize);
  }
  static constexpr uint32_t kRamSize = 0x200000;
  void enable(uint32_t extra = 0) { write32(display, kDispCtrl, kDispCtrlEnable | extra); }
  bool line() const { return irqs.levels[kIrqDisplay]; }

  ManualDeviceClock clock;
  AddressSpace memory;
  test::RecordingIrqSink irqs;
  DisplayDevice display;
  uint8_t* ram = nullptr;
};

TEST_F(DisplayTest, ResetValuesAndGeometryRegisters) {
  EXPECT_EQ(read32(display, kDispCtrl), 0u);
  EXPECT_EQ(read32(display, kDispMode), 0u);
  EXPECT_EQ(read32(display, kDispBase), 0u);
  EXPECT_EQ(read32(display, kDispStatus), 0u);
  EXPECT_EQ(read32(display, kDispWidth), 320u);
  EXPECT_EQ(read32(display, kDispHeight), 240u);
  EXPECT_EQ(read32(display, kDispStride), 640u);
  EXPECT_EQ(read32(display, kDispFbSize), 640u * 240);
  EXPECT_FALSE(display.enabled());
  EXPECT_EQ(clock.armed_count(), 0u);  // no vblank timer while disabled
}

TEST_F(DisplayTest, ModeAndFormatChangesUpdateGeometry) {
  write32(display, kDispMode, kDispModeRes640x480 | kDispFormatXrgb8888 << kDispModeFormatShift);
  EXPECT_EQ(read32(display, kDispWidth), 640u);
  EXPECT_EQ(read32(display, kDispHeight), 480u);
  EXPECT_EQ(read32(display, kDispStride), 2560u);
  EXPECT_EQ(read32(display, kDispFbSize), 2560u * 480);
  DisplayMode mode = display.mode();
  EXPECT_EQ(mode.format, PixelFormat::kXrgb8888);
  EXPECT_EQ(mode.width, 640u);
  EXPECT_EQ(mode.stride, 2560u);
  write32(display, kDispMode, kDispModeRes320x240 | kDispFormatXrgb8888 << kDispModeFormatShift);
  EXPECT_EQ(read32(display, kDispStride), 1280u);
  // Unsupported values are ignored as a whole.
  write32(display, kDispMode, 2);
  write32(display, kDispMode, 2u << kDispModeFormatShift);
  write32(display, kDispMode, 0x10000);
  EXPECT_EQ(read32(display, kDispMode), kDispFormatXrgb8888 << kDispModeFormatShift);
  // A narrow write to the FORMAT byte alone keeps RES.
  write32(display, kDispMode, kDispModeRes640x480);
  display.write(kDispMode + 1, AccessSize::kByte, 0);
  EXPECT_EQ(read32(display, kDispMode), kDispModeRes640x480);
}

TEST_F(DisplayTest, BaseIsAlignedAndOutsideRamIsFlagged) {
  write32(display, kDispBase, 0xAB1F3457);
  EXPECT_EQ(read32(display, kDispBase), 0x1F3454u);
  EXPECT_EQ(read32(display, kDispStatus) & kDispStatusFbFault, kDispStatusFbFault);  // past RAM
  EXPECT_FALSE(display.framebuffer_valid());
  write32(display, kDispBase, 0x1000);
  EXPECT_EQ(read32(display, kDispStatus), 0u);
  EXPECT_TRUE(display.framebuffer_valid());
  // Runs off the end of RAM: flagged, and a 640x480 XRGB frame at the top too.
  write32(display, kDispBase, kRamSize - 0x100);
  EXPECT_NE(read32(display, kDispStatus) & kDispStatusFbFault, 0u);
  write32(display, kDispBase, 0xFFFF00);
  EXPECT_NE(read32(display, kDispStatus) & kDispStatusFbFault, 0u);
  enable();
  std::vector<uint32_t> pixels;
  std::memset(ram, 0xFF, 0x1000);
  display.read_pixels(&pixels);
  ASSERT_EQ(pixels.size(), 320u * 240);
  for (uint32_t pixel : pixels) ASSERT_EQ(pixel, 0u);  // black
}

TEST_F(DisplayTest, VblankAt60HzOfVirtualTime) {
  enable();
  EXPECT_EQ(clock.armed_count(), 1u);
  clock.advance_by(kSecond / 60 - 1);
  EXPECT_EQ(read32(display, kDispStatus), 0u);
  clock.advance_by(1);
  EXPECT_EQ(read32(display, kDispStatus), kDispStatusVblank);
  EXPECT_EQ(read32(display, kDispFrame), 1u);
  clock.advance_by(kSecond - kSecond / 60);  // one second after enabling
  EXPECT_EQ(read32(display, kDispFrame), 60u);
  clock.advance_by(9 * kSecond);  // no drift over ten seconds
  EXPECT_EQ(read32(display, kDispFrame), 600u);
  EXPECT_EQ(clock.next_deadline(), 10 * kSecond + kSecond / 60);
  // Disabling stops the blanks and the count.
  write32(display, kDispCtrl, 0);
  EXPECT_EQ(read32(display, kDispFrame), 0u);
  EXPECT_EQ(clock.armed_count(), 0u);
  EXPECT_EQ(read32(display, kDispStatus), kDispStatusVblank);  // sticky
}

TEST_F(DisplayTest, FrameTimesAreExactAndMonotonic) {
  int64_t previous = DisplayDevice::frame_time(5, 0);
  EXPECT_EQ(previous, 5);
  for (uint64_t k = 1; k < 200; ++k) {
    int64_t t = DisplayDevice::frame_time(5, k);
    EXPECT_GT(t, previous);
    EXPECT_LE(t - previous, kSecond / 60 + 1);
    previous = t;
  }
  EXPECT_EQ(DisplayDevice::frame_time(0, 60), kSecond);
  EXPECT_EQ(DisplayDevice::frame_time(0, 6000), 100 * kSecond);
}

TEST_F(DisplayTest, InterruptFollowsVblankAndEnableAndIsAcknowledgedByW1c) {
  int frames = 0;
  display.set_frame_handler([&] { ++frames; });
  enable();
  clock.advance_by(kSecond / 60);
  EXPECT_EQ(frames, 1);
  EXPECT_FALSE(line());  // VBLANK set, but no IE
  write32(display, kDispCtrl, kDispCtrlEnable | kDispCtrlVblankIe);
  EXPECT_TRUE(line());
  write32(display, kDispStatus, kDispStatusVblank);  // acknowledge
  EXPECT_FALSE(line());
  EXPECT_EQ(read32(display, kDispStatus), 0u);
  clock.advance_by(kSecond / 60 + 1);
  EXPECT_TRUE(line());
  EXPECT_EQ(frames, 2);
  write32(display, kDispStatus, 0);  // writing 0 clears nothing
  EXPECT_TRUE(line());
  write32(display, kDispCtrl, kDispCtrlEnable);  // IE off: line drops, status stays
  EXPECT_FALSE(line());
  EXPECT_EQ(read32(display, kDispStatus), kDispStatusVblank);
}

TEST_F(DisplayTest, ReadsBackRgb565Pixels) {
  write32(display, kDispBase, 0x10000);
  enable();
  const uint16_t colours[] = {0xF800, 0x07E0, 0x001F, 0xFFFF, 0x0000, 0x8410};
  for (size_t i = 0; i < std::size(colours); ++i) {
    ram[0x10000 + 2 * i] = static_cast<uint8_t>(colours[i]);
    ram[0x10000 + 2 * i + 1] = static_cast<uint8_t>(colours[i] >> 8);
  }
  // Last pixel of the last row.
  ram[0x10000 + 640 * 239 + 638] = 0x1F;
  ram[0x10000 + 640 * 239 + 639] = 0x00;
  std::vector<uint8_t> raw;
  display.read_framebuffer(&raw);
  ASSERT_EQ(raw.size(), 640u * 240);
  EXPECT_EQ(raw[0], 0x00);
  EXPECT_EQ(raw[1], 0xF8);
  std::vector<uint32_t> pixels;
  display.read_pixels(&pixels);
  ASSERT_EQ(pixels.size(), 320u * 240);
  EXPECT_EQ(pixels[0], 0xFF0000u);
  EXPECT_EQ(pixels[1], 0x00FF00u);
  EXPECT_EQ(pixels[2], 0x0000FFu);
  EXPECT_EQ(pixels[3], 0xFFFFFFu);
  EXPECT_EQ(pixels[4], 0x000000u);
  EXPECT_EQ(pixels[5], 0x848284u);
  EXPECT_EQ(pixels.back(), 0x0000FFu);
  // Disabled: black.
  write32(display, kDispCtrl, 0);
  display.read_pixels(&pixels);
  EXPECT_EQ(pixels[0], 0u);
}

TEST_F(DisplayTest, ReadsBackXrgb8888Pixels) {
  write32(display, kDispMode, kDispModeRes640x480 | kDispFormatXrgb8888 << kDispModeFormatShift);
  write32(display, kDispBase, 0x40000);
  enable();
  const uint8_t first[] = {0x33, 0x22, 0x11, 0xAA};  // B, G, R, X
  std::memcpy(ram + 0x40000, first, 4);
  const uint32_t last = 0x40000 + 2560 * 479 + 4 * 639;
  const uint8_t end[] = {0x01, 0x02, 0x03, 0x04};
  std::memcpy(ram + last, end, 4);
  std::vector<uint32_t> pixels;
  display.read_pixels(&pixels);
  ASSERT_EQ(pixels.size(), 640u * 480);
  EXPECT_EQ(pixels[0], 0x112233u);  // X ignored
  EXPECT_EQ(pixels.back(), 0x030201u);
  EXPECT_EQ(pixels[1], 0u);
}

TEST_F(DisplayTest, ChangedRowsFollowGuestWrites) {
  write32(display, kDispBase, 0x10000);  // RGB565 320x240: 640 bytes a row
  enable();
  std::vector<bool> rows = display.changed_rows();
  ASSERT_EQ(rows.size(), 240u);
  for (bool row : rows) EXPECT_TRUE(row);  // first call: everything
  rows = display.changed_rows();
  for (bool row : rows) EXPECT_FALSE(row);
  // A guest write (CPU store through the bus) to row 10.
  ASSERT_EQ(memory.write_slow(0x10000 + 640 * 10 + 4, AccessSize::kWord, 0xF800), BusStatus::kOk);
  rows = display.changed_rows();
  // Page granularity: the page holding row 10 (0x11000 holds rows 6..12).
  const uint32_t page_start = 0x11000, page_end = 0x12000;
  for (uint32_t y = 0; y < 240; ++y) {
    const uint32_t start = 0x10000 + 640 * y, end = start + 640;
    const bool touches = start < page_end && end > page_start;
    EXPECT_EQ(rows[y], touches) << "row " << y;
  }
  EXPECT_TRUE(rows[10]);
  EXPECT_FALSE(rows[0]);
  EXPECT_FALSE(rows[239]);
  for (bool row : display.changed_rows()) EXPECT_FALSE(row);  // reported once
  // A write outside the framebuffer marks nothing.
  ASSERT_EQ(memory.write_slow(0x1000, AccessSize::kWord, 1), BusStatus::kOk);
  for (bool row : display.changed_rows()) EXPECT_FALSE(row);
  // Loader writes count too.
  const uint8_t bytes[] = {1, 2};
  ASSERT_TRUE(memory.write_bytes(0x10000 + 640 * 239, bytes).ok());
  EXPECT_TRUE(display.changed_rows()[239]);
  // A mode or base change redraws everything.
  write32(display, kDispBase, 0x20000);
  rows = display.changed_rows();
  for (bool row : rows) EXPECT_TRUE(row);
  write32(display, kDispMode, kDispModeRes640x480);
  EXPECT_EQ(display.changed_rows().size(), 480u);
}

TEST_F(DisplayTest, ResetDisablesAndCancelsTheTimer) {
  write32(display, kDispMode, kDispModeRes640x480);
  write32(display, kDispBase, 0x1000);
  enable(kDispCtrlVblankIe);
  clock.advance_by(kSecond / 60);
  EXPECT_TRUE(line());
  display.reset();
  EXPECT_FALSE(line());
  EXPECT_EQ(clock.armed_count(), 0u);
  EXPECT_EQ(read32(display, kDispMode), 0u);
  EXPECT_EQ(read32(display, kDispBase), 0u);
  EXPECT_EQ(read32(display, kDispStatus), 0u);
}

// ---- State.

void transfer(Stateful& from, Stateful& to) {
  const StateSection source[] = {{"display", 0, &from}};
  auto bytes = migration::save_state_sections(source);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message();
  const StateSection target[] = {{"display", 0, &to}};
  const Error error = migration::load_state_sections(target, *bytes);
  ASSERT_TRUE(error.ok()) << error.message();
}

TEST_F(DisplayTest, StateRoundTripResumesMidFrame) {
  write32(display, kDispMode, kDispModeRes640x480 | kDispFormatXrgb8888 << kDispModeFormatShift);
  write32(display, kDispBase, 0x80000);
  enable(kDispCtrlVblankIe);
  clock.advance_by(3 * kSecond / 60 + kSecond / 120);  // half way through frame 4
  EXPECT_EQ(read32(display, kDispFrame), 3u);
  write32(display, kDispStatus, kDispStatusVblank);

  test::RecordingIrqSink other_irqs;
  DisplayDevice other(clock, memory, IrqLine(&other_irqs, kIrqDisplay));
  transfer(display, other);
  display.reset();  // the source stops
  EXPECT_EQ(read32(other, kDispMode),
            kDispModeRes640x480 | kDispFormatXrgb8888 << kDispModeFormatShift);
  EXPECT_EQ(read32(other, kDispBase), 0x80000u);
  EXPECT_EQ(read32(other, kDispFrame), 3u);
  EXPECT_FALSE(other_irqs.levels[kIrqDisplay]);
  EXPECT_EQ(clock.next_deadline(), DisplayDevice::frame_time(0, 4));  // re-armed, same phase
  clock.advance_to(DisplayDevice::frame_time(0, 4));
  EXPECT_EQ(read32(other, kDispFrame), 4u);
  EXPECT_TRUE(other_irqs.levels[kIrqDisplay]);
  for (bool row : other.changed_rows()) EXPECT_TRUE(row);  // a loaded display redraws
}

TEST_F(DisplayTest, DescriptionCoversTheStruct) {
  EXPECT_TRUE(migration::check_state_description(display_state_description()).ok());
}

TEST_F(DisplayTest, HostileStatesAreRefusedAndChangeNothing) {
  enable();
  clock.advance_by(kSecond);
  const DisplayState good = display.state();
  auto refused = [&](auto mutate, const std::string& words) {
    DisplayState hostile = good;
    mutate(hostile);
    auto bytes = migration::save_state_object(display_state_description(), &hostile);
    ASSERT_TRUE(bytes.ok());
    const Error error =
        migration::load_state_object(display_state_description(), display.state_data(), *bytes);
    ASSERT_FALSE(error.ok()) << words;
    EXPECT_NE(error.message().find(words), std::string::npos) << error.message();
    EXPECT_EQ(std::memcmp(&display.state(), &good, sizeof good), 0);
  };
  refused([](DisplayState& s) { s.mode = 2; }, "mode");
  refused([](DisplayState& s) { s.mode = 2u << kDispModeFormatShift; }, "mode");
  refused([](DisplayState& s) { s.mode = 0x400; }, "mode");
  refused([](DisplayState& s) { s.base = 0x1000002; }, "base");
  refused([](DisplayState& s) { s.base = 0x2; }, "base");
  refused([](DisplayState& s) { s.ctrl = 4; }, "ctrl");
  refused([](DisplayState& s) { s.status = kDispStatusFbFault; }, "status");
  refused([](DisplayState& s) { s.epoch_ns = -1; }, "epoch_ns");
  refused([](DisplayState& s) { s.epoch_ns = kMaxStateTimeNs; }, "epoch_ns");
  refused([](DisplayState& s) { s.frames = ~uint64_t{0}; }, "frames");
  refused([](DisplayState& s) { s.epoch_ns = kMaxStateTimeNs - 10; }, "frames");
  refused(
      [](DisplayState& s) {
        s.ctrl = 0;
        s.frames = 5;
      },
      "frames");
  // A base outside RAM is a valid register value.
  DisplayState outside = good;
  outside.base = 0xFFFF00;
  auto bytes = migration::save_state_object(display_state_description(), &outside);
  ASSERT_TRUE(bytes.ok());
  EXPECT_TRUE(
      migration::load_state_object(display_state_description(), display.state_data(), *bytes).ok());
}

}  // namespace
}  // namespace cr16
