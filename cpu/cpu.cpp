// Cpu: construction, reset, the run loop over predecoded blocks, register
// pairs and the slow paths of guest-memory access.
#include "cpu/cpu.h"

#include <string>

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

Cpu::Cpu(Bus& bus, CpuModel model) : bus_(bus), model_(model) {
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
  flush_code_cache();
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

bool Cpu::slow_read(uint32_t address, AccessSize size, uint32_t* value) {
  const auto bytes = static_cast<uint32_t>(size);
  if (address > kAddressMask || address + bytes - 1 > kAddressMask) return false;
  const uint32_t offset = address & (kPageSize - 1);
  if (bytes > 1 && offset + bytes > kPageSize) {
    // Straddles a page: byte by byte, little-endian.
    uint32_t result = 0;
    for (uint32_t i = 0; i < bytes; ++i) {
      uint32_t byte;
      if (!read8(address + i, &byte)) return false;
      result |= byte << (8 * i);
    }
    *value = result;
    return true;
  }
  if (bus_.read_slow(address, size, value) == BusStatus::kOk) return true;
  if (model_ == CpuModel::kCr16cPlus) return false;
  // The CR16C core bus has no error response: the read returns 0.
  if (log_enabled(LogCategory::kGuestErrors)) {
    log_printf(LogCategory::kGuestErrors, "cpu: bus error reading %u bytes at 0x%06x (pc 0x%06x)",
               bytes, address, state_.pc);
  }
  *value = 0;
  return true;
}

bool Cpu::slow_write(uint32_t address, AccessSize size, uint32_t value) {
  const auto bytes = static_cast<uint32_t>(size);
  if (address > kAddressMask || address + bytes - 1 > kAddressMask) return false;
  const uint32_t offset = address & (kPageSize - 1);
  if (bytes > 1 && offset + bytes > kPageSize) {
    for (uint32_t i = 0; i < bytes; ++i) {
      if (!write8(address + i, (value >> (8 * i)) & 0xFFu)) return false;
    }
    return true;
  }
  if (bus_.write_slow(address, size, value) == BusStatus::kOk) return true;
  if (model_ == CpuModel::kCr16cPlus) return false;
  if (log_enabled(LogCategory::kGuestErrors)) {
    log_printf(LogCategory::kGuestErrors, "cpu: bus error writing %u bytes at 0x%06x (pc 0x%06x)",
               bytes, address, state_.pc);
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

// ---- Guest memory for loaders and monitors.

Expected<uint32_t> Cpu::debug_read(uint32_t address, AccessSize size) {
  uint32_t value = 0;
  bool ok = false;
  switch (size) {
    case AccessSize::kByte:
      ok = read8(address, &value);
      break;
    case AccessSize::kWord:
      ok = read16(address, &value);
      break;
    case AccessSize::kDword:
      ok = read32(address, &value);
      break;
  }
  if (!ok) {
    char text[96];
    std::snprintf(text, sizeof text, "cannot read %u bytes at guest address 0x%x",
                  static_cast<unsigned>(size), address);
    return Error(text);
  }
  return value;
}

Error Cpu::debug_write(uint32_t address, AccessSize size, uint32_t value) {
  bool ok = false;
  switch (size) {
    case AccessSize::kByte:
      ok = write8(address, value);
      break;
    case AccessSize::kWord:
      ok = write16(address, value);
      break;
    case AccessSize::kDword:
      ok = write32(address, value);
      break;
  }
  if (!ok) {
    char text[96];
    std::snprintf(text, sizeof text, "cannot write %u bytes at guest address 0x%x",
                  static_cast<unsigned>(size), address);
    return Error(text);
  }
  return Error();
}

Error Cpu::debug_write_block(uint32_t address, const uint8_t* data, size_t length) {
  for (size_t i = 0; i < length; ++i) {
    Error error = debug_write(address + static_cast<uint32_t>(i), AccessSize::kByte, data[i]);
    if (!error.ok()) return error;
  }
  return Error();
}

Error Cpu::debug_read_block(uint32_t address, uint8_t* data, size_t length) {
  for (size_t i = 0; i < length; ++i) {
    Expected<uint32_t> byte = debug_read(address + static_cast<uint32_t>(i), AccessSize::kByte);
    if (!byte) return byte.error();
    data[i] = static_cast<uint8_t>(*byte);
  }
  return Error();
}

void Cpu::flush_code_cache() {
  cache_.flush();
  step_cache_.flush();
}

void Cpu::code_page_written(uint32_t page_index) {
  cache_.invalidate_page(page_index);
  step_cache_.invalidate_page(page_index);
  code_written_ = true;
}

// ---- The run loop.

Block* Cpu::block_at(BlockCache& cache, uint32_t pc) {
  if (Block* block = cache.find(pc)) return block;
  if (cache.full()) cache.flush();
  return translate(cache, pc);
}

void Cpu::step_one() {
  Block* block = block_at(step_cache_, state_.pc);
  if (!block) {
    ++icount_;  // the fetch fault counts as a step so run() always progresses
    return;
  }
  // Trace: P := T at the start of every instruction (PRM 4.1.1).
  if (state_.psr & psr::kT) {
    state_.psr |= psr::kP;
  } else {
    state_.psr &= static_cast<uint16_t>(~psr::kP);
  }
  if (log_enabled(LogCategory::kExec) || log_enabled(LogCategory::kCpu)) trace_block(*block);
  block->ops->handler(*this, block->ops);  // one instruction, then the terminator
  ++icount_;
}

StopReason Cpu::run(uint64_t max_instructions) {
  const uint64_t end = icount_ + max_instructions;
  end_ = end;
  for (;;) {
    if (exit_requested_.load(std::memory_order_relaxed)) [[unlikely]] {
      exit_requested_.store(false, std::memory_order_relaxed);
      return StopReason::kExitRequested;
    }
    if (state_.events_pending || state_.halted || interrupt_deliverable() || (state_.psr & psr::kP))
        [[unlikely]] {
      check_events();
      if (state_.halted) return StopReason::kHalted;
    }
    if (icount_ >= end) return StopReason::kBudget;
    Block* block = block_at(cache_, state_.pc);
    if (!block) [[unlikely]] {
      ++icount_;
      continue;
    }
    if (block->instruction_count > end - icount_ || (state_.psr & (psr::kT | psr::kP)))
        [[unlikely]] {
      step_one();
      continue;
    }
    const bool tracing = log_enabled(LogCategory::kExec) || log_enabled(LogCategory::kCpu);
    if (tracing) [[unlikely]]
      trace_block(*block);
    chain_budget_ = tracing ? 0 : kMaxChain;  // chained blocks would bypass the trace
    enter_block(block);
    block->ops->handler(*this, block->ops);  // runs the block (threaded, maybe chained)
    settle_block_count();
    chain_budget_ = 0;
  }
}

}  // namespace cr16
