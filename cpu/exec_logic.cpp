// AND, OR, XOR in byte, word and double-word widths (no flags).
#include "cpu/exec.h"

namespace cr16::exec {
namespace {

enum class LogicOp : uint8_t { kAnd, kOr, kXor };

template <LogicOp kOp, unsigned kBits, SourceKind kSource, bool kFast>
const Op* logic(Cpu& cpu, const Op* op) {
  const uint32_t src = source<kBits, kSource, kFast>(cpu, op);
  const uint32_t dest = get_reg<kBits, kFast>(cpu, op->a);
  uint32_t result;
  if constexpr (kOp == LogicOp::kAnd) result = dest & src;
  if constexpr (kOp == LogicOp::kOr) result = dest | src;
  if constexpr (kOp == LogicOp::kXor) result = dest ^ src;
  set_reg<kBits, kFast>(cpu, op->a, result);
  CR16_MUSTTAIL return next(cpu, op);
}

template <LogicOp kOp, unsigned kBits>
struct Logic {
  template <SourceKind kSource, bool kFast>
  struct Form {
    static const Op* run(Cpu& cpu, const Op* op) {
      return logic<kOp, kBits, kSource, kFast>(cpu, op);
    }
  };
};

template <LogicOp kOp, unsigned kBits>
OpHandler pick(bool immediate, bool fast) {
  return pick_form<Logic<kOp, kBits>::template Form>(immediate, fast);
}

}  // namespace

bool select_logic(const Decoded& d, Op& op) {
  OpHandler (*chooser)(bool, bool) = nullptr;
  switch (d.mnemonic) {
    case Mnemonic::kAndb:
      chooser = &pick<LogicOp::kAnd, 8>;
      break;
    case Mnemonic::kAndw:
      chooser = &pick<LogicOp::kAnd, 16>;
      break;
    case Mnemonic::kAndd:
      chooser = &pick<LogicOp::kAnd, 32>;
      break;
    case Mnemonic::kOrb:
      chooser = &pick<LogicOp::kOr, 8>;
      break;
    case Mnemonic::kOrw:
      chooser = &pick<LogicOp::kOr, 16>;
      break;
    case Mnemonic::kOrd:
      chooser = &pick<LogicOp::kOr, 32>;
      break;
    case Mnemonic::kXorb:
      chooser = &pick<LogicOp::kXor, 8>;
      break;
    case Mnemonic::kXorw:
      chooser = &pick<LogicOp::kXor, 16>;
      break;
    case Mnemonic::kXord:
      chooser = &pick<LogicOp::kXor, 32>;
      break;
    default:
      return false;
  }
  bool immediate = false;
  if (!two_operand_form(d, op, &immediate)) return false;
  op.handler = chooser(immediate, fast_pairs(op, immediate));
  return true;
}

}  // namespace cr16::exec
