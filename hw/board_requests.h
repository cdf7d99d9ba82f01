// The guest's requests to the machine — power off, reset, "I cannot go on"
// — as every board handles them. A device raises one in the middle of a CPU
// slice (a register write); it is held until the slice returns, because the
// CPU must not be reset under the instruction that asked, and then goes to
// the machine's handler (or, for a reset without one, the board resets
// itself). Boards own one and forward Board's set_*_handler to it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "cpu/cpu.h"

namespace cr16 {

/// Machine thread only.
class BoardRequests {
 public:
  /// `reset_board` resets the whole board (used when no reset handler is set).
  explicit BoardRequests(std::function<void()> reset_board)
      : reset_board_(std::move(reset_board)) {}

  void set_poweroff_handler(std::function<void(int exit_code)> handler) {
    poweroff_handler_ = std::move(handler);
  }
  void set_reset_request_handler(std::function<void()> handler) {
    reset_request_handler_ = std::move(handler);
  }
  void set_panic_handler(std::function<void(const std::string& why)> handler) {
    panic_handler_ = std::move(handler);
  }

  /// A device asks for a power-off with `exit_code`: at once outside a slice,
  /// else when the slice returns (it wins over a reset asked in the same slice).
  void request_poweroff(int exit_code);
  /// A device (software reset, watchdog) asks for a system reset.
  void request_reset();
  /// Forgets a reset asked for before the board was reset anyway.
  void clear_pending_reset() { pending_reset_ = false; }

  /// Runs `cpu` for at most `budget` instructions, then delivers what was
  /// asked meanwhile: a panic, a power-off, a reset.
  StopReason run_slice(Cpu& cpu, uint64_t budget);

 private:
  std::function<void()> reset_board_;
  std::function<void(int)> poweroff_handler_;
  std::function<void()> reset_request_handler_;
  std::function<void(const std::string&)> panic_handler_;
  Cpu* running_ = nullptr;  // the CPU of the slice in progress, else nullptr
  std::optional<int> pending_poweroff_;
  bool pending_reset_ = false;
};

}  // namespace cr16
