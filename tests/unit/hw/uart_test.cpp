#include "hw/uart.h"

#include <gtest/gtest.h>

#include <string>

#include "hw/manual_device_clock.h"
#include "hw/virt_map.h"
#include "test_helpers.h"

namespace cr16 {
namespace {

using test::read32;
using test::write32;

std::span<const uint8_t> bytes_of(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

struct UartFixture : ::testing::Test {
  UartFixture()
      : uart("uart0", clock, &backend, IrqLine(&irqs, virt::kIrqUart0Rx),
             IrqLine(&irqs, virt::kIrqUart0Tx)) {}
  bool rx_line() const { return irqs.levels[virt::kIrqUart0Rx]; }
  bool tx_line() const { return irqs.levels[virt::kIrqUart0Tx]; }
  uint32_t status() { return read32(uart, virt::kUartStatus); }

  ManualDeviceClock clock;
  test::RecordingIrqSink irqs;
  test::FakeCharBackend backend;
  UartDevice uart;
};

TEST_F(UartFixture, AttachesToBackendAndStartsEmpty) {
  EXPECT_EQ(backend.frontend, &uart);
  EXPECT_EQ(status(), virt::kUartStatusReset);
  EXPECT_EQ(read32(uart, virt::kUartFifoDepth), virt::kUartFifoDepthValue);
  EXPECT_EQ(read32(uart, virt::kUartData), 0u);  // empty RX reads 0
}

TEST_F(UartFixture, TransmitGoesStraightToBackend) {
  write32(uart, virt::kUartData, 'h');
  uart.write(virt::kUartData, AccessSize::kByte, 'i');
  EXPECT_EQ(std::string(backend.output.begin(), backend.output.end()), "hi");
  EXPECT_EQ(status() & virt::kUartStatusTxEmpty, virt::kUartStatusTxEmpty);
}

TEST_F(UartFixture, TransmitBackpressureKeepsBytesAndRetries) {
  write32(uart, virt::kUartCtrl, virt::kUartCtrlTxie);
  EXPECT_TRUE(tx_line());
  backend.accept_limit = 1;
  for (char c : std::string("abcd")) write32(uart, virt::kUartData, static_cast<uint8_t>(c));
  EXPECT_EQ(std::string(backend.output.begin(), backend.output.end()), "a");
  uint32_t s = status();
  EXPECT_EQ((s >> virt::kUartStatusTxLevelShift) & virt::kUartStatusLevelMask, 3u);
  EXPECT_EQ(s & virt::kUartStatusTxEmpty, 0u);
  EXPECT_FALSE(tx_line());
  backend.accept_limit = SIZE_MAX;
  clock.advance_by(UartDevice::kTxRetryNs);
  EXPECT_EQ(std::string(backend.output.begin(), backend.output.end()), "abcd");
  EXPECT_TRUE(tx_line());
}

TEST_F(UartFixture, TransmitOverrunWhenFifoFull) {
  backend.accept_limit = 0;
  for (int i = 0; i < 16; ++i) write32(uart, virt::kUartData, 'x');
  EXPECT_EQ(status() & virt::kUartStatusTxSpace, 0u);
  EXPECT_EQ(status() & virt::kUartStatusTxOverrun, 0u);
  write32(uart, virt::kUartData, 'y');
  EXPECT_NE(status() & virt::kUartStatusTxOverrun, 0u);
  write32(uart, virt::kUartStatus, virt::kUartStatusTxOverrun);
  EXPECT_EQ(status() & virt::kUartStatusTxOverrun, 0u);
  backend.accept_limit = SIZE_MAX;
  clock.advance_by(UartDevice::kTxRetryNs);
  EXPECT_EQ(backend.output.size(), 16u);
  EXPECT_EQ(backend.output.back(), 'x');
}

TEST_F(UartFixture, ReceiveFillsFifoAndRaisesRxLine) {
  EXPECT_EQ(uart.can_receive(), 16u);
  EXPECT_EQ(backend.type(bytes_of("ok")), 2u);
  EXPECT_FALSE(rx_line());  // RXIE off
  uint32_t s = status();
  EXPECT_NE(s & virt::kUartStatusRxAvail, 0u);
  EXPECT_EQ((s >> virt::kUartStatusRxLevelShift) & virt::kUartStatusLevelMask, 2u);
  write32(uart, virt::kUartCtrl, virt::kUartCtrlRxie);
  EXPECT_TRUE(rx_line());
  EXPECT_EQ(read32(uart, virt::kUartData), uint32_t{'o'});
  EXPECT_TRUE(rx_line());
  EXPECT_EQ(uart.read(virt::kUartData, AccessSize::kByte), uint32_t{'k'});
  EXPECT_FALSE(rx_line());
  EXPECT_EQ(status() & virt::kUartStatusRxAvail, 0u);
}

TEST_F(UartFixture, ReceiveBackpressureLosesNothing) {
  std::string input = "0123456789abcdefXYZ";  // 19 bytes, FIFO holds 16
  size_t taken = backend.type(bytes_of(input));
  EXPECT_EQ(taken, 16u);
  EXPECT_EQ(uart.can_receive(), 0u);
  EXPECT_EQ(backend.ready_calls, 0);
  EXPECT_EQ(read32(uart, virt::kUartData), uint32_t{'0'});
  EXPECT_EQ(backend.ready_calls, 1);  // room again: the backend resumes
  EXPECT_EQ(backend.type(bytes_of(input.substr(taken))), 1u);
  std::string received;
  while (status() & virt::kUartStatusRxAvail) {
    received.push_back(static_cast<char>(read32(uart, virt::kUartData)));
  }
  EXPECT_EQ(received, "123456789abcdefX");
  EXPECT_EQ(status() & virt::kUartStatusRxOverrun, 0u);
}

TEST_F(UartFixture, ReadingUpperBytesOfDataDoesNotPop) {
  (void)backend.type(bytes_of("A"));
  EXPECT_EQ(uart.read(virt::kUartData + 1, AccessSize::kByte), 0u);
  EXPECT_NE(status() & virt::kUartStatusRxAvail, 0u);
}

TEST_F(UartFixture, ResetEmptiesFifosAndClearsControl) {
  write32(uart, virt::kUartCtrl, virt::kUartCtrlRxie | virt::kUartCtrlTxie);
  (void)backend.type(bytes_of("abc"));
  EXPECT_TRUE(rx_line());
  uart.reset();
  EXPECT_EQ(status(), virt::kUartStatusReset);
  EXPECT_EQ(read32(uart, virt::kUartCtrl), 0u);
  EXPECT_FALSE(rx_line());
  EXPECT_FALSE(tx_line());
}

TEST(UartWithoutBackend, DiscardsOutput) {
  ManualDeviceClock clock;
  UartDevice uart("uart1", clock, nullptr, IrqLine(), IrqLine());
  for (int i = 0; i < 40; ++i) write32(uart, virt::kUartData, 'z');
  EXPECT_EQ(read32(uart, virt::kUartStatus) & virt::kUartStatusTxOverrun, 0u);
  EXPECT_NE(read32(uart, virt::kUartStatus) & virt::kUartStatusTxEmpty, 0u);
}

}  // namespace
}  // namespace cr16
