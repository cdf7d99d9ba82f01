#include "hw/sc14441_qspi.h"

#include <algorithm>
#include <cstddef>

#include "hw/sc14441_map.h"
#include "hw/spi_nor_flash.h"
#include "util/log.h"

namespace cr16 {
namespace {

using namespace sc14441;

constexpr StateField kQspiFields[] = {
    CR16_STATE_FIELD(Sc14441QspiState, regs),
    CR16_STATE_FIELD(Sc14441QspiState, io_mode).mask(3),
};

Error validate_qspi(void* object) {
  const auto* state = static_cast<const Sc14441QspiState*>(object);
  if (state->io_mode > 2) return Error("io_mode: not single, dual or quad");
  return Error();
}

const StateDescription kQspiDescription = {
    "sc14441-qspi", 1, 1, sizeof(Sc14441QspiState), kQspiFields, {}, validate_qspi};

uint32_t width_mask(AccessSize size) {
  return size == AccessSize::kDword ? 0xFFFFFFFFu : (1u << (8 * static_cast<unsigned>(size))) - 1;
}

}  // namespace

Sc14441Qspi::Sc14441Qspi(SpiNorFlash& flash) : flash_(flash) {
  reset();
}

void Sc14441Qspi::reset() {
  state_ = Sc14441QspiState{};
  state_.regs[kQspiCtrlMode / 4] = kQspiModeReset;
  if (flash_.selected()) flash_.deselect();
}

bool Sc14441Qspi::auto_mode() const {
  return (state_.regs[kQspiCtrlMode / 4] & kQspiModeAuto) != 0;
}

uint32_t Sc14441Qspi::xip_size() const {
  return std::min(flash_.size(), kXipMaxSize);
}

void Sc14441Qspi::strobe(uint32_t bits) {
  if (bits & kQspiBusSetSingle) state_.io_mode = 0;
  if (bits & kQspiBusSetDual) state_.io_mode = 1;
  if (bits & kQspiBusSetQuad) state_.io_mode = 2;
  if (bits & (kQspiBusSetDual | kQspiBusSetQuad)) {
    log_printf(LogCategory::kUnimp,
               "sc14441-qspi: dual/quad I/O is not modelled; transfers stay single");
  }
  if (bits & kQspiBusEnCs) flash_.select();
  if (bits & kQspiBusDisCs) flash_.deselect();
}

uint32_t Sc14441Qspi::sfr_read(uint32_t address, AccessSize size, bool peek) {
  const uint32_t offset = address - kQspiBase;
  const uint32_t reg = offset & ~3u;
  const unsigned lane = offset & 3;
  switch (reg) {
    case kQspiCtrlBus:
    case kQspiStatus:  // BUSY is always 0
      return 0;
    case kQspiReadData: {
      if (peek || lane != 0) return 0;
      const unsigned count = size == AccessSize::kByte ? 1 : static_cast<unsigned>(size);
      uint32_t received = 0;
      for (unsigned i = 0; i < count; ++i) {
        received |= uint32_t{flash_.transfer(0xFF)} << (8 * i);
      }
      state_.regs[kQspiRecvData / 4] = received;
      return received;
    }
    default:
      return (state_.regs[reg / 4] >> (8 * lane)) & width_mask(size);
  }
}

void Sc14441Qspi::sfr_write(uint32_t address, AccessSize size, uint32_t value) {
  const uint32_t offset = address - kQspiBase;
  const uint32_t reg = offset & ~3u;
  const unsigned lane = offset & 3;
  value &= width_mask(size);
  switch (reg) {
    case kQspiCtrlBus:
      strobe(value << (8 * lane));
      return;
    case kQspiWriteData:
      for (unsigned i = 0; i < static_cast<unsigned>(size); ++i) {
        (void)flash_.transfer(static_cast<uint8_t>(value >> (8 * i)));
      }
      return;
    case kQspiRecvData:
    case kQspiStatus:
    case kQspiReadData:
      return;  // read-only
    default: {
      const uint32_t mask = width_mask(size) << (8 * lane);
      uint32_t& stored = state_.regs[reg / 4];
      stored = (stored & ~mask) | ((value << (8 * lane)) & mask);
      return;
    }
  }
}

uint32_t Sc14441Qspi::Xip::contents(uint32_t offset, AccessSize size) const {
  const std::span<const uint8_t> array = qspi_.flash_.contents();
  uint32_t value = 0;
  for (unsigned i = 0; i < static_cast<unsigned>(size); ++i) {
    value |= uint32_t{array[(offset + i) % array.size()]} << (8 * i);
  }
  return value;
}

uint32_t Sc14441Qspi::Xip::read(uint32_t offset, AccessSize size) {
  if (!qspi_.auto_mode()) {
    log_printf(LogCategory::kGuestErrors,
               "sc14441-qspi: XIP read at 0x%06x while the controller is in manual mode reads 0",
               kXipBase + offset);
    return 0;
  }
  return contents(offset, size);
}

bool Sc14441Qspi::Xip::peek(uint32_t offset, AccessSize size, uint32_t* value) {
  *value = contents(offset, size);
  return true;
}

void Sc14441Qspi::Xip::write(uint32_t offset, AccessSize, uint32_t value) {
  log_printf(LogCategory::kGuestErrors,
             "sc14441-qspi: write of 0x%x to the read-only XIP window at 0x%06x ignored", value,
             kXipBase + offset);
}

const StateDescription& sc14441_qspi_state_description() {
  return kQspiDescription;
}

const StateDescription& Sc14441Qspi::state_description() const {
  return kQspiDescription;
}

}  // namespace cr16
