// Exception entry (PRM 3.2-3.4): ISP frame, PSR bits cleared per exception,
// the dispatch table at INTBASE, interrupt acknowledge, trace traps, wait,
// the SVC hook, and the guest panic when an exception cannot be taken.
#include <cstdio>
#include <cstring>

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

void Cpu::guest_panic(uint8_t vector, uint32_t saved_pc, const char* why, uint32_t address) {
  char reason[96];
  std::snprintf(reason, sizeof reason, why, address);
  char text[256];
  std::snprintf(text, sizeof text,
                "cannot take exception %s (vector %u): %s (pc 0x%06x, isp 0x%06x, "
                "intbase 0x%06x)",
                vector_name(vector), vector, reason, saved_pc & kAddressMask, state_.isp,
                state_.intbase);
  panic_message_ = text;
  attention_ |= kAttentionPanicked;
  // Where the exception would have returned to: what a debugger shows.
  state_.pc = saved_pc & kAddressMask;
  if (log_enabled(LogCategory::kGuestErrors)) {
    log_printf(LogCategory::kGuestErrors, "cpu: %s", text);
  }
}

bool Cpu::read_dispatch_entry(uint32_t address, AccessSize size, uint32_t* value) {
  const auto bytes = static_cast<uint32_t>(size);
  if (address > kAddressMask - (bytes - 1)) return false;
  const uint32_t offset = address & (kPageSize - 1);
  if (offset + bytes <= kPageSize) {
    if (const uint8_t* host = bus_.read_page[address >> kPageBits]) {
      uint32_t v = 0;
      std::memcpy(&v, host + offset, bytes);
      *value = v;
      return true;
    }
  }
  // Unlike a data read on CR16C, a bus error here is never read as 0.
  return bus_.read_slow(address, size, value) == BusStatus::kOk;
}

void Cpu::enter_exception(uint8_t vector, uint32_t saved_pc, uint16_t clear_bits) {
  uint16_t saved_psr = state_.psr;
  if (vector == vector::kTrc) saved_psr &= static_cast<uint16_t>(~psr::kP);
  const uint32_t isp = state_.isp & kEvenAddressMask;
  if (isp < 6) {
    guest_panic(vector, saved_pc, "the ISP would wrap below 0", isp);
    return;
  }
  const uint32_t frame = isp - 6;
  if (!bus_.is_ram(frame, 6)) {
    guest_panic(vector, saved_pc, "the ISP frame at 0x%06x is not RAM", frame);
    return;
  }
  if (!write32(frame, (saved_pc & kAddressMask) >> 1) || !write16(frame + 4, saved_psr)) {
    guest_panic(vector, saved_pc, "the ISP frame at 0x%06x cannot be written", frame);
    return;
  }
  const uint32_t base = state_.intbase & kEvenAddressMask;
  uint32_t entry = 0;
  uint32_t target;
  if (state_.cfg & cfg::kEd) {
    if (!read_dispatch_entry(base + 4u * vector, AccessSize::kDword, &entry)) {
      guest_panic(vector, saved_pc, "its dispatch entry at 0x%06x cannot be read",
                  base + 4u * vector);
      return;
    }
    target = (entry << 1) & kAddressMask;
  } else {
    if (!read_dispatch_entry(base + 2u * vector, AccessSize::kWord, &entry)) {
      guest_panic(vector, saved_pc, "its dispatch entry at 0x%06x cannot be read",
                  base + 2u * vector);
      return;
    }
    target = (entry << 1) & 0x1FFFEu;
  }
  state_.isp = frame;
  set_psr(static_cast<uint16_t>(state_.psr & ~clear_bits));
  state_.halted = 0;
  if (log_enabled(LogCategory::kInt)) {
    log_printf(LogCategory::kInt,
               "cpu: exception %s (vector %u) saved pc=0x%06x psr=0x%04x -> handler 0x%06x",
               vector_name(vector), vector, saved_pc, saved_psr, target);
  }
  state_.pc = target;
}

void Cpu::raise_trap(uint8_t vector, uint32_t pc) {
  enter_exception(vector, pc, kClearForTraps);
}

void Cpu::raise_address_fault(uint32_t pc, uint32_t next_pc) {
  if (log_enabled(LogCategory::kGuestErrors)) {
    log_printf(LogCategory::kGuestErrors, "cpu: illegal data address at pc 0x%06x", pc);
  }
  enter_exception(vector::kIad, next_pc, kClearForTraps);
}

void Cpu::raise_fetch_fault(uint32_t pc) {
  if (log_enabled(LogCategory::kGuestErrors)) {
    log_printf(LogCategory::kGuestErrors, "cpu: instruction fetch failed at 0x%06x", pc);
  }
  enter_exception(vector::kIad, pc, kClearForTraps);
}

SvcResult Cpu::call_svc_hook(uint32_t pc) {
  if (!svc_hook_) return SvcResult::kNotHandled;
  state_.pc = pc;
  const SvcResult result = svc_hook_(*this);
  if (result == SvcResult::kRetry) {
    state_.pc = pc;
    attention_ |= kAttentionBlocked;
  }
  return result;
}

void Cpu::enter_wait(uint32_t next_pc) {
  state_.halted = 1;
  state_.pc = next_pc & kAddressMask;
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
