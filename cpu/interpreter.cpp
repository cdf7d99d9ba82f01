// The interpreter's run loop and translation: blocks of predecoded Ops, the
// single-step path, block accounting and the trampoline.
#include "cpu/interpreter.h"

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
  block->first_page = pc >> kPageBits;
  block->last_page = block->first_page;
  // While watchpoints exist, a block ends after each memory-accessing
  // instruction so a hit stops the CPU right after it.
  const bool split_memory_instructions = cpu_.watchpoints_active();
  const auto table = isa::table();
  uint32_t address = pc;
  size_t count = 0;
  bool ended = false;
  while (count < cache.block_instructions()) {
    if (count > 0 && (address >> kPageBits) != block->first_page) break;
    // A block never runs past a breakpoint: it ends before it.
    if (count > 0 && cpu_.breakpoint_at(address)) break;
    uint16_t words[3] = {0, 0, 0};
    if (!cpu_.fetch_word(address, &words[0])) break;
    const bool have_second = cpu_.fetch_word(address + 2, &words[1]);
    const bool have_third = have_second && cpu_.fetch_word(address + 4, &words[2]);
    const isa::Decoded decoded = isa::decode(words[0], words[1], words[2]);
    const unsigned size_words = decoded.valid() ? decoded.size_words : 1;
    if ((size_words >= 2 && !have_second) || (size_words >= 3 && !have_third)) break;

    Op& op = block->ops[count];
    const bool ends = exec::predecode_instruction(decoded, address, &op);
    // The block stops after it; a terminator Op continues at the next PC.
    const bool split = split_memory_instructions && decoded.valid() &&
                       table[decoded.entry].memory_access() != isa::MemoryAccess::kNone;
    if (count > 0 && exec::is_conditional_branch(op)) {
      // Superinstruction: CMP followed by Bcond dispatches once.
      if (OpHandler fused = exec::fuse_compare_branch(block->ops[count - 1].handler)) {
        block->ops[count - 1].handler = fused;
      }
    }
    address += op.size;
    block->last_page = (address - 1) >> kPageBits;
    ++count;
    if (ends) {
      ended = true;
      break;
    }
    if (split) break;
  }
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
