// The JIT (cpu/jit/) against the interpreter: lock-step runs of random
// instruction streams comparing the whole CPU state after every slice and
// memory at the end, self-modifying code, code-cache exhaustion, and
// -d out_asm through Capstone. Built where the JIT is (CR16_HAVE_JIT).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cpu/cpu.h"
#include "cpu/engines.h"
#include "cpu/isa.h"
#include "cpu/isa_random.h"
#include "test_bus.h"
#include "util/log.h"

#if CR16_HAVE_JIT
#include "cpu/jit/jit_engine.h"
#endif

namespace cr16::test {
namespace {

constexpr uint32_t kCode = 0x1000;
/// Seeds of the random lock-step tests: all of them in the release build;
/// a quarter under the sanitizers, which run the emitter ~20x slower (the
/// release run compares every seed).
#if CR16_SANITIZED
constexpr uint64_t kSeedDivisor = 4;
#else
constexpr uint64_t kSeedDivisor = 1;
#endif
constexpr uint32_t kIntbase = 0x200;
constexpr uint32_t kHandlers = 0x4000;
constexpr uint32_t kIsp = 0x9000;
constexpr uint32_t kSp = 0x8000;
constexpr uint16_t kAddw1R1 = 0x3211;       // addw $1, r1
constexpr uint16_t kBranchToSelf = 0x18E0;  // br . (with a 0x0000 second word)

/// One CPU on its own bus with the engine of `kind`, vectors in place. The
/// JIT translates each block before its first run unless `translate_after`
/// says otherwise (the lock-step tests compare translations, not the
/// interpreter with itself).
struct Machine {
  explicit Machine(EngineKind kind, size_t code_cache_bytes = 0, unsigned translate_after = 0)
      : cpu(bus, CpuModel::kCr16cPlus) {
    Expected<std::unique_ptr<ExecutionEngine>> engine = make_engine(kind, cpu);
#if CR16_HAVE_JIT
    if (kind == EngineKind::kJit) {
      engine = std::unique_ptr<ExecutionEngine>(std::make_unique<jit::JitEngine>(
          cpu, code_cache_bytes != 0 ? code_cache_bytes : jit::JitEngine::kDefaultCodeCacheBytes,
          translate_after));
    }
#else
    (void)code_cache_bytes;
    (void)translate_after;
#endif
    if (engine.ok()) cpu.set_engine(std::move(*engine));
    for (uint32_t v = 0; v < 64; ++v) {
      bus.poke32(kIntbase + 4 * v, (kHandlers + 0x10 * v) >> 1);
      bus.poke16(kHandlers + 0x10 * v, kBranchToSelf);
      bus.poke16(kHandlers + 0x10 * v + 2, 0);
    }
    cpu.reset(kCode);
    cpu.state().intbase = kIntbase;
    cpu.state().isp = kIsp;
    cpu.state().r[kRegSp] = kSp;
    cpu.set_cfg(cfg::kEd);
  }
  TestBus bus;
  Cpu cpu;
};

std::string describe(const CpuState& s) {
  std::ostringstream text;
  text << std::hex << "pc=" << s.pc << " psr=" << s.psr << " icount=" << std::dec << s.icount
       << std::hex;
  for (unsigned i = 0; i < 16; ++i) text << " r" << std::dec << i << "=" << std::hex << s.r[i];
  return text.str();
}

bool jit_available() {
  return engine_available(EngineKind::kJit);
}

TEST(Jit, EngineRegistryNamesBothEngines) {
  EXPECT_STREQ(engine_kind_name(EngineKind::kInterpreter), "interp");
  EXPECT_STREQ(engine_kind_name(EngineKind::kJit), "jit");
  EXPECT_EQ(default_engine_kind(),  // the JIT where this build has one (x86-64)
            jit_available() ? EngineKind::kJit : EngineKind::kInterpreter);
  EXPECT_TRUE(parse_engine_kind("interp").ok());
  EXPECT_FALSE(parse_engine_kind("kvm").ok());
  EXPECT_NE(engine_help_text().find("interp"), std::string::npos);
  EXPECT_NE(engine_help_text().find("(default)"), std::string::npos);
  if (jit_available()) {
    EXPECT_TRUE(parse_engine_kind("jit").ok());
  }
}

TEST(Jit, RunsABlockAndCountsIt) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  Machine m(EngineKind::kJit);
  m.bus.load_words(kCode, {kAddw1R1, kAddw1R1, kAddw1R1, kBranchToSelf, 0});
  EXPECT_EQ(m.cpu.run(4), StopReason::kBudget);
  EXPECT_EQ(m.cpu.state().r[1], 3u);
  EXPECT_EQ(m.cpu.state().pc, kCode + 6);
  EXPECT_EQ(m.cpu.instruction_count(), 4u);
  const EngineStatistics statistics = m.cpu.engine().statistics();
  EXPECT_STREQ(m.cpu.engine().name(), "jit");
  EXPECT_EQ(statistics.translations, 1u);  // one block: three addw and the branch
  EXPECT_GT(statistics.code_cache_used, 0u);
  EXPECT_GT(statistics.code_cache_bytes, statistics.code_cache_used);
}

TEST(Jit, DebuggerWriteIntoATranslatedBlockTakesEffect) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  Machine m(EngineKind::kJit);
  m.bus.load_words(kCode, {kAddw1R1, kBranchToSelf, 0});
  m.cpu.run(2);
  EXPECT_EQ(m.cpu.state().r[1], 1u);
  ASSERT_TRUE(m.cpu.debug_write(kCode, AccessSize::kWord, 0x3221).ok());  // addw $2, r1
  m.cpu.state().pc = kCode;
  m.cpu.run(2);
  EXPECT_EQ(m.cpu.state().r[1], 3u);
  EXPECT_GE(m.cpu.engine().statistics().invalidations, 1u);
}

TEST(Jit, CodeCacheExhaustionFlushesAndRefills) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  Machine jit(EngineKind::kJit, 64 * 1024);
  Machine interp(EngineKind::kInterpreter);
  constexpr uint32_t kCount = 20000;  // ~320 blocks of 64: several flushes of 64 KiB
  std::vector<uint16_t> words(kCount, kAddw1R1);
  words.push_back(kBranchToSelf);
  words.push_back(0);
  for (Machine* m : {&jit, &interp}) {
    m->bus.load_words(kCode, words);
    m->cpu.state().pc = kCode;
  }
  for (int round = 0; round < 2; ++round) {  // twice: the second run refills
    for (Machine* m : {&jit, &interp}) {
      m->cpu.state().pc = kCode;
      EXPECT_EQ(m->cpu.run(kCount + 5), StopReason::kBudget);
    }
    EXPECT_EQ(jit.cpu.state().r[1], interp.cpu.state().r[1]);
    EXPECT_EQ(std::memcmp(&jit.cpu.state(), &interp.cpu.state(), sizeof(CpuState)), 0)
        << describe(jit.cpu.state()) << "\n"
        << describe(interp.cpu.state());
  }
  EXPECT_EQ(jit.cpu.state().r[1], 2 * kCount);
  const EngineStatistics statistics = jit.cpu.engine().statistics();
  EXPECT_GE(statistics.flushes, 4u);
  EXPECT_LE(statistics.code_cache_used, statistics.code_cache_bytes);
}

TEST(Jit, GuestStoreOverTheRunningBlockTakesEffectOnTheNextInstruction) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  for (EngineKind kind : {EngineKind::kJit, EngineKind::kInterpreter}) {
    Machine m(kind);
    // storw r2, 0x0:l(r3) ; addw $1, r1 ; br .   with r3 -> the addw, r2 = addw $2, r1
    m.bus.load_words(kCode, {0x0019, 0xC023, 0x0000, kAddw1R1, kBranchToSelf, 0});
    m.cpu.state().r[2] = 0x3221;
    m.cpu.state().r[3] = kCode + 6;
    m.cpu.run(3);
    EXPECT_EQ(m.cpu.state().r[1], 2u) << engine_kind_name(kind);
    EXPECT_EQ(m.cpu.state().pc, kCode + 8) << engine_kind_name(kind);
    m.cpu.state().pc = kCode + 6;  // and the retranslated block runs the new code
    m.cpu.run(1);
    EXPECT_EQ(m.cpu.state().r[1], 4u) << engine_kind_name(kind);
    EXPECT_EQ(m.cpu.instruction_count(), 4u) << engine_kind_name(kind);
  }
}

TEST(Jit, JumpIntoTheMiddleOfATranslatedBlock) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  Machine m(EngineKind::kJit);
  m.bus.load_words(kCode, {kAddw1R1, kAddw1R1, kAddw1R1, kBranchToSelf, 0});
  m.cpu.run(4);
  EXPECT_EQ(m.cpu.state().r[1], 3u);
  m.cpu.state().pc = kCode + 4;  // the third addw: a block of its own
  m.cpu.run(2);
  EXPECT_EQ(m.cpu.state().r[1], 4u);
  EXPECT_EQ(m.cpu.state().pc, kCode + 6);
  EXPECT_EQ(m.cpu.engine().statistics().translations, 2u);
}

TEST(Jit, BreakpointPlacedInAnAlreadyTranslatedBlockStops) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  Machine m(EngineKind::kJit);
  m.bus.load_words(kCode, {kAddw1R1, kAddw1R1, kAddw1R1, kAddw1R1, kBranchToSelf, 0});
  m.cpu.run(5);
  EXPECT_EQ(m.cpu.state().r[1], 4u);
  ASSERT_TRUE(m.cpu.set_breakpoint(kCode + 4).ok());
  m.cpu.state().pc = kCode;
  EXPECT_EQ(m.cpu.run(100), StopReason::kBreakpoint);
  EXPECT_EQ(m.cpu.state().pc, kCode + 4);
  EXPECT_EQ(m.cpu.state().r[1], 6u);               // two more, then the stop before the third
  EXPECT_EQ(m.cpu.run(100), StopReason::kBudget);  // steps over it and goes on
  EXPECT_EQ(m.cpu.state().r[1], 8u);
}

TEST(Jit, InterruptArrivingInALongBlockIsTakenAtTheSameBoundary) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  Machine jit(EngineKind::kJit);
  Machine interp(EngineKind::kInterpreter);
  std::vector<uint16_t> words(60, kAddw1R1);
  words.push_back(kBranchToSelf);
  words.push_back(0);
  for (Machine* m : {&jit, &interp}) {
    m->bus.load_words(kCode, words);
    m->cpu.state().psr |= psr::kE | psr::kI;
    m->cpu.run(10);
    m->cpu.set_irq_line(true);  // arrives while the 61-instruction block is under way
    m->cpu.run(30);
  }
  EXPECT_EQ(std::memcmp(&jit.cpu.state(), &interp.cpu.state(), sizeof(CpuState)), 0)
      << describe(jit.cpu.state()) << "\n"
      << describe(interp.cpu.state());
  EXPECT_EQ(jit.bus.acknowledges, interp.bus.acknowledges);
  EXPECT_EQ(jit.bus.acknowledges, 1);
}

TEST(Jit, BlockTooBigForTheCodeCacheRunsInTheInterpreter) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  Machine jit(EngineKind::kJit, 1024);  // a 64-instruction block needs ~3 KiB
  std::vector<uint16_t> words(200, kAddw1R1);
  words.push_back(kBranchToSelf);
  words.push_back(0);
  jit.bus.load_words(kCode, words);
  jit.cpu.state().pc = kCode;
  EXPECT_EQ(jit.cpu.run(210), StopReason::kBudget);
  EXPECT_EQ(jit.cpu.state().r[1], 200u);
  EXPECT_EQ(jit.cpu.state().pc, kCode + 400);
  EXPECT_EQ(jit.cpu.instruction_count(), 210u);
  EXPECT_GE(jit.cpu.engine().statistics().flushes, 1u);  // the failed emissions dropped the cache
}

/// Runs `steps` slices of `budget` on both machines, comparing the state.
void run_both(Machine& jit, Machine& interp, int steps, uint64_t budget, const char* what) {
  for (int i = 0; i < steps; ++i) {
    for (Machine* m : {&jit, &interp}) m->cpu.run(budget);
    ASSERT_EQ(std::memcmp(&jit.cpu.state(), &interp.cpu.state(), sizeof(CpuState)), 0)
        << what << " step " << i << "\njit:    " << describe(jit.cpu.state())
        << "\ninterp: " << describe(interp.cpu.state());
  }
  // Nothing was left to the interpreter because host code could not be
  // emitted (that drops the code cache: a flush).
  ASSERT_EQ(jit.cpu.engine().statistics().flushes, 0u) << what;
}

TEST(JitChaining, CallsReturnsAndLoopsAcrossInvalidation) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  // main: addw $1, r1 ; bal (ra), sub ; br main      (at kCode)
  // sub:  addw $1, r2 ; jump (ra)                    (at kCode + 0x100)
  // Blocks enter each other directly (bal, br: the dispatch table; jump
  // (ra): the same table as indirect-branch cache); the subroutine is then
  // rewritten by the debugger and by a guest store from main, and the
  // budgets cut the chains at every instruction.
  Machine jit(EngineKind::kJit);
  Machine interp(EngineKind::kInterpreter);
  for (Machine* m : {&jit, &interp}) {
    m->bus.load_words(kCode, {kAddw1R1, 0xC000, 0x00FE, 0x18E0, 0xFFFB});
    m->bus.load_words(kCode + 0x100, {0x3212, 0x0AEE});
    m->cpu.state().pc = kCode;
  }
  run_both(jit, interp, 50, 1000, "chained");
  if (HasFatalFailure()) return;
  EXPECT_EQ(jit.cpu.state().r[1], 50u * 1000 / 5);
  for (uint64_t budget = 1; budget < 12; ++budget) {
    run_both(jit, interp, 20, budget, "short budgets");
    if (HasFatalFailure()) return;
  }
  for (Machine* m : {&jit, &interp}) {  // addw $2, r2
    ASSERT_TRUE(m->cpu.debug_write(kCode + 0x100, AccessSize::kWord, 0x3222).ok());
  }
  run_both(jit, interp, 20, 997, "after the debugger's write");
  if (HasFatalFailure()) return;
  // main: storw r4, 0(r3) (r3 -> sub's addw, r4 = addw $3, r2) before the
  // call, on a running chain.
  for (Machine* m : {&jit, &interp}) {
    m->cpu.state().r[3] = kCode + 0x100;
    m->cpu.state().r[4] = 0x3232;
    m->cpu.state().pc = kCode;
    ASSERT_TRUE(m->cpu.debug_write(kCode, AccessSize::kWord, 0x0019).ok());  // storw r4, 0x0:l(r3)
    ASSERT_TRUE(m->cpu.debug_write(kCode + 2, AccessSize::kWord, 0xC043).ok());
    ASSERT_TRUE(m->cpu.debug_write(kCode + 4, AccessSize::kWord, 0x0000).ok());
    ASSERT_TRUE(m->cpu.debug_write(kCode + 6, AccessSize::kWord, 0xC000).ok());  // bal (ra), sub
    ASSERT_TRUE(m->cpu.debug_write(kCode + 8, AccessSize::kWord, 0x00FA).ok());
    ASSERT_TRUE(m->cpu.debug_write(kCode + 10, AccessSize::kWord, 0x18E0).ok());  // br main
    ASSERT_TRUE(m->cpu.debug_write(kCode + 12, AccessSize::kWord, 0xFFF7).ok());
  }
  run_both(jit, interp, 10, 501, "after the guest's store");
  if (HasFatalFailure()) return;
  EXPECT_EQ(jit.bus.peek16(kCode + 0x100), 0x3232u);
  EXPECT_GE(jit.cpu.engine().statistics().invalidations, 2u);
}

TEST(JitChaining, DirectJumpsIntoAnotherPageFollowItsRewrite) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  // main: addw $1, r1 ; bal (ra), sub ; br main      (at kCode)
  // sub:  addw $1, r2 ; jump (ra)                    (the next 4 KiB page)
  // main's bal is a direct jump patched to sub's translation. Rewriting sub
  // drops only the translations of sub's page: main's jump must be
  // unlinked too, or it would keep entering sub's old code.
  Machine jit(EngineKind::kJit);
  Machine interp(EngineKind::kInterpreter);
  const uint32_t sub = kCode + 0x1000;
  for (Machine* m : {&jit, &interp}) {
    m->bus.load_words(kCode, {kAddw1R1, 0xC000, 0x0FFE, 0x18E0, 0xFFFB});
    m->bus.load_words(sub, {0x3212, 0x0AEE});
    m->cpu.state().r[1] = 0;
    m->cpu.state().r[2] = 0;
    m->cpu.state().pc = kCode;
  }
  run_both(jit, interp, 20, 1000, "linked");
  if (HasFatalFailure()) return;
  const uint32_t calls = jit.cpu.state().r[1];
  const uint32_t counted = jit.cpu.state().r[2];
  EXPECT_EQ(counted, calls);
  for (Machine* m : {&jit, &interp}) {  // addw $2, r2
    ASSERT_TRUE(m->cpu.debug_write(sub, AccessSize::kWord, 0x3222).ok());
  }
  run_both(jit, interp, 20, 1000, "after the debugger's write");
  if (HasFatalFailure()) return;
  EXPECT_EQ(jit.cpu.state().r[2] - counted, 2 * (jit.cpu.state().r[1] - calls));
  for (uint64_t budget = 1; budget < 12; ++budget) {
    run_both(jit, interp, 10, budget, "short budgets");
    if (HasFatalFailure()) return;
  }
}

/// A block that branches back to its own start (a loop: translated with its
/// registers kept in host registers around the back edge):
///   loop: addw $1,r1 ; addd $2,(r3,r2) ; storw r1,0(r5,r4) ; loadw 0(r5,r4),r6
///         xorw r6,r8 ; cmpw r7,r1 ; bne loop ; br .
constexpr uint16_t kSelfLoop[] = {0x3211, 0x6022, 0xD014, 0x9064, 0x2B68, 0x5371, 0x1F1A, 0x10E0};

void start_self_loop(Machine& m, uint32_t data_address, uint16_t iterations) {
  m.bus.load_words(kCode, std::vector<uint16_t>(std::begin(kSelfLoop), std::end(kSelfLoop)));
  m.bus.poke16(kHandlers + 0x10 * 12, 0x0003);  // IAD: retx (goes on after the access)
  CpuState& s = m.cpu.state();
  s.r[1] = 0;
  s.r[2] = 0xFFF0;
  s.r[3] = 0x7FFF;
  s.r[4] = data_address & 0xFFFF;
  s.r[5] = data_address >> 16;
  s.r[7] = iterations;
  s.r[8] = 0x1234;
  s.pc = kCode;
}

/// Both machines through a loop: budgets of 1..13 (cutting it at every
/// instruction), then long ones; the state compared after every slice.
void run_loop_both(Machine& jit, Machine& interp) {
  for (uint64_t budget = 1; budget < 14; ++budget) {
    run_both(jit, interp, 12, budget, "short budgets");
    if (::testing::Test::HasFatalFailure()) return;
  }
  run_both(jit, interp, 10, 997, "long budgets");
}

TEST(JitFlags, ATrapInALoadSeesFlagsALaterInstructionOverwrites) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  // addw $1,r1 (C/F) or cmpw r7,r1 (Z/N/L); loadw 0(r5,r4),r6 in the
  // bus-error hole (IAD: the trap saves the PSR, the handler returns with
  // retx); addw $1,r2 or cmpw r8,r9 (the same flags again); br .
  // The first instruction's flags are read only if the load's slow path
  // traps (the trap saves the PSR): a JIT that skipped them as overwritten
  // before the end of the block would save a stale PSR.
  const std::vector<std::vector<uint16_t>> programs = {
      {0x3211, 0x9064, 0x3212, 0x10E0},
      {0x5371, 0x9064, 0x5398, 0x10E0},
  };
  for (const std::vector<uint16_t>& program : programs) {
    Machine jit(EngineKind::kJit);
    Machine interp(EngineKind::kInterpreter);
    for (Machine* m : {&jit, &interp}) {
      m->bus.load_words(kCode, program);
      m->bus.poke16(kHandlers + 0x10 * 12, 0x0003);  // IAD: retx
      CpuState& s = m->cpu.state();
      s.r[1] = 0xFFFF;  // addw: carry; cmpw r7,r1: r7 < r1 (L, N clear)
      s.r[2] = 0x1234;  // addw: no carry
      s.r[4] = 0x8000;  // 0xFF8000: no device
      s.r[5] = 0x00FF;
      s.r[7] = 0x0001;
      s.r[8] = 0x0005;  // cmpw r8,r9: equal (Z), nothing else
      s.r[9] = 0x0005;
      s.pc = kCode;
    }
    run_both(jit, interp, 2, 100, "trap between two flag writers");
    if (HasFatalFailure()) return;
    EXPECT_TRUE(jit.bus.memory() == interp.bus.memory());  // the saved PSR
  }
}

TEST(JitLoops, ASelfLoopMatchesTheInterpreterWhereverItsDataLies) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  // Data in RAM (the fast path), in the MMIO window (a slow path on every
  // iteration: a handler ran, so the back edge asks the core as a chained
  // exit would), in the bus-error hole (a trap inside the loop) and in the
  // loop's own code (every store rewrites it); cut by budgets of 1..13.
  for (const uint32_t data : {0x6000u, 0xFF0100u, 0xFF8000u, kCode + 0xA}) {
    Machine jit(EngineKind::kJit);
    Machine interp(EngineKind::kInterpreter);
    for (Machine* m : {&jit, &interp}) start_self_loop(*m, data, 400);
    run_loop_both(jit, interp);
    if (HasFatalFailure()) return;
    EXPECT_TRUE(jit.bus.memory() == interp.bus.memory()) << std::hex << data;
    if (data == 0x6000u) {  // ran to its end
      EXPECT_EQ(jit.cpu.state().r[1], 400u);
      EXPECT_EQ(jit.cpu.state().pc, kCode + 0xE);
    }
  }
}

TEST(JitLoops, ALoopWithAConditionalExitInsideMatchesTheInterpreter) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  // loop: addw $1,r1 ; cmpw r7,r1 ; beq done ; loadw 0(r5,r4),r6 ; addw r6,r8
  //       storw r8,0(r5,r4) ; cmpw $0x40,r1 ; bhi loop ; addw $3,r9 ; br loop
  // done: br .
  // One translation runs from loop to bhi (beq is its side exit, taken on
  // the last iteration); while r1 <= 0x40 the loop goes round through the
  // second block.
  const std::vector<uint16_t> words = {0x3211, 0x5371, 0x1009, 0x9064, 0x3368, 0xD084,
                                       0x52B1, 0x0040, 0x1F48, 0x3239, 0x1FE6, 0x10E0};
  for (const uint32_t data : {0x6000u, 0xFF0100u, kCode + 0x12}) {
    Machine jit(EngineKind::kJit);
    Machine interp(EngineKind::kInterpreter);
    for (Machine* m : {&jit, &interp}) {
      start_self_loop(*m, data, 300);
      m->bus.load_words(kCode, words);
      m->cpu.state().r[9] = 0;
    }
    run_loop_both(jit, interp);
    if (HasFatalFailure()) return;
    EXPECT_TRUE(jit.bus.memory() == interp.bus.memory()) << std::hex << data;
    if (data == 0x6000u) {  // ran to its end
      EXPECT_EQ(jit.cpu.state().r[1], 300u);
      EXPECT_EQ(jit.cpu.state().pc, kCode + 0x16);
      EXPECT_GT(jit.cpu.state().r[9], 0u);  // the second block ran too
      EXPECT_EQ(jit.cpu.state().r[9] % 3, 0u);
    }
  }
}

TEST(JitLoops, InterruptsAndBreakpointsReachARunningLoop) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  Machine jit(EngineKind::kJit);
  Machine interp(EngineKind::kInterpreter);
  for (Machine* m : {&jit, &interp}) {
    start_self_loop(*m, 0x6000, 60000);
    m->cpu.state().psr |= psr::kE | psr::kI;
  }
  run_both(jit, interp, 5, 1000, "before the interrupt");
  if (HasFatalFailure()) return;
  for (Machine* m : {&jit, &interp}) m->cpu.set_irq_line(true);
  run_both(jit, interp, 3, 101, "interrupt");
  if (HasFatalFailure()) return;
  EXPECT_EQ(jit.bus.acknowledges, 1);
  EXPECT_EQ(jit.cpu.state().pc, kHandlers + 0x10 * 16);  // in the handler (br .)
  // Back into the loop, now translated; a breakpoint at its head stops it
  // on the next iteration.
  Machine m(EngineKind::kJit);
  start_self_loop(m, 0x6000, 60000);
  m.cpu.run(3000);
  const uint32_t before = m.cpu.state().r[1];
  ASSERT_TRUE(m.cpu.set_breakpoint(kCode).ok());
  EXPECT_EQ(m.cpu.run(1000), StopReason::kBreakpoint);
  EXPECT_EQ(m.cpu.state().pc, kCode);
  EXPECT_LE(m.cpu.state().r[1], before + 1);
}

TEST(JitTranslateAfter, BlocksRunInTheInterpreterUntilHotThenTranslatedAcrossInvalidation) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  // The same loop as CallsReturnsAndLoopsAcrossInvalidation, with blocks
  // translated only after 3 runs: budgets of 1..11 cut it while blocks are
  // cold, warming and translated; the debugger and a guest store rewrite
  // the subroutine (its counters restart), all in lock-step with the
  // interpreter.
  Machine jit(EngineKind::kJit, 0, 3);
  Machine interp(EngineKind::kInterpreter);
  for (Machine* m : {&jit, &interp}) {
    m->bus.load_words(kCode, {kAddw1R1, 0xC000, 0x00FE, 0x18E0, 0xFFFB});
    m->bus.load_words(kCode + 0x100, {0x3212, 0x0AEE});
    m->cpu.state().pc = kCode;
  }
  // Two runs of each block: nothing translated yet.
  run_both(jit, interp, 1, 9, "cold");
  if (HasFatalFailure()) return;
  EXPECT_EQ(jit.cpu.engine().statistics().code_cache_used, 0u);
  EXPECT_GT(jit.cpu.engine().statistics().cached_blocks, 0u);  // the interpreter's
  for (uint64_t budget = 1; budget < 12; ++budget) {
    run_both(jit, interp, 3, budget, "warming");
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(jit.cpu.engine().statistics().code_cache_used, 0u);
  run_both(jit, interp, 20, 1000, "translated");
  if (HasFatalFailure()) return;
  const uint64_t invalidated = jit.cpu.engine().statistics().invalidations;
  for (Machine* m : {&jit, &interp}) {  // addw $2, r2
    ASSERT_TRUE(m->cpu.debug_write(kCode + 0x100, AccessSize::kWord, 0x3222).ok());
  }
  run_both(jit, interp, 1, 5, "rewritten, cold again");
  if (HasFatalFailure()) return;
  EXPECT_GT(jit.cpu.engine().statistics().invalidations, invalidated);
  for (uint64_t budget = 1; budget < 12; ++budget) {
    run_both(jit, interp, 3, budget, "rewritten, warming");
    if (HasFatalFailure()) return;
  }
  // main: storw r4, 0(r3) (r3 -> sub's addw, r4 = addw $3, r2) before the
  // call: a guest store invalidates while blocks are warm and translated.
  for (Machine* m : {&jit, &interp}) {
    m->cpu.state().r[3] = kCode + 0x100;
    m->cpu.state().r[4] = 0x3232;
    m->cpu.state().pc = kCode;
    ASSERT_TRUE(m->cpu.debug_write(kCode, AccessSize::kWord, 0x0019).ok());  // storw r4, 0x0:l(r3)
    ASSERT_TRUE(m->cpu.debug_write(kCode + 2, AccessSize::kWord, 0xC043).ok());
    ASSERT_TRUE(m->cpu.debug_write(kCode + 4, AccessSize::kWord, 0x0000).ok());
    ASSERT_TRUE(m->cpu.debug_write(kCode + 6, AccessSize::kWord, 0xC000).ok());  // bal (ra), sub
    ASSERT_TRUE(m->cpu.debug_write(kCode + 8, AccessSize::kWord, 0x00FA).ok());
    ASSERT_TRUE(m->cpu.debug_write(kCode + 10, AccessSize::kWord, 0x18E0).ok());  // br main
    ASSERT_TRUE(m->cpu.debug_write(kCode + 12, AccessSize::kWord, 0xFFF7).ok());
  }
  for (uint64_t budget = 1; budget < 12; ++budget) {
    run_both(jit, interp, 4, budget, "guest store");
    if (HasFatalFailure()) return;
  }
  run_both(jit, interp, 10, 501, "guest store, long slices");
  if (HasFatalFailure()) return;
  EXPECT_EQ(jit.bus.peek16(kCode + 0x100), 0x3232u);
}

TEST(JitTranslateAfter, InterruptsAndBreakpointsWhileBlocksAreCold) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  Machine jit(EngineKind::kJit, 0, 2);
  Machine interp(EngineKind::kInterpreter);
  std::vector<uint16_t> words(30, kAddw1R1);
  words.push_back(kBranchToSelf);
  words.push_back(0);
  for (Machine* m : {&jit, &interp}) {
    m->bus.load_words(kCode, words);
    m->cpu.state().pc = kCode;
    m->cpu.state().psr |= psr::kE | psr::kI;
  }
  run_both(jit, interp, 1, 10, "cold");
  if (HasFatalFailure()) return;
  for (Machine* m : {&jit, &interp}) m->cpu.set_irq_line(true);
  run_both(jit, interp, 1, 30, "interrupt");
  if (HasFatalFailure()) return;
  EXPECT_EQ(jit.bus.acknowledges, interp.bus.acknowledges);
  for (Machine* m : {&jit, &interp}) {
    m->cpu.set_irq_line(false);
    m->cpu.state().pc = kCode;
    ASSERT_TRUE(m->cpu.set_breakpoint(kCode + 20).ok());
  }
  for (int i = 0; i < 6; ++i) {
    for (Machine* m : {&jit, &interp}) m->cpu.run(100);
    ASSERT_EQ(std::memcmp(&jit.cpu.state(), &interp.cpu.state(), sizeof(CpuState)), 0)
        << "breakpoint " << i << "\njit:    " << describe(jit.cpu.state())
        << "\ninterp: " << describe(interp.cpu.state());
  }
}

TEST(JitMultiply, SignedAndUnsignedProductsMatchTheInterpreter) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  // mulsw r1, (r3,r2); muluw r1, (r5,r4); mulw r1, r6; mulb r1, r7 over
  // operands with the sign bits set, against the interpreter.
  static constexpr uint32_t kValues[] = {0, 1, 3, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0x8001, 0xFFFF};
  for (uint32_t a : kValues) {
    for (uint32_t b : kValues) {
      Machine jit(EngineKind::kJit);
      Machine interp(EngineKind::kInterpreter);
      for (Machine* m : {&jit, &interp}) {
        m->bus.load_words(kCode, {0x6212, 0x6314, 0x6716, 0x6517, kBranchToSelf, 0});
        m->cpu.state().pc = kCode;
        m->cpu.state().r[1] = a;
        for (unsigned r : {2u, 4u, 6u, 7u}) m->cpu.state().r[r] = b;
        m->cpu.run(5);
      }
      ASSERT_EQ(std::memcmp(&jit.cpu.state(), &interp.cpu.state(), sizeof(CpuState)), 0)
          << std::hex << a << " " << b << "\njit:    " << describe(jit.cpu.state())
          << "\ninterp: " << describe(interp.cpu.state());
    }
  }
}

/// Random program: registers partly pointing into the code and stack areas
/// (so random stores hit translated code), random instructions of every
/// table entry, run in random slices under both engines with interrupts
/// raised now and then; full state compared after every slice.
void lock_step(uint64_t seed) {
  std::mt19937_64 rng(seed);
  Machine jit(EngineKind::kJit);
  Machine interp(EngineKind::kInterpreter);
  std::vector<uint16_t> words;
  for (int i = 0; i < 400; ++i) {
    const isa::Encoding encoding = isa::random_instruction(rng);
    for (unsigned w = 0; w < encoding.size_words; ++w) words.push_back(encoding.words[w]);
  }
  uint32_t registers[16];
  for (unsigned i = 0; i < 16; ++i) {
    const uint32_t kind = rng() % 3;
    registers[i] = kind == 0   ? static_cast<uint32_t>(rng() & 0xFFFF)
                   : kind == 1 ? kCode + static_cast<uint32_t>(rng() % (2 * words.size()))
                               : kSp - static_cast<uint32_t>(rng() % 256);
  }
  for (Machine* m : {&jit, &interp}) {
    m->bus.load_words(kCode, words);
    for (unsigned i = 0; i < 16; ++i) m->cpu.state().r[i] = registers[i] & 0xFFFF;
    m->cpu.state().r[12] = registers[12];
    m->cpu.state().r[13] = registers[13];
    m->cpu.state().r[kRegSp] = kSp;
    m->cpu.state().pc = kCode;
  }
  for (int slice = 0; slice < 200; ++slice) {
    const uint64_t budget = 1 + rng() % 40;
    const bool irq = rng() % 8 == 0;
    StopReason reasons[2];
    int index = 0;
    for (Machine* m : {&jit, &interp}) {
      m->cpu.set_irq_line(irq);
      reasons[index++] = m->cpu.run(budget);
    }
    ASSERT_EQ(reasons[0], reasons[1]) << "seed " << seed << " slice " << slice;
    ASSERT_EQ(std::memcmp(&jit.cpu.state(), &interp.cpu.state(), sizeof(CpuState)), 0)
        << "seed " << seed << " slice " << slice << "\njit:    " << describe(jit.cpu.state())
        << "\ninterp: " << describe(interp.cpu.state());
    if (jit.cpu.panicked()) break;
  }
  ASSERT_TRUE(jit.bus.memory() == interp.bus.memory()) << "seed " << seed;
  // No block was left to the interpreter for want of host code (an
  // emission error drops the code cache: a flush).
  ASSERT_EQ(jit.cpu.engine().statistics().flushes, 0u) << "seed " << seed;
}

TEST(JitLockStep, RandomStreamsMatchTheInterpreter) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  for (uint64_t seed = 1; seed <= 150 / kSeedDivisor; ++seed) {
    lock_step(seed);
    if (HasFatalFailure()) return;
  }
}

/// The reachable table entries whose mnemonic is in `mnemonics`.
std::vector<uint16_t> entries_of(std::initializer_list<isa::Mnemonic> mnemonics) {
  std::vector<uint16_t> entries;
  const auto table = isa::table();
  for (uint16_t i = 0; i < table.size(); ++i) {
    for (const isa::Mnemonic m : mnemonics) {
      if (table[i].mnemonic == m && isa::entry_reachable(i)) entries.push_back(i);
    }
  }
  return entries;
}

/// Random encodings of `entries` (then `br .`) run under both engines from
/// the registers `pick` chooses and flags from r0; whole state and memory
/// compared after every slice of a few blocks.
template <typename Pick>
void entries_lock_step(const std::vector<uint16_t>& entries, uint64_t seed, Pick pick) {
  std::mt19937_64 rng(seed);
  std::vector<uint16_t> words;
  for (int i = 0; i < 300; ++i) {
    const auto encoding = isa::random_encoding(rng, entries[rng() % entries.size()]);
    for (unsigned w = 0; encoding && w < encoding->size_words; ++w) {
      words.push_back(encoding->words[w]);
    }
  }
  words.push_back(kBranchToSelf);
  words.push_back(0);
  Machine jit(EngineKind::kJit);
  Machine interp(EngineKind::kInterpreter);
  uint32_t registers[16];
  for (unsigned i = 0; i < 16; ++i) registers[i] = pick(rng, i);
  // Data for the loads, where random displacements and bases land: the
  // first MiB (around the code, vectors and handlers) and the MMIO window.
  std::vector<uint16_t> data(0x8000);
  for (uint16_t& word : data) word = static_cast<uint16_t>(rng());
  for (Machine* m : {&jit, &interp}) {
    m->bus.load_words(0x2000, std::vector<uint16_t>(data.begin(), data.begin() + 0x1000));
    for (uint32_t at = 0x10000; at < 0x100000; at += 0x10000) m->bus.load_words(at, data);
    for (uint32_t at = 0xFF0000; at < 0x1000000; at += 0x10000) m->bus.load_words(at, data);
    m->bus.load_words(kCode, words);
    // A faulting access (IAD, saved PC = the next instruction) goes on
    // after retx, so one bad address does not end the run.
    m->bus.poke16(kHandlers + 0x10 * 12, 0x0003);
    // Every third seed with CFG.SR (CR16B-style short pairs 12..14: the
    // native forms of r12..ra pairs fall back to the handlers).
    if (seed % 3 == 0) m->cpu.set_cfg(cfg::kEd | cfg::kSr);
    std::memcpy(m->cpu.state().r, registers, sizeof registers);
    m->cpu.state().psr |=
        static_cast<uint16_t>(registers[0] & (psr::kC | psr::kF | psr::kL | psr::kN | psr::kZ));
    m->cpu.state().pc = kCode;
  }
  for (int slice = 0; slice < 40; ++slice) {
    const uint64_t budget = 1 + rng() % 30;
    for (Machine* m : {&jit, &interp}) m->cpu.run(budget);
    ASSERT_EQ(std::memcmp(&jit.cpu.state(), &interp.cpu.state(), sizeof(CpuState)), 0)
        << "seed " << seed << " slice " << slice << "\njit:    " << describe(jit.cpu.state())
        << "\ninterp: " << describe(interp.cpu.state());
    if (jit.cpu.panicked()) break;
  }
  ASSERT_TRUE(jit.bus.memory() == interp.bus.memory()) << "seed " << seed;
  // No block was left to the interpreter for want of host code (an
  // emission error drops the code cache: a flush).
  ASSERT_EQ(jit.cpu.engine().statistics().flushes, 0u) << "seed " << seed;
  ASSERT_EQ(jit.bus.acknowledges, interp.bus.acknowledges) << "seed " << seed;
}

TEST(JitLockStep, NativeFormsMatchTheInterpreter) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  // Every encoding of the natively translated moves, logic, arithmetic,
  // compares, shifts, extensions, nop, branches, bal/jal/jump, Scond,
  // Jcond, with the
  // upper halves of r12, r13, ra and sp set, against the interpreter.
  using isa::Mnemonic;
  const std::vector<uint16_t> entries = entries_of({
      Mnemonic::kMovb,  Mnemonic::kMovw,  Mnemonic::kMovd,  Mnemonic::kAndb,  Mnemonic::kAndw,
      Mnemonic::kAndd,  Mnemonic::kOrb,   Mnemonic::kOrw,   Mnemonic::kOrd,   Mnemonic::kXorb,
      Mnemonic::kXorw,  Mnemonic::kXord,  Mnemonic::kNop,   Mnemonic::kAddub, Mnemonic::kAdduw,
      Mnemonic::kAddb,  Mnemonic::kAddw,  Mnemonic::kAddd,  Mnemonic::kAddcb, Mnemonic::kAddcw,
      Mnemonic::kSubb,  Mnemonic::kSubw,  Mnemonic::kSubd,  Mnemonic::kSubcb, Mnemonic::kSubcw,
      Mnemonic::kCmpb,  Mnemonic::kCmpw,  Mnemonic::kCmpd,  Mnemonic::kAshub, Mnemonic::kAshuw,
      Mnemonic::kAshud, Mnemonic::kLshb,  Mnemonic::kLshw,  Mnemonic::kLshd,  Mnemonic::kMovxb,
      Mnemonic::kMovzb, Mnemonic::kMovxw, Mnemonic::kMovzw, Mnemonic::kB,     Mnemonic::kBeq0b,
      Mnemonic::kBne0b, Mnemonic::kBeq0w, Mnemonic::kBne0w, Mnemonic::kBal,   Mnemonic::kJal,
      Mnemonic::kJump,  Mnemonic::kSeq,   Mnemonic::kSne,   Mnemonic::kScs,   Mnemonic::kScc,
      Mnemonic::kShi,   Mnemonic::kSls,   Mnemonic::kSgt,   Mnemonic::kSle,   Mnemonic::kSfs,
      Mnemonic::kSfc,   Mnemonic::kSlo,   Mnemonic::kShs,   Mnemonic::kSlt,   Mnemonic::kSge,
      Mnemonic::kJeq,   Mnemonic::kJne,   Mnemonic::kJcs,   Mnemonic::kJcc,   Mnemonic::kJhi,
      Mnemonic::kJls,   Mnemonic::kJgt,   Mnemonic::kJle,   Mnemonic::kJfs,   Mnemonic::kJfc,
      Mnemonic::kJlo,   Mnemonic::kJhs,   Mnemonic::kJlt,   Mnemonic::kJge,   Mnemonic::kMulb,
      Mnemonic::kMulw,  Mnemonic::kMuluw, Mnemonic::kMulsw,
  });
  ASSERT_GE(entries.size(), 40u);
  for (uint64_t seed = 1; seed <= 80 / kSeedDivisor; ++seed) {
    // Register values biased to the flag edge cases (0, 1, the sign bits,
    // all ones) so carries, borrows and overflows happen often.
    static constexpr uint32_t kEdges[] = {0,      1,      0x7F,   0x80,   0xFF,  0x7FFF,
                                          0x8000, 0xFFFF, 0xFFFE, 0x8001, 0x100, 0xFF00};
    entries_lock_step(entries, seed, [](std::mt19937_64& rng, unsigned i) -> uint32_t {
      if (i >= 12) return static_cast<uint32_t>(rng() & 0xFFFFFE);
      if (rng() % 2) return kEdges[rng() % std::size(kEdges)];
      return static_cast<uint32_t>(rng() & 0xFFFF);
    });
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(JitLockStep, LoadsAndStoresMatchTheInterpreter) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  // Loads and stores in every addressing mode and push/pop/popret, with
  // bases and the stack pointer in RAM, at page
  // ends (accesses straddling two pages), in the code being run (stores
  // rewrite translated code), in the MMIO window (the interrupt-acknowledge
  // byte counts reads), in the bus-error hole and beyond 24 bits, mixed
  // with moves and adds that change the bases.
  using isa::Mnemonic;
  const std::vector<uint16_t> entries =
      entries_of({Mnemonic::kLoadb, Mnemonic::kLoadw, Mnemonic::kLoadd, Mnemonic::kStorb,
                  Mnemonic::kStorw, Mnemonic::kStord, Mnemonic::kAddw, Mnemonic::kMovw,
                  Mnemonic::kAddd, Mnemonic::kPush, Mnemonic::kPop, Mnemonic::kPopret});
  ASSERT_GE(entries.size(), 10u);
  for (uint64_t seed = 1; seed <= 100 / kSeedDivisor; ++seed) {
    entries_lock_step(entries, seed, [](std::mt19937_64& rng, unsigned i) -> uint32_t {
      uint32_t value;
      switch (rng() % 8) {
        case 0:
          value = kCode + static_cast<uint32_t>(rng() % 1200);  // the code itself
          break;
        case 1:
          value = 0x3000 - static_cast<uint32_t>(rng() % 8);  // a page end
          break;
        case 5:
          value = 0x2000 + static_cast<uint32_t>(rng() % 0x2000);  // data
          break;
        case 2:
          value = 0xFFFE00 - static_cast<uint32_t>(rng() % 4);  // MMIO, acknowledge byte
          break;
        case 3:
          value = 0xFF8000 + static_cast<uint32_t>(rng() % 0x1000);  // bus error
          break;
        case 4:
          value = 0x01000000 - static_cast<uint32_t>(rng() % 4);  // beyond 24 bits
          break;
        default:
          value = static_cast<uint32_t>(rng() & 0xFFFF);
          break;
      }
      // Plain registers hold 16 bits (the pair's other half selects the
      // upper part of the address).
      return i >= 12 ? value : (rng() % 2 ? value & 0xFFFF : value >> 16);
    });
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(Jit, OutAsmPrintsHostCodeThroughCapstone) {
  if (!jit_available()) GTEST_SKIP() << "no JIT in this build";
  const std::string path = ::testing::TempDir() + "jit_out_asm.log";
  ASSERT_TRUE(set_log_file(path).ok());
  set_log_mask(static_cast<uint32_t>(LogCategory::kOutAsm) |
               static_cast<uint32_t>(LogCategory::kInAsm));
  {
    Machine m(EngineKind::kJit);
    // mulw r1, r2 (a handler call) ; movw $0x1234, r2 (native) ;
    // loadw 0x2000, r3 (native, through the page table) ; br .
    m.bus.poke16(0x2000, 0xBEEF);
    m.bus.load_words(kCode, {0x6712, 0x5AB2, 0x1234, 0x8930, 0x2000, kBranchToSelf, 0});
    m.cpu.run(4);
    EXPECT_EQ(m.cpu.state().r[2], 0x1234u);
    EXPECT_EQ(m.cpu.state().r[3], 0xBEEFu);
  }
  set_log_mask(0);
  ASSERT_TRUE(set_log_file("").ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string log = text.str();
  EXPECT_NE(log.find("IN: block 0x001000"), std::string::npos) << log;
  EXPECT_NE(log.find("OUT: [guest 0x001000]"), std::string::npos) << log;
  for (const char* mnemonic : {"push", "movabs", "call", "cmp", "jne", "pop", "ret"}) {
    EXPECT_NE(log.find(std::string("  ") + mnemonic), std::string::npos) << mnemonic << "\n" << log;
  }
  EXPECT_NE(log.find("word ptr [r12"), std::string::npos) << log;   // the native movw
  EXPECT_NE(log.find("qword ptr [r13"), std::string::npos) << log;  // the page table base
  EXPECT_EQ(log.find("not decoded"), std::string::npos) << log;
}

}  // namespace
}  // namespace cr16::test
