// A whole sc14441 board on a manual clock with two fake serial backends,
// and bus helpers that read and write its address space like the CPU.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "hw/manual_device_clock.h"
#include "hw/sc14441_board.h"
#include "hw/sc14441_map.h"
#include "test_helpers.h"

namespace cr16::test {

class Sc14441Fixture : public ::testing::Test {
 protected:
  void SetUp() override { build(BoardConfig{}); }

  /// (Re)builds the board from `config` (serial backends are added).
  void build(BoardConfig config) {
    board.reset();
    config.serial = {&serial0, &serial1};
    auto made = Sc14441Board::create(config, clock);
    ASSERT_TRUE(made) << made.error().message();
    board = std::move(*made);
    board->set_reset_request_handler([this] {
      ++resets;
      board->reset();
    });
  }

  uint32_t rd(uint32_t address, AccessSize size = AccessSize::kWord) {
    uint32_t value = 0;
    EXPECT_EQ(board->memory().read_slow(address, size, &value), BusStatus::kOk)
        << std::hex << address;
    return value;
  }
  void wr(uint32_t address, uint32_t value, AccessSize size = AccessSize::kWord) {
    EXPECT_EQ(board->memory().write_slow(address, size, value), BusStatus::kOk)
        << std::hex << address;
  }
  /// Sends host bytes to UART `index` (as much as it takes).
  size_t type(std::span<const uint8_t> bytes, unsigned index = 0) {
    return (index ? serial1 : serial0).type(bytes);
  }

  ManualDeviceClock clock;
  FakeCharBackend serial0, serial1;
  std::unique_ptr<Sc14441Board> board;
  int resets = 0;
};

}  // namespace cr16::test
