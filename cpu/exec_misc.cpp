// EXCP, RETX, DI, EI, WAIT, EIWAIT, CINV and NOP. RETX, DI, EI, WAIT,
// EIWAIT and CINV are privileged: in user mode they raise UND.
#include "cpu/exec.h"

namespace cr16::exec {
namespace {

inline uint32_t next_pc(const Op* op) {
  return op->pc + op->size;
}

// excp vector: Op::a = vector. Only SVC, DVZ, FLG, BPT and UND exist.
const Op* exception_trap(Cpu& cpu, const Op* op) {
  switch (op->a) {
    case vector::kSvc:
      switch (cpu.call_svc_hook(op->pc)) {
        case SvcResult::kHandled:
          return exit_to(cpu, op, next_pc(op));
        case SvcResult::kRetry:
          // PC stays at the excp; it runs again on the next run().
          return Interpreter::leave_unretired(cpu, op);
        case SvcResult::kNotHandled:
          break;
      }
      return trap(cpu, op, vector::kSvc);
    case vector::kDvz:
    case vector::kFlg:
    case vector::kBpt:
    case vector::kUnd:
      return trap(cpu, op, op->a);
    default:
      return trap(cpu, op, vector::kUnd);
  }
}

const Op* return_from_exception(Cpu& cpu, const Op* op) {
  if (cpu.user_mode()) return trap(cpu, op, vector::kUnd);
  CpuState& s = cpu.state();
  uint32_t pc_half, saved_psr;
  if (!cpu.read32(s.isp, &pc_half, op->pc) || !cpu.read16(s.isp + 4, &saved_psr, op->pc)) {
    return fault_address(cpu, op);
  }
  s.isp = (s.isp + 6) & 0xFFFFFEu;
  cpu.set_psr(static_cast<uint16_t>(saved_psr));
  return exit_to(cpu, op, (pc_half << 1) & kPcMask);
}

template <bool kEnable>
const Op* set_interrupt_enable(Cpu& cpu, const Op* op) {
  if (cpu.user_mode()) return trap(cpu, op, vector::kUnd);
  CpuState& s = cpu.state();
  s.psr = alu::update(s.psr, psr::kE, kEnable ? psr::kE : 0);
  return exit_to(cpu, op, next_pc(op));
}

template <bool kEnableFirst>
const Op* wait(Cpu& cpu, const Op* op) {
  if (cpu.user_mode()) return trap(cpu, op, vector::kUnd);
  if (kEnableFirst) cpu.state().psr |= psr::kE;
  return enter_wait(cpu, op);
}

// cinv: the caches are not modelled; predecoded code is kept coherent by
// code-page write tracking instead.
const Op* cache_invalidate(Cpu& cpu, const Op* op) {
  if (cpu.user_mode()) return trap(cpu, op, vector::kUnd);
  CR16_MUSTTAIL return next(cpu, op);
}

const Op* no_operation(Cpu& cpu, const Op* op) {
  CR16_MUSTTAIL return next(cpu, op);
}

}  // namespace

const Op* op_undefined(Cpu& cpu, const Op* op) {
  return trap(cpu, op, vector::kUnd);
}

bool select_misc(const Decoded& d, Op& op) {
  switch (d.mnemonic) {
    case Mnemonic::kExcp:
      if (d.operand_count != 1) return false;
      op.a = static_cast<uint8_t>(d.operands[0].value & 15);
      op.handler = &exception_trap;
      return true;
    case Mnemonic::kRetx:
      op.handler = &return_from_exception;
      return true;
    case Mnemonic::kDi:
      op.handler = &set_interrupt_enable<false>;
      return true;
    case Mnemonic::kEi:
      op.handler = &set_interrupt_enable<true>;
      return true;
    case Mnemonic::kWait:
      op.handler = &wait<false>;
      return true;
    case Mnemonic::kEiwait:
      op.handler = &wait<true>;
      return true;
    case Mnemonic::kCinvI:
    case Mnemonic::kCinvIU:
    case Mnemonic::kCinvD:
    case Mnemonic::kCinvDU:
    case Mnemonic::kCinvDI:
    case Mnemonic::kCinvDIU:
      op.handler = &cache_invalidate;
      return true;
    case Mnemonic::kNop:
      op.handler = &no_operation;
      return true;
    default:
      return false;
  }
}

}  // namespace cr16::exec
