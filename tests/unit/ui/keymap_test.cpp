// Key code tables: QKeyCode names, XT qnums, X11 keysyms and USB HID usages
// all land on the same PC set 1 codes; release and 0xE0 prefix bytes.
#include <gtest/gtest.h>

#include "ui/keymap.h"

namespace cr16::ui {
namespace {

TEST(Keymap, BytesOfPressAndRelease) {
  EXPECT_EQ(scancode_bytes(0x1C, true), (std::vector<uint8_t>{0x1C}));
  EXPECT_EQ(scancode_bytes(0x1C, false), (std::vector<uint8_t>{0x9C}));
  EXPECT_EQ(scancode_bytes(0xE04B, true), (std::vector<uint8_t>{0xE0, 0x4B}));
  EXPECT_EQ(scancode_bytes(0xE04B, false), (std::vector<uint8_t>{0xE0, 0xCB}));
}

TEST(Keymap, QcodeNames) {
  EXPECT_EQ(scancode_from_qcode("a"), Scancode{0x1E});
  EXPECT_EQ(scancode_from_qcode("ret"), Scancode{0x1C});
  EXPECT_EQ(scancode_from_qcode("spc"), Scancode{0x39});
  EXPECT_EQ(scancode_from_qcode("ctrl_r"), Scancode{0xE01D});
  EXPECT_EQ(scancode_from_qcode("kp_enter"), Scancode{0xE01C});
  EXPECT_EQ(scancode_from_qcode("f12"), Scancode{0x58});
  EXPECT_FALSE(scancode_from_qcode("nosuchkey"));
  EXPECT_FALSE(scancode_from_qcode(""));
}

TEST(Keymap, QnumExtendedKeysCarryTheHighBit) {
  EXPECT_EQ(scancode_from_qnum(0x1E), Scancode{0x1E});
  EXPECT_EQ(scancode_from_qnum(0xC8), Scancode{0xE048});  // up
  EXPECT_FALSE(scancode_from_qnum(0));
  EXPECT_FALSE(scancode_from_qnum(0x80));
  EXPECT_FALSE(scancode_from_qnum(0x1E0));
}

TEST(Keymap, KeysymsOfBothCasesAndShiftedSymbols) {
  EXPECT_EQ(scancode_from_keysym('a'), Scancode{0x1E});
  EXPECT_EQ(scancode_from_keysym('A'), Scancode{0x1E});
  EXPECT_EQ(scancode_from_keysym('!'), Scancode{0x02});
  EXPECT_EQ(scancode_from_keysym('?'), Scancode{0x35});
  EXPECT_EQ(scancode_from_keysym(0xFF0D), Scancode{0x1C});    // Return
  EXPECT_EQ(scancode_from_keysym(0xFF52), Scancode{0xE048});  // Up
  EXPECT_EQ(scancode_from_keysym(0xFFE1), Scancode{0x2A});    // Shift_L
  EXPECT_FALSE(scancode_from_keysym(0x20AC));                 // EuroSign: no US key
  EXPECT_FALSE(scancode_from_keysym(0));
}

TEST(Keymap, UsbHidUsagesAsSdlScancodes) {
  EXPECT_EQ(scancode_from_usb_hid(4), Scancode{0x1E});     // A
  EXPECT_EQ(scancode_from_usb_hid(40), Scancode{0x1C});    // Return
  EXPECT_EQ(scancode_from_usb_hid(82), Scancode{0xE048});  // Up
  EXPECT_EQ(scancode_from_usb_hid(224), Scancode{0x1D});   // left Ctrl
  EXPECT_FALSE(scancode_from_usb_hid(0));
  EXPECT_FALSE(scancode_from_usb_hid(500));
}

TEST(Keymap, EveryQcodeHasAnExtendedPrefixOrAPlainCode) {
  for (const char* name : {"esc", "1", "q", "a", "z", "f1", "home", "delete", "meta_l"}) {
    std::optional<Scancode> code = scancode_from_qcode(name);
    ASSERT_TRUE(code) << name;
    EXPECT_TRUE((*code & 0xFF00) == 0 || (*code & 0xFF00) == 0xE000) << name;
    EXPECT_NE(*code & 0x7F, 0) << name;
  }
}

}  // namespace
}  // namespace cr16::ui
