#include "hw/sc14441_dma.h"

#include <cstddef>

#include "hw/sc14441_icu.h"
#include "hw/sc14441_uart.h"
#include "util/log.h"

namespace cr16 {
namespace {

using namespace sc14441;

constexpr StateField kChannelFields[] = {
    CR16_STATE_FIELD(Sc14441DmaChannelState, a_start).mask(0xFFFFFF),
    CR16_STATE_FIELD(Sc14441DmaChannelState, b_start).mask(0xFFFFFF),
    CR16_STATE_FIELD(Sc14441DmaChannelState, int_reg).mask(0xFFFF),
    CR16_STATE_FIELD(Sc14441DmaChannelState, len).mask(0xFFFF),
    CR16_STATE_FIELD(Sc14441DmaChannelState, ctrl).mask(kDmaCtrlMask),
    CR16_STATE_FIELD(Sc14441DmaChannelState, idx).mask(0xFFFF),
    CR16_STATE_FIELD(Sc14441DmaChannelState, a_pointer).mask(0xFFFFFF),
    CR16_STATE_FIELD(Sc14441DmaChannelState, b_pointer).mask(0xFFFFFF),
};

Error validate_channel(void*) {
  return Error();
}

const StateDescription kChannelDescription = {
    "sc14441-dma-channel", 1, 1, sizeof(Sc14441DmaChannelState), kChannelFields, {},
    validate_channel};

constexpr StateField kDmaFields[] = {
    CR16_STATE_STRUCT(Sc14441DmaState, channel, kChannelDescription),
};

// IDX beyond LEN would only stop or wrap at the next unit; the masks keep
// every address within 24 bits.
Error validate_dma(void*) {
  return Error();
}

const StateDescription kDmaDescription = {"sc14441-dma", 1,  1,           sizeof(Sc14441DmaState),
                                          kDmaFields,    {}, validate_dma};

unsigned unit_bytes(uint32_t ctrl) {
  switch ((ctrl & kDmaBwMask) >> kDmaBwShift) {
    case 0:
      return 1;
    case 1:
      return 2;
    default:
      return 4;  // 3 is undefined: treated as word
  }
}

}  // namespace

Sc14441Dma::Sc14441Dma(AddressSpace& memory, Sc14441Uart& uart, Sc14441Icu& icu)
    : memory_(memory), uart_(uart), icu_(icu) {}

void Sc14441Dma::reset() {
  state_ = Sc14441DmaState{};
}

bool Sc14441Dma::uart_rerouted(bool rx) const {
  const unsigned index = rx ? kDmaUartRxChannel : kDmaUartTxChannel;
  return (state_.channel[index].ctrl & kDmaDintMode) != 0;
}

void Sc14441Dma::uart_rx_request() {
  service(kDmaUartRxChannel);
}

void Sc14441Dma::uart_tx_request() {
  service(kDmaUartTxChannel);
}

bool Sc14441Dma::request_stands(unsigned index) const {
  const Sc14441DmaChannelState& channel = state_.channel[index];
  if (!(channel.ctrl & kDmaOn) || !(channel.ctrl & kDmaDreqMode)) return false;
  if (index == kDmaUartRxChannel) return uart_.rx_full();
  if (index == kDmaUartTxChannel) return uart_.tx_ready();
  return false;  // SPI: not modelled
}

void Sc14441Dma::service(unsigned index) {
  if (running_[index]) return;  // the loop below picks the new request up
  running_[index] = true;
  // A circular TX ring never runs dry (TX is instantaneous): one call moves
  // at most 64 Ki units, the next request continues.
  for (uint32_t units = 0; units < 0x10000 && request_stands(index) && move_unit(index); ++units) {
  }
  running_[index] = false;
}

bool Sc14441Dma::move_unit(unsigned index) {
  Sc14441DmaChannelState& channel = state_.channel[index];
  if (channel.len == 0) {  // nothing to move: stop
    channel.ctrl &= ~kDmaOn;
    return false;
  }
  const unsigned bytes = unit_bytes(channel.ctrl);
  const auto size = static_cast<AccessSize>(bytes);
  uint32_t value = 0;
  if (memory_.read_slow(channel.a_pointer, size, &value) != BusStatus::kOk) {
    log_printf(LogCategory::kGuestErrors, "sc14441-dma: channel %u read of 0x%06x failed", index,
               channel.a_pointer);
  }
  if (memory_.write_slow(channel.b_pointer, size, value) != BusStatus::kOk) {
    log_printf(LogCategory::kGuestErrors, "sc14441-dma: channel %u write to 0x%06x failed", index,
               channel.b_pointer);
  }
  // The access may have reprogrammed this very channel (B pointing at its
  // own registers): a stopped or restarted channel is left as it now is.
  if (!(channel.ctrl & kDmaOn)) return false;
  if (channel.ctrl & kDmaAinc) channel.a_pointer = (channel.a_pointer + bytes) & 0xFFFFFF;
  if (channel.ctrl & kDmaBinc) channel.b_pointer = (channel.b_pointer + bytes) & 0xFFFFFF;
  channel.idx = (channel.idx + 1) & 0xFFFF;
  if ((channel.ctrl & kDmaDintMode) && channel.idx == channel.int_reg) {
    if (index == kDmaUartRxChannel) icu_.request(kIrqUartRi);
    if (index == kDmaUartTxChannel) icu_.request(kIrqUartTi);
  }
  if (channel.idx >= channel.len) {
    if ((channel.ctrl & kDmaCircular) && (channel.ctrl & kDmaDreqMode)) {
      channel.idx = 0;
      channel.a_pointer = channel.a_start;
      channel.b_pointer = channel.b_start;
    } else {
      channel.ctrl &= ~kDmaOn;
      return false;
    }
  }
  return true;
}

void Sc14441Dma::start(unsigned index) {
  Sc14441DmaChannelState& channel = state_.channel[index];
  channel.idx = 0;
  channel.a_pointer = channel.a_start;
  channel.b_pointer = channel.b_start;
  if (channel.ctrl & kDmaDreqMode) {
    if (index != kDmaUartRxChannel && index != kDmaUartTxChannel) {
      log_printf(LogCategory::kUnimp,
                 "sc14441-dma: channel %u started in DREQ mode: SPI requests are not modelled",
                 index);
      return;
    }
    service(index);
    return;
  }
  if (running_[index]) return;  // restarted from its own transfer: the loop goes on
  if (channel.ctrl & kDmaCircular) {
    log_printf(LogCategory::kUnimp,
               "sc14441-dma: channel %u: circular memory-to-memory runs one pass", index);
  }
  running_[index] = true;
  uint32_t units = 0;
  while (move_unit(index)) ++units;
  running_[index] = false;
  if (units >= kLongTransferUnits && long_transfer_) long_transfer_();
}

uint16_t Sc14441Dma::read_reg(uint32_t reg, bool) {
  const unsigned index = (reg - kDmaBase) / kDmaChannelStride;
  const Sc14441DmaChannelState& channel = state_.channel[index];
  switch ((reg - kDmaBase) % kDmaChannelStride) {
    case kDmaAStartL:
      return static_cast<uint16_t>(channel.a_start);
    case kDmaAStartH:
      return static_cast<uint16_t>(channel.a_start >> 16);
    case kDmaBStartL:
      return static_cast<uint16_t>(channel.b_start);
    case kDmaBStartH:
      return static_cast<uint16_t>(channel.b_start >> 16);
    case kDmaIntReg:
      return static_cast<uint16_t>(channel.int_reg);
    case kDmaLenReg:
      return static_cast<uint16_t>(channel.len);
    case kDmaCtrlReg:
      return static_cast<uint16_t>(channel.ctrl);
    default:  // kDmaIdxReg
      return static_cast<uint16_t>(channel.idx);
  }
}

void Sc14441Dma::write_reg(uint32_t reg, uint16_t value, uint16_t byte_mask) {
  const unsigned index = (reg - kDmaBase) / kDmaChannelStride;
  Sc14441DmaChannelState& channel = state_.channel[index];
  auto set_low = [&](uint32_t& address) {
    address = (address & 0xFF0000) | merge(static_cast<uint16_t>(address), value, byte_mask);
  };
  auto set_high = [&](uint32_t& address) {
    const uint16_t high = merge(static_cast<uint16_t>(address >> 16), value, byte_mask) & 0xFF;
    address = (address & 0xFFFF) | (uint32_t{high} << 16);
  };
  switch ((reg - kDmaBase) % kDmaChannelStride) {
    case kDmaAStartL:
      set_low(channel.a_start);
      return;
    case kDmaAStartH:
      set_high(channel.a_start);
      return;
    case kDmaBStartL:
      set_low(channel.b_start);
      return;
    case kDmaBStartH:
      set_high(channel.b_start);
      return;
    case kDmaIntReg:
      channel.int_reg = merge(static_cast<uint16_t>(channel.int_reg), value, byte_mask);
      return;
    case kDmaLenReg:
      channel.len = merge(static_cast<uint16_t>(channel.len), value, byte_mask);
      return;
    case kDmaCtrlReg: {
      const bool was_on = channel.ctrl & kDmaOn;
      channel.ctrl = merge(static_cast<uint16_t>(channel.ctrl), value, byte_mask) & kDmaCtrlMask;
      if (!was_on && (channel.ctrl & kDmaOn)) start(index);
      return;
    }
    default:  // IDX is read-only
      return;
  }
}

const StateDescription& sc14441_dma_state_description() {
  return kDmaDescription;
}

const StateDescription& Sc14441Dma::state_description() const {
  return kDmaDescription;
}

}  // namespace cr16
