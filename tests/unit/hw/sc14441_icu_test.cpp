// The SC14441 ICU: edge-latched sources, 3-bit priorities where 0 masks,
// the INTA read at 0xFFFE00 returning 16 + the best source and clearing it.
#include "hw/sc14441_icu.h"

#include <gtest/gtest.h>

#include "hw/sc14441_map.h"
#include "sc14441_fixture.h"

namespace cr16 {
namespace {

using namespace sc14441;

struct IcuHarness {
  IcuHarness() {
    icu.set_irq_output([this](bool level) { line = level; });
  }
  uint32_t inta() { return icu.acknowledge_block().sfr_read(kIntaAddress, AccessSize::kByte, false); }
  void write(uint32_t reg, uint32_t value) { icu.sfr_write(reg, AccessSize::kWord, value); }
  uint32_t read(uint32_t reg) { return icu.sfr_read(reg, AccessSize::kWord, false); }
  Sc14441Icu icu;
  bool line = false;
};

TEST(Sc14441Icu, PriorityZeroMasksALatchedSource) {
  IcuHarness h;
  h.icu.request(kIrqUartRi);
  EXPECT_EQ(h.read(kSetIntPendingReg), 1u << kIrqUartRi);
  EXPECT_FALSE(h.line);
  h.write(kInt0PriorityReg + 4, 0x0002);  // INT2: UART_RI priority 2
  EXPECT_TRUE(h.line);
  h.write(kInt0PriorityReg + 4, 0x0020);  // now only UART_TI enabled
  EXPECT_FALSE(h.line);
}

TEST(Sc14441Icu, IntaReturnsTheHighestPrioritySourceAndClearsIt) {
  IcuHarness h;
  h.write(kInt0PriorityReg + 4, 0x0002);  // UART_RI (4) priority 2
  h.write(kInt0PriorityReg + 2, 0x0005);  // TIM1 (8) priority 5
  h.write(kInt0PriorityReg + 6, 0x0100);  // UART2 (2) priority 1
  h.icu.request(kIrqUartRi);
  h.icu.request(kIrqTim1);
  h.icu.request(kIrqUart2);
  EXPECT_EQ(h.inta(), 16u + kIrqTim1);
  EXPECT_EQ(h.inta(), 16u + kIrqUartRi);
  EXPECT_TRUE(h.line);
  EXPECT_EQ(h.inta(), 16u + kIrqUart2);
  EXPECT_FALSE(h.line);
  EXPECT_EQ(h.read(kSetIntPendingReg), 0u);
}

TEST(Sc14441Icu, EqualPrioritiesGoToTheLowestSource) {
  IcuHarness h;
  h.write(kInt0PriorityReg + 4, 0x3333);  // sources 4..7 all priority 3
  h.icu.request(7);
  h.icu.request(5);
  EXPECT_EQ(h.inta(), 16u + 5);
  EXPECT_EQ(h.inta(), 16u + 7);
}

TEST(Sc14441Icu, MaskedPendingSourcesAreNeverDelivered) {
  IcuHarness h;
  h.write(kInt0PriorityReg + 4, 0x0002);
  h.icu.request(kIrqUartTi);  // priority 0
  h.icu.request(kIrqUartRi);
  EXPECT_EQ(h.inta(), 16u + kIrqUartRi);
  EXPECT_FALSE(h.line);
  EXPECT_EQ(h.read(kResetIntPendingReg), 1u << kIrqUartTi);  // still latched, masked
}

TEST(Sc14441Icu, SetAndResetPendingRegisters) {
  IcuHarness h;
  h.write(kSetIntPendingReg, 0xFFFF);
  EXPECT_EQ(h.read(kSetIntPendingReg), kIcuSourceMask);
  h.write(kResetIntPendingReg, 0x00F0);
  EXPECT_EQ(h.read(kResetIntPendingReg), kIcuSourceMask & ~0xF0u);
  h.write(kPcStartReg, 0xBEEC);
  EXPECT_EQ(h.read(kPcStartReg), 0xBEECu);
  h.write(kInt0PriorityReg, 0xFFFF);
  EXPECT_EQ(h.read(kInt0PriorityReg), 0x7777u);
  h.icu.reset();
  EXPECT_EQ(h.read(kSetIntPendingReg), 0u);
  EXPECT_EQ(h.read(kInt0PriorityReg), 0u);
}

TEST(Sc14441Icu, ARequestIsAnEdgeLatchedUntilAcknowledged) {
  IcuHarness h;
  h.write(kInt0PriorityReg + 4, 0x0002);
  h.icu.request(kIrqUartRi);
  h.icu.request(kIrqUartRi);  // a second edge before INTA: one pending bit
  EXPECT_EQ(h.inta(), 16u + kIrqUartRi);
  EXPECT_FALSE(h.line);
}

using Sc14441IcuBoard = test::Sc14441Fixture;

TEST_F(Sc14441IcuBoard, InterruptAcknowledgeWindowOnTheBus) {
  wr(kInt0PriorityReg + 4, 0x0070);  // UART_TI priority 7
  wr(kSetIntPendingReg, 1u << kIrqUartTi);
  EXPECT_TRUE(board->cpu().irq_line());
  uint32_t peeked = 0;
  EXPECT_EQ(board->memory().peek(kIntaAddress, AccessSize::kByte, &peeked), BusStatus::kOk);
  EXPECT_EQ(peeked, 21u);
  EXPECT_TRUE(board->cpu().irq_line());  // a peek acknowledges nothing
  EXPECT_EQ(rd(kIntaAddress, AccessSize::kByte), 21u);
  EXPECT_FALSE(board->cpu().irq_line());
  EXPECT_EQ(rd(0xFFFC00, AccessSize::kByte), 0u);  // ISE acknowledge
  EXPECT_EQ(rd(0xFFFF00, AccessSize::kByte), 0u);  // NMI acknowledge
}

}  // namespace
}  // namespace cr16
