#include "ui/keymap.h"

#include <array>

namespace cr16::ui {
namespace {

// One row per key of a US PC keyboard: QEMU's QKeyCode name, the set 1
// code (0xE0xx: extended), the USB HID usage (0: none) and the X11 keysyms
// it types unshifted and shifted (0: none).
struct Key {
  const char* qcode;
  Scancode set1;
  uint16_t usb;
  uint32_t keysym;
  uint32_t shifted;
};

constexpr Key kKeys[] = {
    {"esc", 0x01, 41, 0xFF1B, 0},
    {"1", 0x02, 30, '1', '!'},
    {"2", 0x03, 31, '2', '@'},
    {"3", 0x04, 32, '3', '#'},
    {"4", 0x05, 33, '4', '$'},
    {"5", 0x06, 34, '5', '%'},
    {"6", 0x07, 35, '6', '^'},
    {"7", 0x08, 36, '7', '&'},
    {"8", 0x09, 37, '8', '*'},
    {"9", 0x0A, 38, '9', '('},
    {"0", 0x0B, 39, '0', ')'},
    {"minus", 0x0C, 45, '-', '_'},
    {"equal", 0x0D, 46, '=', '+'},
    {"backspace", 0x0E, 42, 0xFF08, 0},
    {"tab", 0x0F, 43, 0xFF09, 0xFE20},  // Shift-Tab: ISO_Left_Tab
    {"q", 0x10, 20, 'q', 'Q'},
    {"w", 0x11, 26, 'w', 'W'},
    {"e", 0x12, 8, 'e', 'E'},
    {"r", 0x13, 21, 'r', 'R'},
    {"t", 0x14, 23, 't', 'T'},
    {"y", 0x15, 28, 'y', 'Y'},
    {"u", 0x16, 24, 'u', 'U'},
    {"i", 0x17, 12, 'i', 'I'},
    {"o", 0x18, 18, 'o', 'O'},
    {"p", 0x19, 19, 'p', 'P'},
    {"bracket_left", 0x1A, 47, '[', '{'},
    {"bracket_right", 0x1B, 48, ']', '}'},
    {"ret", 0x1C, 40, 0xFF0D, 0},
    {"ctrl", 0x1D, 224, 0xFFE3, 0},
    {"a", 0x1E, 4, 'a', 'A'},
    {"s", 0x1F, 22, 's', 'S'},
    {"d", 0x20, 7, 'd', 'D'},
    {"f", 0x21, 9, 'f', 'F'},
    {"g", 0x22, 10, 'g', 'G'},
    {"h", 0x23, 11, 'h', 'H'},
    {"j", 0x24, 13, 'j', 'J'},
    {"k", 0x25, 14, 'k', 'K'},
    {"l", 0x26, 15, 'l', 'L'},
    {"semicolon", 0x27, 51, ';', ':'},
    {"apostrophe", 0x28, 52, '\'', '"'},
    {"grave_accent", 0x29, 53, '`', '~'},
    {"shift", 0x2A, 225, 0xFFE1, 0},
    {"backslash", 0x2B, 49, '\\', '|'},
    {"z", 0x2C, 29, 'z', 'Z'},
    {"x", 0x2D, 27, 'x', 'X'},
    {"c", 0x2E, 6, 'c', 'C'},
    {"v", 0x2F, 25, 'v', 'V'},
    {"b", 0x30, 5, 'b', 'B'},
    {"n", 0x31, 17, 'n', 'N'},
    {"m", 0x32, 16, 'm', 'M'},
    {"comma", 0x33, 54, ',', '<'},
    {"dot", 0x34, 55, '.', '>'},
    {"slash", 0x35, 56, '/', '?'},
    {"shift_r", 0x36, 229, 0xFFE2, 0},
    {"kp_multiply", 0x37, 85, 0xFFAA, 0},
    {"alt", 0x38, 226, 0xFFE9, 0},
    {"spc", 0x39, 44, ' ', 0},
    {"caps_lock", 0x3A, 57, 0xFFE5, 0},
    {"f1", 0x3B, 58, 0xFFBE, 0},
    {"f2", 0x3C, 59, 0xFFBF, 0},
    {"f3", 0x3D, 60, 0xFFC0, 0},
    {"f4", 0x3E, 61, 0xFFC1, 0},
    {"f5", 0x3F, 62, 0xFFC2, 0},
    {"f6", 0x40, 63, 0xFFC3, 0},
    {"f7", 0x41, 64, 0xFFC4, 0},
    {"f8", 0x42, 65, 0xFFC5, 0},
    {"f9", 0x43, 66, 0xFFC6, 0},
    {"f10", 0x44, 67, 0xFFC7, 0},
    {"num_lock", 0x45, 83, 0xFF7F, 0},
    {"scroll_lock", 0x46, 71, 0xFF14, 0},
    {"kp_7", 0x47, 95, 0xFFB7, 0xFF95},
    {"kp_8", 0x48, 96, 0xFFB8, 0xFF97},
    {"kp_9", 0x49, 97, 0xFFB9, 0xFF9A},
    {"kp_subtract", 0x4A, 86, 0xFFAD, 0},
    {"kp_4", 0x4B, 92, 0xFFB4, 0xFF96},
    {"kp_5", 0x4C, 93, 0xFFB5, 0xFF9D},
    {"kp_6", 0x4D, 94, 0xFFB6, 0xFF98},
    {"kp_add", 0x4E, 87, 0xFFAB, 0},
    {"kp_1", 0x4F, 89, 0xFFB1, 0xFF9C},
    {"kp_2", 0x50, 90, 0xFFB2, 0xFF99},
    {"kp_3", 0x51, 91, 0xFFB3, 0xFF9B},
    {"kp_0", 0x52, 98, 0xFFB0, 0xFF9E},
    {"kp_decimal", 0x53, 99, 0xFFAE, 0xFF9F},
    {"sysrq", 0x54, 0, 0xFF15, 0},
    {"less", 0x56, 100, 0, 0},
    {"f11", 0x57, 68, 0xFFC8, 0},
    {"f12", 0x58, 69, 0xFFC9, 0},
    {"kp_enter", 0xE01C, 88, 0xFF8D, 0},
    {"ctrl_r", 0xE01D, 228, 0xFFE4, 0},
    {"kp_divide", 0xE035, 84, 0xFFAF, 0},
    {"print", 0xE037, 70, 0xFF61, 0},
    {"alt_r", 0xE038, 230, 0xFFEA, 0xFE03},  // AltGr: ISO_Level3_Shift
    {"home", 0xE047, 74, 0xFF50, 0},
    {"up", 0xE048, 82, 0xFF52, 0},
    {"pgup", 0xE049, 75, 0xFF55, 0},
    {"left", 0xE04B, 80, 0xFF51, 0},
    {"right", 0xE04D, 79, 0xFF53, 0},
    {"end", 0xE04F, 77, 0xFF57, 0},
    {"down", 0xE050, 81, 0xFF54, 0},
    {"pgdn", 0xE051, 78, 0xFF56, 0},
    {"insert", 0xE052, 73, 0xFF63, 0},
    {"delete", 0xE053, 76, 0xFFFF, 0},
    {"meta_l", 0xE05B, 227, 0xFFEB, 0xFFE7},  // Super_L, Meta_L
    {"meta_r", 0xE05C, 231, 0xFFEC, 0xFFE8},
    {"menu", 0xE05D, 101, 0xFF67, 0},
    {"power", 0xE05E, 102, 0, 0},
    {"sleep", 0xE05F, 0, 0, 0},
    {"wake", 0xE063, 0, 0, 0},
};

constexpr uint16_t kExtended = 0xE000;

}  // namespace

std::vector<uint8_t> scancode_bytes(Scancode code, bool down) {
  const uint8_t make = static_cast<uint8_t>(code & 0x7F);
  const uint8_t byte = down ? make : static_cast<uint8_t>(make | 0x80);
  if ((code & 0xFF00) == kExtended) return {0xE0, byte};
  return {byte};
}

std::optional<Scancode> scancode_from_qcode(std::string_view name) {
  for (const Key& key : kKeys) {
    if (name == key.qcode) return key.set1;
  }
  return std::nullopt;
}

std::optional<Scancode> scancode_from_qnum(uint32_t qnum) {
  if (qnum == 0 || qnum > 0xFF || (qnum & 0x7F) == 0) return std::nullopt;
  if (qnum & 0x80) return static_cast<Scancode>(kExtended | (qnum & 0x7F));
  return static_cast<Scancode>(qnum);
}

std::optional<Scancode> scancode_from_keysym(uint32_t keysym) {
  if (keysym == 0) return std::nullopt;
  for (const Key& key : kKeys) {
    if (keysym == key.keysym || keysym == key.shifted) return key.set1;
  }
  return std::nullopt;
}

std::optional<Scancode> scancode_from_usb_hid(uint32_t usage) {
  if (usage == 0) return std::nullopt;
  if (usage == 50) return Scancode{0x2B};  // non-US # and ~: where backslash sits
  for (const Key& key : kKeys) {
    if (usage == key.usb) return key.set1;
  }
  return std::nullopt;
}

}  // namespace cr16::ui
