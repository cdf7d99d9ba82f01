// The interpreter's run loop and translation: blocks of predecoded Ops, the
// single-step path, block accounting and the trampoline.
#include "cpu/interpreter.h"

#include "cpu/block_scan.h"
#include "cpu/decode.h"
#include "cpu/exec.h"
#include "util/log.h"

namespace cr16 {

const Op Interpreter::kSuspended{};

Interpreter::Interpreter(Cpu& cpu) : cpu_(cpu), bus_(cpu.bus()) {}

void Interpreter::invalidate_page(uint32_t page_index) {
  cache_.invalidate_page(page_index);
  step_cache_.invalidate_page(page_index);
}

void Interpreter::flush() {
  cache_.flush();
  step_cache_.flush();
}

EngineStatistics Interpreter::statistics() const {
  EngineStatistics statistics;
  statistics.translations = cache_.translations() + step_cache_.translations();
  statistics.invalidations = cache_.invalidations() + step_cache_.invalidations();
  statistics.flushes = cache_.flushes();
  statistics.cached_blocks = cache_.block_count();
  return statistics;
}

Block* Interpreter::block_at(BlockCache& cache, uint32_t pc) {
  if (Block* block = cache.find(pc)) return block;
  if (cache.full()) cache.flush();
  return translate(cache, pc);
}

const Op* Interpreter::execute(const Op* first) {
#if CR16_DISPATCH_TRAMPOLINE
  depth_left_ = kTrampolineDepth;
  const Op* last = first->handler(cpu_, first);
  while (last == &kSuspended) {
    depth_left_ = kTrampolineDepth;
    last = resume_->handler(cpu_, resume_);
  }
  return last;
#else
  return first->handler(cpu_, first);
#endif
}

void Interpreter::step_one() {
  CpuState& s = cpu_.state();
  Block* block = block_at(step_cache_, s.pc);
  if (!block) {
    ++s.icount;  // the fetch fault counts as a step so run() always progresses
    return;
  }
  // Trace: P := T at the start of every instruction (PRM 4.1.1).
  if (s.psr & psr::kT) {
    s.psr |= psr::kP;
  } else {
    s.psr &= static_cast<uint16_t>(~psr::kP);
  }
  if (log_enabled(LogCategory::kExec) || log_enabled(LogCategory::kCpu)) trace_block(*block);
  chain_budget_ = 0;
  enter_block(s, block);
  settle(s, execute(block->ops));  // one instruction, then the terminator
}

void Interpreter::run(uint64_t until) {
  CpuState& s = cpu_.state();
  if (s.icount >= until) return;
  if ((s.psr & (psr::kT | psr::kP)) || cpu_.breakpoint_at(s.pc)) [[unlikely]] {
    step_one();
    return;
  }
  Block* block = block_at(cache_, s.pc);
  if (!block) [[unlikely]] {
    ++s.icount;  // the fetch fault counts as a step
    return;
  }
  if (block->instruction_count > until - s.icount) [[unlikely]] {
    step_one();
    return;
  }
  const bool tracing = log_enabled(LogCategory::kExec) || log_enabled(LogCategory::kCpu);
  if (tracing) [[unlikely]]
    trace_block(*block);
  chain_budget_ = tracing ? 0 : kMaxChain;  // chained blocks would bypass the trace
  until_ = until;
  enter_block(s, block);
  settle(s, execute(block->ops));  // runs the block (threaded, maybe chained)
  chain_budget_ = 0;
}

Block* Interpreter::translate(BlockCache& cache, uint32_t pc) {
  Block* block = cache.begin(pc);
  bool ended = false;
  const BlockExtent extent = scan_block(
      cpu_, pc, static_cast<uint32_t>(cache.block_instructions()),
      [&](const isa::Decoded& decoded, uint32_t address, uint32_t index) {
        Op& op = block->ops[index];
        ended = exec::predecode_instruction(decoded, address, &op);
        if (index > 0 && exec::is_conditional_branch(op)) {
          // Superinstruction: CMP followed by Bcond dispatches once.
          if (OpHandler fused = exec::fuse_compare_branch(block->ops[index - 1].handler)) {
            block->ops[index - 1].handler = fused;
          }
        }
        return !ended;
      });
  const size_t count = extent.count;
  const uint32_t address = extent.end;
  block->first_page = pc >> kPageBits;
  block->last_page = count > 0 ? (address - 1) >> kPageBits : block->first_page;
  if (count == 0) {
    // The first instruction cannot be fetched: IAD with the faulting PC.
    cpu_.raise_fetch_fault(pc);
    return nullptr;
  }
  size_t op_total = count;
  if (!ended) {
    Op& end = block->ops[count];
    end = Op{};
    end.handler = &exec::op_end_of_block;
    end.pc = address;
    ++op_total;
  }
  block->instruction_count = static_cast<uint32_t>(count);
  block->end_pc = address;
  bus_.watch_code_page(block->first_page);
  if (block->last_page != block->first_page) bus_.watch_code_page(block->last_page);
  cache.commit(block, op_total);
  if (log_enabled(LogCategory::kInAsm)) trace_translation(*block);
  return block;
}

}  // namespace cr16
