// Loads, stores, bit operations on memory, push/pop/popret and
// loadm/storm: addressing modes, widths, little-endian order, faults.
#include "cpu_fixture.h"

namespace cr16::test {
namespace {

using ExecMemory = CpuFixture;

TEST_F(ExecMemory, LoadwAbs20) {  // loadw 0x2000, r1
  bus.poke16(0x2000, 0xBEEF);
  exec({0x8910, 0x2000});
  EXPECT_EQ(r(1), 0xBEEFu);
  EXPECT_EQ(cpu.state().pc, kCode + 4);
}

TEST_F(ExecMemory, StorwAbs20) {  // storw r1, 0x2000
  r(1) = 0x1234;
  exec({0xC910, 0x2000});
  EXPECT_EQ(bus.peek16(0x2000), 0x1234u);
}

TEST_F(ExecMemory, LoadbReplacesLowByteOnly) {  // loadb 0x2001, r1
  bus.poke8(0x2001, 0x5A);
  r(1) = 0xAB00 | 0x11;
  exec({0x8810, 0x2001});
  EXPECT_EQ(r(1), 0xAB5Au);
}

TEST_F(ExecMemory,
       LoaddStordAreLittleEndianLowWordFirst) {  // stord (r3,r2), 0x2000; loadd 0x2000, (r5,r4)
  r(2) = 0x5678;
  r(3) = 0x1234;
  exec({0xC720, 0x2000, 0x8740, 0x2000}, 2);
  EXPECT_EQ(bus.peek32(0x2000), 0x12345678u);
  EXPECT_EQ(bus.peek16(0x2000), 0x5678u);
  EXPECT_EQ(r(4), 0x5678u);
  EXPECT_EQ(r(5), 0x1234u);
}

TEST_F(ExecMemory, Abs20AboveEFFFFIsRemappedToTopOfSpace) {  // loadw 0xFF000, r1 -> 0xFFF000
  bus.poke16(0xFFF000, 0x4242);
  bus.poke16(0x0FF000, 0x1111);
  exec({0x891F, 0xF000});
  EXPECT_EQ(r(1), 0x4242u);
}

TEST_F(ExecMemory, LoadwPairBaseDisp16) {  // loadw 4(r3,r2), r1
  r(2) = 0x3000;
  r(3) = 0x0001;  // pair = 0x13000
  bus.poke16(0x13004, 0x7777);
  exec({0x9F12, 0x0004});
  EXPECT_EQ(r(1), 0x7777u);
}

TEST_F(ExecMemory, AddressBeyond24BitsRaisesIadWithNextPc) {  // loadw 0(r12), r1
  r(12) = 0x01000000;
  exec({0x9F1C, 0x0000});
  EXPECT_EQ(cpu.state().pc, handler(vector::kIad));
  EXPECT_EQ(bus.peek32(kIsp - 6), (kCode + 4) >> 1);
}

TEST_F(ExecMemory, BusErrorRaisesIadOnCr16cPlus) {  // loadw 0xF8000 -> 0xFF8000 (no device)
  exec({0x891F, 0x8000});
  EXPECT_EQ(cpu.state().pc, handler(vector::kIad));
}

class ExecMemoryCr16c : public CpuFixture {
 protected:
  ExecMemoryCr16c() : CpuFixture(CpuModel::kCr16c) {}
};

TEST_F(ExecMemoryCr16c, BusErrorReadsZeroOnCr16c) {  // loadw 0xF8000, r1
  r(1) = 0x5555;
  exec({0x891F, 0x8000});
  EXPECT_EQ(r(1), 0u);
  EXPECT_EQ(cpu.state().pc, kCode + 4);
}

TEST_F(ExecMemory, StorwImmediate) {  // storw $5, 0x2000
  bus.poke16(0x2000, 0xFFFF);
  exec({0xC150, 0x2000});
  EXPECT_EQ(bus.peek16(0x2000), 5u);
}

TEST_F(ExecMemory, SbitwSetsBitAndCopiesOldBitToF) {  // sbitw $3, 0x2000
  bus.poke16(0x2000, 0x0001);
  exec({0x7730, 0x2000});
  EXPECT_EQ(bus.peek16(0x2000), 0x0009u);
  EXPECT_FALSE(psr() & psr::kF);
  exec({0x7730, 0x2000});
  EXPECT_TRUE(psr() & psr::kF);
}

TEST_F(ExecMemory, CbitwClearsBit) {  // cbitw $0, 0x2000
  bus.poke16(0x2000, 0x0003);
  exec({0x6F00, 0x2000});
  EXPECT_EQ(bus.peek16(0x2000), 0x0002u);
  EXPECT_TRUE(psr() & psr::kF);
}

TEST_F(ExecMemory, TbitwTestsWithoutWriting) {  // tbitw $15, 0x2000
  bus.poke16(0x2000, 0x8000);
  exec({0x7FF0, 0x2000});
  EXPECT_TRUE(psr() & psr::kF);
  EXPECT_EQ(bus.peek16(0x2000), 0x8000u);
}

TEST_F(ExecMemory, PushTwoWordsAndRa) {  // push $2, r0, ra
  r(0) = 0x1111;
  r(1) = 0x2222;
  r(kRegRa) = 0x00ABCDEF;
  exec({0x0190});
  EXPECT_EQ(r(kRegSp), kSp - 8);
  EXPECT_EQ(bus.peek16(kSp - 8), 0x1111u);
  EXPECT_EQ(bus.peek16(kSp - 6), 0x2222u);
  EXPECT_EQ(bus.peek32(kSp - 4), 0x00ABCDEFu);
}

TEST_F(ExecMemory, PushR12TakesTwoWords) {  // push $3, r11
  r(11) = 0x1111;
  r(12) = 0x00345678;
  exec({0x012B});
  EXPECT_EQ(r(kRegSp), kSp - 6);
  EXPECT_EQ(bus.peek16(kSp - 6), 0x1111u);
  EXPECT_EQ(bus.peek32(kSp - 4), 0x00345678u);
}

TEST_F(ExecMemory, PopRestoresWhatPushSaved) {  // push $2,r0,ra ; pop $2,r0,ra
  r(0) = 0x1111;
  r(1) = 0x2222;
  r(kRegRa) = 0x00ABCDEF;
  exec({0x0190});
  r(0) = r(1) = 0;
  r(kRegRa) = 0;
  bus.load_words(kCode + 2, {0x0290});
  cpu.flush_code_cache();
  cpu.run(1);
  EXPECT_EQ(r(0), 0x1111u);
  EXPECT_EQ(r(1), 0x2222u);
  EXPECT_EQ(r(kRegRa), 0x00ABCDEFu);
  EXPECT_EQ(r(kRegSp), kSp);
}

TEST_F(ExecMemory, PopretReturnsThroughRa) {  // popret $1, r0, ra
  bus.poke16(kSp, 0x4444);
  bus.poke32(kSp + 2, 0x3000 >> 1);
  exec({0x0380});
  EXPECT_EQ(r(0), 0x4444u);
  EXPECT_EQ(r(kRegSp), kSp + 6);
  EXPECT_EQ(cpu.state().pc, 0x3000u);
}

TEST_F(ExecMemory, PushRaOnly) {  // push ra
  r(kRegRa) = 0x12345;
  exec({0x011E});
  EXPECT_EQ(r(kRegSp), kSp - 4);
  EXPECT_EQ(bus.peek32(kSp - 4), 0x12345u);
}

TEST_F(ExecMemory, LoadmFillsR2R3AndAdvancesR0) {  // loadm $2
  r(0) = 0x2000;
  bus.poke16(0x2000, 0xAAAA);
  bus.poke16(0x2002, 0xBBBB);
  exec({0x00A1});
  EXPECT_EQ(r(2), 0xAAAAu);
  EXPECT_EQ(r(3), 0xBBBBu);
  EXPECT_EQ(r(0), 0x2004u);
}

TEST_F(ExecMemory, LoadmFiveSkipsR6R7) {  // loadm $5
  r(0) = 0x2000;
  for (uint32_t i = 0; i < 5; ++i) bus.poke16(0x2000 + 2 * i, static_cast<uint16_t>(i + 1));
  exec({0x00A4});
  EXPECT_EQ(r(5), 4u);
  EXPECT_EQ(r(6), 0u);
  EXPECT_EQ(r(8), 5u);
}

TEST_F(ExecMemory, StormStoresThroughR1) {  // storm $2
  r(1) = 0x2100;
  r(2) = 0x1234;
  r(3) = 0x5678;
  exec({0x00B1});
  EXPECT_EQ(bus.peek16(0x2100), 0x1234u);
  EXPECT_EQ(bus.peek16(0x2102), 0x5678u);
  EXPECT_EQ(r(1), 0x2104u);
}

TEST_F(ExecMemory, MisalignedWordAccessIsPerformed) {  // loadw 0x2001, r1
  bus.poke8(0x2001, 0x34);
  bus.poke8(0x2002, 0x12);
  exec({0x8910, 0x2001});
  EXPECT_EQ(r(1), 0x1234u);
}

TEST_F(ExecMemory, WordAccessStraddlingPagesWorks) {  // storw r1, 0x2FFF
  r(1) = 0xA1B2;
  exec({0xC910, 0x2FFF});
  EXPECT_EQ(bus.peek8(0x2FFF), 0xB2u);
  EXPECT_EQ(bus.peek8(0x3000), 0xA1u);
}

}  // namespace
}  // namespace cr16::test
