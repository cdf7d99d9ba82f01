// Native forms of the JIT: branches, Scond, Jcond, calls and jumps.
#include "cpu/jit/code_emitter.h"

#include "cpu/exec.h"

namespace cr16::jit {

bool CodeEmitter::emit_branch(const isa::Decoded& d, const Op& op) {
  using isa::Mnemonic;
  using namespace Xbyak::util;
  const uint32_t target = static_cast<uint32_t>(op.imm) & kAddressMask;
  const uint32_t next = (op.pc + op.size) & kAddressMask;
  if (d.mnemonic == Mnemonic::kBeq0b || d.mnemonic == Mnemonic::kBne0b ||
      d.mnemonic == Mnemonic::kBeq0w || d.mnemonic == Mnemonic::kBne0w) {
    const bool byte_wide = d.mnemonic == Mnemonic::kBeq0b || d.mnemonic == Mnemonic::kBne0b;
    const bool if_zero = d.mnemonic == Mnemonic::kBeq0b || d.mnemonic == Mnemonic::kBeq0w;
    copy(ecx, cache_.read(op.b, ecx));
    emit_two_way_branch(target, next, [&] {
      if (byte_wide) {
        test(cl, cl);
      } else {
        test(cx, cx);
      }
      return !if_zero;
    });
    return true;
  }
  if (d.mnemonic != Mnemonic::kB || d.operand_count != 2) return false;
  const unsigned condition = op.a & 15u;
  if (condition >= 14) {
    if (back_edge(target)) emit_loop_jump();
    exit_to_constant(target);
    return true;
  }
  const Xbyak::Reg32 psr = cache_.psr();
  emit_two_way_branch(target, next, [&] { return test_condition(psr, condition); });
  return true;
}

void CodeEmitter::jump_if(bool nonzero, Xbyak::Label& label) {
  if (nonzero) {
    jnz(label, T_NEAR);
  } else {
    jz(label, T_NEAR);
  }
}

bool CodeEmitter::test_condition(const Xbyak::Reg32& psr, unsigned condition) {
  struct Test {
    uint16_t mask;
    bool taken_if_set;
  };
  static constexpr Test kTests[14] = {
      {psr::kZ, true},
      {psr::kZ, false},
      {psr::kC, true},
      {psr::kC, false},
      {psr::kL, true},
      {psr::kL, false},
      {psr::kN, true},
      {psr::kN, false},
      {psr::kF, true},
      {psr::kF, false},
      {psr::kZ | psr::kL, false},
      {psr::kZ | psr::kL, true},
      {psr::kZ | psr::kN, false},
      {psr::kZ | psr::kN, true},
  };
  const Test flags = kTests[condition];
  test(psr, flags.mask);
  return flags.taken_if_set;
}

bool CodeEmitter::emit_set_on_condition(const isa::Decoded& d, const Op& op) {
  using namespace Xbyak::util;
  const auto m = static_cast<unsigned>(d.mnemonic);
  const auto first = static_cast<unsigned>(isa::Mnemonic::kSeq);
  if (m < first || m > static_cast<unsigned>(isa::Mnemonic::kSge)) return false;
  if (d.operand_count != 1) return false;
  const Xbyak::Reg32 psr = cache_.psr();
  const Xbyak::Reg32 target = cache_.modify(op.a);
  if (test_condition(psr, m - first)) {
    setnz(al);
  } else {
    setz(al);
  }
  movzx(eax, al);
  mov(target.cvt16(), ax);
  return true;
}

bool CodeEmitter::emit_conditional_jump(const isa::Decoded& d, const Op& op, const Op& stop) {
  using namespace Xbyak::util;
  const auto m = static_cast<unsigned>(d.mnemonic);
  const auto first = static_cast<unsigned>(isa::Mnemonic::kJeq);
  if (m < first || m > static_cast<unsigned>(isa::Mnemonic::kJge)) return false;
  if (d.operand_count != 1 || op.b == 11) return false;
  const Xbyak::Reg32 psr = cache_.psr();
  copy(ecx, cache_.read_pair(op.b));
  SlowPath* path = nullptr;
  if (op.b >= 12 && op.b < 15) {
    path = &new_slow_path(op, stop);
    check_long_pair(14, path->entry);
  }
  cache_.store_all();
  Xbyak::Label taken;
  jump_if(test_condition(psr, m - first), taken);
  exit_to_constant(op.pc + op.size);
  L(taken);
  shl(ecx, 1);
  and_(ecx, exec::kPcMask);
  exit_to_ecx();
  if (path) resume(*path);
  return true;
}

bool CodeEmitter::emit_call_jump(const isa::Decoded& d, const Op& op, const Op& stop) {
  using isa::Mnemonic;
  using namespace Xbyak::util;
  const uint32_t link = ((op.pc + op.size) & kAddressMask) >> 1;
  const bool is_bal = d.mnemonic == Mnemonic::kBal;
  const bool is_jal = d.mnemonic == Mnemonic::kJal;
  const bool is_jump = d.mnemonic == Mnemonic::kJump && d.operand_count == 1;
  if (!is_bal && !is_jal && !is_jump) return false;
  const bool links = is_bal || is_jal;
  if (links && op.a == 11) return false;
  if (!is_bal && op.b == 11) return false;
  const bool long_link = links && op.a >= 12 && op.a < 15;
  const bool long_target = !is_bal && op.b >= 12 && op.b < 15;
  if (!is_bal) copy(ecx, cache_.read_pair(op.b));
  SlowPath* path = nullptr;
  if (long_link || long_target) {
    path = &new_slow_path(op, stop);
    check_long_pair(14, path->entry);  // any of 12..14: CFG.SR is the test
  }
  if (links) write_link(op.a, link);
  cache_.store_all();
  if (is_bal) {
    exit_to_constant(static_cast<uint32_t>(op.imm));
  } else {
    shl(ecx, 1);
    and_(ecx, exec::kPcMask);
    exit_to_ecx();
  }
  if (path) resume(*path);
  return true;
}

}  // namespace cr16::jit
