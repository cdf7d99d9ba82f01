#include "hw/sc14441_uart.h"

#include <cstddef>

#include "hw/sc14441_icu.h"
#include "util/log.h"

namespace cr16 {
namespace {

using namespace sc14441;

constexpr StateField kUartFields[] = {
    CR16_STATE_FIELD(Sc14441UartState, input),
    CR16_STATE_FIELD(Sc14441UartState, input_head).mask(kUartInputBufferSize - 1),
    CR16_STATE_FIELD(Sc14441UartState, input_count),
    CR16_STATE_FIELD(Sc14441UartState, ctrl).mask(kUartCtrlWritable),
    CR16_STATE_FIELD(Sc14441UartState, ti).mask(1),
    CR16_STATE_FIELD(Sc14441UartState, holding).mask(0xFF),
    CR16_STATE_FIELD(Sc14441UartState, holding_full).mask(1),
    CR16_STATE_FIELD(Sc14441UartState, error).mask(kUartErrorMask),
};

Error validate_uart(void* object) {
  const auto* state = static_cast<const Sc14441UartState*>(object);
  if (state->input_count > kUartInputBufferSize) return Error("input_count: above the buffer size");
  return Error();
}

const StateDescription kUartDescription = {
    "sc14441-uart", 1, 1, sizeof(Sc14441UartState), kUartFields, {}, validate_uart};

}  // namespace

Sc14441Uart::Sc14441Uart(const char* name, uint32_t base, CharBackend* backend, Sc14441Icu* icu,
                         unsigned rx_source, unsigned tx_source)
    : name_(name),
      base_(base),
      backend_(backend),
      icu_(icu),
      rx_source_(rx_source),
      tx_source_(tx_source) {
  if (backend_ != nullptr) backend_->attach(this);
}

Sc14441Uart::~Sc14441Uart() {
  if (backend_ != nullptr) backend_->attach(nullptr);
}

void Sc14441Uart::set_dma_hooks(std::function<bool(bool)> rerouted, std::function<void()> rx_ready,
                                std::function<void()> tx_ready) {
  rerouted_ = std::move(rerouted);
  rx_ready_ = std::move(rx_ready);
  tx_ready_ = std::move(tx_ready);
}

void Sc14441Uart::reset() {
  state_.ctrl = 0;
  state_.ti = 0;
  state_.holding = 0;
  state_.holding_full = 0;
  state_.error = 0;
}

size_t Sc14441Uart::can_receive() {
  return kUartInputBufferSize - state_.input_count;
}

void Sc14441Uart::receive(std::span<const uint8_t> bytes) {
  for (uint8_t byte : bytes) {
    if (state_.input_count == kUartInputBufferSize) break;  // the backend respects can_receive()
    state_.input[(state_.input_head + state_.input_count) % kUartInputBufferSize] = byte;
    ++state_.input_count;
  }
  fill();
}

void Sc14441Uart::fill() {
  if (state_.holding_full || !(state_.ctrl & kUartRen) || state_.input_count == 0) return;
  const bool was_full = state_.input_count == kUartInputBufferSize;
  state_.holding = state_.input[state_.input_head];
  state_.input_head = (state_.input_head + 1) % kUartInputBufferSize;
  --state_.input_count;
  state_.holding_full = 1;
  if (was_full && backend_ != nullptr) backend_->frontend_ready();
  if (!(rerouted_ && rerouted_(true)) && icu_ != nullptr) icu_->request(rx_source_);
  if (rx_ready_) rx_ready_();
}

void Sc14441Uart::transmit(uint8_t byte) {
  if (!(state_.ctrl & kUartTen)) {
    log_printf(LogCategory::kGuestErrors, "sc14441-%s: byte 0x%02x written with TEN=0, dropped",
               name_, byte);
    return;
  }
  if (backend_ != nullptr && backend_->write(std::span<const uint8_t>(&byte, 1)) != 1) {
    log_printf(LogCategory::kGuestErrors, "sc14441-%s: backend full, byte 0x%02x dropped", name_,
               byte);
  }
  state_.ti = 1;
  if (!(rerouted_ && rerouted_(false)) && icu_ != nullptr) icu_->request(tx_source_);
  if (tx_ready_) tx_ready_();
}

uint16_t Sc14441Uart::read_reg(uint32_t reg, bool side_effects) {
  switch (reg - base_) {
    case kUartCtrl:
      return static_cast<uint16_t>(state_.ctrl | (state_.ti ? kUartTi : 0) |
                                   (state_.holding_full ? kUartRi : 0));
    case kUartRxTx: {
      const auto byte = static_cast<uint16_t>(state_.holding);
      if (side_effects && state_.holding_full) {
        state_.holding_full = 0;
        fill();
      }
      return byte;
    }
    case kUartError:
      return static_cast<uint16_t>(state_.error);
    default:
      return 0;  // the clear registers read 0
  }
}

void Sc14441Uart::write_reg(uint32_t reg, uint16_t value, uint16_t byte_mask) {
  switch (reg - base_) {
    case kUartCtrl: {
      const bool had_ten = state_.ctrl & kUartTen;
      state_.ctrl = merge(static_cast<uint16_t>(state_.ctrl), value, byte_mask) & kUartCtrlWritable;
      fill();
      if (!had_ten && (state_.ctrl & kUartTen) && tx_ready_) tx_ready_();
      return;
    }
    case kUartRxTx:
      if (!(byte_mask & 0x00FF)) return;  // only bits 7:0 carry data
      state_.ti = 0;
      transmit(static_cast<uint8_t>(value));
      return;
    case kUartClearTxInt:
      state_.ti = 0;
      if (icu_ != nullptr) icu_->clear_request(tx_source_);
      return;
    case kUartClearRxInt:
      if (icu_ != nullptr) icu_->clear_request(rx_source_);
      return;
    case kUartError:
      state_.error = merge(static_cast<uint16_t>(state_.error), value, byte_mask) & kUartErrorMask;
      return;
    default:
      return;
  }
}

const StateDescription& sc14441_uart_state_description() {
  return kUartDescription;
}

const StateDescription& Sc14441Uart::state_description() const {
  return kUartDescription;
}

void Sc14441Uart::state_loaded() {
  if (state_.input_count < kUartInputBufferSize && backend_ != nullptr) backend_->frontend_ready();
}

}  // namespace cr16
