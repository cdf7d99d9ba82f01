// The debugger's view of the CPU (what a gdbstub needs): breakpoints that
// stop before their instruction even inside translated and chained code,
// resuming over them, watchpoints on ranges that stop right after the
// accessing instruction, single steps, and guest-memory reads without side
// effects.
#include "cpu_fixture.h"

namespace cr16::test {
namespace {

using Debug = CpuFixture;

constexpr uint16_t kNop = 0x2C00;
constexpr uint16_t kAddw1R1 = 0x3211;     // addw $1, r1
constexpr uint16_t kBr = 0x18E0;          // br disp16 (2 words)
constexpr uint16_t kStorwR2Abs = 0xC920;  // storw r2, abs20 (low 16 bits follow)
constexpr uint16_t kLoadwAbsR3 = 0x8930;  // loadw abs20, r3
constexpr uint16_t kStordR4Abs = 0xC740;  // stord (r5,r4), abs20
constexpr uint32_t kData = 0x2000;

/// Places `words` at kCode and points PC there without running.
void load(CpuFixture& f, const std::vector<uint16_t>& words) {
  f.bus.load_words(CpuFixture::kCode, words);
  f.cpu.flush_code_cache();
  f.cpu.state().pc = CpuFixture::kCode;
}

// ---- Breakpoints.

TEST_F(Debug, BreakpointStopsBeforeItsInstructionAndResumesOverIt) {
  load(*this, {kAddw1R1, kAddw1R1, kAddw1R1, kBr, 0x0000});
  ASSERT_TRUE(cpu.set_breakpoint(kCode + 4).ok());
  EXPECT_EQ(cpu.run(100), StopReason::kBreakpoint);
  EXPECT_EQ(cpu.state().pc, kCode + 4);
  EXPECT_EQ(r(1), 2u);  // the block ended before the breakpoint
  EXPECT_EQ(cpu.instruction_count(), 2u);
  EXPECT_EQ(cpu.last_stop().reason, StopReason::kBreakpoint);
  EXPECT_EQ(cpu.last_stop().address, kCode + 4);
  // Resuming executes the instruction at the breakpoint, then goes on.
  EXPECT_EQ(cpu.run(100), StopReason::kBudget);
  EXPECT_EQ(r(1), 3u);
}

TEST_F(Debug, BreakpointAtPcStopsImmediately) {
  load(*this, {kAddw1R1, kBr, 0x0000});
  ASSERT_TRUE(cpu.set_breakpoint(kCode).ok());
  EXPECT_EQ(cpu.run(10), StopReason::kBreakpoint);
  EXPECT_EQ(cpu.instruction_count(), 0u);
  EXPECT_EQ(r(1), 0u);
}

TEST_F(Debug, BreakpointInAChainedLoopHitsOnEveryIteration) {
  // 0x1000: addw $1, r1 ; br *-2 — one block chaining into itself.
  load(*this, {kAddw1R1, kBr, 0xFFFF});
  EXPECT_EQ(cpu.run(1000), StopReason::kBudget);  // translated and chained
  const uint32_t before = r(1);
  ASSERT_TRUE(cpu.set_breakpoint(kCode + 2).ok());  // the branch, inside the cached block
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(cpu.run(1000), StopReason::kBreakpoint) << i;
    EXPECT_EQ(cpu.state().pc, kCode + 2);
    EXPECT_EQ(r(1), before + static_cast<uint32_t>(i));
  }
  EXPECT_TRUE(cpu.clear_breakpoint(kCode + 2));
  EXPECT_FALSE(cpu.clear_breakpoint(kCode + 2));
  EXPECT_EQ(cpu.run(1000), StopReason::kBudget);
  EXPECT_GT(r(1), before + 400);
}

TEST_F(Debug, BreakpointIsHitWhenABranchChainsToIt) {
  // 0x1000: br 0x1008 ; nop ; nop ; 0x1008: addw $1, r1 ; br .
  load(*this, {kBr, 0x0008, kNop, kNop, kAddw1R1, kBr, 0x0000});
  EXPECT_EQ(cpu.run(50), StopReason::kBudget);  // both blocks cached, chained
  cpu.state().pc = kCode;
  ASSERT_TRUE(cpu.set_breakpoint(kCode + 8).ok());
  const uint32_t before = r(1);
  EXPECT_EQ(cpu.run(50), StopReason::kBreakpoint);
  EXPECT_EQ(cpu.state().pc, kCode + 8);
  EXPECT_EQ(r(1), before);
}

TEST_F(Debug, BreakpointAddressMustBeAnInstructionAddress) {
  EXPECT_FALSE(cpu.set_breakpoint(0x1001).ok());
  EXPECT_FALSE(cpu.set_breakpoint(0x1000000).ok());
  EXPECT_TRUE(cpu.set_breakpoint(0xFFFFFE).ok());
  EXPECT_TRUE(cpu.set_breakpoint(0xFFFFFE).ok());  // twice is harmless
  EXPECT_TRUE(cpu.breakpoint_at(0xFFFFFE));
  cpu.clear_breakpoints();
  EXPECT_FALSE(cpu.breakpoint_at(0xFFFFFE));
}

TEST_F(Debug, ResumeArmingIsForgottenWhenPcMoves) {
  load(*this, {kAddw1R1, kBr, 0xFFFF});
  ASSERT_TRUE(cpu.set_breakpoint(kCode).ok());
  EXPECT_EQ(cpu.run(10), StopReason::kBreakpoint);
  cpu.state().pc = kCode + 2;                       // the debugger moves PC away ...
  EXPECT_EQ(cpu.run(1), StopReason::kBudget);       // br *-2 back to the breakpoint
  EXPECT_EQ(cpu.run(10), StopReason::kBreakpoint);  // ... so it stops there again
  EXPECT_EQ(r(1), 0u);
}

// ---- Watchpoints.

TEST_F(Debug, WriteWatchpointStopsRightAfterTheStore) {
  r(2) = 0xBEEF;
  load(*this, {kAddw1R1, kStorwR2Abs, kData, kAddw1R1, kBr, 0x0000});
  ASSERT_TRUE(cpu.set_watchpoint(kData, 2, WatchKind::kWrite).ok());
  EXPECT_EQ(cpu.run(100), StopReason::kWatchpoint);
  EXPECT_EQ(cpu.state().pc, kCode + 6);  // the next instruction
  EXPECT_EQ(r(1), 1u);
  EXPECT_EQ(bus.peek16(kData), 0xBEEF);  // the store completed
  const DebugStop& stop = cpu.last_stop();
  EXPECT_EQ(stop.reason, StopReason::kWatchpoint);
  EXPECT_EQ(stop.pc, kCode + 6);
  EXPECT_EQ(stop.address, kData);
  EXPECT_EQ(stop.access_address, kData);
  EXPECT_EQ(stop.access_bytes, 2);
  EXPECT_EQ(stop.access, WatchKind::kWrite);
  EXPECT_EQ(stop.watch_kind, WatchKind::kWrite);
  EXPECT_EQ(cpu.run(100), StopReason::kBudget);
  EXPECT_EQ(r(1), 2u);
}

TEST_F(Debug, ReadWatchpointIgnoresWritesAndCatchesReads) {
  r(2) = 0x1234;
  load(*this, {kStorwR2Abs, kData, kAddw1R1, kLoadwAbsR3, kData, kAddw1R1, kBr, 0x0000});
  ASSERT_TRUE(cpu.set_watchpoint(kData, 2, WatchKind::kRead).ok());
  EXPECT_EQ(cpu.run(100), StopReason::kWatchpoint);
  EXPECT_EQ(cpu.state().pc, kCode + 10);  // after the load
  EXPECT_EQ(r(3), 0x1234u);
  EXPECT_EQ(r(1), 1u);
  EXPECT_EQ(cpu.last_stop().access, WatchKind::kRead);
}

TEST_F(Debug, AccessWatchpointMatchesAnyOverlap) {
  r(4) = 0x5678;
  r(5) = 0x1234;
  // stord (r5,r4), 0x1FFE covers 0x1FFE..0x2001: it overlaps [0x2001, 0x2002).
  load(*this, {kStordR4Abs, kData - 2, kAddw1R1, kBr, 0x0000});
  ASSERT_TRUE(cpu.set_watchpoint(kData + 1, 1, WatchKind::kAccess).ok());
  EXPECT_EQ(cpu.run(100), StopReason::kWatchpoint);
  EXPECT_EQ(cpu.last_stop().address, kData + 1);
  EXPECT_EQ(cpu.last_stop().access_address, kData - 2);
  EXPECT_EQ(cpu.last_stop().access_bytes, 4);
  EXPECT_EQ(cpu.last_stop().watch_kind, WatchKind::kAccess);
  EXPECT_EQ(r(1), 0u);
}

TEST_F(Debug, AccessesOutsideTheRangeDoNotStop) {
  load(*this, {kStorwR2Abs, kData + 2, kLoadwAbsR3, kData - 2, kAddw1R1, kBr, 0x0000});
  ASSERT_TRUE(cpu.set_watchpoint(kData, 2, WatchKind::kAccess).ok());
  EXPECT_EQ(cpu.run(100), StopReason::kBudget);
  EXPECT_EQ(r(1), 1u);
}

TEST_F(Debug, WatchpointSetOnRunningTranslatedCodeTakesEffect) {
  // Loop: storw r2, 0x2000 ; addw $1, r1 ; br back — translated first.
  load(*this, {kStorwR2Abs, kData, kAddw1R1, kBr, 0xFFFB});  // br -6 (sign in bit 0)
  EXPECT_EQ(cpu.run(300), StopReason::kBudget);
  ASSERT_TRUE(cpu.set_watchpoint(kData, 1, WatchKind::kWrite).ok());
  cpu.state().pc = kCode;
  const uint32_t before = r(1);
  EXPECT_EQ(cpu.run(300), StopReason::kWatchpoint);
  EXPECT_EQ(cpu.state().pc, kCode + 4);
  EXPECT_EQ(r(1), before);
  EXPECT_EQ(cpu.run(300), StopReason::kWatchpoint);  // next iteration
  EXPECT_EQ(r(1), before + 1);
}

TEST_F(Debug, WatchpointsSetAndClearTheBusPageBits) {
  const uint32_t page = kData >> kPageBits;
  ASSERT_NE(bus.read_page[page], nullptr);
  ASSERT_TRUE(cpu.set_watchpoint(kData, 2, WatchKind::kWrite).ok());
  EXPECT_EQ(bus.page_watch(page), page_watch::kWrite);
  EXPECT_NE(bus.read_page[page], nullptr);  // reads stay fast
  EXPECT_EQ(bus.write_page[page], nullptr);
  ASSERT_TRUE(cpu.set_watchpoint(kData + 8, 4, WatchKind::kRead).ok());
  EXPECT_EQ(bus.page_watch(page), page_watch::kRead | page_watch::kWrite);
  EXPECT_EQ(bus.read_page[page], nullptr);
  EXPECT_TRUE(cpu.clear_watchpoint(kData, 2, WatchKind::kWrite));
  EXPECT_EQ(bus.page_watch(page), page_watch::kRead);
  EXPECT_NE(bus.write_page[page], nullptr);
  EXPECT_FALSE(cpu.clear_watchpoint(kData, 2, WatchKind::kWrite));
  cpu.clear_watchpoints();
  EXPECT_FALSE(cpu.watchpoints_active());
  EXPECT_EQ(bus.page_watch(page), page_watch::kNone);
  EXPECT_NE(bus.read_page[page], nullptr);
  EXPECT_NE(bus.write_page[page], nullptr);
}

TEST_F(Debug, WatchpointSpanningPagesMarksBoth) {
  ASSERT_TRUE(cpu.set_watchpoint(0x2FFF, 2, WatchKind::kAccess).ok());
  EXPECT_EQ(bus.page_watch(2), page_watch::kRead | page_watch::kWrite);
  EXPECT_EQ(bus.page_watch(3), page_watch::kRead | page_watch::kWrite);
  EXPECT_EQ(bus.page_watch(4), page_watch::kNone);
  EXPECT_FALSE(cpu.set_watchpoint(0xFFFFFF, 2, WatchKind::kRead).ok());
  EXPECT_FALSE(cpu.set_watchpoint(0x1000, 0, WatchKind::kRead).ok());
}

TEST_F(Debug, DebuggerAccessesDoNotTriggerWatchpoints) {
  load(*this, {kAddw1R1, kBr, 0x0000});
  ASSERT_TRUE(cpu.set_watchpoint(kData, 4, WatchKind::kAccess).ok());
  ASSERT_TRUE(cpu.debug_write(kData, AccessSize::kDword, 0xCAFEF00D).ok());
  Expected<uint32_t> value = cpu.debug_read(kData, AccessSize::kDword);
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 0xCAFEF00Du);
  EXPECT_EQ(cpu.run(10), StopReason::kBudget);
}

TEST_F(Debug, InterruptFramePushedIntoAWatchedStackStops) {
  ASSERT_TRUE(cpu.set_watchpoint(kIsp - 6, 6, WatchKind::kWrite).ok());
  load(*this, {kNop, kNop, kBr, 0x0000});
  cpu.state().psr = psr::kE | psr::kI;
  cpu.set_irq_line(true);
  EXPECT_EQ(cpu.run(10), StopReason::kWatchpoint);
  EXPECT_EQ(cpu.state().pc, handler(16));  // the entry completed, nothing ran after it
  EXPECT_EQ(cpu.instruction_count(), 0u);
}

// ---- Single step.

TEST_F(Debug, StepExecutesExactlyOneInstruction) {
  load(*this, {kAddw1R1, kAddw1R1, kBr, 0x0000});
  EXPECT_EQ(cpu.step(), StopReason::kStep);
  EXPECT_EQ(cpu.state().pc, kCode + 2);
  EXPECT_EQ(r(1), 1u);
  EXPECT_EQ(cpu.instruction_count(), 1u);
  EXPECT_EQ(cpu.last_stop().reason, StopReason::kStep);
  EXPECT_EQ(cpu.last_stop().pc, kCode + 2);
  EXPECT_EQ(cpu.step(), StopReason::kStep);
  EXPECT_EQ(r(1), 2u);
}

TEST_F(Debug, StepGoesOverABreakpointAtPc) {
  load(*this, {kAddw1R1, kAddw1R1, kBr, 0x0000});
  ASSERT_TRUE(cpu.set_breakpoint(kCode).ok());
  ASSERT_TRUE(cpu.set_breakpoint(kCode + 2).ok());
  EXPECT_EQ(cpu.step(), StopReason::kStep);
  EXPECT_EQ(cpu.step(), StopReason::kStep);
  EXPECT_EQ(r(1), 2u);
  EXPECT_EQ(cpu.state().pc, kCode + 4);
}

TEST_F(Debug, StepDeliversOrHoldsAPendingInterrupt) {
  load(*this, {kAddw1R1, kAddw1R1, kBr, 0x0000});
  cpu.state().psr = psr::kE | psr::kI;
  cpu.set_irq_line(true);
  EXPECT_EQ(cpu.step(StepEvents::kHold), StopReason::kStep);
  EXPECT_EQ(cpu.state().pc, kCode + 2);
  EXPECT_EQ(bus.acknowledges, 0);
  EXPECT_EQ(cpu.step(StepEvents::kDeliver), StopReason::kStep);
  EXPECT_EQ(bus.acknowledges, 1);
  EXPECT_EQ(cpu.state().pc, handler(16));  // entered, then its `br .` ran
  EXPECT_EQ(cpu.state().isp, kIsp - 6);
  EXPECT_EQ(bus.peek32(kIsp - 6), (kCode + 2) >> 1);
}

TEST_F(Debug, StepWhileSleepingReportsHalted) {
  load(*this, {0x0006, kNop});  // wait
  EXPECT_EQ(cpu.run(10), StopReason::kHalted);
  EXPECT_EQ(cpu.step(), StopReason::kHalted);
  EXPECT_EQ(cpu.instruction_count(), 1u);
}

TEST_F(Debug, StepReportsAWatchpointHit) {
  load(*this, {kStorwR2Abs, kData, kBr, 0x0000});
  ASSERT_TRUE(cpu.set_watchpoint(kData, 2, WatchKind::kWrite).ok());
  EXPECT_EQ(cpu.step(), StopReason::kWatchpoint);
  EXPECT_EQ(cpu.state().pc, kCode + 4);
}

// ---- Side-effect-free reads.

TEST_F(Debug, DebugReadOfTheAcknowledgeAddressDoesNotAcknowledge) {
  bus.interrupt_vector = 33;
  Expected<uint32_t> vector = cpu.debug_read(kInterruptAcknowledgeAddress, AccessSize::kByte);
  ASSERT_TRUE(vector.ok());
  EXPECT_EQ(*vector, 33u);
  EXPECT_EQ(bus.acknowledges, 0);
}

TEST_F(Debug, DebugReadsRefuseHolesAndAddressesPast24Bits) {
  EXPECT_FALSE(cpu.debug_read(TestBus::kBusErrorStart, AccessSize::kWord).ok());
  EXPECT_FALSE(cpu.debug_read(0xFFFFFF, AccessSize::kWord).ok());
  uint8_t buffer[8];
  EXPECT_FALSE(cpu.debug_read_block(0xFFFFFC, buffer, sizeof buffer).ok());
  EXPECT_FALSE(cpu.debug_write(TestBus::kBusErrorStart, AccessSize::kByte, 1).ok());
}

TEST_F(Debug, DebugReadBlockCrossesPagesAndSlowRegions) {
  for (uint32_t i = 0; i < 16; ++i) bus.poke8(0xFEFFF8 + i, static_cast<uint8_t>(i + 1));
  uint8_t buffer[16] = {};
  ASSERT_TRUE(cpu.debug_read_block(0xFEFFF8, buffer, sizeof buffer).ok());  // RAM then MMIO
  for (uint32_t i = 0; i < 16; ++i) EXPECT_EQ(buffer[i], i + 1);
  Expected<uint32_t> straddle = cpu.debug_read(0xFEFFFE, AccessSize::kDword);
  ASSERT_TRUE(straddle.ok());
  EXPECT_EQ(*straddle, 0x0A090807u);
}

TEST(StopReasons, HaveNames) {
  EXPECT_STREQ(stop_reason_name(StopReason::kBreakpoint), "breakpoint");
  EXPECT_STREQ(stop_reason_name(StopReason::kWatchpoint), "watchpoint");
  EXPECT_STREQ(stop_reason_name(StopReason::kStep), "step");
  EXPECT_STREQ(stop_reason_name(StopReason::kBlocked), "blocked");
  EXPECT_STREQ(stop_reason_name(StopReason::kGuestPanic), "guest-panic");
}

}  // namespace
}  // namespace cr16::test
