#include "system/gdbstub/target.h"

#include <array>
#include <cstdio>

#include "cpu/state.h"
#include "system/gdbstub/packet.h"

namespace cr16::system::gdbstub {

namespace {

// The layout, and where each register lives in the CPU's state description
// (nullptr: usp, which is sp or banked_sp depending on PSR.U).
struct RegisterEntry {
  GdbRegister reg;
  const char* field;
};

constexpr RegisterEntry kRegisters[kGdbRegisterCount] = {
    {{"r0", 2, "int16", "general"}, "r0"},       {{"r1", 2, "int16", "general"}, "r1"},
    {{"r2", 2, "int16", "general"}, "r2"},       {{"r3", 2, "int16", "general"}, "r3"},
    {{"r4", 2, "int16", "general"}, "r4"},       {{"r5", 2, "int16", "general"}, "r5"},
    {{"r6", 2, "int16", "general"}, "r6"},       {{"r7", 2, "int16", "general"}, "r7"},
    {{"r8", 2, "int16", "general"}, "r8"},       {{"r9", 2, "int16", "general"}, "r9"},
    {{"r10", 2, "int16", "general"}, "r10"},     {{"r11", 2, "int16", "general"}, "r11"},
    {{"r12", 4, "int32", "general"}, "r12"},     {{"r13", 4, "int32", "general"}, "r13"},
    {{"ra", 4, "code_ptr", "general"}, "ra"},    {{"sp", 4, "data_ptr", "general"}, "sp"},
    {{"pc", 4, "code_ptr", "general"}, "pc"},    {{"isp", 4, "data_ptr", "system"}, "isp"},
    {{"usp", 4, "data_ptr", "system"}, nullptr}, {{"intbase", 4, "data_ptr", "system"}, "intbase"},
    {{"psr", 4, "cr16_psr", "system"}, "psr"},   {{"cfg", 4, "cr16_cfg", "system"}, "cfg"},
    {{"dbs", 4, "uint32", "debug"}, "dbs"},      {{"dcr", 4, "uint32", "debug"}, "dcr"},
    {{"dsr", 4, "uint32", "debug"}, "dsr"},      {{"car0", 4, "data_ptr", "debug"}, "car0"},
    {{"car1", 4, "data_ptr", "debug"}, "car1"},
};

constexpr unsigned kUspNumber = 18;
constexpr unsigned kPsrNumber = 20;

constexpr std::array<GdbRegister, kGdbRegisterCount> make_layout() {
  std::array<GdbRegister, kGdbRegisterCount> layout{};
  for (size_t i = 0; i < kGdbRegisterCount; ++i) layout[i] = kRegisters[i].reg;
  return layout;
}
constexpr std::array<GdbRegister, kGdbRegisterCount> kLayout = make_layout();

// The state field usp means now: the active sp in user mode, else the
// banked one.
Expected<const char*> usp_field(MachineControl& control) {
  Expected<uint64_t> psr = control.read_register("psr");
  if (!psr) return psr.error();
  return (*psr & psr::kU) ? "sp" : "banked_sp";
}

// Checks that `field` can hold `value` without touching the CPU.
Error check_value(const char* name, uint32_t value) {
  const StateField* field = state_field_find(cpu_state_description(), name);
  if (field == nullptr) return Error(std::string("no register '") + name + "'");
  CpuState scratch;
  return state_field_set(*field, &scratch, value);
}

std::string build_target_xml() {
  std::string xml =
      "<?xml version=\"1.0\"?>\n"
      "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
      "<target version=\"1.0\">\n"
      "  <architecture>cr16</architecture>\n"
      "  <feature name=\"org.gnu.gdb.cr16.core\">\n";
  struct Bit {
    const char* name;
    unsigned bit;
  };
  auto flags = [&xml](const char* id, std::span<const Bit> bits) {
    xml += std::string("    <flags id=\"") + id + "\" size=\"4\">\n";
    for (const Bit& bit : bits) {
      xml += std::string("      <field name=\"") + bit.name + "\" start=\"" +
             std::to_string(bit.bit) + "\" end=\"" + std::to_string(bit.bit) + "\"/>\n";
    }
    xml += "    </flags>\n";
  };
  // PRM 2.3.4 (PSR) and 2.3.5 (CFG): the implemented bits only.
  constexpr Bit kPsrBits[] = {{"C", 0}, {"T", 1}, {"L", 2}, {"U", 3},  {"F", 5},
                              {"Z", 6}, {"N", 7}, {"E", 9}, {"P", 10}, {"I", 11}};
  constexpr Bit kCfgBits[] = {{"DC", 2}, {"LDC", 3}, {"IC", 4}, {"LIC", 5}, {"ED", 8}, {"SR", 9}};
  flags("cr16_psr", kPsrBits);
  flags("cr16_cfg", kCfgBits);
  for (size_t i = 0; i < kGdbRegisterCount; ++i) {
    const GdbRegister& reg = kLayout[i];
    xml += std::string("    <reg name=\"") + reg.name + "\" bitsize=\"" +
           std::to_string(reg.bytes * 8) + "\" type=\"" + reg.type + "\" regnum=\"" +
           std::to_string(i) + "\" group=\"" + reg.group + "\"/>\n";
  }
  xml +=
      "  </feature>\n"
      "</target>\n";
  return xml;
}

}  // namespace

std::span<const GdbRegister> gdb_registers() {
  return kLayout;
}

const std::string& target_xml() {
  static const std::string xml = build_target_xml();
  return xml;
}

std::string encode_register_value(uint32_t value, unsigned bytes) {
  uint8_t raw[4];
  for (unsigned i = 0; i < bytes && i < 4; ++i) raw[i] = static_cast<uint8_t>(value >> (8 * i));
  return hex_encode(std::span<const uint8_t>(raw, bytes < 4 ? bytes : 4));
}

std::optional<uint32_t> decode_register_value(std::string_view hex, unsigned bytes) {
  if (bytes > 4 || hex.size() != bytes * 2) return std::nullopt;
  std::optional<std::string> raw = hex_decode(hex);
  if (!raw) return std::nullopt;
  uint32_t value = 0;
  for (unsigned i = 0; i < bytes; ++i) {
    value |= static_cast<uint32_t>(static_cast<uint8_t>((*raw)[i])) << (8 * i);
  }
  return value;
}

// The CpuState field behind GDB register `number` (the user stack pointer
// is one of two fields, by the PSR's U bit).
Expected<const char*> register_field(MachineControl& control, unsigned number) {
  if (number >= kGdbRegisterCount) return Error("no register " + std::to_string(number));
  if (number == kUspNumber) return usp_field(control);
  return kRegisters[number].field;
}

Expected<uint32_t> read_gdb_register(MachineControl& control, unsigned number) {
  Expected<const char*> field = register_field(control, number);
  if (!field) return field.error();
  Expected<uint64_t> value = control.read_register(*field);
  if (!value) return value.error();
  return static_cast<uint32_t>(*value);
}

Error write_gdb_register(MachineControl& control, unsigned number, uint32_t value) {
  Expected<const char*> field = register_field(control, number);
  if (!field) return field.error();
  if (Error error = check_value(*field, value); !error.ok()) return error;
  return control.write_register(*field, value);
}

std::string read_all_registers(MachineControl& control) {
  std::string hex;
  hex.reserve(kGdbRegistersHexLength);
  for (unsigned i = 0; i < kGdbRegisterCount; ++i) {
    Expected<uint32_t> value = read_gdb_register(control, i);
    hex += encode_register_value(value ? *value : 0, kLayout[i].bytes);
  }
  return hex;
}

Error write_all_registers(MachineControl& control, std::string_view hex) {
  if (hex.size() != kGdbRegistersHexLength) {
    return Error("G: expected " + std::to_string(kGdbRegistersHexLength) + " hex digits, got " +
                 std::to_string(hex.size()));
  }
  std::array<uint32_t, kGdbRegisterCount> values{};
  size_t offset = 0;
  for (unsigned i = 0; i < kGdbRegisterCount; ++i) {
    const unsigned bytes = kLayout[i].bytes;
    std::optional<uint32_t> value = decode_register_value(hex.substr(offset, bytes * 2), bytes);
    if (!value) return Error(std::string("G: bad hex for ") + kLayout[i].name);
    values[i] = *value;
    offset += bytes * 2;
  }
  // Check everything first: a refused value changes nothing. usp is
  // checked as a 32-bit stack pointer (both of its homes are).
  for (unsigned i = 0; i < kGdbRegisterCount; ++i) {
    const char* field = i == kUspNumber ? "sp" : kRegisters[i].field;
    if (Error error = check_value(field, values[i]); !error.ok()) {
      return error.with_context(std::string("G: ") + kLayout[i].name);
    }
  }
  // Only what differs from the registers as they were before the packet is
  // written: psr first, so a change of mode banks the stack pointers (an
  // unchanged sp then names the new mode's own); then usp, so that in user
  // mode (where usp and sp are one register) a changed sp wins.
  std::array<uint32_t, kGdbRegisterCount> before{};
  for (unsigned i = 0; i < kGdbRegisterCount; ++i) {
    Expected<uint32_t> current = read_gdb_register(control, i);
    if (!current) return current.error();
    before[i] = *current;
  }
  std::array<unsigned, kGdbRegisterCount> order{};
  order[0] = kPsrNumber;
  order[1] = kUspNumber;
  size_t next = 2;
  for (unsigned i = 0; i < kGdbRegisterCount; ++i) {
    if (i != kPsrNumber && i != kUspNumber) order[next++] = i;
  }
  for (unsigned i : order) {
    if (before[i] == values[i]) continue;
    if (Error error = write_gdb_register(control, i, values[i]); !error.ok()) {
      return error.with_context(std::string("G: ") + kLayout[i].name);
    }
  }
  return Error();
}

}  // namespace cr16::system::gdbstub
