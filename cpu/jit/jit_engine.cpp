// The JIT's code cache, translation and run loop (see jit_engine.h and
// docs/jit.md).
#include "cpu/jit/jit_engine.h"

#include <xbyak/xbyak.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <vector>

#include "cpu/block_scan.h"
#include "cpu/decode.h"
#include "cpu/disas.h"
#include "cpu/exec.h"
#include "cpu/jit/code_emitter.h"
#include "cpu/jit/host_disassembly.h"
#include "cpu/jit/register_cache.h"
#include "util/log.h"

namespace cr16::jit {

namespace {

/// The Op after each instruction in a translation: the handler's threaded
/// dispatch lands here and it returns itself, telling the generated code that
/// the instruction continued (did not leave the block).
const Op* return_to_translation(Cpu&, const Op* op) {
  return op;
}

/// A translation: returns 0 when the block ran to its end (PC is then the
/// block's end), else 1 + the index of the instruction that left the block
/// (it set the PC). `state` is cpu->state(), for the native code.
using TranslatedBlock = void (*)(Cpu* cpu, CpuState* state, ChainContext* context);

}  // namespace

unsigned JitEngine::default_translate_after() {
  const char* text = std::getenv("CR16_JIT_TRANSLATE_AFTER");
  if (text == nullptr || *text == 0) return kDefaultTranslateAfter;
  char* end = nullptr;
  const unsigned long value = std::strtoul(text, &end, 10);
  if (*end != 0 || value > 255) return kDefaultTranslateAfter;
  return static_cast<unsigned>(value);
}

JitEngine::JitEngine(Cpu& cpu, size_t code_cache_bytes, unsigned translate_after)
    : Interpreter(cpu),
      dispatch_(std::make_unique<DispatchEntry[]>(kDispatchSlots)),
      heat_(std::make_unique<uint8_t[]>(kHeatSlots)),
      translate_after_(std::min(translate_after, 255u)),
      emitter_(std::make_unique<CodeEmitter>(code_cache_bytes, bus_.read_page.data(),
                                             bus_.write_page.data(), dispatch_.get(),
                                             kDispatchSlots - 1)) {}

JitEngine::~JitEngine() = default;

void JitEngine::invalidate_page(uint32_t page_index) {
  Interpreter::invalidate_page(page_index);
  blocks_.invalidate_page(page_index);
  clear_dispatch();
  clear_heat();
}

void JitEngine::clear_heat() {
  std::fill_n(heat_.get(), kHeatSlots, uint8_t{0});
}

void JitEngine::clear_dispatch() {
  for (uint32_t i = 0; i < kDispatchSlots; ++i) dispatch_[i] = DispatchEntry{};
  // Direct jumps went to translations that may be gone: back to lookups.
  for (const LinkSite& site : linked_) {
    emitter_->set_exit_jump(site.jump, nullptr);
    unlinked_[site.target].push_back(site.jump);
  }
  linked_.clear();
}

void JitEngine::link(uint32_t target, const void* code) {
  const auto waiting = unlinked_.find(target);
  if (waiting == unlinked_.end()) return;
  for (uint8_t* jump : waiting->second) {
    emitter_->set_exit_jump(jump, code);
    linked_.push_back(LinkSite{jump, target});
  }
  unlinked_.erase(waiting);
}

void JitEngine::publish(const Block& block) {
  if (cpu_.breakpoint_at(block.pc)) return;
  DispatchEntry& slot = dispatch_[(block.pc >> 1) & (kDispatchSlots - 1)];
  const void* code = static_cast<const uint8_t*>(block.host_code) + chain_offset_;
  // Already there (run() republishes every block it enters): nothing waits
  // for it either — exits to a published target are linked when emitted.
  if (slot.pc == block.pc && slot.code == code) return;
  slot.pc = block.pc;
  slot.code = code;
  link(block.pc, code);
}

void JitEngine::flush() {
  // Blocks still run by the interpreter (not yet translated) count too.
  const bool interpreted_blocks = cache_.block_count() != 0;
  const uint64_t flushes = code_flushes_;
  Interpreter::flush();
  drop_translations();
  clear_heat();
  if (interpreted_blocks && code_flushes_ == flushes) ++code_flushes_;
}

void JitEngine::drop_translations() {
  // Safe from inside a running translation (an instruction that ends its
  // block, e.g. a CFG.SR change): the code and Ops are only overwritten by
  // the next translation, which run() makes after the current block left.
  // Only a cache that held something counts as flushed (a reset or a new
  // engine flushes an empty one).
  if (emitter_->used() != 0 || blocks_.block_count() != 0) ++code_flushes_;
  blocks_.flush();
  linked_.clear();
  unlinked_.clear();
  clear_dispatch();
  emitter_->clear();
}

EngineStatistics JitEngine::statistics() const {
  EngineStatistics statistics = Interpreter::statistics();
  statistics.translations += blocks_.translations();
  statistics.invalidations += blocks_.invalidations();
  statistics.flushes = code_flushes_;
  // Translations and the blocks the interpreter runs until they are hot.
  statistics.cached_blocks = blocks_.block_count() + statistics.cached_blocks;
  statistics.code_cache_bytes = emitter_->capacity();
  statistics.code_cache_used = emitter_->used();
  return statistics;
}

Block* JitEngine::translation_at(uint32_t pc) {
  if (Block* block = blocks_.find(pc)) return block;
  if (blocks_.full() || !emitter_->fits(kMaxTranslationBytes)) drop_translations();
  return translate_block(pc);
}

bool JitEngine::is_conditional_branch(const isa::Decoded& decoded, const Op& op) {
  using isa::Mnemonic;
  return exec::is_conditional_branch(op) || decoded.mnemonic == Mnemonic::kBeq0b ||
         decoded.mnemonic == Mnemonic::kBne0b || decoded.mnemonic == Mnemonic::kBeq0w ||
         decoded.mnemonic == Mnemonic::kBne0w;
}

uint32_t JitEngine::branch_target(const Op& op) {
  return static_cast<uint32_t>(op.imm) & kAddressMask;
}

Block* JitEngine::translate_block(uint32_t pc) {
  Block* block = blocks_.begin(pc);
  uint32_t interpreter_end = 0;  // instructions up to its first conditional branch
  const BlockExtent extent =
      scan_block(cpu_, pc, kMaxBlockInstructions,
                 [&](const isa::Decoded& decoded, uint32_t address, uint32_t index) {
                   Op& op = block->ops[2 * index];
                   bool ends = exec::predecode_instruction(decoded, address, &op);
                   // A conditional branch that is not a back edge to the block's start
                   // ends the interpreter's block; the translation looks further, for a
                   // loop (a later branch back to the start) with this one as side exit.
                   if (ends && is_conditional_branch(decoded, op) && branch_target(op) != pc) {
                     if (interpreter_end == 0) interpreter_end = index + 1;
                     ends = false;
                   }
                   Op& stop = block->ops[2 * index + 1];
                   stop = Op{};
                   stop.handler = &return_to_translation;
                   stop.pc = address + op.size;
                   return !ends;
                 });
  uint32_t count = extent.count;
  uint32_t address = extent.end;
  if (count == 0) {
    cpu_.raise_fetch_fault(pc);
    return nullptr;
  }
  block->first_page = pc >> kPageBits;
  block->last_page = (address - 1) >> kPageBits;
  // No loop found: the block ends where the interpreter's does.
  if (interpreter_end != 0 && interpreter_end < count) {
    const Op& last = block->ops[2 * (count - 1)];
    const isa::Decoded decoded = isa::decode(last.words[0], last.words[1], last.words[2]);
    const bool loops_back =
        decoded.valid() && decoded.mnemonic == isa::Mnemonic::kB && branch_target(last) == pc;
    if (!loops_back) {
      count = interpreter_end;
      const Op& end = block->ops[2 * (count - 1)];
      address = end.pc + end.size;
      block->last_page = (address - 1) >> kPageBits;
    }
  }
  block->instruction_count = count;
  block->end_pc = address;
  bus_.watch_code_page(block->first_page);
  if (block->last_page != block->first_page) bus_.watch_code_page(block->last_page);
  const uint8_t* code = nullptr;
  size_t code_bytes = 0;
  try {
    emitter_->set_loops_allowed(!cpu_.breakpoint_at(pc));
    const CodeEmitter::Entries entries = emitter_->emit(*block);
    code = entries.from_run;
    code_bytes = entries.bytes;
    chain_offset_ = static_cast<size_t>(entries.from_chain - entries.from_run);
  } catch (const Xbyak::Error& error) {
    // Our bug, never the guest's: log it and let the interpreter run this
    // stretch (run() sees emit_failed_). The partly written buffer goes.
    log_printf(LogCategory::kUnimp, "jit: cannot emit block 0x%06x (%s); interpreting it", pc,
               error.what());
    emitter_->abandon();
    drop_translations();
    emit_failed_ = true;
    return nullptr;
  }
  blocks_.commit(block, 2 * size_t{count});
  block->host_code = code;
  // Its direct exits wait for their targets' translations; those already
  // published are linked at once.
  for (const CodeEmitter::ExitSite& site : emitter_->exit_sites()) {
    unlinked_[site.target].push_back(site.jump);
    const DispatchEntry& slot = dispatch_[(site.target >> 1) & (kDispatchSlots - 1)];
    if (slot.pc == site.target) link(site.target, slot.code);
  }
  publish(*block);
  if (log_enabled(LogCategory::kInAsm) || log_enabled(LogCategory::kOutAsm)) {
    trace_translation_jit(*block, code, code_bytes);
  }
  return block;
}

void JitEngine::trace_translation_jit(const Block& block, const uint8_t* code, size_t size) {
  if (log_enabled(LogCategory::kInAsm)) {
    log_printf(LogCategory::kInAsm, "IN: block 0x%06x (%u instructions)", block.pc,
               block.instruction_count);
    for (uint32_t i = 0; i < block.instruction_count; ++i) {
      const Op& op = block.ops[2 * i];
      const isa::Decoded decoded = isa::decode(op.words[0], op.words[1], op.words[2]);
      log_printf(LogCategory::kInAsm, "0x%06x:  %s", op.pc, disassemble(decoded, op.pc).c_str());
    }
  }
  if (log_enabled(LogCategory::kOutAsm)) {
    log_printf(LogCategory::kOutAsm, "OUT: [guest 0x%06x] %zu bytes at %p", block.pc, size,
               static_cast<const void*>(code));
    for (const std::string& line : disassemble_host_code(code, size)) {
      log_printf(LogCategory::kOutAsm, "  %s", line.c_str());
    }
  }
}

void JitEngine::run(uint64_t until) {
  CpuState& s = cpu_.state();
  if (s.icount >= until) return;
  if ((s.psr & (psr::kT | psr::kP)) || cpu_.breakpoint_at(s.pc)) [[unlikely]] {
    step_one();
    return;
  }
  Block* block = blocks_.find(s.pc);
  if (block == nullptr) {
    if (heat(s.pc) < translate_after_) {
      interpret_cold_block(until);
      return;
    }
    block = translation_at(s.pc);
  }
  if (!block && emit_failed_) [[unlikely]] {
    emit_failed_ = false;
    Interpreter::run(until);
    return;
  }
  if (!block) [[unlikely]] {
    ++s.icount;  // the fetch fault counts as a step
    return;
  }
  if (block->instruction_count > until - s.icount) [[unlikely]] {
    step_one();
    return;
  }
  const bool tracing = log_enabled(LogCategory::kExec) || log_enabled(LogCategory::kCpu);
#if CR16_DISPATCH_TRAMPOLINE
  depth_left_ = UINT_MAX;  // each handler dispatches once (to its stop Op)
#endif
  // Translations enter each other directly (through the dispatch table)
  // while nothing needs this loop: only handlers change what
  // needs_run_loop() and halted() look at (every device access is a handler
  // call), so an exit asks the core only after one with side effects ran;
  // the budget allows the next block (checked on its entry), within
  // kMaxChain direct entries; never when tracing, and never into a block at
  // a breakpoint (publish() leaves those out of the table). Between such
  // runs, this loop continues as the interpreter chains: the same condition
  // and bound.
  const bool direct = !tracing;
  context_.until = until;
  for (unsigned chained = 0;; ++chained) {
    if (tracing) [[unlikely]]
      trace_block(*block);
    // One bound for the blocks entered here and those entered directly.
    const uint32_t chain_budget = direct ? kMaxChain - chained : 0;
    context_.handler_ran = 0;
    context_.handler_left = 0;
    context_.chain_left = chain_budget;
    reinterpret_cast<TranslatedBlock>(const_cast<void*>(block->host_code))(&cpu_, &s, &context_);
    if (context_.chain_left < chain_budget) chained += chain_budget - context_.chain_left;
    if (unretired_) [[unlikely]] {
      --s.icount;
      unretired_ = false;
      return;
    }
    // A handler that left its block returns to the core, as the
    // interpreter's do (what it changed may concern the core beyond
    // needs_run_loop(): a stop requested from an SVC hook, say).
    if (context_.handler_left || tracing || chained >= kMaxChain || cpu_.needs_run_loop() ||
        cpu_.halted() || cpu_.breakpoint_at(s.pc)) {
      return;
    }
    block = blocks_.find(s.pc);
    if (block == nullptr || block->instruction_count > until - s.icount) return;
    publish(*block);
  }
}

void JitEngine::interpret_cold_block(uint64_t until) {
  CpuState& s = cpu_.state();
  Block* block = block_at(cache_, s.pc);
  if (!block) [[unlikely]] {
    ++s.icount;  // the fetch fault counts as a step
    return;
  }
  if (block->instruction_count > until - s.icount) {
    step_one();
    return;
  }
  ++heat(s.pc);
  if (log_enabled(LogCategory::kExec) || log_enabled(LogCategory::kCpu)) [[unlikely]]
    trace_block(*block);
  // One block, back to the core after it (Interpreter::chain sees no
  // budget): each block entered is counted, and whatever its last
  // instruction asks of the core is seen as under the interpreter.
  chain_budget_ = 0;
  until_ = until;
  enter_block(s, block);
  settle(s, execute(block->ops));
}

}  // namespace cr16::jit
