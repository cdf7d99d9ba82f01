// The predecoded block cache: reuse, code-page watching, invalidation on
// self-modifying code and loader writes, exact budgets, flushes.
#include "cpu_fixture.h"

namespace cr16::test {
namespace {

using BlockCacheTest = CpuFixture;

constexpr uint16_t kNop = 0x2C00;

TEST_F(BlockCacheTest, LoopIsTranslatedOnceAndPagesAreWatched) {
  // addw $1, r1 ; br *-2
  exec({0x3211, 0x18E0, 0xFFFF}, 10001);
  EXPECT_EQ(r(1), 5001u);
  EXPECT_LE(cpu.engine().statistics().translations, 3u);
  EXPECT_TRUE(bus.watched(kCode >> kPageBits));
  EXPECT_EQ(bus.write_page[kCode >> kPageBits], nullptr);
}

TEST_F(BlockCacheTest, SelfModifyingStoreInSameBlockTakesEffect) {
  // storw r2, 0x1006 ; nop ; (0x1006:) addw $1, r1 -> patched to addw $2, r1 ; br .
  r(1) = 0;
  r(2) = 0x3221;  // addw $2, r1
  exec({0xC920, 0x1006, kNop, 0x3211, 0x18E0, 0x0000}, 3);
  EXPECT_EQ(r(1), 2u);
  EXPECT_EQ(bus.code_writes, 1);
  EXPECT_GE(cpu.engine().statistics().invalidations, 1u);
}

TEST_F(BlockCacheTest, SelfModifyingStoreToLaterBlock) {
  // Loop body at 0x1000: addw $1, r1 ; br *-2. First run it, then a store
  // from elsewhere patches the addw; the next run uses the new instruction.
  exec({0x3211, 0x18E0, 0xFFFF}, 4);
  EXPECT_EQ(r(1), 2u);
  bus.load_words(0x2000, {0xC920, 0x1000, 0x18E0, 0x0000});  // storw r2, 0x1000 ; br .
  r(2) = 0x3251;                                             // addw $5, r1
  cpu.state().pc = 0x2000;
  cpu.run(1);
  cpu.state().pc = kCode;
  cpu.run(2);
  EXPECT_EQ(r(1), 7u);
}

TEST_F(BlockCacheTest, DebugWriteInvalidatesCode) {
  exec({0x3211, 0x18E0, 0x0000}, 1);
  EXPECT_EQ(r(1), 1u);
  ASSERT_TRUE(cpu.debug_write(kCode, AccessSize::kWord, 0x3231).ok());  // addw $3, r1
  cpu.state().pc = kCode;
  cpu.run(1);
  EXPECT_EQ(r(1), 4u);
}

TEST_F(BlockCacheTest, BudgetSmallerThanBlockIsExact) {
  exec({kNop, kNop, kNop, kNop, 0x3211, 0x18E0, 0x0000}, 2);
  EXPECT_EQ(cpu.instruction_count(), 2u);
  EXPECT_EQ(cpu.state().pc, kCode + 4);
  cpu.run(3);
  EXPECT_EQ(cpu.instruction_count(), 5u);
  EXPECT_EQ(r(1), 1u);
}

TEST_F(BlockCacheTest, FlushDropsBlocks) {
  exec({kNop, 0x18E0, 0x0000}, 2);
  EXPECT_GT(cpu.engine().statistics().cached_blocks, 0u);
  cpu.flush_code_cache();
  EXPECT_EQ(cpu.engine().statistics().cached_blocks, 0u);
  cpu.run(2);
  EXPECT_EQ(cpu.state().pc, kCode + 2);
}

TEST_F(BlockCacheTest, BlocksStopAtPageBoundary) {
  // 0x1FFC: nop ; nop ; 0x2000: addw $1, r1 ; br .
  bus.load_words(0x1FFC, {kNop, kNop, 0x3211, 0x18E0, 0x0000});
  cpu.state().pc = 0x1FFC;
  cpu.run(3);
  EXPECT_EQ(r(1), 1u);
  EXPECT_TRUE(bus.watched(1));
  EXPECT_TRUE(bus.watched(2));
}

}  // namespace
}  // namespace cr16::test
