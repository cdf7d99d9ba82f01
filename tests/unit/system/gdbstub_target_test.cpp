// The CR16 target as the gdbstub presents it: the register layout of the
// ISA notes (27 registers, r0-r11 2 bytes, the rest 4), the target
// description naming them in that order, and g/G/p/P on a real machine
// (validation, usp banking).
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "cpu/state.h"
#include "machine_test_helpers.h"
#include "system/gdbstub/target.h"

namespace cr16::system::gdbstub {
namespace {

using test::kCounterProgram;
using test::MachineFixture;

// include/gdb/sim-cr16.h's order, as docs/cr16-isa-notes.md gives it.
const std::vector<std::string> kExpectedNames = {
    "r0",  "r1",      "r2",  "r3",  "r4",  "r5",  "r6",  "r7",   "r8",
    "r9",  "r10",     "r11", "r12", "r13", "ra",  "sp",  "pc",   "isp",
    "usp", "intbase", "psr", "cfg", "dbs", "dcr", "dsr", "car0", "car1"};

TEST(GdbTarget, LayoutFollowsTheIsaNotes) {
  std::span<const GdbRegister> layout = gdb_registers();
  ASSERT_EQ(layout.size(), kExpectedNames.size());
  size_t bytes = 0;
  for (size_t i = 0; i < layout.size(); ++i) {
    EXPECT_EQ(layout[i].name, kExpectedNames[i]) << i;
    EXPECT_EQ(layout[i].bytes, i < 12 ? 2u : 4u) << layout[i].name;
    bytes += layout[i].bytes;
  }
  EXPECT_EQ(bytes * 2, kGdbRegistersHexLength);
  EXPECT_EQ(bytes, 84u);
  EXPECT_STREQ(layout[kGdbRegisterPc].name, "pc");
  EXPECT_STREQ(layout[kGdbRegisterSp].name, "sp");
}

TEST(GdbTarget, DescriptionNamesEveryRegisterInOrderWithItsSize) {
  const std::string& xml = target_xml();
  EXPECT_NE(xml.find("<architecture>cr16</architecture>"), std::string::npos);
  EXPECT_NE(xml.find("<feature name=\"org.gnu.gdb.cr16.core\">"), std::string::npos);
  const std::regex reg(
      "<reg name=\"([a-z0-9]+)\" bitsize=\"([0-9]+)\" type=\"([a-z0-9_]+)\" "
      "regnum=\"([0-9]+)\"");
  size_t index = 0;
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), reg); it != std::sregex_iterator();
       ++it, ++index) {
    ASSERT_LT(index, kExpectedNames.size());
    EXPECT_EQ((*it)[1], kExpectedNames[index]);
    EXPECT_EQ(std::stoul((*it)[2]), index < 12 ? 16u : 32u) << kExpectedNames[index];
    EXPECT_EQ(std::stoul((*it)[4]), index);
  }
  EXPECT_EQ(index, kExpectedNames.size());
  // The flag types the psr and cfg registers use are defined, with the
  // PRM's bits.
  EXPECT_NE(xml.find("<flags id=\"cr16_psr\" size=\"4\">"), std::string::npos);
  EXPECT_NE(xml.find("<field name=\"U\" start=\"3\" end=\"3\"/>"), std::string::npos);
  EXPECT_NE(xml.find("<field name=\"ED\" start=\"8\" end=\"8\"/>"), std::string::npos);
  // Nothing that would need escaping in a qXfer reply would break it.
  EXPECT_EQ(xml.find_first_of("#$}*"), std::string::npos);
}

TEST(GdbTarget, RegisterValuesAreLittleEndianHex) {
  EXPECT_EQ(encode_register_value(0x1234, 2), "3412");
  EXPECT_EQ(encode_register_value(0xE00ef4, 4), "f40ee000");
  EXPECT_EQ(decode_register_value("f40ee000", 4), 0xE00EF4u);
  EXPECT_FALSE(decode_register_value("f40ee0", 4));
  EXPECT_FALSE(decode_register_value("zz12", 2));
}

using GdbTargetMachine = MachineFixture;

TEST_F(GdbTargetMachine, ReadAllMatchesTheNamedRegisters) {
  Machine& machine = make(kCounterProgram, {"-S"});
  MachineControl& control = machine.control();
  ASSERT_TRUE(control.write_register("r4", 0xBEEF).ok());
  ASSERT_TRUE(control.write_register("r13", 0x12345678).ok());
  ASSERT_TRUE(control.write_register("intbase", 0x200).ok());
  const std::string hex = read_all_registers(control);
  ASSERT_EQ(hex.size(), kGdbRegistersHexLength);
  EXPECT_EQ(hex.substr(4 * 4, 4), "efbe");                     // r4
  EXPECT_EQ(hex.substr(48 + 13 * 8 - 12 * 8, 8), "78563412");  // r13
  EXPECT_EQ(hex.substr(48 + 16 * 8 - 12 * 8, 8), "00000000");  // pc: the program starts at 0
  EXPECT_EQ(hex.substr(48 + 19 * 8 - 12 * 8, 8), "00020000");  // intbase
  EXPECT_EQ(read_gdb_register(control, 20).value(), 0x200u);   // psr after reset: E
  EXPECT_FALSE(read_gdb_register(control, 27).ok());
}

TEST_F(GdbTargetMachine, WriteAllChangesWhatDiffersAndRefusesImpossibleValues) {
  Machine& machine = make(kCounterProgram, {"-S"});
  MachineControl& control = machine.control();
  std::string hex = read_all_registers(control);
  hex.replace(4 * 4, 4, "3412");                   // r4 = 0x1234
  hex.replace(48 + (16 - 12) * 8, 8, "04000000");  // pc = 4
  ASSERT_TRUE(write_all_registers(control, hex).ok());
  EXPECT_EQ(control.read_register("r4").value(), 0x1234u);
  EXPECT_EQ(control.read_register("pc").value(), 4u);
  // An odd pc is refused, and nothing else in the packet is written.
  std::string bad = hex;
  bad.replace(4 * 4, 4, "0100");                   // r4 = 1
  bad.replace(48 + (16 - 12) * 8, 8, "05000000");  // pc = 5
  EXPECT_FALSE(write_all_registers(control, bad).ok());
  EXPECT_EQ(control.read_register("r4").value(), 0x1234u);
  EXPECT_EQ(control.read_register("pc").value(), 4u);
  // psr bits that do not exist, wrong lengths and bad hex are refused.
  bad = hex;
  bad.replace(48 + (20 - 12) * 8, 8, "10000000");  // psr bit 4
  EXPECT_FALSE(write_all_registers(control, bad).ok());
  EXPECT_FALSE(write_all_registers(control, hex.substr(2)).ok());
  bad = hex;
  bad[0] = 'x';
  EXPECT_FALSE(write_all_registers(control, bad).ok());
  EXPECT_FALSE(write_gdb_register(control, 0, 0x10000).ok());  // r0 is 16-bit
}

TEST_F(GdbTargetMachine, UspIsTheUserStackPointerInEitherMode) {
  Machine& machine = make(kCounterProgram, {"-S"});
  MachineControl& control = machine.control();
  ASSERT_TRUE(
      control.write_register("sp", 0x1000).ok());  // supervisor mode: sp is the ISP-side one
  ASSERT_TRUE(write_gdb_register(control, 18, 0x2000).ok());  // usp
  EXPECT_EQ(control.read_register("banked_sp").value(), 0x2000u);
  EXPECT_EQ(read_gdb_register(control, 15).value(), 0x1000u);
  // Into user mode through G: sp now names the user stack pointer.
  std::string hex = read_all_registers(control);
  hex.replace(48 + (20 - 12) * 8, 8, encode_register_value(0x0208, 4));  // psr = E|U
  ASSERT_TRUE(write_all_registers(control, hex).ok());
  EXPECT_EQ(read_gdb_register(control, 15).value(), 0x2000u);  // sp = the user stack
  EXPECT_EQ(read_gdb_register(control, 18).value(), 0x2000u);  // usp
  EXPECT_EQ(control.read_register("banked_sp").value(), 0x1000u);
  ASSERT_TRUE(write_gdb_register(control, 18, 0x3000).ok());
  EXPECT_EQ(control.read_register("sp").value(), 0x3000u);
}

}  // namespace
}  // namespace cr16::system::gdbstub
