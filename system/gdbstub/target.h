// The CR16 target as a debugger sees it: the register layout (27 registers
// in the order of GDB's only CR16 register list, include/gdb/sim-cr16.h:
// r0-r11 as 2 bytes, r12, r13, ra, sp, pc, isp, usp, intbase, psr, cfg,
// dbs, dcr, dsr, car0, car1 as 4 bytes, little-endian), the target
// description XML served through qXfer:features:read, and the g/G/p/P
// encodings over MachineControl's named registers. See docs/gdb.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "system/machine_control.h"
#include "util/error.h"

namespace cr16::system::gdbstub {

/// One register of the layout.
struct GdbRegister {
  const char* name;   // as the target description names it ("r0", "sp", "usp")
  unsigned bytes;     // size on the wire: 2 or 4
  const char* type;   // target-description type ("int16", "code_ptr", "psr_flags")
  const char* group;  // "general", "system" or "debug"
};

inline constexpr size_t kGdbRegisterCount = 27;
inline constexpr unsigned kGdbRegisterSp = 15;
inline constexpr unsigned kGdbRegisterPc = 16;
/// Hex digits of a `g` reply: 12 × 2 + 15 × 4 bytes = 84 bytes.
inline constexpr size_t kGdbRegistersHexLength = 168;

/// The layout, numbered as `p`/`P` and the target description number them.
std::span<const GdbRegister> gdb_registers();

/// The target description: architecture `cr16`, one feature
/// `org.gnu.gdb.cr16.core` naming every register in layout order with its
/// size, type and group, PSR and CFG as flag types.
const std::string& target_xml();

/// A register value as the wire carries it: `bytes` bytes little-endian, in
/// hex.
std::string encode_register_value(uint32_t value, unsigned bytes);
/// The value of exactly `bytes` × 2 hex digits, little-endian; nullopt if
/// the length or a digit is wrong.
std::optional<uint32_t> decode_register_value(std::string_view hex, unsigned bytes);

/// Reads register `number` of the layout (usp is the user stack pointer in
/// either mode). Error for a number outside the layout.
Expected<uint32_t> read_gdb_register(MachineControl& control, unsigned number);
/// Writes register `number`. The value must be one the register can hold
/// (pc, isp, intbase 24-bit even; psr and cfg their implemented bits; car0
/// and car1 24-bit; r0-r11 16-bit); nothing changes otherwise.
Error write_gdb_register(MachineControl& control, unsigned number, uint32_t value);

/// The `g` reply: every register, in layout order.
std::string read_all_registers(MachineControl& control);
/// The `G` packet's data: exactly kGdbRegistersHexLength hex digits. Every
/// value is checked before any is written (nothing changes on error); only
/// registers whose value differs are written, psr first (so a mode change
/// banks the stack pointers before sp and usp are set).
Error write_all_registers(MachineControl& control, std::string_view hex);

}  // namespace cr16::system::gdbstub
