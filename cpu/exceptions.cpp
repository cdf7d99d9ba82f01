// Exception entry (PRM 3.2-3.4): ISP frame, PSR bits cleared per exception,
// the dispatch table at INTBASE, interrupt acknowledge, trace traps and wait.
#include "cpu/cpu.h"
#include "util/log.h"

namespace cr16 {
namespace {

constexpr uint16_t kClearForTraps = psr::kP | psr::kT | psr::kU;
constexpr uint16_t kClearForInterrupts = psr::kI | psr::kP | psr::kT | psr::kU;
/// ISP and INTBASE are 24-bit and even.
constexpr uint32_t kEvenAddressMask = 0xFFFFFEu;

const char* vector_name(uint8_t vector) {
  switch (vector) {
    case vector::kNmi:
      return "NMI";
    case vector::kSvc:
      return "SVC";
    case vector::kDvz:
      return "DVZ";
    case vector::kFlg:
      return "FLG";
    case vector::kBpt:
      return "BPT";
    case vector::kTrc:
      return "TRC";
    case vector::kUnd:
      return "UND";
    case vector::kIad:
      return "IAD";
    case vector::kDbg:
      return "DBG";
    case vector::kIse:
      return "ISE";
    default:
      return vector >= vector::kFirstMaskable ? "INT" : "reserved";
  }
}

}  // namespace

void Cpu::enter_exception(uint8_t vector, uint32_t saved_pc, uint16_t clear_bits) {
  uint16_t saved_psr = state_.psr;
  if (vector == vector::kTrc) saved_psr &= static_cast<uint16_t>(~psr::kP);
  const uint32_t frame = (state_.isp - 6) & kEvenAddressMask;
  const bool pushed =
      write32(frame, (saved_pc & kAddressMask) >> 1) && write16(frame + 4, saved_psr);
  state_.isp = frame;
  set_psr(static_cast<uint16_t>(state_.psr & ~clear_bits));
  state_.halted = 0;

  const uint32_t base = state_.intbase & kEvenAddressMask;
  uint32_t entry = 0;
  bool fetched;
  uint32_t target;
  if (state_.cfg & cfg::kEd) {
    fetched = read32(base + 4u * vector, &entry);
    target = (entry << 1) & kAddressMask;
  } else {
    fetched = read16(base + 2u * vector, &entry);
    target = (entry << 1) & 0x1FFFEu;
  }
  if ((!pushed || !fetched) && log_enabled(LogCategory::kGuestErrors)) {
    log_printf(LogCategory::kGuestErrors, "cpu: %s entry failed (%s) isp=0x%06x intbase=0x%06x",
               vector_name(vector), pushed ? "dispatch table unreadable" : "ISP frame unwritable",
               frame, base);
  }
  if (log_enabled(LogCategory::kInt)) {
    log_printf(LogCategory::kInt,
               "cpu: exception %s (vector %u) saved pc=0x%06x psr=0x%04x -> handler 0x%06x",
               vector_name(vector), vector, saved_pc, saved_psr, target);
  }
  state_.pc = target;
}

const Op* Cpu::trap(const Op* op, uint8_t vector) {
  enter_exception(vector, op->pc, kClearForTraps);
  last_op_ = op;
  return nullptr;
}

const Op* Cpu::fault_address(const Op* op) {
  if (log_enabled(LogCategory::kGuestErrors)) {
    log_printf(LogCategory::kGuestErrors, "cpu: illegal data address at pc 0x%06x", op->pc);
  }
  enter_exception(vector::kIad, op->pc + op->size, kClearForTraps);
  last_op_ = op;
  return nullptr;
}

bool Cpu::call_svc_hook(const Op* op) {
  if (!svc_hook_) return false;
  state_.pc = op->pc;
  return svc_hook_(*this);
}

const Op* Cpu::enter_wait(const Op* op) {
  state_.halted = 1;
  return exit_to(op, op->pc + op->size);
}

bool Cpu::take_latched_event(uint8_t event) {
  if (!(state_.events_pending & event)) return false;
  state_.events_pending &= static_cast<uint8_t>(~event);
  return true;
}

void Cpu::acknowledge_cycle(uint32_t address) {
  uint32_t ignored;
  bus_.read_slow(address, AccessSize::kByte,
                 &ignored);  // devices see the cycle; the value is unused
}

bool Cpu::check_events() {
  // Priority at an instruction boundary (PRM 3.3; IAD is synchronous and
  // taken by the faulting instruction itself):
  // DBG > NMI > maskable interrupt > ISE > trace.
  if (take_latched_event(event::kDebug)) {
    enter_exception(vector::kDbg, state_.pc, kClearForInterrupts);
    return true;
  }
  if (take_latched_event(event::kNmi)) {
    acknowledge_cycle(0xFFFF00);  // NMI acknowledge
    enter_exception(vector::kNmi, state_.pc, kClearForInterrupts);
    return true;
  }
  if (interrupt_deliverable()) {
    uint32_t vector_number = 0;
    if (bus_.read_slow(kInterruptAcknowledgeAddress, AccessSize::kByte, &vector_number) !=
        BusStatus::kOk) {
      if (log_enabled(LogCategory::kGuestErrors)) {
        log_printf(LogCategory::kGuestErrors, "cpu: interrupt acknowledge at 0x%06x failed",
                   kInterruptAcknowledgeAddress);
      }
    }
    enter_exception(static_cast<uint8_t>(vector_number), state_.pc, kClearForInterrupts);
    return true;
  }
  if (take_latched_event(event::kIse)) {
    acknowledge_cycle(0xFFFC00);  // ISE acknowledge
    enter_exception(vector::kIse, state_.pc, kClearForInterrupts);
    return true;
  }
  if (state_.psr & psr::kP) {
    if (state_.halted) return false;
    enter_exception(vector::kTrc, state_.pc, kClearForTraps);
    return true;
  }
  return false;
}

}  // namespace cr16
