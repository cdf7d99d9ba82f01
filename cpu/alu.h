// Arithmetic, flags and conditions exactly per the PRM (chapter 5): pure
// functions over values and the PSR, shared by the handlers and the tests.
#pragma once

#include <cstdint>

#include "cpu/state.h"

namespace cr16::alu {

/// Operand width in bits: 8, 16 or 32.
template <unsigned kBits>
constexpr uint32_t mask() {
  return kBits == 32 ? 0xFFFFFFFFu : ((1u << kBits) - 1u);
}

template <unsigned kBits>
constexpr uint32_t sign_bit() {
  return 1u << (kBits - 1);
}

/// Replaces the PSR bits in `bits` by `values` (values must be within bits).
constexpr uint16_t update(uint16_t psr_value, uint16_t bits, uint16_t values) {
  return static_cast<uint16_t>((psr_value & ~bits) | values);
}

/// ADD/ADDC: result = dest + src + carry_in; C = carry out of the width,
/// F = signed overflow (PRM ADDi/ADDCi). Writes C and F into *psr_value.
template <unsigned kBits>
constexpr uint32_t add(uint32_t dest, uint32_t src, uint32_t carry_in, uint16_t* psr_value) {
  const uint64_t wide =
      static_cast<uint64_t>(dest & mask<kBits>()) + (src & mask<kBits>()) + carry_in;
  const uint32_t result = static_cast<uint32_t>(wide) & mask<kBits>();
  const bool carry = (wide >> kBits) != 0;
  const bool overflow = ((~(dest ^ src) & (dest ^ result)) & sign_bit<kBits>()) != 0;
  *psr_value = update(*psr_value, psr::kC | psr::kF,
                      static_cast<uint16_t>((carry ? psr::kC : 0) | (overflow ? psr::kF : 0)));
  return result;
}

/// SUB/SUBC: result = dest - src - borrow_in; C = borrow, F = signed overflow
/// (PRM SUBi/SUBCi).
template <unsigned kBits>
constexpr uint32_t sub(uint32_t dest, uint32_t src, uint32_t borrow_in, uint16_t* psr_value) {
  const uint64_t d = dest & mask<kBits>();
  const uint64_t s = static_cast<uint64_t>(src & mask<kBits>()) + borrow_in;
  const uint32_t result = static_cast<uint32_t>(d - s) & mask<kBits>();
  const bool borrow = s > d;
  const bool overflow = (((dest ^ src) & (dest ^ result)) & sign_bit<kBits>()) != 0;
  *psr_value = update(*psr_value, psr::kC | psr::kF,
                      static_cast<uint16_t>((borrow ? psr::kC : 0) | (overflow ? psr::kF : 0)));
  return result;
}

/// CMP src, dest (PRM CMPi): Z = (src == dest), N = src > dest as signed
/// numbers, L = src > dest as unsigned numbers. C and F are unchanged.
template <unsigned kBits>
constexpr uint16_t compare(uint16_t psr_value, uint32_t src, uint32_t dest) {
  const uint32_t s = src & mask<kBits>();
  const uint32_t d = dest & mask<kBits>();
  const uint32_t flip = sign_bit<kBits>();
  const bool z = s == d;
  const bool n = (s ^ flip) > (d ^ flip);  // signed compare via bias
  const bool l = s > d;
  return update(psr_value, psr::kZ | psr::kN | psr::kL,
                static_cast<uint16_t>((z ? psr::kZ : 0) | (n ? psr::kN : 0) | (l ? psr::kL : 0)));
}

/// Condition codes of Bcond/Jcond/Scond (PRM table 5-x).
constexpr bool condition(uint16_t p, unsigned cc) {
  const bool z = p & psr::kZ, c = p & psr::kC, l = p & psr::kL, n = p & psr::kN, f = p & psr::kF;
  switch (cc & 15) {
    case 0:
      return z;  // eq
    case 1:
      return !z;  // ne
    case 2:
      return c;  // cs
    case 3:
      return !c;  // cc
    case 4:
      return l;  // hi
    case 5:
      return !l;  // ls
    case 6:
      return n;  // gt
    case 7:
      return !n;  // le
    case 8:
      return f;  // fs
    case 9:
      return !f;  // fc
    case 10:
      return !z && !l;  // lo
    case 11:
      return z || l;  // hs
    case 12:
      return !z && !n;  // lt
    case 13:
      return z || n;  // ge
    default:
      return true;  // 14 always (br), 15 unconditional
  }
}

/// Sign-extends the low `bits` bits of value.
constexpr int32_t sign_extend(uint32_t value, unsigned bits) {
  const uint32_t m = 1u << (bits - 1);
  value &= (bits == 32) ? 0xFFFFFFFFu : ((1u << bits) - 1u);
  return static_cast<int32_t>((value ^ m) - m);
}

/// ASHU: arithmetic shift of a kBits value; count > 0 shifts left, < 0 right
/// (sign-filling). |count| is at most kBits.
template <unsigned kBits>
constexpr uint32_t shift_arithmetic(uint32_t value, int32_t count) {
  if (count >= 0)
    return count >= static_cast<int32_t>(kBits) ? 0 : (value << count) & mask<kBits>();
  const int32_t v = sign_extend(value, kBits);
  const int32_t amount = -count >= static_cast<int32_t>(kBits) ? kBits - 1 : -count;
  return static_cast<uint32_t>(v >> amount) & mask<kBits>();
}

/// LSH: logical shift; count > 0 left, < 0 right (zero-filling).
template <unsigned kBits>
constexpr uint32_t shift_logical(uint32_t value, int32_t count) {
  value &= mask<kBits>();
  if (count >= static_cast<int32_t>(kBits) || -count >= static_cast<int32_t>(kBits)) return 0;
  if (count >= 0) return (value << count) & mask<kBits>();
  return value >> -count;
}

/// Shift count held in a register (low bits, signed): byte -8..7 from bits
/// 3:0, word -16..15 from bits 4:0, dword -32..31 from bits 5:0.
template <unsigned kBits>
constexpr int32_t register_shift_count(uint32_t reg) {
  constexpr unsigned kCountBits = kBits == 8 ? 4 : (kBits == 16 ? 5 : 6);
  return sign_extend(reg, kCountBits);
}

/// MACSW: acc + (int16 * int16), saturated to int32.
constexpr uint32_t mac_signed(uint32_t acc, uint32_t a, uint32_t b) {
  const int64_t sum = static_cast<int64_t>(static_cast<int32_t>(acc)) +
                      static_cast<int64_t>(sign_extend(a, 16)) * sign_extend(b, 16);
  if (sum > INT32_MAX) return 0x7FFFFFFFu;
  if (sum < INT32_MIN) return 0x80000000u;
  return static_cast<uint32_t>(sum);
}

/// MACUW: acc + (uint16 * uint16), saturated to uint32.
constexpr uint32_t mac_unsigned(uint32_t acc, uint32_t a, uint32_t b) {
  const uint64_t sum =
      static_cast<uint64_t>(acc) + static_cast<uint64_t>(a & 0xFFFFu) * (b & 0xFFFFu);
  return sum > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<uint32_t>(sum);
}

/// MACQW: Q15 x Q15 -> Q31 product (doubled, 0x8000*0x8000 saturates to
/// 0x7FFFFFFF) added to acc with signed saturation.
constexpr uint32_t mac_q15(uint32_t acc, uint32_t a, uint32_t b) {
  int64_t product = 2 * static_cast<int64_t>(sign_extend(a, 16)) * sign_extend(b, 16);
  if (product > INT32_MAX) product = INT32_MAX;
  const int64_t sum = static_cast<int64_t>(static_cast<int32_t>(acc)) + product;
  if (sum > INT32_MAX) return 0x7FFFFFFFu;
  if (sum < INT32_MIN) return 0x80000000u;
  return static_cast<uint32_t>(sum);
}

}  // namespace cr16::alu
