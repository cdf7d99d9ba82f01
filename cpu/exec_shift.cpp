// ASHU (arithmetic) and LSH (logical) shifts; positive counts shift left,
// negative counts right. No flags change.
#include "cpu/exec.h"

namespace cr16::exec {
namespace {

template <bool kArithmetic, unsigned kBits, SourceKind kSource>
const Op* shift(Cpu& cpu, const Op* op) {
  int32_t count;
  if constexpr (kSource == SourceKind::kImmediate) {
    count = op->imm;
  } else {
    count = alu::register_shift_count<kBits>(cpu.state().r[op->b]);
  }
  const uint32_t value = get_reg<kBits>(cpu, op->a);
  const uint32_t result = kArithmetic ? alu::shift_arithmetic<kBits>(value, count)
                                      : alu::shift_logical<kBits>(value, count);
  set_reg<kBits>(cpu, op->a, result);
  CR16_MUSTTAIL return next(cpu, op);
}

template <bool kArithmetic, unsigned kBits>
OpHandler pick(bool immediate) {
  return immediate ? &shift<kArithmetic, kBits, SourceKind::kImmediate>
                   : &shift<kArithmetic, kBits, SourceKind::kRegister>;
}

}  // namespace

bool select_shift(const Decoded& d, Op& op) {
  OpHandler (*chooser)(bool) = nullptr;
  switch (d.mnemonic) {
    case Mnemonic::kAshub:
      chooser = &pick<true, 8>;
      break;
    case Mnemonic::kAshuw:
      chooser = &pick<true, 16>;
      break;
    case Mnemonic::kAshud:
      chooser = &pick<true, 32>;
      break;
    case Mnemonic::kLshb:
      chooser = &pick<false, 8>;
      break;
    case Mnemonic::kLshw:
      chooser = &pick<false, 16>;
      break;
    case Mnemonic::kLshd:
      chooser = &pick<false, 32>;
      break;
    default:
      return false;
  }
  bool immediate = false;
  if (!two_operand_form(d, op, &immediate)) return false;
  // The shift count of a register form is read from the full register.
  op.handler = chooser(immediate);
  return true;
}

}  // namespace cr16::exec
