// Branches, calls and jumps: conditions, targets, link values.
#include "cpu_fixture.h"

namespace cr16::test {
namespace {

using ExecBranch = CpuFixture;

TEST_F(ExecBranch, BeqTakenWhenZ) {  // beq *+8
  cpu.state().psr |= psr::kZ;
  exec({0x1800, 0x0008});
  EXPECT_EQ(cpu.state().pc, kCode + 8);
}

TEST_F(ExecBranch, BeqNotTakenFallsThrough) {  // beq *+8
  exec({0x1800, 0x0008});
  EXPECT_EQ(cpu.state().pc, kCode + 4);
}

TEST_F(ExecBranch, BrBackwardUsesSignInBitZero) {  // br *-4
  exec({0x18E0, 0xFFFD});
  EXPECT_EQ(cpu.state().pc, kCode - 4);
}

TEST_F(ExecBranch, OneWordBranchDisplacement) {  // beq *-58 (0x1E03)
  cpu.state().psr |= psr::kZ;
  exec({0x1E03});
  EXPECT_EQ(cpu.state().pc, kCode - 58);
}

TEST_F(ExecBranch, EveryConditionMatchesThePsr) {
  // cond -> PSR value that makes it true / false.
  struct Case {
    unsigned cond;
    uint16_t true_psr, false_psr;
  };
  const Case cases[] = {
      {0, psr::kZ, 0},  {1, 0, psr::kZ},  {2, psr::kC, 0},  {3, 0, psr::kC},  {4, psr::kL, 0},
      {5, 0, psr::kL},  {6, psr::kN, 0},  {7, 0, psr::kN},  {8, psr::kF, 0},  {9, 0, psr::kF},
      {10, 0, psr::kL}, {11, psr::kL, 0}, {12, 0, psr::kN}, {13, psr::kZ, 0},
  };
  for (const Case& c : cases) {
    const auto w0 = static_cast<uint16_t>(0x1800 | (c.cond << 4));
    cpu.state().psr = static_cast<uint16_t>(psr::kE | c.true_psr);
    exec({w0, 0x0010});
    EXPECT_EQ(cpu.state().pc, kCode + 0x10) << "cond " << c.cond << " should be taken";
    cpu.state().psr = static_cast<uint16_t>(psr::kE | c.false_psr);
    exec({w0, 0x0010});
    EXPECT_EQ(cpu.state().pc, kCode + 4) << "cond " << c.cond << " should not be taken";
  }
}

TEST_F(ExecBranch, Beq0wBranchesOnZeroRegister) {  // beq0w r1, *+4
  r(1) = 0;
  exec({0x0E11});
  EXPECT_EQ(cpu.state().pc, kCode + 4);
  r(1) = 0x100;
  exec({0x0E11});
  EXPECT_EQ(cpu.state().pc, kCode + 2);
}

TEST_F(ExecBranch, BalRaLinksNextPcHalved) {  // bal (ra), *+0x10
  exec({0xC000, 0x0010});
  EXPECT_EQ(cpu.state().pc, kCode + 0x10);
  EXPECT_EQ(r(kRegRa), (kCode + 4) >> 1);
}

TEST_F(ExecBranch, BalPairLinksPcPlus6) {  // bal (r1,r0), *+0x10 (GNU sim links PC+4)
  exec({0x0010, 0x2000, 0x0010});
  EXPECT_EQ(cpu.state().pc, kCode + 0x10);
  EXPECT_EQ(r(0) | (r(1) << 16), (kCode + 6) >> 1);
}

TEST_F(ExecBranch, JalRaJumpsToPairTimesTwo) {  // jal (r3,r2)
  r(2) = 0x3000 >> 1;
  r(3) = 0;
  exec({0x00D2});
  EXPECT_EQ(cpu.state().pc, 0x3000u);
  EXPECT_EQ(r(kRegRa), (kCode + 2) >> 1);
}

TEST_F(ExecBranch, JumpPair) {  // jump (r3,r2)
  r(2) = 0x0000;
  r(3) = 0x0001;  // 0x10000 << 1 = 0x20000
  exec({0x0AE2});
  EXPECT_EQ(cpu.state().pc, 0x20000u);
}

TEST_F(ExecBranch, JumpRaReturns) {  // jump (ra)
  r(kRegRa) = 0x5000 >> 1;
  exec({0x0AEE});
  EXPECT_EQ(cpu.state().pc, 0x5000u);
}

TEST_F(ExecBranch, JusrEntersUserModeAndSwitchesStack) {  // jusr (r3,r2)
  cpu.state().banked_sp = 0x6000;                         // the user SP while in supervisor mode
  r(2) = 0x3000 >> 1;
  r(3) = 0;
  exec({0x0AF2});
  EXPECT_EQ(cpu.state().pc, 0x3000u);
  EXPECT_TRUE(psr() & psr::kU);
  EXPECT_EQ(r(kRegSp), 0x6000u);
  EXPECT_EQ(cpu.state().supervisor_sp(), kSp);
}

TEST_F(ExecBranch, LoopRunsExactBudget) {  // addw $1, r1 ; br *-2
  const StopReason reason = exec({0x3011 | 0x0200, 0x18E0, 0xFFFF}, 1001);
  EXPECT_EQ(reason, StopReason::kBudget);
  EXPECT_EQ(cpu.instruction_count(), 1001u);
  EXPECT_EQ(r(1), 501u);
}

}  // namespace
}  // namespace cr16::test

namespace cr16::test {
namespace {

using ExecFusion = CpuFixture;

// cmpw $5, r1 ; beq *+8  (fused into one dispatch inside a block)
TEST_F(ExecFusion, CompareAndBranchFusedKeepsFlagsAndCounts) {
  r(1) = 5;
  exec({0x5251, 0x1800, 0x0008}, 2);
  EXPECT_EQ(cpu.state().pc, kCode + 2 + 8);
  EXPECT_TRUE(psr() & psr::kZ);
  EXPECT_EQ(cpu.instruction_count(), 2u);
  r(1) = 6;
  exec({0x5251, 0x1800, 0x0008}, 2);
  EXPECT_EQ(cpu.state().pc, kCode + 6);
  EXPECT_EQ(psr() & (psr::kZ | psr::kN | psr::kL), 0);  // src 5 < dest 6
}

TEST_F(ExecFusion, CompareAndBranchSingleSteppedGivesSameResult) {
  r(1) = 5;
  exec({0x5251, 0x1800, 0x0008}, 1);
  EXPECT_EQ(cpu.state().pc, kCode + 2);
  EXPECT_TRUE(psr() & psr::kZ);
  cpu.run(1);
  EXPECT_EQ(cpu.state().pc, kCode + 2 + 8);
  EXPECT_EQ(cpu.instruction_count(), 2u);
}

}  // namespace
}  // namespace cr16::test
