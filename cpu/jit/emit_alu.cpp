// Native forms of the JIT: moves, logic, arithmetic and compares with
// their flags, shifts by an immediate, extensions, multiplies.
#include "cpu/jit/code_emitter.h"

#include "cpu/exec.h"

namespace cr16::jit {

void CodeEmitter::set_carry_overflow_flags(const Xbyak::Reg32& psr) {
  using namespace Xbyak::util;
  setc(al);  // C is bit 0
  seto(cl);
  shl(cl, 5);  // F is bit 5
  or_(al, cl);
  and_(psr, static_cast<uint32_t>(static_cast<uint16_t>(~(psr::kC | psr::kF))));
  or_(psr.cvt8(), al);  // both in the low byte
}

void CodeEmitter::set_compare_flags(const Xbyak::Reg32& psr) {
  using namespace Xbyak::util;
  setb(al);
  setl(cl);
  sete(dl);
  shl(al, 2);
  shl(cl, 7);
  shl(dl, 6);
  or_(al, cl);
  or_(al, dl);
  and_(psr, static_cast<uint32_t>(static_cast<uint16_t>(~(psr::kZ | psr::kN | psr::kL))));
  or_(psr.cvt8(), al);  // all three in the low byte
}

bool CodeEmitter::alu_form(isa::Mnemonic mnemonic, AluOp* kind, unsigned* bits) {
  using isa::Mnemonic;
  struct Form {
    Mnemonic mnemonic;
    AluOp kind;
    unsigned bits;
  };
  static constexpr Form kForms[] = {
      {Mnemonic::kMovb, AluOp::kMov, 8},
      {Mnemonic::kMovw, AluOp::kMov, 16},
      {Mnemonic::kMovd, AluOp::kMov, 32},
      {Mnemonic::kAndb, AluOp::kAnd, 8},
      {Mnemonic::kAndw, AluOp::kAnd, 16},
      {Mnemonic::kAndd, AluOp::kAnd, 32},
      {Mnemonic::kOrb, AluOp::kOr, 8},
      {Mnemonic::kOrw, AluOp::kOr, 16},
      {Mnemonic::kOrd, AluOp::kOr, 32},
      {Mnemonic::kXorb, AluOp::kXor, 8},
      {Mnemonic::kXorw, AluOp::kXor, 16},
      {Mnemonic::kXord, AluOp::kXor, 32},
      {Mnemonic::kAddub, AluOp::kAddUnsigned, 8},
      {Mnemonic::kAdduw, AluOp::kAddUnsigned, 16},
      {Mnemonic::kAddb, AluOp::kAdd, 8},
      {Mnemonic::kAddw, AluOp::kAdd, 16},
      {Mnemonic::kAddd, AluOp::kAdd, 32},
      {Mnemonic::kAddcb, AluOp::kAddCarry, 8},
      {Mnemonic::kAddcw, AluOp::kAddCarry, 16},
      {Mnemonic::kSubb, AluOp::kSub, 8},
      {Mnemonic::kSubw, AluOp::kSub, 16},
      {Mnemonic::kSubd, AluOp::kSub, 32},
      {Mnemonic::kSubcb, AluOp::kSubCarry, 8},
      {Mnemonic::kSubcw, AluOp::kSubCarry, 16},
      {Mnemonic::kCmpb, AluOp::kCompare, 8},
      {Mnemonic::kCmpw, AluOp::kCompare, 16},
      {Mnemonic::kCmpd, AluOp::kCompare, 32},
  };
  for (const Form& form : kForms) {
    if (form.mnemonic == mnemonic) {
      *kind = form.kind;
      *bits = form.bits;
      return true;
    }
  }
  return false;
}

uint32_t CodeEmitter::narrow_immediate(AluOp kind, uint32_t imm, unsigned bits) {
  if (bits == 32) return imm;
  const uint32_t mask = (1u << bits) - 1;
  if (kind == AluOp::kMov) return imm & mask;
  const uint32_t sign = 1u << (bits - 1);
  return ((imm & mask) ^ sign) - sign;
}

bool CodeEmitter::emit_arith(const isa::Decoded& d, const Op& op, const Op& stop) {
  using namespace Xbyak::util;
  AluOp kind;
  unsigned bits;
  if (!alu_form(d.mnemonic, &kind, &bits) || d.operand_count != 2) return false;
  if (d.operands[1].type != isa::OperandType::kRegr &&
      d.operands[1].type != isa::OperandType::kRegp) {
    return false;
  }
  const bool immediate = isa::is_immediate(d.operands[0].type);
  if (!immediate && d.operands[0].type != isa::OperandType::kRegr &&
      d.operands[0].type != isa::OperandType::kRegp) {
    return false;
  }
  if (bits == 32 && (op.a == 11 || (!immediate && op.b == 11))) return false;
  const auto imm = static_cast<uint32_t>(op.imm);
  const bool carry_in = kind == AluOp::kAddCarry || kind == AluOp::kSubCarry;
  const bool sets_carry = kind == AluOp::kAdd || kind == AluOp::kSub || carry_in;
  const uint16_t live = flags_live_after_[current_index_];
  const bool flags_needed = kind == AluOp::kCompare
                                ? (live & (psr::kZ | psr::kN | psr::kL)) != 0
                                : sets_carry && (live & (psr::kC | psr::kF)) != 0;
  // Operands first (the cache may emit loads and write-backs): the source
  // copied to ecx, so that taking the destination cannot disturb it.
  if (!immediate) {
    copy(ecx, bits == 32 ? cache_.read_pair(op.b) : cache_.read(op.b, ecx));
  }
  // CFG.SR set: r12..ra are short pairs, the handler's. Checked before the
  // destination is taken (a destination to be overwritten holds nothing
  // the slow path may write back yet).
  SlowPath* long_path = nullptr;
  if (bits == 32 && ((op.a >= 12 && op.a < 15) || (!immediate && op.b >= 12 && op.b < 15))) {
    long_path = &new_slow_path(op, stop);
    check_long_pair(14, long_path->entry);
  }
  Xbyak::Reg32 destination;
  if (kind == AluOp::kCompare) {
    destination = bits == 32 ? cache_.read_pair(op.a) : cache_.read(op.a, edx);
  } else if (bits == 32) {
    destination = kind == AluOp::kMov ? cache_.overwrite_pair(op.a) : cache_.modify_pair(op.a);
  } else {
    destination = cache_.modify(op.a);
  }
  const Xbyak::Reg32 psr =
      flags_needed || carry_in ? cache_.modify_psr() : Xbyak::Reg32(Xbyak::util::eax);
  if (carry_in) bt(psr, 0);  // CF := PSR.C
  const Xbyak::Reg target = sized(destination, bits);
  if (immediate) {
    apply(kind, target, narrow_immediate(kind, imm, bits));
  } else {
    apply(kind, target, sized(ecx, bits));
  }
  if (flags_needed) {
    if (kind == AluOp::kCompare) {
      set_compare_flags(psr);
    } else {
      set_carry_overflow_flags(psr);
    }
  }
  if (long_path) resume(*long_path);
  return true;
}

bool CodeEmitter::emit_shift(const isa::Decoded& d, const Op& op) {
  using isa::Mnemonic;
  using namespace Xbyak::util;
  bool arithmetic;
  unsigned bits;
  switch (d.mnemonic) {
    case Mnemonic::kAshub:
      arithmetic = true;
      bits = 8;
      break;
    case Mnemonic::kAshuw:
      arithmetic = true;
      bits = 16;
      break;
    case Mnemonic::kAshud:
      arithmetic = true;
      bits = 32;
      break;
    case Mnemonic::kLshb:
      arithmetic = false;
      bits = 8;
      break;
    case Mnemonic::kLshw:
      arithmetic = false;
      bits = 16;
      break;
    case Mnemonic::kLshd:
      arithmetic = false;
      bits = 32;
      break;
    default:
      return false;
  }
  if (d.operand_count != 2 || !isa::is_immediate(d.operands[0].type)) return false;
  if (d.operands[1].type != isa::OperandType::kRegr &&
      d.operands[1].type != isa::OperandType::kRegp) {
    return false;
  }
  if (bits == 32 && op.a >= 11) return false;
  const int32_t count = op.imm;
  const auto width = static_cast<int32_t>(bits);
  const bool zero = count >= width || (!arithmetic && -count >= width);
  const int amount = count >= 0 ? count : (-count >= width ? width - 1 : -count);
  const Xbyak::Reg32 value = bits == 32 ? cache_.modify_pair(op.a) : cache_.modify(op.a);
  const Xbyak::Reg target = sized(value, bits);
  if (zero) {
    mov(target, 0);
  } else {
    shift_by(target, count, amount, arithmetic);
  }
  return true;
}

bool CodeEmitter::emit_extend(const isa::Decoded& d, const Op& op) {
  using isa::Mnemonic;
  using namespace Xbyak::util;
  const Mnemonic m = d.mnemonic;
  if (m != Mnemonic::kMovxb && m != Mnemonic::kMovzb && m != Mnemonic::kMovxw &&
      m != Mnemonic::kMovzw) {
    return false;
  }
  if (d.operand_count != 2 || isa::is_immediate(d.operands[0].type)) return false;
  const bool byte_source = m == Mnemonic::kMovxb || m == Mnemonic::kMovzb;
  if (!byte_source && op.a >= 11) return false;
  const bool sign = m == Mnemonic::kMovxb || m == Mnemonic::kMovxw;
  const Xbyak::Reg source = sized(cache_.read(op.b, ecx), byte_source ? 8 : 16);
  if (sign) {
    movsx(edx, source);
  } else {
    movzx(edx, source);
  }
  if (byte_source) {
    mov(cache_.modify(op.a).cvt16(), dx);
  } else {
    mov(cache_.overwrite_pair(op.a), edx);
  }
  return true;
}

bool CodeEmitter::emit_multiply(const isa::Decoded& d, const Op& op) {
  using isa::Mnemonic;
  using namespace Xbyak::util;
  const bool is_byte = d.mnemonic == Mnemonic::kMulb;
  if (is_byte || d.mnemonic == Mnemonic::kMulw) {
    if (d.operand_count != 2) return false;
    if (d.operands[1].type != isa::OperandType::kRegr) return false;
    const bool immediate = isa::is_immediate(d.operands[0].type);
    if (!immediate && d.operands[0].type != isa::OperandType::kRegr) return false;
    const unsigned bits = is_byte ? 8 : 16;
    if (!immediate) movzx(ecx, sized(cache_.read(op.b, ecx), bits));
    const Xbyak::Reg32 target = cache_.modify(op.a);
    movzx(eax, sized(target, bits));
    if (immediate) {
      imul(eax, eax, static_cast<int32_t>(static_cast<uint32_t>(op.imm) & 0xFFFFu));
    } else {
      imul(eax, ecx);
    }
    mov(sized(target, bits), sized(eax, bits));
    return true;
  }
  const bool is_unsigned = d.mnemonic == Mnemonic::kMuluw;
  if (!is_unsigned && d.mnemonic != Mnemonic::kMulsw) return false;
  if (d.operand_count != 2 || op.a >= 11) return false;
  if (d.operands[0].type != isa::OperandType::kRegr) return false;
  const Xbyak::Reg16 source = cache_.read(op.b, ecx).cvt16();
  if (is_unsigned) {
    movzx(eax, source);
  } else {
    movsx(eax, source);
  }
  const Xbyak::Reg32 pair = cache_.modify_pair(op.a);
  if (is_unsigned) {
    movzx(ecx, pair.cvt16());
  } else {
    movsx(ecx, pair.cvt16());
  }
  imul(eax, ecx);
  mov(pair, eax);
  return true;
}

}  // namespace cr16::jit
