// MOVB/MOVW/MOVD and the sign/zero extensions MOVXB/MOVZB (byte -> word)
// and MOVXW/MOVZW (word -> pair). No flags change.
#include "cpu/exec.h"

namespace cr16::exec {
namespace {

template <unsigned kBits>
struct Move {
  template <SourceKind kSource, bool kFast>
  struct Form {
    static const Op* run(Cpu& cpu, const Op* op) {
      set_reg<kBits, kFast>(cpu, op->a, source<kBits, kSource, kFast>(cpu, op));
      CR16_MUSTTAIL return next(cpu, op);
    }
  };
};

template <bool kSigned>
const Op* extend_byte(Cpu& cpu, const Op* op) {
  const uint32_t v = cpu.state().r[op->b] & 0xFFu;
  cpu.set_reg16(op->a, kSigned ? static_cast<uint32_t>(alu::sign_extend(v, 8)) : v);
  CR16_MUSTTAIL return next(cpu, op);
}

template <bool kSigned>
const Op* extend_word(Cpu& cpu, const Op* op) {
  const uint32_t v = cpu.reg16(op->b);
  cpu.set_pair(op->a, kSigned ? static_cast<uint32_t>(alu::sign_extend(v, 16)) : v);
  CR16_MUSTTAIL return next(cpu, op);
}

template <unsigned kBits>
OpHandler pick(bool immediate, bool fast) {
  return pick_form<Move<kBits>::template Form>(immediate, fast);
}

}  // namespace

bool select_move(const Decoded& d, Op& op) {
  bool immediate = false;
  OpHandler handler = nullptr;
  switch (d.mnemonic) {
    case Mnemonic::kMovb:
    case Mnemonic::kMovw:
    case Mnemonic::kMovd:
      if (!two_operand_form(d, op, &immediate)) return false;
      handler = d.mnemonic == Mnemonic::kMovb   ? pick<8>(immediate, false)
                : d.mnemonic == Mnemonic::kMovw ? pick<16>(immediate, false)
                                                : pick<32>(immediate, fast_pairs(op, immediate));
      break;
    case Mnemonic::kMovxb:
      handler = &extend_byte<true>;
      break;
    case Mnemonic::kMovzb:
      handler = &extend_byte<false>;
      break;
    case Mnemonic::kMovxw:
      handler = &extend_word<true>;
      break;
    case Mnemonic::kMovzw:
      handler = &extend_word<false>;
      break;
    default:
      return false;
  }
  if (!handler) return false;
  if (d.mnemonic != Mnemonic::kMovb && d.mnemonic != Mnemonic::kMovw &&
      d.mnemonic != Mnemonic::kMovd) {
    if (!two_operand_form(d, op, &immediate) || immediate) return false;
  }
  op.handler = handler;
  return true;
}

}  // namespace cr16::exec
