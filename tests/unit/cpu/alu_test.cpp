// Flag arithmetic at the boundaries, for 8-, 16- and 32-bit widths.
#include <gtest/gtest.h>

#include "cpu/alu.h"

namespace cr16::alu {
namespace {

struct AddCase {
  uint32_t dest, src, carry_in, result;
  bool c, f;
};

template <unsigned kBits>
void check_add(const AddCase& t) {
  uint16_t p = psr::kE | psr::kZ;  // unrelated bits must survive
  EXPECT_EQ(add<kBits>(t.dest, t.src, t.carry_in, &p), t.result)
      << kBits << "-bit " << t.dest << "+" << t.src;
  EXPECT_EQ((p & psr::kC) != 0, t.c) << kBits << "-bit C of " << t.dest << "+" << t.src;
  EXPECT_EQ((p & psr::kF) != 0, t.f) << kBits << "-bit F of " << t.dest << "+" << t.src;
  EXPECT_EQ(p & (psr::kE | psr::kZ), psr::kE | psr::kZ);
}

template <unsigned kBits>
void check_sub(const AddCase& t) {
  uint16_t p = 0;
  EXPECT_EQ(sub<kBits>(t.dest, t.src, t.carry_in, &p), t.result)
      << kBits << "-bit " << t.dest << "-" << t.src;
  EXPECT_EQ((p & psr::kC) != 0, t.c) << kBits << "-bit C of " << t.dest << "-" << t.src;
  EXPECT_EQ((p & psr::kF) != 0, t.f) << kBits << "-bit F of " << t.dest << "-" << t.src;
}

TEST(AluAdd, ByteBoundaries) {
  check_add<8>({0xFF, 0x01, 0, 0x00, true, false});
  check_add<8>({0x7F, 0x01, 0, 0x80, false, true});
  check_add<8>({0x80, 0x80, 0, 0x00, true, true});
  check_add<8>({0x80, 0xFF, 0, 0x7F, true, true});
  check_add<8>({0x00, 0x00, 1, 0x01, false, false});
  check_add<8>({0xFF, 0x00, 1, 0x00, true, false});
  check_add<8>({0x7F, 0x00, 1, 0x80, false, true});
}

TEST(AluAdd, WordBoundaries) {
  check_add<16>({0xFFFF, 0x0001, 0, 0x0000, true, false});
  check_add<16>({0x7FFF, 0x0001, 0, 0x8000, false, true});
  check_add<16>({0x8000, 0x8000, 0, 0x0000, true, true});
  check_add<16>({0x1234, 0x1111, 0, 0x2345, false, false});
  check_add<16>({0xFFFF, 0xFFFF, 1, 0xFFFF, true, false});
}

TEST(AluAdd, DoubleBoundaries) {
  check_add<32>({0xFFFFFFFF, 1, 0, 0, true, false});
  check_add<32>({0x7FFFFFFF, 1, 0, 0x80000000, false, true});
  check_add<32>({0x80000000, 0x80000000, 0, 0, true, true});
  check_add<32>({0xFFFFFFFF, 0, 1, 0, true, false});
}

TEST(AluSub, ByteBoundaries) {
  check_sub<8>({0x00, 0x01, 0, 0xFF, true, false});
  check_sub<8>({0x80, 0x01, 0, 0x7F, false, true});
  check_sub<8>({0x7F, 0xFF, 0, 0x80, true, true});
  check_sub<8>({0x05, 0x05, 0, 0x00, false, false});
  check_sub<8>({0x05, 0x05, 1, 0xFF, true, false});
}

TEST(AluSub, WordAndDoubleBoundaries) {
  check_sub<16>({0x0000, 0x0001, 0, 0xFFFF, true, false});
  check_sub<16>({0x8000, 0x0001, 0, 0x7FFF, false, true});
  check_sub<16>({0x0000, 0xFFFF, 1, 0x0000, true, false});
  check_sub<32>({0, 1, 0, 0xFFFFFFFF, true, false});
  check_sub<32>({0x80000000, 1, 0, 0x7FFFFFFF, false, true});
  check_sub<32>({0x7FFFFFFF, 0xFFFFFFFF, 0, 0x80000000, true, true});
}

TEST(AluCompare, ZeroNegativeLowInEachWidth) {
  const uint16_t zn_l = psr::kZ | psr::kN | psr::kL;
  EXPECT_EQ(compare<8>(0, 0x12, 0x12) & zn_l, psr::kZ);
  EXPECT_EQ(compare<8>(0, 0xFF, 0x01) & zn_l, psr::kL);  // -1 < 1 signed, 255 > 1 unsigned
  EXPECT_EQ(compare<8>(0, 0x01, 0xFF) & zn_l, psr::kN);
  EXPECT_EQ(compare<16>(0, 0x8000, 0x7FFF) & zn_l, psr::kL);
  EXPECT_EQ(compare<16>(0, 0x7FFF, 0x8000) & zn_l, psr::kN);
  EXPECT_EQ(compare<16>(0, 0x0002, 0x0001) & zn_l, psr::kN | psr::kL);
  EXPECT_EQ(compare<32>(0, 0x80000000, 0x7FFFFFFF) & zn_l, psr::kL);
  EXPECT_EQ(compare<32>(0, 5, 5) & zn_l, psr::kZ);
  // C and F are untouched.
  EXPECT_EQ(compare<16>(psr::kC | psr::kF, 1, 2) & (psr::kC | psr::kF), psr::kC | psr::kF);
}

TEST(AluCondition, LoHsLtGeCombineZWithLOrN) {
  EXPECT_TRUE(condition(0, 10));  // lo: !Z && !L
  EXPECT_FALSE(condition(psr::kZ, 10));
  EXPECT_TRUE(condition(psr::kL, 11));  // hs: Z || L
  EXPECT_TRUE(condition(psr::kZ, 11));
  EXPECT_FALSE(condition(0, 11));
  EXPECT_TRUE(condition(0, 12));  // lt: !Z && !N
  EXPECT_FALSE(condition(psr::kN, 12));
  EXPECT_TRUE(condition(psr::kN, 13));  // ge: Z || N
  EXPECT_TRUE(condition(0, 14));
}

TEST(AluShift, ArithmeticAndLogicalBothDirections) {
  EXPECT_EQ(shift_arithmetic<8>(0x81, -1), 0xC0u);
  EXPECT_EQ(shift_logical<8>(0x81, -1), 0x40u);
  EXPECT_EQ(shift_arithmetic<16>(0x8000, -15), 0xFFFFu);
  EXPECT_EQ(shift_arithmetic<16>(0x8000, -16), 0xFFFFu);
  EXPECT_EQ(shift_logical<16>(0x8000, -16), 0u);
  EXPECT_EQ(shift_arithmetic<32>(1, 31), 0x80000000u);
  EXPECT_EQ(shift_logical<32>(0x80000000u, -31), 1u);
  EXPECT_EQ(register_shift_count<8>(0x0F), -1);
  EXPECT_EQ(register_shift_count<16>(0x10), -16);
  EXPECT_EQ(register_shift_count<32>(0x1F), 31);
}

TEST(AluMac, SaturationInBothDirections) {
  EXPECT_EQ(mac_signed(0x80000000u, 0x8000, 0x0001), 0x80000000u);  // INT32_MIN - 32768 saturates
  EXPECT_EQ(mac_signed(10, 0xFFFF, 0x0002), 8u);                    // 10 + (-1 * 2)
  EXPECT_EQ(mac_unsigned(0xFFFFFFF0u, 0x10, 0x10), 0xFFFFFFFFu);
  EXPECT_EQ(mac_q15(0, 0x4000, 0x4000), 0x20000000u);            // 0.5 * 0.5 = 0.25
  EXPECT_EQ(mac_q15(0x80000000u, 0x8000, 0x7FFF), 0x80000000u);  // saturates low
}

}  // namespace
}  // namespace cr16::alu
