// ADD, ADDC, ADDU, SUB, SUBC, CMP in byte, word and double-word widths.
#include "cpu/exec.h"

namespace cr16::exec {
namespace {

enum class ArithOp : uint8_t { kAdd, kAddCarry, kAddUnsigned, kSub, kSubCarry, kCompare };

template <ArithOp kOp, unsigned kBits, SourceKind kSource, bool kFast>
const Op* arith(Cpu& cpu, const Op* op) {
  CpuState& s = cpu.state();
  const uint32_t src = source<kBits, kSource, kFast>(cpu, op);
  const uint32_t dest = get_reg<kBits, kFast>(cpu, op->a);
  if constexpr (kOp == ArithOp::kCompare) {
    s.psr = alu::compare<kBits>(s.psr, src, dest);
  } else if constexpr (kOp == ArithOp::kAddUnsigned) {
    set_reg<kBits, kFast>(cpu, op->a, (dest + src) & alu::mask<kBits>());
  } else {
    const uint32_t carry = (s.psr & psr::kC) ? 1u : 0u;
    uint32_t result;
    if constexpr (kOp == ArithOp::kAdd) result = alu::add<kBits>(dest, src, 0, &s.psr);
    if constexpr (kOp == ArithOp::kAddCarry) result = alu::add<kBits>(dest, src, carry, &s.psr);
    if constexpr (kOp == ArithOp::kSub) result = alu::sub<kBits>(dest, src, 0, &s.psr);
    if constexpr (kOp == ArithOp::kSubCarry) result = alu::sub<kBits>(dest, src, carry, &s.psr);
    set_reg<kBits, kFast>(cpu, op->a, result);
  }
  CR16_MUSTTAIL return next(cpu, op);
}

template <ArithOp kOp, unsigned kBits>
struct Arith {
  template <SourceKind kSource, bool kFast>
  struct Form {
    static const Op* run(Cpu& cpu, const Op* op) {
      return arith<kOp, kBits, kSource, kFast>(cpu, op);
    }
  };
};

template <ArithOp kOp, unsigned kBits>
OpHandler pick(bool immediate, bool fast) {
  return pick_form<Arith<kOp, kBits>::template Form>(immediate, fast);
}

// CMP immediately followed by Bcond in the same block, fused into one
// dispatch (both instructions still retire; the PSR is updated as by CMP).
template <unsigned kBits>
struct CompareBranch {
  template <SourceKind kSource, bool kFast>
  struct Form {
    static const Op* run(Cpu& cpu, const Op* op) {
      CpuState& s = cpu.state();
      s.psr = alu::compare<kBits>(s.psr, source<kBits, kSource, kFast>(cpu, op),
                                  get_reg<kBits, kFast>(cpu, op->a));
      const Op* branch = op + 1;
      const uint32_t target = alu::condition(s.psr, branch->a) ? static_cast<uint32_t>(branch->imm)
                                                               : branch->pc + branch->size;
      set_pc(cpu, target);
      CR16_MUSTTAIL return chain(cpu, branch);
    }
  };
};

template <unsigned kBits>
OpHandler fuse_width(OpHandler compare) {
  for (const bool immediate : {false, true}) {
    for (const bool fast : {false, true}) {
      if (compare == pick<ArithOp::kCompare, kBits>(immediate, fast)) {
        return pick_form<CompareBranch<kBits>::template Form>(immediate, fast);
      }
    }
  }
  return nullptr;
}

}  // namespace

OpHandler fuse_compare_branch(OpHandler compare) {
  if (OpHandler fused = fuse_width<8>(compare)) return fused;
  if (OpHandler fused = fuse_width<16>(compare)) return fused;
  return fuse_width<32>(compare);
}

bool select_arith(const Decoded& d, Op& op) {
  bool immediate = false;
  OpHandler (*chooser)(bool, bool) = nullptr;
  switch (d.mnemonic) {
    case Mnemonic::kAddb:
      chooser = &pick<ArithOp::kAdd, 8>;
      break;
    case Mnemonic::kAddw:
      chooser = &pick<ArithOp::kAdd, 16>;
      break;
    case Mnemonic::kAddd:
      chooser = &pick<ArithOp::kAdd, 32>;
      break;
    case Mnemonic::kAddcb:
      chooser = &pick<ArithOp::kAddCarry, 8>;
      break;
    case Mnemonic::kAddcw:
      chooser = &pick<ArithOp::kAddCarry, 16>;
      break;
    case Mnemonic::kAddub:
      chooser = &pick<ArithOp::kAddUnsigned, 8>;
      break;
    case Mnemonic::kAdduw:
      chooser = &pick<ArithOp::kAddUnsigned, 16>;
      break;
    case Mnemonic::kSubb:
      chooser = &pick<ArithOp::kSub, 8>;
      break;
    case Mnemonic::kSubw:
      chooser = &pick<ArithOp::kSub, 16>;
      break;
    case Mnemonic::kSubd:
      chooser = &pick<ArithOp::kSub, 32>;
      break;
    case Mnemonic::kSubcb:
      chooser = &pick<ArithOp::kSubCarry, 8>;
      break;
    case Mnemonic::kSubcw:
      chooser = &pick<ArithOp::kSubCarry, 16>;
      break;
    case Mnemonic::kCmpb:
      chooser = &pick<ArithOp::kCompare, 8>;
      break;
    case Mnemonic::kCmpw:
      chooser = &pick<ArithOp::kCompare, 16>;
      break;
    case Mnemonic::kCmpd:
      chooser = &pick<ArithOp::kCompare, 32>;
      break;
    default:
      return false;
  }
  if (!two_operand_form(d, op, &immediate)) return false;
  op.handler = chooser(immediate, fast_pairs(op, immediate));
  return true;
}

}  // namespace cr16::exec
