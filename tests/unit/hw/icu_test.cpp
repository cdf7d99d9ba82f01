#include "hw/icu.h"

#include <gtest/gtest.h>

#include "hw/virt_map.h"
#include "test_helpers.h"

namespace cr16 {
namespace {

using test::read32;
using test::write32;

struct IcuFixture : ::testing::Test {
  IcuFixture() {
    icu.set_irq_output([this](bool level) { irq = level; });
    icu.set_nmi_output([this] { ++nmi_edges; });
  }
  IcuDevice icu;
  bool irq = false;
  int nmi_edges = 0;
};

TEST_F(IcuFixture, DisabledSourceIsPendingButDoesNotInterrupt) {
  icu.set_irq_level(3, true);
  EXPECT_FALSE(irq);
  EXPECT_EQ(read32(icu, virt::kIcuPending), 1u << 3);
  EXPECT_EQ(read32(icu, virt::kIcuRaw), 1u << 3);
  EXPECT_EQ(read32(icu, virt::kIcuActive), 0u);
  EXPECT_EQ(read32(icu, virt::kIcuIvctPeek), virt::kSpuriousVector);
  write32(icu, virt::kIcuEnableSet, 1u << 3);
  EXPECT_TRUE(irq);
  EXPECT_EQ(read32(icu, virt::kIcuEnable), 1u << 3);
  icu.set_irq_level(3, false);
  EXPECT_FALSE(irq);
}

TEST_F(IcuFixture, EnableSetAndClearTouchOnlyGivenBits) {
  write32(icu, virt::kIcuEnable, 0x0000000F);
  write32(icu, virt::kIcuEnableSet, 0x00000100);
  write32(icu, virt::kIcuEnableClr, 0x00000003);
  EXPECT_EQ(read32(icu, virt::kIcuEnable), 0x0000010Cu);
  EXPECT_EQ(read32(icu, virt::kIcuEnableSet), 0x0000010Cu);
}

TEST_F(IcuFixture, VectorPicksHighestPriorityThenLowestSource) {
  write32(icu, virt::kIcuEnable, 0xFFFFFFFF);
  icu.set_irq_level(2, true);
  icu.set_irq_level(5, true);
  icu.set_irq_level(9, true);
  EXPECT_EQ(read32(icu, virt::kIcuIvctPeek), 16u + 2);  // all priority 0: lowest source
  // Source 9 priority 7 (PRIO1 nibble 1), source 5 priority 3 (PRIO0 nibble 5).
  write32(icu, virt::kIcuPrio0 + 4, 7u << 4);
  write32(icu, virt::kIcuPrio0, 3u << 20);
  EXPECT_EQ(read32(icu, virt::kIcuIvctPeek), 16u + 9);
  icu.set_irq_level(9, false);
  EXPECT_EQ(read32(icu, virt::kIcuIvctPeek), 16u + 5);
  write32(icu, virt::kIcuEnableClr, 1u << 5);
  EXPECT_EQ(read32(icu, virt::kIcuIvct), 16u + 2);
}

TEST_F(IcuFixture, IvctReadAcknowledgesSoftwareLatchOnly) {
  write32(icu, virt::kIcuEnable, 0xFFFFFFFF);
  write32(icu, virt::kIcuSoftSet, 1u << 20);
  icu.set_irq_level(0, true);
  write32(icu, virt::kIcuPrio0 + 8, 1u << 16);  // source 20 priority 1
  EXPECT_TRUE(irq);
  EXPECT_EQ(read32(icu, virt::kIcuSoftSet), 1u << 20);
  EXPECT_EQ(read32(icu, virt::kIcuIvct), 16u + 20);
  EXPECT_EQ(read32(icu, virt::kIcuSoftSet), 0u);  // acknowledged
  // A device line stays pending through the acknowledge.
  EXPECT_EQ(read32(icu, virt::kIcuIvct), 16u + 0);
  EXPECT_EQ(read32(icu, virt::kIcuIvct), 16u + 0);
  EXPECT_TRUE(irq);
  icu.set_irq_level(0, false);
  EXPECT_FALSE(irq);
  EXPECT_EQ(read32(icu, virt::kIcuIvct), virt::kSpuriousVector);
}

TEST_F(IcuFixture, CpuByteReadOfIvctAcknowledgesButUpperBytesDoNot) {
  write32(icu, virt::kIcuEnable, 0xFFFFFFFF);
  write32(icu, virt::kIcuSoftSet, (1u << 17) | (1u << 18));
  EXPECT_EQ(icu.read(virt::kIcuIvct + 1, AccessSize::kByte), 0u);
  EXPECT_EQ(read32(icu, virt::kIcuSoftSet), (1u << 17) | (1u << 18));
  EXPECT_EQ(icu.read(virt::kIcuIvct, AccessSize::kByte), 16u + 17);
  EXPECT_EQ(read32(icu, virt::kIcuSoftSet), 1u << 18);
}

TEST_F(IcuFixture, SoftClearRemovesPendingLatch) {
  write32(icu, virt::kIcuEnable, 0xFFFFFFFF);
  write32(icu, virt::kIcuSoftSet, 0x00030000);
  write32(icu, virt::kIcuSoftClr, 0x00010000);
  EXPECT_EQ(read32(icu, virt::kIcuPending), 0x00020000u);
  write32(icu, virt::kIcuSoftClr, 0x00020000);
  EXPECT_FALSE(irq);
}

TEST_F(IcuFixture, NmiTriggerRaisesEdgeAndStatus) {
  write32(icu, virt::kIcuNmiTrigger, 0);
  EXPECT_EQ(nmi_edges, 0);
  write32(icu, virt::kIcuNmiTrigger, 1);
  EXPECT_EQ(nmi_edges, 1);
  EXPECT_EQ(read32(icu, virt::kIcuNmiStatus), virt::kIcuNmiStatusSw);
  EXPECT_EQ(read32(icu, virt::kIcuNmiAck), 0u);
  write32(icu, virt::kIcuNmiStatus, virt::kIcuNmiStatusSw);
  EXPECT_EQ(read32(icu, virt::kIcuNmiStatus), 0u);
  EXPECT_FALSE(irq);  // NMI is not a maskable request
}

TEST_F(IcuFixture, ResetClearsEverything) {
  write32(icu, virt::kIcuEnable, 0xFFFFFFFF);
  write32(icu, virt::kIcuSoftSet, 1u << 16);
  write32(icu, virt::kIcuPrio0 + 12, 0xFFFFFFFF);
  EXPECT_TRUE(irq);
  icu.reset();
  EXPECT_FALSE(irq);
  EXPECT_EQ(read32(icu, virt::kIcuEnable), 0u);
  EXPECT_EQ(read32(icu, virt::kIcuPrio0 + 12), 0u);
  EXPECT_EQ(read32(icu, virt::kIcuPending), 0u);
}

TEST_F(IcuFixture, OutOfRangeLinesAndUnassignedRegistersAreHarmless) {
  icu.set_irq_level(32, true);
  icu.set_irq_level(1000, true);
  EXPECT_EQ(read32(icu, virt::kIcuRaw), 0u);
  EXPECT_EQ(read32(icu, 0x100), 0u);
  write32(icu, 0x100, 0xFFFFFFFF);
  write32(icu, virt::kIcuPending, 0xFFFFFFFF);  // read-only
  EXPECT_EQ(read32(icu, virt::kIcuPending), 0u);
}

}  // namespace
}  // namespace cr16
