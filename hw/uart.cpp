#include "hw/uart.h"

#include <array>
#include <cstddef>

#include "hw/virt_map.h"
#include "util/log.h"

namespace cr16 {
namespace {

constexpr uint32_t kAll = 0xFFFFFFFFu;
constexpr uint32_t kFifoSize = virt::kUartFifoSize;

constexpr std::array<LegacyStateField, 14> kUartFields = {{
    {"rx_fifo0", LegacyFieldKind::kU32, offsetof(UartState, rx_fifo) + 0, 1, kAll},
    {"rx_fifo1", LegacyFieldKind::kU32, offsetof(UartState, rx_fifo) + 4, 1, kAll},
    {"rx_fifo2", LegacyFieldKind::kU32, offsetof(UartState, rx_fifo) + 8, 1, kAll},
    {"rx_fifo3", LegacyFieldKind::kU32, offsetof(UartState, rx_fifo) + 12, 1, kAll},
    {"tx_fifo0", LegacyFieldKind::kU32, offsetof(UartState, tx_fifo) + 0, 1, kAll},
    {"tx_fifo1", LegacyFieldKind::kU32, offsetof(UartState, tx_fifo) + 4, 1, kAll},
    {"tx_fifo2", LegacyFieldKind::kU32, offsetof(UartState, tx_fifo) + 8, 1, kAll},
    {"tx_fifo3", LegacyFieldKind::kU32, offsetof(UartState, tx_fifo) + 12, 1, kAll},
    {"rx_head", LegacyFieldKind::kU32, offsetof(UartState, rx_head), 1, kFifoSize - 1},
    {"rx_count", LegacyFieldKind::kU32, offsetof(UartState, rx_count), 1, 0x1F},
    {"tx_head", LegacyFieldKind::kU32, offsetof(UartState, tx_head), 1, kFifoSize - 1},
    {"tx_count", LegacyFieldKind::kU32, offsetof(UartState, tx_count), 1, 0x1F},
    {"status_sticky", LegacyFieldKind::kU32, offsetof(UartState, status_sticky), 1,
     virt::kUartStatusRxOverrun | virt::kUartStatusTxOverrun},
    {"ctrl", LegacyFieldKind::kU32, offsetof(UartState, ctrl), 1,
     virt::kUartCtrlRxie | virt::kUartCtrlTxie},
}};

Error validate_uart(void* object) {
  auto* state = static_cast<UartState*>(object);
  if (state->rx_count > kFifoSize) return Error("uart: rx_count larger than the FIFO");
  if (state->tx_count > kFifoSize) return Error("uart: tx_count larger than the FIFO");
  return Error();
}

const LegacyStateDescription kUartDescription = {"uart", 1, 1, kUartFields, validate_uart};

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

uint8_t UartDevice::fifo_byte(const uint32_t* fifo, uint32_t index) const {
  index %= kFifoSize;
  return static_cast<uint8_t>(fifo[index / 4] >> (8 * (index % 4)));
}

void UartDevice::set_fifo_byte(uint32_t* fifo, uint32_t index, uint8_t value) {
  index %= kFifoSize;
  uint32_t shift = 8 * (index % 4);
  fifo[index / 4] = (fifo[index / 4] & ~(0xFFu << shift)) | (uint32_t{value} << shift);
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
    set_fifo_byte(state_.rx_fifo, state_.rx_head + state_.rx_count, byte);
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
    for (uint32_t i = 0; i < length; ++i) chunk[i] = fifo_byte(state_.tx_fifo, state_.tx_head + i);
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
      uint8_t byte = fifo_byte(state_.rx_fifo, state_.rx_head);
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
      set_fifo_byte(state_.tx_fifo, state_.tx_head + state_.tx_count, value & 0xFF);
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

const LegacyStateDescription& UartDevice::state_description() const {
  return kUartDescription;
}

Error UartDevice::post_load() {
  if (Error error = validate_uart(&state_); !error.ok()) return error;
  clock_.cancel(tx_retry_);
  tx_retry_ = 0;
  if (state_.tx_count > 0) schedule_tx_retry();
  update_lines();
  if (state_.rx_count < kFifoSize && backend_ != nullptr) backend_->frontend_ready();
  return Error();
}

}  // namespace cr16
