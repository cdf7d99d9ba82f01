// The core/engine seam: Cpu::run drives whatever ExecutionEngine it has,
// forwards code-page writes and flushes to it and keeps breakpoints its own
// business; and the interpreter's handler chains stay within a small host
// stack however long the straight-line code or the chain of blocks
// (musttail, or the trampoline where tail calls are not guaranteed).
#include <pthread.h>

#include <functional>
#include <memory>
#include <vector>

#include "cpu/interpreter.h"
#include "cpu_fixture.h"

namespace cr16::test {
namespace {

/// A stand-in engine: "executes" every instruction as a 2-byte nop.
class NopEngine : public ExecutionEngine {
 public:
  explicit NopEngine(Cpu& cpu) : cpu_(cpu) {}
  void run(uint64_t until) override {
    ++runs;
    CpuState& s = cpu_.state();
    while (s.icount < until && !cpu_.needs_run_loop()) {
      s.pc = (s.pc + 2) & kAddressMask;
      ++s.icount;
      if (cpu_.breakpoint_at(s.pc)) break;
    }
  }
  void invalidate_page(uint32_t page_index) override { invalidated.push_back(page_index); }
  void flush() override { ++flushes; }
  EngineStatistics statistics() const override {
    EngineStatistics statistics;
    statistics.flushes = static_cast<uint64_t>(flushes);
    return statistics;
  }
  const char* name() const override { return "nop"; }

  int runs = 0;
  int flushes = 0;
  std::vector<uint32_t> invalidated;

 private:
  Cpu& cpu_;
};

using Engine = CpuFixture;

TEST_F(Engine, TheInterpreterIsTheDefault) {
  TestBus other_bus;
  Cpu fresh(other_bus, CpuModel::kCr16cPlus);  // the fixture's may run CR16_TEST_ENGINE
  EXPECT_STREQ(fresh.engine().name(), "interpreter");
}

TEST_F(Engine, CpuDrivesAnotherEngineThroughTheInterface) {
  auto owned = std::make_unique<NopEngine>(cpu);
  NopEngine& engine = *owned;
  cpu.set_engine(std::move(owned));
  EXPECT_STREQ(cpu.engine().name(), "nop");
  EXPECT_EQ(engine.flushes, 1);  // a new engine starts from nothing
  cpu.state().pc = kCode;
  EXPECT_EQ(cpu.run(100), StopReason::kBudget);
  EXPECT_EQ(cpu.instruction_count(), 100u);
  EXPECT_EQ(cpu.state().pc, kCode + 200);
  EXPECT_GE(engine.runs, 1);

  // Breakpoints are the core's: it stops before asking the engine.
  ASSERT_TRUE(cpu.set_breakpoint(kCode + 220).ok());
  EXPECT_EQ(engine.invalidated.back(), (kCode + 220) >> kPageBits);
  EXPECT_EQ(cpu.run(100), StopReason::kBreakpoint);
  EXPECT_EQ(cpu.state().pc, kCode + 220);

  // Code-page writes and CFG.SR changes reach the engine.
  bus.watch_code_page(5);
  ASSERT_TRUE(cpu.debug_write(0x5000, AccessSize::kWord, 0x1234).ok());
  EXPECT_EQ(engine.invalidated.back(), 5u);
  const int flushes = engine.flushes;
  cpu.set_cfg(cfg::kSr);
  EXPECT_EQ(engine.flushes, flushes + 1);
  EXPECT_EQ(cpu.engine().statistics().flushes, static_cast<uint64_t>(flushes + 1));

  // Interrupts are taken by the core between engine runs.
  cpu.clear_breakpoints();
  cpu.set_cfg(cfg::kEd);
  cpu.state().psr = psr::kE | psr::kI;
  cpu.set_irq_line(true);
  cpu.run(1);
  EXPECT_EQ(bus.acknowledges, 1);
  EXPECT_EQ(cpu.state().isp, kIsp - 6);

  // And the interpreter plugs back in.
  cpu.set_irq_line(false);
  cpu.set_engine(std::make_unique<Interpreter>(cpu));
  r(1) = 0;
  exec({0x3211, 0x3211, 0x18E0, 0x0000}, 3);  // addw $1, r1 twice ; br .
  EXPECT_EQ(r(1), 2u);
}

/// Runs `body` on a thread whose stack is `stack_bytes` (the test fails by
/// crashing if the body needs more).
void run_on_small_stack(size_t stack_bytes, const std::function<void()>& body) {
  pthread_attr_t attributes;
  ASSERT_EQ(pthread_attr_init(&attributes), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attributes, stack_bytes), 0);
  pthread_t thread;
  auto* task = new std::function<void()>(body);
  ASSERT_EQ(pthread_create(
                &thread, &attributes,
                [](void* argument) -> void* {
                  auto* work = static_cast<std::function<void()>*>(argument);
                  (*work)();
                  delete work;
                  return nullptr;
                },
                task),
            0);
  pthread_attr_destroy(&attributes);
  ASSERT_EQ(pthread_join(thread, nullptr), 0);
}

constexpr size_t kSmallStack = 1u << 20;  // 1 MiB

TEST_F(Engine, LongStraightLineSliceRunsOnASmallStack) {
  // 20 480 instructions of straight-line code (320 blocks of 64, chained
  // through their fall-through), then `br .`.
  constexpr uint32_t kStart = 0x10000;
  constexpr uint32_t kCount = 20480;
  std::vector<uint16_t> words(kCount, 0x3211);  // addw $1, r1
  words.push_back(0x18E0);
  words.push_back(0x0000);
  bus.load_words(kStart, words);
  cpu.flush_code_cache();
  cpu.state().pc = kStart;
  r(1) = 0;
  StopReason reason = StopReason::kHalted;
  run_on_small_stack(kSmallStack, [&] {
    reason = cpu.run(kCount);
    // Again, now that every block is translated and chains into the next.
    cpu.state().pc = kStart;
    reason = cpu.run(kCount);
  });
  EXPECT_EQ(reason, StopReason::kBudget);
  EXPECT_EQ(cpu.instruction_count(), 2u * kCount);
  EXPECT_EQ(cpu.state().pc, kStart + 2 * kCount);
  EXPECT_EQ(r(1), (2 * kCount) & 0xFFFF);
}

TEST_F(Engine, LongChainOfTakenBranchesRunsOnASmallStack) {
  // 10 000 two-instruction blocks: addw $1, r1 ; br +4 (to the next block).
  constexpr uint32_t kStart = 0x20000;
  constexpr uint32_t kBlocks = 10000;
  std::vector<uint16_t> words;
  for (uint32_t i = 0; i < kBlocks; ++i) {
    words.insert(words.end(), {0x3211, 0x18E0, 0x0004});
  }
  words.insert(words.end(), {0x18E0, 0x0000});
  bus.load_words(kStart, words);
  cpu.flush_code_cache();
  r(1) = 0;
  StopReason reason = StopReason::kHalted;
  run_on_small_stack(kSmallStack, [&] {
    for (int pass = 0; pass < 2; ++pass) {
      cpu.state().pc = kStart;
      reason = cpu.run(2 * kBlocks);
    }
  });
  EXPECT_EQ(reason, StopReason::kBudget);
  EXPECT_EQ(cpu.instruction_count(), 4u * kBlocks);
  EXPECT_EQ(cpu.state().pc, kStart + 6 * kBlocks);
  EXPECT_EQ(r(1), (2 * kBlocks) & 0xFFFF);
}

TEST_F(Engine, LongRunOfMemoryInstructionsRunsOnASmallStack) {
  // Loads and stores keep their tail calls too (a handler whose local has
  // its address taken by an out-of-line call would lose it on GCC).
  constexpr uint32_t kStart = 0x30000;
  constexpr uint32_t kCount = 20480;
  std::vector<uint16_t> words;
  for (uint32_t i = 0; i < kCount / 2; ++i) {
    words.insert(words.end(), {0x9020, 0xD020});  // loadw 0(r1,r0), r2 ; storw r2, 0(r1,r0)
  }
  words.insert(words.end(), {0x18E0, 0x0000});
  bus.load_words(kStart, words);
  bus.poke16(0x3000, 0x4321);
  cpu.flush_code_cache();
  r(0) = 0x3000;
  r(1) = 0;
  StopReason reason = StopReason::kHalted;
  run_on_small_stack(kSmallStack, [&] {
    for (int pass = 0; pass < 2; ++pass) {
      cpu.state().pc = kStart;
      reason = cpu.run(kCount);
    }
  });
  EXPECT_EQ(reason, StopReason::kBudget);
  EXPECT_EQ(cpu.instruction_count(), 2u * kCount);
  EXPECT_EQ(r(2), 0x4321u);
  EXPECT_EQ(bus.peek16(0x3000), 0x4321);
}

TEST_F(Engine, ReportsTheDispatchStrategyOfThisBuild) {
  // Documents which path this build exercises (the trampoline exists for
  // GCC without optimisation).
#if defined(__clang__)
  EXPECT_FALSE(Interpreter::uses_trampoline());
#elif defined(__OPTIMIZE__)
  EXPECT_FALSE(Interpreter::uses_trampoline());
#else
  EXPECT_TRUE(Interpreter::uses_trampoline());
#endif
}

}  // namespace
}  // namespace cr16::test
