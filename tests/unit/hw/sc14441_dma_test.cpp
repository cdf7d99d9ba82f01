// The SC14441 DMA: the loader's circular UART RX ring (notes section 5.2
// step 3), stopping at LEN, memory to memory, DINT_MODE rerouting the
// UART's requests, and channel 3 leaving polled TX alone while idle.
#include "hw/sc14441_dma.h"

#include <gtest/gtest.h>

#include <vector>

#include "sc14441_fixture.h"

namespace cr16 {
namespace {

using namespace sc14441;

class Sc14441DmaTest : public test::Sc14441Fixture {
 protected:
  static uint32_t reg(unsigned channel, uint32_t offset) {
    return kDmaBase + channel * kDmaChannelStride + offset;
  }
  void setup(unsigned channel, uint32_t a, uint32_t b, uint32_t len, uint32_t int_reg) {
    wr(reg(channel, kDmaAStartL), a & 0xFFFF);
    wr(reg(channel, kDmaAStartH), a >> 16);
    wr(reg(channel, kDmaBStartL), b & 0xFFFF);
    wr(reg(channel, kDmaBStartH), b >> 16);
    wr(reg(channel, kDmaIntReg), int_reg);
    wr(reg(channel, kDmaLenReg), len);
  }
  uint32_t idx(unsigned channel) { return rd(reg(channel, kDmaIdxReg)); }
  uint8_t ram(uint32_t address) { return static_cast<uint8_t>(rd(address, AccessSize::kByte)); }
  void send(size_t count, size_t first = 0) {
    std::vector<uint8_t> bytes(count);
    for (size_t i = 0; i < count; ++i) bytes[i] = static_cast<uint8_t>(first + i);
    ASSERT_EQ(type(bytes), count);
  }
};

constexpr uint32_t kRing = 0x0120DE;

TEST_F(Sc14441DmaTest, LoaderRxRingCountsAndWrapsAtLen) {
  wr(kInt0PriorityReg + 4, 0x0002);       // UART_RI priority 2, as the loader
  wr(kUartBase + kUartCtrl, kUartRen | kUartTen);
  setup(2, 0xFF4902, kRing, 0x400, 0x400);
  wr(reg(2, kDmaCtrlReg), 0x02B8);
  const uint8_t early[] = {0xEE};
  type(early);  // waits in the holding register until the channel runs
  EXPECT_EQ(idx(2), 0u);
  wr(reg(2, kDmaCtrlReg), 0x02B9);
  EXPECT_EQ(idx(2), 1u);
  EXPECT_EQ(ram(kRing), 0xEE);
  EXPECT_EQ(rd(kSetIntPendingReg), 0u);  // DINT_MODE: no per-byte RI request
  send(13, 1);  // a command frame
  EXPECT_EQ(idx(2), 14u);
  for (uint32_t i = 1; i < 14; ++i) EXPECT_EQ(ram(kRing + i), i) << i;
  EXPECT_EQ(rd(kUartBase + kUartCtrl) & kUartRi, 0u);  // drained
  send(0x400 - 14 - 1, 14);
  EXPECT_EQ(idx(2), 0x3FFu);
  EXPECT_EQ(rd(kSetIntPendingReg), 0u);
  send(1, 0x3FF);
  EXPECT_EQ(idx(2), 0u);  // wrapped at LEN
  EXPECT_EQ(rd(kSetIntPendingReg), 1u << kIrqUartRi);  // IDX reached INT_REG
  send(3, 0x80);
  EXPECT_EQ(idx(2), 3u);
  EXPECT_EQ(ram(kRing + 0), 0x80);
  EXPECT_EQ(ram(kRing + 2), 0x82);
  EXPECT_EQ(ram(kRing + 3), 3);  // the old lap is still there
  EXPECT_NE(rd(reg(2, kDmaCtrlReg)) & kDmaOn, 0u);
}

TEST_F(Sc14441DmaTest, RestartingTheChannelStartsAtIdxZero) {
  wr(kUartBase + kUartCtrl, kUartRen);
  setup(2, 0xFF4902, kRing, 0x400, 0x400);
  wr(reg(2, kDmaCtrlReg), 0x02B9);
  send(5);
  EXPECT_EQ(idx(2), 5u);
  wr(reg(2, kDmaCtrlReg), 0x02B8);
  send(2, 0x40);  // channel off: the first byte waits in the UART
  EXPECT_EQ(idx(2), 5u);
  wr(reg(2, kDmaCtrlReg), 0x02B9);
  EXPECT_EQ(idx(2), 2u);
  EXPECT_EQ(ram(kRing), 0x40);
  EXPECT_EQ(ram(kRing + 1), 0x41);
}

TEST_F(Sc14441DmaTest, NonCircularChannelStopsAtLen) {
  wr(kUartBase + kUartCtrl, kUartRen);
  setup(2, 0xFF4902, 0x010200, 4, 0);
  wr(reg(2, kDmaCtrlReg), kDmaDreqMode | kDmaBinc | kDmaOn);
  send(6, 0x10);
  EXPECT_EQ(idx(2), 4u);
  EXPECT_EQ(rd(reg(2, kDmaCtrlReg)) & kDmaOn, 0u);
  EXPECT_EQ(ram(0x010203), 0x13);
  EXPECT_EQ(ram(0x010204), 0x00);
  EXPECT_EQ(rd(kUartBase + kUartRxTx), 0x14u);  // the rest is the CPU's
  EXPECT_EQ(rd(kUartBase + kUartRxTx), 0x15u);
}

TEST_F(Sc14441DmaTest, WithoutDintModeEachByteIsAnRiRequest) {
  wr(kUartBase + kUartCtrl, kUartRen);
  setup(2, 0xFF4902, 0x010200, 16, 0);
  wr(reg(2, kDmaCtrlReg), kDmaDreqMode | kDmaBinc | kDmaOn);
  send(1);
  EXPECT_EQ(rd(kSetIntPendingReg), 1u << kIrqUartRi);
}

TEST_F(Sc14441DmaTest, MemoryToMemoryRunsToCompletionAtOnce) {
  for (uint32_t i = 0; i < 16; ++i) wr(0x000100 + 2 * i, 0x1000 + i);
  board->memory().start_dirty_log(DirtyLogClient::kMigration);
  setup(0, 0x000100, 0x012000, 8, 0);
  wr(reg(0, kDmaCtrlReg), (2u << kDmaBwShift) | kDmaAinc | kDmaBinc | kDmaOn);  // words
  EXPECT_EQ(idx(0), 8u);
  EXPECT_EQ(rd(reg(0, kDmaCtrlReg)) & kDmaOn, 0u);
  for (uint32_t i = 0; i < 16; ++i) EXPECT_EQ(rd(0x012000 + 2 * i), 0x1000 + i) << i;
  EXPECT_EQ(rd(0x012020), 0u);
  EXPECT_TRUE(board->memory().page_dirty(DirtyLogClient::kMigration, 0x012000 >> kPageBits));
  // Halfwords from a fixed source fill a range.
  setup(1, 0x000100, 0x009000, 3, 0);
  wr(reg(1, kDmaCtrlReg), (1u << kDmaBwShift) | kDmaBinc | kDmaOn);
  EXPECT_EQ(rd(0x009000), 0x1000u);
  EXPECT_EQ(rd(0x009004), 0x1000u);
  EXPECT_EQ(rd(0x009006), 0u);
}

TEST_F(Sc14441DmaTest, IdleTxChannelLeavesPolledTransmitAlone) {
  wr(kUartBase + kUartCtrl, kUartRen | kUartTen);
  setup(3, 0x010300, 0xFF4902, 4, 4);
  wr(reg(3, kDmaCtrlReg), 0x0058);  // as the loader: never switched on
  wr(kUartBase + kUartRxTx, 'p');
  EXPECT_EQ(std::string(serial0.output.begin(), serial0.output.end()), "p");
  EXPECT_NE(rd(kUartBase + kUartCtrl) & kUartTi, 0u);
  EXPECT_EQ(rd(kSetIntPendingReg), 0u);  // DINT_MODE on channel 3: no TI request
  EXPECT_EQ(idx(3), 0u);
}

TEST_F(Sc14441DmaTest, TxChannelInRequestModeSendsItsBuffer) {
  wr(kUartBase + kUartCtrl, kUartTen);
  const char text[] = "hello";
  for (uint32_t i = 0; i < 5; ++i) wr(0x010300 + i, static_cast<uint8_t>(text[i]), AccessSize::kByte);
  setup(3, 0x010300, 0xFF4902, 5, 5);
  wr(reg(3, kDmaCtrlReg), kDmaAinc | kDmaDreqMode | kDmaDintMode | kDmaOn);
  EXPECT_EQ(std::string(serial0.output.begin(), serial0.output.end()), "hello");
  EXPECT_EQ(idx(3), 5u);
  EXPECT_EQ(rd(reg(3, kDmaCtrlReg)) & kDmaOn, 0u);
  EXPECT_EQ(rd(kSetIntPendingReg), 1u << kIrqUartTi);  // IDX reached INT_REG
}

TEST_F(Sc14441DmaTest, IdxIsReadOnlyAndResetStopsEverything) {
  setup(2, 0xFF4902, kRing, 0x400, 0x400);
  wr(reg(2, kDmaIdxReg), 0x55);
  EXPECT_EQ(idx(2), 0u);
  EXPECT_EQ(rd(reg(2, kDmaAStartH)), 0xFFu);
  board->reset();
  EXPECT_EQ(rd(reg(2, kDmaLenReg)), 0u);
  EXPECT_EQ(rd(reg(2, kDmaAStartL)), 0u);
}

}  // namespace
}  // namespace cr16
