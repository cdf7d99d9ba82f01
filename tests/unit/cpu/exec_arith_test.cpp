// Hand-written execution cases for the ALU groups, named by their assembly:
// add/sub/cmp flags at the carry and overflow boundaries in 8/16/32 bits,
// logic, shifts, multiplies and moves.
#include "cpu_fixture.h"

namespace cr16::test {
namespace {

using ExecArith = CpuFixture;

constexpr uint16_t kFlagBits = psr::kC | psr::kF | psr::kZ | psr::kN | psr::kL;

TEST_F(ExecArith, AddwMinusOneR0SetsC) {  // addw $-1, r0
  r(0) = 1;
  exec({0x3290});
  EXPECT_EQ(r(0), 0u);
  EXPECT_TRUE(psr() & psr::kC);
  EXPECT_FALSE(psr() & psr::kF);
  EXPECT_EQ(cpu.state().pc, kCode + 2);
}

TEST_F(ExecArith, AddwR1R2SignedOverflowSetsFNotC) {  // addw r1, r2
  r(1) = 1;
  r(2) = 0x7FFF;
  exec({0x3312});
  EXPECT_EQ(r(2), 0x8000u);
  EXPECT_FALSE(psr() & psr::kC);
  EXPECT_TRUE(psr() & psr::kF);
}

TEST_F(ExecArith, AddbSetsCarryAndKeepsHighByte) {  // addb $1, r3 (GNU sim never sets C)
  r(3) = 0x12FF;
  exec({0x3013});
  EXPECT_EQ(r(3), 0x1200u);
  EXPECT_TRUE(psr() & psr::kC);
  EXPECT_FALSE(psr() & psr::kF);
}

TEST_F(ExecArith, AddbOverflow7FPlus1SetsF) {  // addb $1, r3
  r(3) = 0x7F;
  exec({0x3013});
  EXPECT_EQ(r(3), 0x80u);
  EXPECT_FALSE(psr() & psr::kC);
  EXPECT_TRUE(psr() & psr::kF);
}

TEST_F(ExecArith, AddcwAddsCarryIn) {  // addcw r1, r2
  r(1) = 0xFFFF;
  r(2) = 0;
  cpu.state().psr |= psr::kC;
  exec({0x3712});
  EXPECT_EQ(r(2), 0u);
  EXPECT_TRUE(psr() & psr::kC);
}

TEST_F(ExecArith, AdduwChangesNoFlags) {  // adduw r1, r2
  r(1) = 0xFFFF;
  r(2) = 2;
  const uint16_t before = psr();
  exec({0x2F12});
  EXPECT_EQ(r(2), 1u);
  EXPECT_EQ(psr(), before);
}

TEST_F(ExecArith, SubwBorrowSetsC) {  // subw r1, r2: r2 = 0 - 1
  r(1) = 1;
  r(2) = 0;
  exec({0x3B12});
  EXPECT_EQ(r(2), 0xFFFFu);
  EXPECT_TRUE(psr() & psr::kC);
  EXPECT_FALSE(psr() & psr::kF);
}

TEST_F(ExecArith, SubwOverflow8000Minus1SetsF) {  // subw r1, r2
  r(1) = 1;
  r(2) = 0x8000;
  exec({0x3B12});
  EXPECT_EQ(r(2), 0x7FFFu);
  EXPECT_FALSE(psr() & psr::kC);
  EXPECT_TRUE(psr() & psr::kF);
}

TEST_F(ExecArith, SubcwSubtractsBorrow) {  // subcw r1, r2: 5 - 5 - 1
  r(1) = 5;
  r(2) = 5;
  cpu.state().psr |= psr::kC;
  exec({0x3F12});
  EXPECT_EQ(r(2), 0xFFFFu);
  EXPECT_TRUE(psr() & psr::kC);
}

TEST_F(ExecArith, CmpwEqualSetsZOnly) {  // cmpw r1, r2
  r(1) = 7;
  r(2) = 7;
  exec({0x5312});
  EXPECT_EQ(psr() & (psr::kZ | psr::kN | psr::kL), psr::kZ);
}

TEST_F(ExecArith, CmpwSignedAndUnsignedDiffer) {  // cmpw r1, r2 with r1=-1, r2=1
  r(1) = 0xFFFF;
  r(2) = 1;
  exec({0x5312});
  // src (0xFFFF) > dest (1) unsigned: L; signed -1 < 1: no N.
  EXPECT_EQ(psr() & (psr::kZ | psr::kN | psr::kL), psr::kL);
}

TEST_F(ExecArith, CmpbComparesLowBytesOnly) {  // cmpb $2, r1 with r1=0x0102
  r(1) = 0x0102;
  exec({0x5021});
  EXPECT_TRUE(psr() & psr::kZ);
}

TEST_F(ExecArith, AdddImm32CarriesOutOf32Bits) {  // addd $1, (r1,r0) via addd $imm32
  r(0) = 0xFFFF;
  r(1) = 0xFFFF;
  exec({0x0020, 0x0000, 0x0001});
  EXPECT_EQ(r(0), 0u);
  EXPECT_EQ(r(1), 0u);
  EXPECT_TRUE(psr() & psr::kC);
  EXPECT_FALSE(psr() & psr::kF);
}

TEST_F(ExecArith, MovdImm32LoadsPairLowWordFirst) {  // movd $0x12345678, (r3,r2)
  exec({0x0072, 0x1234, 0x5678});
  EXPECT_EQ(r(2), 0x5678u);
  EXPECT_EQ(r(3), 0x1234u);
}

TEST_F(ExecArith, MovdImm20ToR12) {  // movd $0xABCDE, r12
  r(12) = 0xFFFFFFFF;
  exec({0x05CA, 0xBCDE});
  EXPECT_EQ(r(12), 0xABCDEu);
}

TEST_F(ExecArith, MovwToR12KeepsUpperHalf) {  // movw $5, r12 (low half)
  r(12) = 0x12340000;
  exec({0x5A5C});
  EXPECT_EQ(r(12), 0x12340005u);
}

TEST_F(ExecArith, CmpdSetsLOnUnsignedGreaterSource) {  // cmpd $-1, (r1,r0)
  r(0) = 0;
  r(1) = 0;
  exec({0x5690});
  EXPECT_EQ(psr() & (psr::kZ | psr::kN | psr::kL), psr::kL);
}

TEST_F(ExecArith, SubdPairPairBorrow) {  // subd (r3,r2), (r1,r0)
  r(0) = 0;
  r(1) = 0;
  r(2) = 1;
  r(3) = 0;
  exec({0x0014, 0xC020});
  EXPECT_EQ(r(0), 0xFFFFu);
  EXPECT_EQ(r(1), 0xFFFFu);
  EXPECT_TRUE(psr() & psr::kC);
}

TEST_F(ExecArith, LogicOpsChangeNoFlags) {  // andw r1,r2; orw r1,r3; xorw r1,r4
  r(1) = 0x0F0F;
  r(2) = 0x00FF;
  r(3) = 0xF000;
  r(4) = 0xFFFF;
  cpu.state().psr |= psr::kC | psr::kZ;
  const uint16_t before = psr();
  exec({0x2312, 0x2713, 0x2B14}, 3);
  EXPECT_EQ(r(2), 0x000Fu);
  EXPECT_EQ(r(3), 0xFF0Fu);
  EXPECT_EQ(r(4), 0xF0F0u);
  EXPECT_EQ(psr() & kFlagBits, before & kFlagBits);
}

TEST_F(ExecArith, AndbImm16KeepsHighByte) {  // andb $0x0F, r5
  r(5) = 0xABCD;
  exec({0x20B5, 0x000F});
  EXPECT_EQ(r(5), 0xAB0Du);
}

TEST_F(ExecArith, AshuwRightIsArithmetic) {  // ashuw $-1, r1
  r(1) = 0x8002;
  exec({0x43F1});
  EXPECT_EQ(r(1), 0xC001u);
}

TEST_F(ExecArith, AshuwLeftByFour) {  // ashuw $4, r1
  r(1) = 0x1234;
  exec({0x4241});
  EXPECT_EQ(r(1), 0x2340u);
}

TEST_F(ExecArith, LshwRightIsLogical) {  // lshw $-1, r1
  r(1) = 0x8002;
  exec({0x49F1});
  EXPECT_EQ(r(1), 0x4001u);
}

TEST_F(ExecArith, AshuwByRegisterNegativeCountShiftsRight) {  // ashuw r2, r1 with r2 = -4
  r(1) = 0xF000;
  r(2) = 0xFFFC;
  exec({0x4521});
  EXPECT_EQ(r(1), 0xFF00u);
}

TEST_F(ExecArith, MulwTruncatesTo16Bits) {  // mulw r1, r2
  r(1) = 0x100;
  r(2) = 0x123;
  exec({0x6712});
  EXPECT_EQ(r(2), 0x2300u);
}

TEST_F(ExecArith, MulswProducesSigned32BitPair) {  // mulsw r1, (r3,r2)
  r(1) = 0xFFFF;                                   // -1
  r(2) = 2;
  exec({0x6212});
  EXPECT_EQ(r(2), 0xFFFEu);
  EXPECT_EQ(r(3), 0xFFFFu);
}

TEST_F(ExecArith, MuluwProducesUnsigned32BitPair) {  // muluw r1, (r3,r2)
  r(1) = 0xFFFF;
  r(2) = 0xFFFF;
  exec({0x6312});
  EXPECT_EQ(r(2), 0x0001u);
  EXPECT_EQ(r(3), 0xFFFEu);
}

TEST_F(ExecArith, MulsbSignExtendsBothBytes) {  // mulsb r1, r2
  r(1) = 0x00FE;                                // -2
  r(2) = 0x0003;
  exec({0x0B12});
  EXPECT_EQ(r(2), 0xFFFAu);
}

TEST_F(ExecArith, MacswSaturatesAtInt32Max) {  // macsw r1, r2, (r5,r4)
  r(1) = 0x7FFF;
  r(2) = 0x7FFF;
  r(4) = 0xFFFF;
  r(5) = 0x7FFF;
  exec({0x0014, 0xF412});
  EXPECT_EQ(r(4), 0xFFFFu);
  EXPECT_EQ(r(5), 0x7FFFu);
}

TEST_F(ExecArith, MacuwAccumulates) {  // macuw r1, r2, (r5,r4)
  r(1) = 3;
  r(2) = 4;
  r(4) = 10;
  r(5) = 0;
  exec({0x0014, 0xE412});
  EXPECT_EQ(r(4), 22u);
}

TEST_F(ExecArith, MacqwMinusOneSquaredSaturates) {  // macqw r1, r2, (r5,r4)
  r(1) = 0x8000;
  r(2) = 0x8000;
  r(4) = 0;
  r(5) = 0;
  exec({0x0014, 0xD412});
  EXPECT_EQ(r(4) | (r(5) << 16), 0x7FFFFFFFu);
}

TEST_F(ExecArith, MovxbSignExtends) {  // movxb r1, r2
  r(1) = 0x0080;
  exec({0x5C12});
  EXPECT_EQ(r(2), 0xFF80u);
}

TEST_F(ExecArith, MovzwZeroExtendsIntoPair) {  // movzw r1, (r3,r2)
  r(1) = 0x8000;
  r(3) = 0x1234;
  exec({0x5F12});
  EXPECT_EQ(r(2), 0x8000u);
  EXPECT_EQ(r(3), 0u);
}

TEST_F(ExecArith, MovxwSignExtendsIntoPair) {  // movxw r1, (r3,r2)
  r(1) = 0x8000;
  exec({0x5E12});
  EXPECT_EQ(r(3), 0xFFFFu);
}

TEST_F(ExecArith, ScondWritesOneOrZero) {  // seq r1; sne r2 with Z set
  cpu.state().psr |= psr::kZ;
  exec({0x0801, 0x0812}, 2);
  EXPECT_EQ(r(1), 1u);
  EXPECT_EQ(r(2), 0u);
}

TEST_F(ExecArith, TbitImmediateCopiesBitToF) {  // tbit $3, r1
  r(1) = 0x0008;
  exec({0x0631});
  EXPECT_TRUE(psr() & psr::kF);
  r(1) = 0;
  exec({0x0631});
  EXPECT_FALSE(psr() & psr::kF);
}

}  // namespace
}  // namespace cr16::test
