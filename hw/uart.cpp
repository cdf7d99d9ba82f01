#include "hw/uart.h"

#include <cstddef>

#include "hw/virt_map.h"
#include "util/log.h"

namespace cr16 {
namespace {

constexpr uint32_t kFifoSize = virt::kUartFifoSize;
static_assert(sizeof(UartState::rx_fifo) == kFifoSize && sizeof(UartState::tx_fifo) == kFifoSize);

constexpr StateField kUartFields[] = {
    CR16_STATE_FIELD(UartState, rx_fifo),
    CR16_STATE_FIELD(UartState, tx_fifo),
    CR16_STATE_FIELD(UartState, rx_head).mask(kFifoSize - 1),
    CR16_STATE_FIELD(UartState, rx_count).mask(0x1F),
    CR16_STATE_FIELD(UartState, tx_head).mask(kFifoSize - 1),
    CR16_STATE_FIELD(UartState, tx_count).mask(0x1F),
    CR16_STATE_FIELD(UartState, status_sticky)
        .mask(virt::kUartStatusRxOverrun | virt::kUartStatusTxOverrun),
    CR16_STATE_FIELD(UartState, ctrl).mask(virt::kUartCtrlRxie | virt::kUartCtrlTxie),
};

// Heads index the rings and counts bound the bytes read from them.
Error validate_uart(void* object) {
  const auto* state = static_cast<const UartState*>(object);
  if (state->rx_head >= kFifoSize) return Error("rx_head outside the FIFO");
  if (state->tx_head >= kFifoSize) return Error("tx_head outside the FIFO");
  if (state->rx_count > kFifoSize) return Error("rx_count larger than the FIFO");
  if (state->tx_count > kFifoSize) return Error("tx_count larger than the FIFO");
  return Error();
}

const StateDescription kUartDescription = {"uart",       1, 1, sizeof(UartState), kUartFields, {},
                                           validate_uart};

}  // namespace

UartDevice::UartDevice(const char* name, DeviceClock& clock, CharBackend* backend, IrqLine rx_line,
                       IrqLine tx_line)
    : RegisterDevice(name), clock_(clock), backend_(backend), rx_line_(rx_line), tx_line_(tx_line) {
  if (backend_ != nullptr) backend_->attach(this);
  update_lines();
}

UartDevice::~UartDevice() {
  clock_.cancel(tx_retry_);
  if (backend_ != nullptr) backend_->attach(nullptr);
}

void UartDevice::reset() {
  bool was_full = state_.rx_count == kFifoSize;
  state_ = UartState{};
  clock_.cancel(tx_retry_);
  tx_retry_ = 0;
  update_lines();
  if (was_full && backend_ != nullptr) backend_->frontend_ready();
}

size_t UartDevice::can_receive() {
  return kFifoSize - state_.rx_count;
}

void UartDevice::receive(std::span<const uint8_t> bytes) {
  for (uint8_t byte : bytes) {
    if (state_.rx_count == kFifoSize) {
      state_.status_sticky |= virt::kUartStatusRxOverrun;
      log_printf(LogCategory::kGuestErrors, "%s: RX FIFO overrun, byte dropped", name());
      continue;
    }
    state_.rx_fifo[(state_.rx_head + state_.rx_count) % kFifoSize] = byte;
    ++state_.rx_count;
  }
  update_lines();
}

uint32_t UartDevice::status() const {
  uint32_t value = state_.status_sticky;
  if (state_.rx_count > 0) value |= virt::kUartStatusRxAvail;
  if (state_.tx_count < kFifoSize) value |= virt::kUartStatusTxSpace;
  if (state_.tx_count == 0) value |= virt::kUartStatusTxEmpty;
  value |= state_.rx_count << virt::kUartStatusRxLevelShift;
  value |= state_.tx_count << virt::kUartStatusTxLevelShift;
  return value;
}

void UartDevice::update_lines() {
  rx_line_.set((state_.ctrl & virt::kUartCtrlRxie) && state_.rx_count > 0);
  tx_line_.set((state_.ctrl & virt::kUartCtrlTxie) && state_.tx_count == 0);
}

void UartDevice::flush_tx() {
  if (state_.tx_count == 0) return;
  if (backend_ == nullptr) {  // unconnected: output vanishes
    state_.tx_count = 0;
    return;
  }
  while (state_.tx_count > 0) {
    // The ring may wrap: send the contiguous part first.
    uint8_t chunk[virt::kUartFifoSize];
    uint32_t length = state_.tx_count;
    for (uint32_t i = 0; i < length; ++i)
      chunk[i] = state_.tx_fifo[(state_.tx_head + i) % kFifoSize];
    size_t accepted = backend_->write(std::span<const uint8_t>(chunk, length));
    if (accepted > length) accepted = length;
    state_.tx_head = (state_.tx_head + accepted) % kFifoSize;
    state_.tx_count -= static_cast<uint32_t>(accepted);
    if (accepted == 0) break;
  }
  if (state_.tx_count > 0) schedule_tx_retry();
}

void UartDevice::schedule_tx_retry() {
  if (tx_retry_ != 0) return;
  tx_retry_ = clock_.arm(clock_.now_ns() + kTxRetryNs, [this] {
    tx_retry_ = 0;
    flush_tx();
    update_lines();
  });
}

uint32_t UartDevice::read_register(uint32_t reg, bool side_effects) {
  switch (reg) {
    case virt::kUartData: {
      if (state_.rx_count == 0) return 0;
      uint8_t byte = state_.rx_fifo[state_.rx_head % kFifoSize];
      if (side_effects) {
        bool was_full = state_.rx_count == kFifoSize;
        state_.rx_head = (state_.rx_head + 1) % kFifoSize;
        --state_.rx_count;
        update_lines();
        if (was_full && backend_ != nullptr) backend_->frontend_ready();
      }
      return byte;
    }
    case virt::kUartStatus:
      return status();
    case virt::kUartCtrl:
      return state_.ctrl;
    case virt::kUartFifoDepth:
      return virt::kUartFifoDepthValue;
    default:
      log_bad_register("read", reg);
      return 0;
  }
}

void UartDevice::write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) {
  switch (reg) {
    case virt::kUartData:
      if (!(byte_mask & 0xFF)) return;  // only bits 7:0 carry data
      if (state_.tx_count == kFifoSize) {
        state_.status_sticky |= virt::kUartStatusTxOverrun;
        log_printf(LogCategory::kGuestErrors, "%s: TX FIFO full, byte dropped", name());
        return;
      }
      state_.tx_fifo[(state_.tx_head + state_.tx_count) % kFifoSize] = static_cast<uint8_t>(value);
      ++state_.tx_count;
      flush_tx();
      update_lines();
      return;
    case virt::kUartStatus:
      state_.status_sticky &= ~(value & (virt::kUartStatusRxOverrun | virt::kUartStatusTxOverrun));
      return;
    case virt::kUartCtrl:
      state_.ctrl =
          merge(state_.ctrl, value, byte_mask) & (virt::kUartCtrlRxie | virt::kUartCtrlTxie);
      update_lines();
      return;
    case virt::kUartFifoDepth:
      return;  // read-only
    default:
      log_bad_register("write", reg);
      return;
  }
}

const StateDescription& uart_state_description() {
  return kUartDescription;
}

const StateDescription& UartDevice::state_description() const {
  return kUartDescription;
}

void UartDevice::state_loaded() {
  clock_.cancel(tx_retry_);
  tx_retry_ = 0;
  if (state_.tx_count > 0) schedule_tx_retry();
  update_lines();
  if (state_.rx_count < kFifoSize && backend_ != nullptr) backend_->frontend_ready();
}

}  // namespace cr16
