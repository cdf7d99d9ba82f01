// Cpu: construction, reset, the run loop (which hands execution to the
// engine), register pairs and the slow paths of guest-memory access.
#include "cpu/cpu.h"

#include <string>

#include "cpu/interpreter.h"
#include "util/log.h"

namespace cr16 {

Expected<CpuModel> parse_cpu_model(std::string_view name) {
  if (name == "cr16c") return CpuModel::kCr16c;
  if (name == "cr16cplus" || name == "cr16c+") return CpuModel::kCr16cPlus;
  return Error("unknown CPU model '" + std::string(name) + "' (valid: cr16c, cr16cplus)");
}

const char* cpu_model_name(CpuModel model) {
  return model == CpuModel::kCr16c ? "cr16c" : "cr16cplus";
}

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::kBudget:
      return "budget";
    case StopReason::kHalted:
      return "halted";
    case StopReason::kExitRequested:
      return "exit-requested";
    case StopReason::kBreakpoint:
      return "breakpoint";
    case StopReason::kWatchpoint:
      return "watchpoint";
    case StopReason::kStep:
      return "step";
    case StopReason::kBlocked:
      return "blocked";
    case StopReason::kGuestPanic:
      return "guest-panic";
  }
  return "?";
}

Cpu::Cpu(Bus& bus, CpuModel model)
    : bus_(bus), model_(model), engine_(std::make_unique<Interpreter>(*this)) {
  bus_.set_code_write_listener(this);
}

Cpu::~Cpu() {
  bus_.set_code_write_listener(nullptr);
}

void Cpu::reset(uint32_t reset_pc) {
  const uint32_t old_pc = state_.pc;
  const uint16_t old_psr = state_.psr;
  if (state_.psr & psr::kU) std::swap(state_.r[kRegSp], state_.banked_sp);
  state_.r[0] = (old_pc >> 1) & 0xFFFFu;
  state_.r[1] = (old_pc >> 17) & 0x7Fu;
  state_.r[2] = old_psr;
  state_.psr = psr::kResetValue;
  state_.cfg = 0;
  state_.dbs = 0;
  state_.dcr = 0;
  state_.pc = reset_pc & (kAddressMask & ~1u);
  state_.halted = 0;
  state_.events_pending = 0;
  code_written_ = false;
  attention_ = 0;
  panic_message_.clear();
  resume_armed_ = false;
  flush_code_cache();
}

void Cpu::state_loaded() {
  code_written_ = false;
  attention_ = 0;
  panic_message_.clear();
  resume_armed_ = false;
  stop_ = DebugStop{};
  engine_->flush();
}

void Cpu::set_engine(std::unique_ptr<ExecutionEngine> engine) {
  engine_ = std::move(engine);
  engine_->flush();
}

void Cpu::set_psr(uint16_t value) {
  value &= psr::kImplemented;
  if ((value ^ state_.psr) & psr::kU) std::swap(state_.r[kRegSp], state_.banked_sp);
  state_.psr = value;
}

void Cpu::set_cfg(uint16_t value) {
  value &= cfg::kImplemented;
  if ((value ^ state_.cfg) & cfg::kSr) flush_code_cache();
  state_.cfg = value;
}

uint32_t Cpu::pair_slow(unsigned code) const {
  const uint32_t* r = state_.r;
  if (code == 11) return r[11] | ((r[12] & 0xFFFFu) << 16);
  if ((state_.cfg & cfg::kSr) && code < 15) {
    // CR16B-style pairs of low halves: 12 = (r13_L, r12_L), 13 = (ra_L, r13_L),
    // 14 = (sp_L, ra_L).
    return (r[code] & 0xFFFFu) | ((r[code + 1] & 0xFFFFu) << 16);
  }
  return r[code];
}

void Cpu::set_pair_slow(unsigned code, uint32_t value) {
  uint32_t* r = state_.r;
  if (code == 11) {
    r[11] = value & 0xFFFFu;
    r[12] = (r[12] & 0xFFFF0000u) | (value >> 16);
    return;
  }
  if ((state_.cfg & cfg::kSr) && code < 15) {
    r[code] = (r[code] & 0xFFFF0000u) | (value & 0xFFFFu);
    r[code + 1] = (r[code + 1] & 0xFFFF0000u) | (value >> 16);
    return;
  }
  r[code] = value;
}

// ---- Slow paths of data access.

Cpu::SlowRead Cpu::slow_read(uint32_t address, AccessSize size, uint32_t pc) {
  const auto bytes = static_cast<uint32_t>(size);
  access_pc_ = pc == kUnknownPc ? state_.pc : pc;
  if (address > kAddressMask || address + bytes - 1 > kAddressMask) return {0, false};
  const uint32_t offset = address & (kPageSize - 1);
  if (!watchpoints_.empty()) [[unlikely]] {
    check_watchpoints(address, bytes, WatchKind::kRead);
  }
  if (bytes > 1 && offset + bytes > kPageSize) {
    // Straddles a page: byte by byte, little-endian.
    uint32_t result = 0;
    for (uint32_t i = 0; i < bytes; ++i) {
      uint32_t byte;
      if (!read8(address + i, &byte, access_pc_)) return {0, false};
      result |= byte << (8 * i);
    }
    return {result, true};
  }
  uint32_t value = 0;
  if (bus_.read_slow(address, size, &value) == BusStatus::kOk) return {value, true};
  if (model_ == CpuModel::kCr16cPlus) return {0, false};
  // The CR16C core bus has no error response: the read returns 0.
  if (log_enabled(LogCategory::kGuestErrors)) {
    log_printf(LogCategory::kGuestErrors, "cpu: bus error reading %u bytes at 0x%06x (pc 0x%06x)",
               bytes, address, access_pc_);
  }
  return {0, true};
}

bool Cpu::slow_write(uint32_t address, AccessSize size, uint32_t value, uint32_t pc) {
  const auto bytes = static_cast<uint32_t>(size);
  access_pc_ = pc == kUnknownPc ? state_.pc : pc;
  if (address > kAddressMask || address + bytes - 1 > kAddressMask) return false;
  const uint32_t offset = address & (kPageSize - 1);
  if (!watchpoints_.empty()) [[unlikely]] {
    check_watchpoints(address, bytes, WatchKind::kWrite);
  }
  if (bytes > 1 && offset + bytes > kPageSize) {
    for (uint32_t i = 0; i < bytes; ++i) {
      if (!write8(address + i, (value >> (8 * i)) & 0xFFu, access_pc_)) return false;
    }
    return true;
  }
  if (bus_.write_slow(address, size, value) == BusStatus::kOk) return true;
  if (model_ == CpuModel::kCr16cPlus) return false;
  if (log_enabled(LogCategory::kGuestErrors)) {
    log_printf(LogCategory::kGuestErrors, "cpu: bus error writing %u bytes at 0x%06x (pc 0x%06x)",
               bytes, address, access_pc_);
  }
  return true;
}

bool Cpu::fetch_word(uint32_t address, uint16_t* word) {
  if (address > kAddressMask - 1) return false;
  const uint32_t page = address >> kPageBits;
  if (const uint8_t* host = bus_.read_page[page]) {
    std::memcpy(word, host + (address & (kPageSize - 1)), sizeof *word);
    return true;
  }
  uint32_t value = 0;
  if (bus_.read_slow(address, AccessSize::kWord, &value) != BusStatus::kOk) return false;
  *word = static_cast<uint16_t>(value);
  return true;
}

void Cpu::code_page_written(uint32_t page_index) {
  engine_->invalidate_page(page_index);
  code_written_ = true;
}

// ---- The run loop.

bool Cpu::take_stop(StopReason* reason) {
  if (attention_ & kAttentionPanicked) {
    *reason = StopReason::kGuestPanic;
    return true;
  }
  if (attention_ & kAttentionBlocked) {
    attention_ &= static_cast<uint8_t>(~kAttentionBlocked);
    *reason = StopReason::kBlocked;
    return true;
  }
  if (attention_ & kAttentionWatchpoint) {
    attention_ &= static_cast<uint8_t>(~kAttentionWatchpoint);
    stop_.reason = StopReason::kWatchpoint;
    stop_.pc = state_.pc;
    *reason = StopReason::kWatchpoint;
    return true;
  }
  return false;
}

StopReason Cpu::run(uint64_t max_instructions) {
  if (attention_ & kAttentionPanicked) return StopReason::kGuestPanic;
  code_written_ = false;  // left over from debugger or loader writes
  const uint64_t until = state_.icount + max_instructions;
  StopReason reason;
  for (;;) {
    if (exit_requested_.load(std::memory_order_relaxed)) [[unlikely]] {
      exit_requested_.store(false, std::memory_order_relaxed);
      return StopReason::kExitRequested;
    }
    if (events_need_checking()) [[unlikely]] {
      check_events();
      if (attention_ && take_stop(&reason)) return reason;
      if (state_.halted) return StopReason::kHalted;
    }
    if (state_.icount >= until) return StopReason::kBudget;
    if (!breakpoints_.empty()) [[unlikely]] {
      if (resume_armed_ && resume_pc_ != state_.pc) resume_armed_ = false;
      if (breakpoint_lookup(state_.pc)) {
        if (!resume_armed_) {
          // Stop before the instruction; the next run() steps over it.
          resume_armed_ = true;
          resume_pc_ = state_.pc;
          stop_ = DebugStop{};
          stop_.reason = StopReason::kBreakpoint;
          stop_.pc = state_.pc;
          stop_.address = state_.pc;
          return StopReason::kBreakpoint;
        }
        resume_armed_ = false;
        engine_->run(state_.icount + 1);
        if (attention_ && take_stop(&reason)) return reason;
        continue;
      }
    }
    engine_->run(until);
    if (attention_) [[unlikely]] {
      if (take_stop(&reason)) return reason;
    }
  }
}

StopReason Cpu::step(StepEvents events) {
  if (attention_ & kAttentionPanicked) return StopReason::kGuestPanic;
  StopReason reason;
  if (events == StepEvents::kDeliver && events_need_checking()) {
    check_events();
    if (attention_ && take_stop(&reason)) return reason;
  }
  if (state_.halted) return StopReason::kHalted;
  resume_armed_ = false;
  engine_->run(state_.icount + 1);
  if (attention_ && take_stop(&reason)) return reason;
  stop_ = DebugStop{};
  stop_.reason = StopReason::kStep;
  stop_.pc = state_.pc;
  stop_.address = state_.pc;
  return StopReason::kStep;
}

}  // namespace cr16
