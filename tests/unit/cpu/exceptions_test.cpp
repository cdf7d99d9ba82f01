// Every exception type: frame contents on the interrupt stack, saved PC,
// PSR bits cleared, dispatch through INTBASE (4- and 2-byte entries), return
// through retx; interrupt gating by E and I, nesting, NMI, trace, wait and
// user-mode faults; reset.
#include <random>

#include "cpu/decode.h"
#include "cpu/isa_random.h"
#include "cpu_fixture.h"

namespace cr16::test {
namespace {

using Exceptions = CpuFixture;

constexpr uint16_t kRetx = 0x0003;
constexpr uint16_t kNop = 0x2C00;

// Checks the 6-byte frame below kIsp.
void expect_frame(const TestBus& bus, uint32_t saved_pc, uint16_t saved_psr) {
  EXPECT_EQ(bus.peek32(CpuFixture::kIsp - 6), saved_pc >> 1);
  EXPECT_EQ(bus.peek16(CpuFixture::kIsp - 2), saved_psr);
}

struct TrapCase {
  uint16_t word;
  uint8_t vector;
};

TEST_F(Exceptions, ExcpTrapsSaveTheTrappingPcAndClearPTU) {
  const TrapCase cases[] = {{0x00C5, vector::kSvc}, {0x00C6, vector::kDvz}, {0x00C7, vector::kFlg},
                            {0x00C8, vector::kBpt}, {0x00CA, vector::kUnd}, {0x00C3, vector::kUnd},
                            {0x00C9, vector::kUnd}, {0x00CE, vector::kUnd}};
  for (const TrapCase& c : cases) {
    cpu.state().isp = kIsp;
    cpu.state().psr = psr::kE | psr::kI | psr::kC | psr::kT;
    cpu.state().psr &= static_cast<uint16_t>(~psr::kT);  // keep the fast path
    const uint16_t before = psr();
    exec({c.word});
    EXPECT_EQ(cpu.state().pc, handler(c.vector)) << std::hex << c.word;
    EXPECT_EQ(cpu.state().isp, kIsp - 6);
    expect_frame(bus, kCode, before);
    EXPECT_EQ(psr(), before & ~(psr::kP | psr::kT | psr::kU));
  }
}

TEST_F(Exceptions, RetxPopsPcThenPsr) {
  bus.poke32(kIsp - 6, 0x3000 >> 1);
  bus.poke16(kIsp - 2, psr::kE | psr::kZ | psr::kC);
  cpu.state().isp = kIsp - 6;
  exec({kRetx});
  EXPECT_EQ(cpu.state().pc, 0x3000u);
  EXPECT_EQ(psr(), psr::kE | psr::kZ | psr::kC);
  EXPECT_EQ(cpu.state().isp, kIsp);
}

TEST_F(Exceptions, SvcRoundTripThroughRetxReExecutesTrappingInstruction) {
  bus.poke16(handler(vector::kSvc), kRetx);
  exec({0x00C5}, 2);  // excp svc; retx
  EXPECT_EQ(cpu.state().pc, kCode);
  EXPECT_EQ(cpu.state().isp, kIsp);
}

TEST_F(Exceptions, SvcHookHandlesSemihostingCalls) {
  int calls = 0;
  cpu.set_svc_hook([&](Cpu& c) {
    ++calls;
    EXPECT_EQ(c.state().pc, kCode);
    c.state().r[0] = 42;
    return SvcResult::kHandled;
  });
  exec({0x00C5});
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r(0), 42u);
  EXPECT_EQ(cpu.state().pc, kCode + 2);
  EXPECT_EQ(cpu.state().isp, kIsp);
}

TEST_F(Exceptions, UndefinedEncodingRaisesUnd) {
  uint16_t undefined = 0;
  bool found = false;
  for (uint32_t w = 0; w < 0x10000 && !found; ++w) {
    if (isa::find_entry(static_cast<uint16_t>(w), 0) == isa::kInvalidEntry &&
        isa::find_entry(static_cast<uint16_t>(w), 0xFFFF) == isa::kInvalidEntry) {
      undefined = static_cast<uint16_t>(w);
      found = true;
    }
  }
  ASSERT_TRUE(found) << "no unassigned encoding found";
  exec({undefined});
  EXPECT_EQ(cpu.state().pc, handler(vector::kUnd));
  expect_frame(bus, kCode, psr::kE);
}

TEST_F(Exceptions, MaskableInterruptNeedsBothEAndI) {
  bus.interrupt_vector = 20;
  cpu.set_irq_line(true);
  cpu.state().psr = psr::kE;  // I clear
  exec({kNop, kNop}, 2);
  EXPECT_EQ(cpu.state().pc, kCode + 4);
  cpu.state().psr = psr::kI;  // E clear
  exec({kNop, kNop}, 2);
  EXPECT_EQ(cpu.state().pc, kCode + 4);
  EXPECT_EQ(bus.acknowledges, 0);
  cpu.state().psr = psr::kE | psr::kI | psr::kU;
  cpu.state().banked_sp = kSp;  // supervisor SP while in user mode
  exec({kNop, kNop}, 1);
  EXPECT_EQ(bus.acknowledges, 1);
  EXPECT_EQ(cpu.state().pc, handler(20));
  expect_frame(bus, kCode, psr::kE | psr::kI | psr::kU);
  EXPECT_EQ(psr(), psr::kE);  // I, P, T, U cleared; E kept
  EXPECT_EQ(r(kRegSp), kSp);  // back on the supervisor stack
}

TEST_F(Exceptions, InterruptSavesNextInstructionAndReturns) {
  bus.poke16(handler(16), kRetx);
  cpu.state().psr = psr::kE | psr::kI;
  bus.load_words(kCode, {kNop, kNop, kNop});
  cpu.flush_code_cache();
  cpu.state().pc = kCode;
  cpu.run(1);  // nop
  cpu.set_irq_line(true);
  cpu.run(0);  // taken at the boundary
  EXPECT_EQ(cpu.state().pc, handler(16));
  expect_frame(bus, kCode + 2, psr::kE | psr::kI);
  cpu.set_irq_line(false);
  cpu.run(1);  // retx
  EXPECT_EQ(cpu.state().pc, kCode + 2);
  EXPECT_EQ(psr(), psr::kE | psr::kI);
}

TEST_F(Exceptions, NmiPreemptsMaskableAndIgnoresMasks) {
  cpu.state().psr = psr::kE | psr::kI;
  cpu.set_irq_line(true);
  cpu.raise_nmi();
  exec({kNop}, 0);
  EXPECT_EQ(cpu.state().pc, handler(vector::kNmi));
  EXPECT_EQ(psr(), psr::kE);  // I cleared: the maskable one waits
  EXPECT_EQ(bus.acknowledges, 0);
  // NMI also arrives with interrupts disabled.
  cpu.state().psr = 0;
  cpu.set_irq_line(false);
  cpu.raise_nmi();
  cpu.run(0);
  EXPECT_EQ(cpu.state().pc, handler(vector::kNmi));
  EXPECT_EQ(cpu.state().isp, kIsp - 12);
}

TEST_F(Exceptions, NestedInterruptAfterHandlerReenablesI) {
  // Handler 16: lpr r5, psr (r5 = E|I) ; nop
  bus.load_words(handler(16), {0x0014, 0x0095, kNop});
  r(5) = psr::kE | psr::kI;
  cpu.state().psr = psr::kE | psr::kI;
  cpu.set_irq_line(true);
  exec({kNop}, 0);
  EXPECT_EQ(cpu.state().pc, handler(16));
  cpu.run(1);  // lpr: I set again -> the still-asserted line nests
  cpu.run(0);
  EXPECT_EQ(cpu.state().pc, handler(16));
  EXPECT_EQ(cpu.state().isp, kIsp - 12);
  EXPECT_EQ(bus.peek32(kIsp - 12), (handler(16) + 4) >> 1);
  EXPECT_EQ(bus.acknowledges, 2);
}

TEST_F(Exceptions, TraceTrapsAfterEachInstructionWithNextPc) {
  cpu.state().psr = psr::kE | psr::kT;
  exec({kNop, kNop}, 1);  // the trap is taken at the boundary after the nop
  EXPECT_EQ(cpu.instruction_count(), 1u);
  EXPECT_EQ(cpu.state().pc, handler(vector::kTrc));
  // Saved PSR: T kept, P cleared before saving.
  expect_frame(bus, kCode + 2, psr::kE | psr::kT);
  EXPECT_EQ(psr() & (psr::kT | psr::kP), 0);
}

TEST_F(Exceptions, TraceResumesThroughRetx) {
  bus.poke16(handler(vector::kTrc), kRetx);
  cpu.state().psr = psr::kE | psr::kT;
  exec({kNop, kNop, kNop}, 3);  // nop, TRC, retx, nop, TRC
  EXPECT_EQ(cpu.state().pc, handler(vector::kTrc));
  expect_frame(bus, kCode + 4, psr::kE | psr::kT);
}

TEST_F(Exceptions, WaitHaltsUntilInterrupt) {
  cpu.state().psr = psr::kE | psr::kI;
  EXPECT_EQ(exec({0x0006, kNop}, 100), StopReason::kHalted);
  EXPECT_TRUE(cpu.halted());
  EXPECT_EQ(cpu.state().pc, kCode + 2);
  EXPECT_EQ(cpu.run(100), StopReason::kHalted);
  EXPECT_EQ(cpu.instruction_count(), 1u);
  cpu.set_irq_line(true);
  cpu.run(0);
  EXPECT_FALSE(cpu.halted());
  EXPECT_EQ(cpu.state().pc, handler(16));
  expect_frame(bus, kCode + 2, psr::kE | psr::kI);
}

TEST_F(Exceptions, EiwaitEnablesEThenSleeps) {
  cpu.state().psr = psr::kI;
  EXPECT_EQ(exec({0x0007}, 10), StopReason::kHalted);
  EXPECT_TRUE(psr() & psr::kE);
}

TEST_F(Exceptions, DiEiToggleE) {
  cpu.state().psr = psr::kE;
  exec({0x0004});
  EXPECT_FALSE(psr() & psr::kE);
  exec({0x0005});
  EXPECT_TRUE(psr() & psr::kE);
}

TEST_F(Exceptions, PrivilegedInstructionsInUserModeRaiseUnd) {
  // Every entry the table marks privileged, from random encodings.
  std::mt19937_64 rng(7);
  const auto entries = isa::table();
  unsigned privileged = 0;
  for (uint16_t index = 0; index < entries.size(); ++index) {
    if (!entries[index].privileged() || !isa::entry_reachable(index)) continue;
    ++privileged;
    const auto encoding = isa::random_encoding(rng, index);
    ASSERT_TRUE(encoding.has_value());
    cpu.state().isp = kIsp;
    cpu.state().psr = psr::kE | psr::kU;
    exec({encoding->words[0], encoding->words[1], encoding->words[2]});
    EXPECT_EQ(cpu.state().pc, handler(vector::kUnd)) << isa::mnemonic_name(entries[index].mnemonic);
    expect_frame(bus, kCode, psr::kE | psr::kU);
    EXPECT_FALSE(psr() & psr::kU);
  }
  EXPECT_EQ(privileged, 13u);  // lpr, lprd, retx, di, ei, wait, eiwait, six cinv forms
}

TEST_F(Exceptions, SprReadsUspInUserMode) {  // sprd usp, (r1,r0)
  cpu.state().psr = psr::kE | psr::kU;
  r(kRegSp) = 0x6666;
  exec({0x0014, 0x30E0});
  EXPECT_EQ(r(0), 0x6666u);
}

TEST_F(Exceptions, InstructionFetchFaultRaisesIad) {
  cpu.state().pc = TestBus::kBusErrorStart;
  cpu.run(1);
  EXPECT_EQ(cpu.state().pc, handler(vector::kIad));
  expect_frame(bus, TestBus::kBusErrorStart, psr::kE);
}

TEST_F(Exceptions, TwoByteDispatchTableWhenEdClear) {
  cpu.set_cfg(0);
  bus.poke16(kIntbase + 2 * vector::kBpt, 0x5000 >> 1);
  exec({0x00C8});
  EXPECT_EQ(cpu.state().pc, 0x5000u);
}

TEST_F(Exceptions, LprLoadsIntbaseIspAndPsrHalves) {
  r(1) = 0x0400;
  r(2) = 0x0001;
  exec({0x0014, 0x00A1, 0x0014, 0x00B2}, 2);  // lpr r1, intbasel ; lpr r2, intbaseh
  EXPECT_EQ(cpu.state().intbase, 0x10400u);
  r(3) = 0xF0F1;
  exec({0x0014, 0x00C3});  // lpr r3, ispl (bit 0 forced to 0)
  EXPECT_EQ(cpu.state().isp & 0xFFFF, 0xF0F0u);
}

TEST_F(Exceptions, ResetCopiesOldPcAndPsrIntoR0R2) {
  cpu.state().pc = 0x123456;
  cpu.state().psr = psr::kE | psr::kZ;
  cpu.set_cfg(cfg::kEd);
  cpu.reset(0xE00000);
  EXPECT_EQ(r(0), (0x123456u >> 1) & 0xFFFF);
  EXPECT_EQ(r(1), 0x123456u >> 17);
  EXPECT_EQ(r(2), static_cast<uint32_t>(psr::kE | psr::kZ));
  EXPECT_EQ(psr(), 0x0200);
  EXPECT_EQ(cpu.state().cfg, 0);
  EXPECT_EQ(cpu.state().pc, 0xE00000u);
}

TEST_F(Exceptions, RequestExitStopsRun) {
  cpu.request_exit();
  EXPECT_EQ(exec({kNop}, 10), StopReason::kExitRequested);
  EXPECT_EQ(cpu.instruction_count(), 0u);
}

}  // namespace
}  // namespace cr16::test

namespace cr16::test {
namespace {

using AsyncExceptions = CpuFixture;

TEST_F(AsyncExceptions, DebugRequestSavesNextPcClearsIPTUAndReturns) {
  bus.poke16(handler(vector::kDbg), kRetx);
  cpu.state().psr = psr::kE | psr::kI | psr::kC;
  exec({kNop, kNop}, 1);
  cpu.raise_debug_request();
  cpu.run(0);  // taken at the boundary after the first nop
  EXPECT_EQ(cpu.state().pc, handler(vector::kDbg));
  expect_frame(bus, kCode + 2, psr::kE | psr::kI | psr::kC);
  EXPECT_EQ(psr(), psr::kE | psr::kC);  // I, P, T, U cleared; E kept
  cpu.run(1);                           // retx
  EXPECT_EQ(cpu.state().pc, kCode + 2);
  EXPECT_EQ(psr(), psr::kE | psr::kI | psr::kC);
}

TEST_F(AsyncExceptions, IseIsTakenWithInterruptsMaskedAndSavesNextPc) {
  cpu.state().psr = 0;  // E and I clear: ISE is not maskable
  exec({kNop, kNop}, 1);
  cpu.raise_ise();
  cpu.run(0);
  EXPECT_EQ(cpu.state().pc, handler(vector::kIse));
  expect_frame(bus, kCode + 2, 0);
  EXPECT_EQ(bus.acknowledges, 0);  // the ISE cycle is not an interrupt acknowledge
}

TEST_F(AsyncExceptions, PriorityIsDebugThenNmiThenMaskableThenIse) {
  // Everything pending at once, a trace trap too (P set); each handler is
  // `br .`, so the order in which frames are pushed shows the priority: the
  // first taken is deepest.
  exec({kNop, kNop}, 1);
  cpu.state().psr = psr::kE | psr::kI | psr::kP;
  cpu.set_irq_line(true);
  cpu.raise_nmi();
  cpu.raise_ise();
  cpu.raise_debug_request();
  cpu.run(0);
  EXPECT_EQ(cpu.state().pc, handler(vector::kDbg));
  expect_frame(bus, kCode + 2, psr::kE | psr::kI | psr::kP);  // DBG beat the trace trap
  cpu.run(0);  // DBG cleared I: NMI next, the maskable one still waits
  EXPECT_EQ(cpu.state().pc, handler(vector::kNmi));
  EXPECT_EQ(cpu.state().isp, kIsp - 12);
  cpu.state().psr |= psr::kI;  // the NMI handler re-enables interrupts
  cpu.run(0);
  EXPECT_EQ(cpu.state().pc, handler(16));
  cpu.set_irq_line(false);
  cpu.run(0);
  EXPECT_EQ(cpu.state().pc, handler(vector::kIse));
  EXPECT_EQ(cpu.state().isp, kIsp - 24);
  EXPECT_EQ(cpu.state().events_pending, 0);
}

TEST_F(AsyncExceptions, DebugRequestWakesWait) {
  cpu.state().psr = psr::kE | psr::kI;
  EXPECT_EQ(exec({0x0006, kNop}, 10), StopReason::kHalted);
  cpu.raise_debug_request();
  cpu.run(0);
  EXPECT_FALSE(cpu.halted());
  EXPECT_EQ(cpu.state().pc, handler(vector::kDbg));
  expect_frame(bus, kCode + 2, psr::kE | psr::kI);
}

}  // namespace
}  // namespace cr16::test
