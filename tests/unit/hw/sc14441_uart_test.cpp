// The SC14441 UART: polled TX with TI, the RX holding register fed from an
// unpaced host buffer, RI/TI request semantics and backend flow control.
#include "hw/sc14441_uart.h"

#include <gtest/gtest.h>

#include <vector>

#include "hw/sc14441_icu.h"
#include "sc14441_fixture.h"

namespace cr16 {
namespace {

using namespace sc14441;
using Sc14441UartTest = test::Sc14441Fixture;

constexpr uint32_t kCtrl = kUartBase + kUartCtrl;
constexpr uint32_t kData = kUartBase + kUartRxTx;

TEST_F(Sc14441UartTest, PolledTransmitSetsTiAtOnce) {
  wr(kCtrl, kUartTen | kUartRen);
  EXPECT_EQ(rd(kCtrl) & kUartTi, 0u);
  wr(kData, 0xFFC1);  // a sign-extended char: only bits 7:0 go out
  ASSERT_EQ(serial0.output.size(), 1u);
  EXPECT_EQ(serial0.output[0], 0xC1);
  EXPECT_NE(rd(kCtrl) & kUartTi, 0u);
  wr(kUartBase + kUartClearTxInt, 0);
  EXPECT_EQ(rd(kCtrl) & kUartTi, 0u);
  for (char c : std::string("hi")) wr(kData, static_cast<uint8_t>(c));
  EXPECT_EQ(std::string(serial0.output.begin(), serial0.output.end()), "\xC1hi");
  EXPECT_TRUE(serial1.output.empty());
}

TEST_F(Sc14441UartTest, TransmitWithoutTenIsDropped) {
  wr(kCtrl, kUartRen);
  wr(kData, 'x');
  EXPECT_TRUE(serial0.output.empty());
  EXPECT_EQ(rd(kCtrl) & kUartTi, 0u);
}

TEST_F(Sc14441UartTest, CtrlWritesNeverSetTheStatusBits) {
  wr(kCtrl, 0xFFFF);
  EXPECT_EQ(rd(kCtrl), kUartCtrlWritable);
  wr(kCtrl, (3u << 2) | kUartTen);  // baud code 3 is stored
  EXPECT_EQ(rd(kCtrl), (3u << 2) | kUartTen);
}

TEST_F(Sc14441UartTest, HoldingRegisterTakesTheNextByteWhenRead) {
  wr(kCtrl, kUartRen | kUartTen);
  const uint8_t input[] = {'x', 'y'};
  EXPECT_EQ(type(input), 2u);
  EXPECT_NE(rd(kCtrl) & kUartRi, 0u);
  EXPECT_EQ(rd(kData), uint32_t{'x'});
  EXPECT_NE(rd(kCtrl) & kUartRi, 0u);  // 'y' moved in at once
  EXPECT_EQ(rd(kData + 1, AccessSize::kByte), 0u);  // the high byte takes nothing
  EXPECT_EQ(rd(kData), uint32_t{'y'});
  EXPECT_EQ(rd(kCtrl) & kUartRi, 0u);
}

TEST_F(Sc14441UartTest, SevenThousandBytesGoThroughWithoutPacing) {
  wr(kCtrl, kUartRen | kUartTen);
  std::vector<uint8_t> input(7000);
  for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<uint8_t>(i * 7 + 3);
  std::vector<uint8_t> received;
  size_t sent = 0;
  int rounds = 0;
  while (received.size() < input.size() && rounds++ < 100) {
    sent += type(std::span<const uint8_t>(input).subspan(sent));
    while (rd(kCtrl) & kUartRi) received.push_back(static_cast<uint8_t>(rd(kData)));
  }
  EXPECT_EQ(received, input);
  EXPECT_LE(rounds, 3);  // 4 KiB accepted at once, the rest in the next round
  EXPECT_GE(serial0.ready_calls, 1);
}

TEST_F(Sc14441UartTest, BytesArrivingWithRenOffStayBuffered) {
  wr(kCtrl, kUartTen);
  const uint8_t input[] = {'a', 'b', 'c'};
  EXPECT_EQ(type(input), 3u);
  EXPECT_EQ(rd(kCtrl) & kUartRi, 0u);
  EXPECT_EQ(board->uart(0).can_receive(), kUartInputBufferSize - 3);
  wr(kCtrl, kUartTen | kUartRen);
  EXPECT_EQ(rd(kData), uint32_t{'a'});
  EXPECT_EQ(rd(kData), uint32_t{'b'});
  EXPECT_EQ(rd(kData), uint32_t{'c'});
  EXPECT_EQ(rd(kCtrl) & kUartRi, 0u);
}

TEST_F(Sc14441UartTest, FullBufferAsksForMoreWhenItDrains) {
  std::vector<uint8_t> input(kUartInputBufferSize + 10, 'z');
  EXPECT_EQ(type(input), kUartInputBufferSize);
  EXPECT_EQ(board->uart(0).can_receive(), 0u);
  EXPECT_EQ(serial0.ready_calls, 0);
  wr(kCtrl, kUartRen);  // the first byte moves into the holding register
  EXPECT_EQ(serial0.ready_calls, 1);
  EXPECT_EQ(board->uart(0).can_receive(), 1u);
}

TEST_F(Sc14441UartTest, EachReceivedByteIsAnRiRequestClearedByClearRxInt) {
  wr(kInt0PriorityReg + 4, 0x0022);  // UART_RI and UART_TI priority 2
  wr(kCtrl, kUartRen | kUartTen);
  const uint8_t input[] = {'1', '2'};
  type(input);
  EXPECT_EQ(rd(kSetIntPendingReg), 1u << kIrqUartRi);
  EXPECT_TRUE(board->cpu().irq_line());
  wr(kUartBase + kUartClearRxInt, 0);
  EXPECT_EQ(rd(kSetIntPendingReg), 0u);
  EXPECT_NE(rd(kCtrl) & kUartRi, 0u);  // the status still says "full"
  EXPECT_EQ(rd(kData), uint32_t{'1'});  // '2' enters: a new request
  EXPECT_EQ(rd(kSetIntPendingReg), 1u << kIrqUartRi);
  EXPECT_EQ(rd(kIntaAddress, AccessSize::kByte), 16u + kIrqUartRi);
  wr(kData, 'o');
  EXPECT_EQ(rd(kSetIntPendingReg), 1u << kIrqUartTi);
  EXPECT_EQ(rd(kIntaAddress, AccessSize::kByte), 16u + kIrqUartTi);
}

TEST_F(Sc14441UartTest, Uart2IsTheSameModelOnSerial1) {
  wr(kUart2Base + kUartCtrl, kUartRen | kUartTen);
  wr(kUart2Base + kUartRxTx, 'Q');
  EXPECT_EQ(std::string(serial1.output.begin(), serial1.output.end()), "Q");
  const uint8_t input[] = {'r'};
  type(input, 1);
  EXPECT_EQ(rd(kUart2Base + kUartRxTx), uint32_t{'r'});
  EXPECT_EQ(rd(kSetIntPendingReg) & (1u << kIrqUart2), 1u << kIrqUart2);
}

TEST_F(Sc14441UartTest, ResetKeepsHostInputButEmptiesTheHoldingRegister) {
  wr(kCtrl, kUartRen);
  const uint8_t input[] = {'k', 'l'};
  type(input);
  board->reset();
  EXPECT_EQ(rd(kCtrl), 0u);
  wr(kCtrl, kUartRen);
  EXPECT_EQ(rd(kData), uint32_t{'l'});
}

}  // namespace
}  // namespace cr16
