// The keyboard controller (docs/virt.md section 11): FIFO order, the
// all-or-nothing overflow with its sticky flag, the interrupt line, peeks
// that do not pop, reset, and state save/restore including hostile loads.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "hw/keyboard.h"
#include "hw/virt_map.h"
#include "migration/state_codec.h"
#include "migration/state_sections.h"
#include "test_helpers.h"

namespace cr16 {
namespace {

using test::read32;
using test::write32;
using namespace virt;

struct KeyboardTest : ::testing::Test {
  KeyboardTest() : keyboard(IrqLine(&irqs, kIrqKeyboard)) {}
  bool line() const { return irqs.levels[kIrqKeyboard]; }
  uint32_t level() {
    return (read32(keyboard, kKbdStatus) >> kKbdStatusLevelShift) & kKbdStatusLevelMask;
  }
  test::RecordingIrqSink irqs;
  KeyboardDevice keyboard;
};

TEST_F(KeyboardTest, ResetValues) {
  EXPECT_EQ(read32(keyboard, kKbdData), 0u);
  EXPECT_EQ(read32(keyboard, kKbdStatus), 0u);
  EXPECT_EQ(read32(keyboard, kKbdCtrl), 0u);
  EXPECT_EQ(read32(keyboard, kKbdFifoDepth), kKbdFifoSize);
}

TEST_F(KeyboardTest, FifoKeepsOrderAcrossEvents) {
  const uint8_t press_a[] = {0x1E}, release_a[] = {0x9E}, up[] = {0xE0, 0x48};
  EXPECT_TRUE(keyboard.push_scancodes(press_a));
  EXPECT_TRUE(keyboard.push_scancodes(up));
  EXPECT_TRUE(keyboard.push_scancodes(release_a));
  EXPECT_EQ(read32(keyboard, kKbdStatus), kKbdStatusNotEmpty | 4u << kKbdStatusLevelShift);
  const uint32_t expected[] = {0x1E, 0xE0, 0x48, 0x9E};
  for (uint32_t code : expected) EXPECT_EQ(read32(keyboard, kKbdData), code);
  EXPECT_EQ(read32(keyboard, kKbdStatus), 0u);
  EXPECT_EQ(read32(keyboard, kKbdData), 0u);  // empty reads 0
}

TEST_F(KeyboardTest, RingWrapsManyTimes) {
  for (unsigned i = 0; i < 200; ++i) {
    const uint8_t code[] = {static_cast<uint8_t>(i), static_cast<uint8_t>(i + 1)};
    ASSERT_TRUE(keyboard.push_scancodes(code));
    EXPECT_EQ(read32(keyboard, kKbdData), i & 0xFF);
    EXPECT_EQ(read32(keyboard, kKbdData), (i + 1) & 0xFF);
  }
  EXPECT_EQ(level(), 0u);
}

TEST_F(KeyboardTest, OverflowDropsTheWholeEventAndIsSticky) {
  std::vector<uint8_t> fill(kKbdFifoSize - 1, 0x10);
  ASSERT_TRUE(keyboard.push_scancodes(fill));
  const uint8_t extended[] = {0xE0, 0x4B};
  EXPECT_FALSE(keyboard.push_scancodes(extended));  // one byte of room: none queued
  EXPECT_EQ(level(), kKbdFifoSize - 1);
  EXPECT_NE(read32(keyboard, kKbdStatus) & kKbdStatusOverflow, 0u);
  const uint8_t one[] = {0x20};
  EXPECT_TRUE(keyboard.push_scancodes(one));
  EXPECT_EQ(level(), kKbdFifoSize);
  EXPECT_FALSE(keyboard.push_scancodes(one));
  EXPECT_EQ(read32(keyboard, kKbdStatus),
            kKbdStatusNotEmpty | kKbdStatusOverflow | kKbdFifoSize << kKbdStatusLevelShift);
  for (unsigned i = 0; i + 1 < kKbdFifoSize; ++i) EXPECT_EQ(read32(keyboard, kKbdData), 0x10u);
  EXPECT_EQ(read32(keyboard, kKbdData), 0x20u);
  EXPECT_NE(read32(keyboard, kKbdStatus) & kKbdStatusOverflow, 0u);  // sticky while emptied
  write32(keyboard, kKbdStatus, kKbdStatusOverflow);                 // W1C
  EXPECT_EQ(read32(keyboard, kKbdStatus), 0u);
}

TEST_F(KeyboardTest, InterruptWhileNotEmptyAndEnabled) {
  const uint8_t code[] = {0x1C, 0x9C};
  EXPECT_TRUE(keyboard.push_scancodes(code));
  EXPECT_FALSE(line());
  write32(keyboard, kKbdCtrl, kKbdCtrlIe);
  EXPECT_TRUE(line());
  (void)read32(keyboard, kKbdData);
  EXPECT_TRUE(line());
  (void)read32(keyboard, kKbdData);
  EXPECT_FALSE(line());
  EXPECT_TRUE(keyboard.push_scancodes(code));
  EXPECT_TRUE(line());
  write32(keyboard, kKbdCtrl, 0);
  EXPECT_FALSE(line());
  EXPECT_EQ(read32(keyboard, kKbdCtrl), 0u);
}

TEST_F(KeyboardTest, PeekDoesNotPop) {
  const uint8_t code[] = {0x2A, 0x1E};
  ASSERT_TRUE(keyboard.push_scancodes(code));
  write32(keyboard, kKbdCtrl, kKbdCtrlIe);
  uint32_t value = 0;
  ASSERT_TRUE(keyboard.peek(kKbdData, AccessSize::kByte, &value));
  EXPECT_EQ(value, 0x2Au);
  ASSERT_TRUE(keyboard.peek(kKbdData, AccessSize::kDword, &value));
  EXPECT_EQ(value, 0x2Au);
  EXPECT_EQ(level(), 2u);
  EXPECT_TRUE(line());
  // A read of the upper bytes alone has no side effect either.
  EXPECT_EQ(keyboard.read(kKbdData + 1, AccessSize::kByte), 0u);
  EXPECT_EQ(level(), 2u);
  EXPECT_EQ(read32(keyboard, kKbdData), 0x2Au);
  EXPECT_EQ(level(), 1u);
}

TEST_F(KeyboardTest, WritesToReadOnlyRegistersAreIgnoredAndResetEmpties) {
  const uint8_t code[] = {0x01};
  ASSERT_TRUE(keyboard.push_scancodes(code));
  write32(keyboard, kKbdData, 0x55);
  write32(keyboard, kKbdFifoDepth, 1);
  EXPECT_EQ(level(), 1u);
  EXPECT_EQ(read32(keyboard, kKbdFifoDepth), kKbdFifoSize);
  write32(keyboard, kKbdCtrl, kKbdCtrlIe);
  EXPECT_TRUE(line());
  keyboard.reset();
  EXPECT_FALSE(line());
  EXPECT_EQ(read32(keyboard, kKbdStatus), 0u);
  EXPECT_EQ(read32(keyboard, kKbdCtrl), 0u);
}

TEST_F(KeyboardTest, StateRoundTripKeepsTheFifo) {
  for (unsigned i = 0; i < 40; ++i) {  // move the head away from 0
    const uint8_t code[] = {static_cast<uint8_t>(i)};
    ASSERT_TRUE(keyboard.push_scancodes(code));
    (void)read32(keyboard, kKbdData);
  }
  const uint8_t codes[] = {0x11, 0x22, 0x33};
  ASSERT_TRUE(keyboard.push_scancodes(codes));
  write32(keyboard, kKbdCtrl, kKbdCtrlIe);
  std::vector<uint8_t> overflow(kKbdFifoSize, 0);
  EXPECT_FALSE(keyboard.push_scancodes(overflow));

  test::RecordingIrqSink other_irqs;
  KeyboardDevice other(IrqLine(&other_irqs, kIrqKeyboard));
  const StateSection source[] = {{"keyboard", 0, &keyboard}};
  auto bytes = migration::save_state_sections(source);
  ASSERT_TRUE(bytes.ok());
  const StateSection target[] = {{"keyboard", 0, &other}};
  ASSERT_TRUE(migration::load_state_sections(target, *bytes).ok());
  EXPECT_TRUE(other_irqs.levels[kIrqKeyboard]);  // driven by state_loaded
  EXPECT_EQ(read32(other, kKbdStatus),
            kKbdStatusNotEmpty | kKbdStatusOverflow | 3u << kKbdStatusLevelShift);
  for (uint32_t code : {0x11u, 0x22u, 0x33u}) EXPECT_EQ(read32(other, kKbdData), code);
  EXPECT_FALSE(other_irqs.levels[kIrqKeyboard]);
}

TEST_F(KeyboardTest, HostileStatesAreRefusedAndChangeNothing) {
  EXPECT_TRUE(migration::check_state_description(keyboard_state_description()).ok());
  const uint8_t codes[] = {0x11, 0x22};
  ASSERT_TRUE(keyboard.push_scancodes(codes));
  const KeyboardState good = keyboard.state();
  auto refused = [&](auto mutate, const std::string& words) {
    KeyboardState hostile = good;
    mutate(hostile);
    auto bytes = migration::save_state_object(keyboard_state_description(), &hostile);
    ASSERT_TRUE(bytes.ok());
    const Error error =
        migration::load_state_object(keyboard_state_description(), keyboard.state_data(), *bytes);
    ASSERT_FALSE(error.ok()) << words;
    EXPECT_NE(error.message().find(words), std::string::npos) << error.message();
    EXPECT_EQ(std::memcmp(&keyboard.state(), &good, sizeof good), 0);
  };
  refused([](KeyboardState& s) { s.count = 33; }, "count larger than the FIFO");
  refused([](KeyboardState& s) { s.count = 0x40; }, "count");
  refused([](KeyboardState& s) { s.head = 32; }, "head");
  refused([](KeyboardState& s) { s.status_sticky = 1; }, "status_sticky");
  refused([](KeyboardState& s) { s.ctrl = 2; }, "ctrl");
}

}  // namespace
}  // namespace cr16
