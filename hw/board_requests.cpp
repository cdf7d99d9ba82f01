#include "hw/board_requests.h"

namespace cr16 {

void BoardRequests::request_poweroff(int exit_code) {
  if (running_ != nullptr) {
    pending_poweroff_ = exit_code;
    running_->request_exit();
  } else if (poweroff_handler_) {
    poweroff_handler_(exit_code);
  }
}

void BoardRequests::request_reset() {
  if (running_ != nullptr) {
    pending_reset_ = true;
    running_->request_exit();
  } else if (reset_request_handler_) {
    reset_request_handler_();
  } else {
    reset_board_();
  }
}

StopReason BoardRequests::run_slice(Cpu& cpu, uint64_t budget) {
  running_ = &cpu;
  const StopReason reason = cpu.run(budget);
  running_ = nullptr;
  if (reason == StopReason::kGuestPanic && panic_handler_) {
    panic_handler_(cpu.panic_message());
    return reason;
  }
  if (pending_poweroff_) {
    const int code = *pending_poweroff_;
    pending_poweroff_.reset();
    pending_reset_ = false;
    if (poweroff_handler_) poweroff_handler_(code);
    return reason;
  }
  if (pending_reset_) {
    pending_reset_ = false;
    request_reset();
  }
  return reason;
}

}  // namespace cr16
