// Key codes: every front end names keys its own way (QEMU's QKeyCode names
// in QMP send-key, X11 keysyms and QEMU's XT "qnum" in VNC, USB HID usages
// as SDL scancodes); the virt keyboard controller speaks PC scancode set 1.
// These tables translate, for a US keyboard layout.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace cr16::ui {

/// A PC scancode set 1 key: the make code in the low 7 bits, 0xE0 in the
/// high byte for the extended keys (arrows, right Ctrl/Alt, keypad Enter...).
using Scancode = uint16_t;

/// The bytes the keyboard sends for a press (make) or release (make | 0x80),
/// with the 0xE0 prefix for extended keys.
std::vector<uint8_t> scancode_bytes(Scancode code, bool down);

/// QEMU's QKeyCode names ("a", "1", "ret", "spc", "shift", "ctrl_r",
/// "alt", "f1", "up", "kp_enter", "esc", "backspace", "tab", ...).
std::optional<Scancode> scancode_from_qcode(std::string_view name);
/// QEMU's "number" key values (QKeyValue type number): XT codes, extended
/// keys as 0x80 | code. Also what RFB's QEMU Extended Key Event carries.
std::optional<Scancode> scancode_from_qnum(uint32_t qnum);
/// X11 keysyms (RFB KeyEvent): both cases of a letter, and a shifted
/// symbol, map to the key that types it (the client sends Shift itself).
std::optional<Scancode> scancode_from_keysym(uint32_t keysym);
/// USB HID keyboard usages (SDL_Scancode values are those).
std::optional<Scancode> scancode_from_usb_hid(uint32_t usage);

}  // namespace cr16::ui
