// MULB/MULW (truncated products), MULSB/MULSW/MULUW (widening products) and
// the saturating multiply-accumulates MACSW/MACUW/MACQW. No flags change.
#include "cpu/exec.h"

namespace cr16::exec {
namespace {

template <unsigned kBits, SourceKind kSource>
const Op* multiply(Cpu& cpu, const Op* op) {
  const uint32_t src = source<kBits, kSource>(cpu, op);
  const uint32_t dest = get_reg<kBits>(cpu, op->a);
  set_reg<kBits>(cpu, op->a, (src * dest) & alu::mask<kBits>());
  CR16_MUSTTAIL return next(cpu, op);
}

// mulsb src, dest: dest(16) = sext8(src) * sext8(dest).
const Op* multiply_signed_byte(Cpu& cpu, const Op* op) {
  const int32_t a = alu::sign_extend(cpu.state().r[op->b], 8);
  const int32_t b = alu::sign_extend(cpu.state().r[op->a], 8);
  cpu.set_reg16(op->a, static_cast<uint32_t>(a * b));
  CR16_MUSTTAIL return next(cpu, op);
}

// mulsw src, destpair: pair = sext16(src) * sext16(low word of pair).
const Op* multiply_signed_word(Cpu& cpu, const Op* op) {
  const int32_t a = alu::sign_extend(cpu.state().r[op->b], 16);
  const int32_t b = alu::sign_extend(cpu.state().r[op->a], 16);
  cpu.set_pair(op->a, static_cast<uint32_t>(a * b));
  CR16_MUSTTAIL return next(cpu, op);
}

// muluw src, destpair: pair = zext16(src) * zext16(low word of pair).
const Op* multiply_unsigned_word(Cpu& cpu, const Op* op) {
  const uint32_t a = cpu.reg16(op->b);
  const uint32_t b = cpu.reg16(op->a);
  cpu.set_pair(op->a, a * b);
  CR16_MUSTTAIL return next(cpu, op);
}

// mac*w src1, src2, accpair: Op::b = src1, Op::c = src2, Op::a = acc pair.
template <uint32_t (*kMac)(uint32_t, uint32_t, uint32_t)>
const Op* multiply_accumulate(Cpu& cpu, const Op* op) {
  cpu.set_pair(op->a, kMac(cpu.pair(op->a), cpu.reg16(op->b), cpu.reg16(op->c)));
  CR16_MUSTTAIL return next(cpu, op);
}

}  // namespace

bool select_multiply(const Decoded& d, Op& op) {
  bool immediate = false;
  switch (d.mnemonic) {
    case Mnemonic::kMulb:
    case Mnemonic::kMulw:
      if (!two_operand_form(d, op, &immediate)) return false;
      if (d.mnemonic == Mnemonic::kMulb) {
        op.handler =
            immediate ? &multiply<8, SourceKind::kImmediate> : &multiply<8, SourceKind::kRegister>;
      } else {
        op.handler = immediate ? &multiply<16, SourceKind::kImmediate>
                               : &multiply<16, SourceKind::kRegister>;
      }
      return true;
    case Mnemonic::kMulsb:
    case Mnemonic::kMulsw:
    case Mnemonic::kMuluw:
      if (!two_operand_form(d, op, &immediate) || immediate) return false;
      op.handler = d.mnemonic == Mnemonic::kMulsb   ? &multiply_signed_byte
                   : d.mnemonic == Mnemonic::kMulsw ? &multiply_signed_word
                                                    : &multiply_unsigned_word;
      return true;
    case Mnemonic::kMacsw:
    case Mnemonic::kMacuw:
    case Mnemonic::kMacqw:
      if (d.operand_count != 3) return false;
      op.b = d.operands[0].reg;
      op.c = d.operands[1].reg;
      op.a = d.operands[2].reg;
      op.handler = d.mnemonic == Mnemonic::kMacsw   ? &multiply_accumulate<&alu::mac_signed>
                   : d.mnemonic == Mnemonic::kMacuw ? &multiply_accumulate<&alu::mac_unsigned>
                                                    : &multiply_accumulate<&alu::mac_q15>;
      return true;
    default:
      return false;
  }
}

}  // namespace cr16::exec
