#include "hw/spi_nor_flash.h"

#include <sys/stat.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include "util/log.h"

namespace cr16 {
namespace {

using namespace spi_nor;

constexpr uint32_t kAddressMask = 0xFFFFFF;
// count saturates here: no command looks further than a few bytes, and a
// page program keeps its column in `address`.
constexpr uint32_t kCountLimit = 1u << 24;
constexpr uint8_t kIdle = 0xFF;  // MISO when the flash drives nothing

bool decoded_opcode(uint8_t opcode) {
  switch (opcode) {
    case kPageProgram:
    case kRead:
    case kWriteDisable:
    case kReadStatus:
    case kWriteEnable:
    case kFastRead:
    case kSectorErase:
    case kBlockErase32:
    case kReadSfdp:
    case kResetEnable:
    case kReset:
    case kChipErase:
    case kReadManufacturerDeviceId:
    case kJedecId:
    case kReleasePowerDown:
    case kPowerDown:
    case kChipEraseAlt:
    case kBlockErase64:
      return true;
    default:
      return false;
  }
}

Error check_size(uint64_t size, const std::string& what) {
  if (size >= kMinSize && size <= kMaxSize && std::has_single_bit(size)) return Error();
  return Error(what + ": the image is " + std::to_string(size) +
               " bytes; a SPI NOR flash image must be a power of two from 1 MiB to 16 MiB");
}

constexpr StateField kSpiNorFields[] = {
    CR16_STATE_FIELD(SpiNorState, page_buffer),
    CR16_STATE_FIELD(SpiNorState, busy_until_ns),
    CR16_STATE_FIELD(SpiNorState, address).mask(kAddressMask),
    CR16_STATE_FIELD(SpiNorState, count),
    CR16_STATE_FIELD(SpiNorState, status).mask(kStatusWip | kStatusWel),
    CR16_STATE_FIELD(SpiNorState, selected).mask(1),
    CR16_STATE_FIELD(SpiNorState, stage).mask(3),
    CR16_STATE_FIELD(SpiNorState, opcode).mask(0xFF),
    CR16_STATE_FIELD(SpiNorState, powered_down).mask(1),
    CR16_STATE_FIELD(SpiNorState, reset_enabled).mask(1),
};

// The cross-field rules the decoder relies on: a command is only in
// progress while selected, only a decoded opcode can be in progress, WIP
// goes with a deadline, and nothing but READ STATUS runs while busy (and
// nothing but RELEASE while powered down).
Error validate_spi_nor(void* object) {
  const auto* state = static_cast<const SpiNorState*>(object);
  const bool wip = (state->status & kStatusWip) != 0;
  if (state->stage > static_cast<uint32_t>(SpiNorStage::kIgnore)) return Error("stage: unknown");
  if (state->opcode > 0xFF) return Error("opcode: above 0xFF");
  if (state->count > kCountLimit) return Error("count: above the limit");
  if (!state->selected && (state->stage != 0 || state->count != 0)) {
    return Error("stage: a command in progress without chip select");
  }
  const bool in_command = state->stage == static_cast<uint32_t>(SpiNorStage::kCommand);
  if (in_command && !decoded_opcode(static_cast<uint8_t>(state->opcode))) {
    return Error("opcode: not a known command");
  }
  if (wip != (state->busy_until_ns != 0)) return Error("busy_until_ns: does not match WIP");
  if (wip) {
    if (Error error = check_state_time("busy_until_ns", state->busy_until_ns); !error.ok()) {
      return error;
    }
    if (state->powered_down) return Error("powered_down: while a write is in progress");
    if (in_command && state->opcode != kReadStatus) {
      return Error("opcode: only READ STATUS runs while a write is in progress");
    }
  }
  if (state->powered_down && in_command && state->opcode != kReleasePowerDown) {
    return Error("opcode: only RELEASE runs while powered down");
  }
  return Error();
}

const StateDescription kSpiNorDescription = {
    "spi-nor", 1, 1, sizeof(SpiNorState), kSpiNorFields, {}, validate_spi_nor};

constexpr StateField kContentsFields[] = {
    CR16_STATE_FIELD(SpiNorContentsState, array),
};

// The engine refuses a buffer of another size; any bytes are valid flash.
Error validate_contents(void*) {
  return Error();
}

const StateDescription kContentsDescription = {
    "spi-nor-contents", 1, 1, sizeof(SpiNorContentsState), kContentsFields, {}, validate_contents};

void put_le32(std::vector<uint8_t>& out, uint32_t offset, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[offset + i] = static_cast<uint8_t>(value >> (8 * i));
}

}  // namespace

SpiNorFlash::SpiNorFlash(DeviceClock& clock, uint32_t size, const SpiNorOptions& options)
    : clock_(clock), options_(options), array_(size, 0xFF), contents_state_(*this) {
  capacity_code_ = static_cast<uint8_t>(std::countr_zero(size));
  contents_state_.state_.array = StateBuffer{array_.data(), array_.size()};
  build_sfdp();
}

SpiNorFlash::~SpiNorFlash() = default;  // backing_ flushes its queued writes

Expected<std::unique_ptr<SpiNorFlash>> SpiNorFlash::create_erased(DeviceClock& clock, uint32_t size,
                                                                  const SpiNorOptions& options) {
  if (Error error = check_size(size, "SPI NOR flash"); !error.ok()) return error;
  return std::unique_ptr<SpiNorFlash>(new SpiNorFlash(clock, size, options));
}

Expected<std::unique_ptr<SpiNorFlash>> SpiNorFlash::open(DeviceClock& clock,
                                                         const std::string& path,
                                                         const SpiNorOptions& options) {
  const std::string what = "mtd '" + path + "'";
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return Error::from_errno(what, errno);
  if (!S_ISREG(info.st_mode)) return Error(what + ": not a regular file");
  if (Error error = check_size(static_cast<uint64_t>(info.st_size), what); !error.ok()) {
    return error;
  }
  const auto size = static_cast<uint32_t>(info.st_size);
  // FlashBacking checks the size again on the open file, so a file that
  // changed in between is refused too.
  Expected<std::unique_ptr<FlashBacking>> backing =
      FlashBacking::open(path, size, false, options.mode, "mtd");
  if (!backing) return backing.error();
  std::unique_ptr<SpiNorFlash> flash(new SpiNorFlash(clock, size, options));
  if (Error error = (*backing)->read(flash->array_); !error.ok()) return error;
  flash->backing_ = std::move(*backing);
  return flash;
}

// ---- The status register and the busy time.

void SpiNorFlash::settle() {
  if ((state_.status & kStatusWip) && clock_.now_ns() >= state_.busy_until_ns) {
    state_.status &= static_cast<uint32_t>(~(kStatusWip | kStatusWel));
    state_.busy_until_ns = 0;
  }
}

uint8_t SpiNorFlash::status() {
  settle();
  return static_cast<uint8_t>(state_.status);
}

void SpiNorFlash::start_busy(int64_t duration_ns) {
  if (duration_ns <= 0) {  // done at once
    state_.status &= static_cast<uint32_t>(~kStatusWel);
    return;
  }
  const int64_t now = clock_.now_ns();
  state_.busy_until_ns =
      std::min(now + std::min(duration_ns, kMaxStateTimeNs / 2), kMaxStateTimeNs - 1);
  state_.status |= kStatusWip;
}

void SpiNorFlash::reset() {
  state_ = SpiNorState{};
}

// ---- The bus.

void SpiNorFlash::select() {
  if (state_.selected) return;
  state_.selected = 1;
  state_.stage = static_cast<uint32_t>(SpiNorStage::kOpcode);
  state_.count = 0;
  state_.address = 0;
}

void SpiNorFlash::deselect() {
  if (!state_.selected) return;
  if (state_.stage == static_cast<uint32_t>(SpiNorStage::kCommand)) finish_command();
  state_.selected = 0;
  state_.stage = static_cast<uint32_t>(SpiNorStage::kOpcode);
  state_.count = 0;
  state_.address = 0;
}

uint8_t SpiNorFlash::transfer(uint8_t mosi) {
  if (!state_.selected) return kIdle;
  switch (static_cast<SpiNorStage>(state_.stage)) {
    case SpiNorStage::kOpcode:
      start_command(mosi);
      return kIdle;
    case SpiNorStage::kCommand: {
      const uint8_t miso = command_byte(mosi);
      if (state_.count < kCountLimit) ++state_.count;
      return miso;
    }
    case SpiNorStage::kIgnore:
    default:
      return kIdle;
  }
}

void SpiNorFlash::transfer(std::span<const uint8_t> out, std::span<uint8_t> in) {
  for (size_t i = 0; i < out.size(); ++i) {
    const uint8_t miso = transfer(out[i]);
    if (i < in.size()) in[i] = miso;
  }
}

void SpiNorFlash::start_command(uint8_t opcode) {
  settle();
  state_.count = 0;
  state_.address = 0;
  state_.stage = static_cast<uint32_t>(SpiNorStage::kIgnore);
  if (opcode != kReset) state_.reset_enabled = 0;  // RESET must follow RESET ENABLE directly
  if (state_.powered_down && opcode != kReleasePowerDown) {
    log_printf(LogCategory::kGuestErrors,
               "spi-nor: command 0x%02x while powered down ignored (release with 0xAB)", opcode);
    return;
  }
  if ((state_.status & kStatusWip) && opcode != kReadStatus) {
    log_printf(LogCategory::kGuestErrors,
               "spi-nor: command 0x%02x while a program/erase is in progress ignored", opcode);
    return;
  }
  if (!decoded_opcode(opcode)) {
    log_printf(LogCategory::kUnimp, "spi-nor: command 0x%02x not modelled, ignored", opcode);
    return;
  }
  if (opcode == kPageProgram) {
    std::fill(std::begin(state_.page_buffer), std::end(state_.page_buffer), 0xFF);
  }
  state_.opcode = opcode;
  state_.stage = static_cast<uint32_t>(SpiNorStage::kCommand);
}

uint8_t SpiNorFlash::command_byte(uint8_t mosi) {
  const uint32_t n = state_.count;  // index of this byte after the opcode
  const uint32_t mask = size() - 1;
  auto take_address = [&] { state_.address = ((state_.address << 8) | mosi) & kAddressMask; };
  switch (state_.opcode) {
    case kRead:
    case kFastRead:
    case kReadSfdp: {
      const uint32_t dummy = state_.opcode == kRead ? 0 : 1;
      if (n < 3) {
        take_address();
        return kIdle;
      }
      if (n < 3 + dummy) return kIdle;
      uint8_t value;
      if (state_.opcode == kReadSfdp) {
        value = state_.address < sfdp_.size() ? sfdp_[state_.address] : 0xFF;
      } else {
        value = array_[state_.address & mask];  // reads wrap at the end of the array
      }
      state_.address = (state_.address + 1) & kAddressMask;
      return value;
    }
    case kReadStatus:
      return status();
    case kJedecId: {
      const uint8_t id[3] = {options_.identity.manufacturer, options_.identity.memory_type,
                             capacity_code_};
      return n < 3 ? id[n] : kIdle;
    }
    case kReleasePowerDown:
      if (n < 3) return kIdle;  // three dummy bytes, then the signature, repeated
      return static_cast<uint8_t>(capacity_code_ - 1);
    case kReadManufacturerDeviceId: {
      if (n < 3) {
        take_address();
        return kIdle;
      }
      // Address bit 0 picks which of the two comes first; they alternate.
      const bool device_first = (state_.address & 1) != 0;
      const bool device = ((n - 3) & 1) != device_first;
      return device ? static_cast<uint8_t>(capacity_code_ - 1) : options_.identity.manufacturer;
    }
    case kPageProgram:
      if (n < 3) {
        take_address();
        return kIdle;
      }
      // The column wraps inside the page: later bytes replace earlier ones.
      state_.page_buffer[state_.address & 0xFF] = mosi;
      state_.address = (state_.address & ~uint32_t{0xFF}) | ((state_.address + 1) & 0xFF);
      return kIdle;
    case kSectorErase:
    case kBlockErase32:
    case kBlockErase64:
      if (n < 3) take_address();
      return kIdle;
    default:
      return kIdle;  // WREN, WRDI, chip erase, power down: no bytes expected
  }
}

void SpiNorFlash::finish_command() {
  const uint32_t n = state_.count;
  const auto opcode = static_cast<uint8_t>(state_.opcode);
  const bool wel = (state_.status & kStatusWel) != 0;
  auto needs_wel = [&](const char* name) {
    if (!wel) {
      log_printf(LogCategory::kGuestErrors, "spi-nor: %s without WRITE ENABLE ignored", name);
    }
    return wel;
  };
  switch (opcode) {
    case kWriteEnable:
      if (n == 0) state_.status |= kStatusWel;
      return;
    case kWriteDisable:
      if (n == 0) state_.status &= static_cast<uint32_t>(~kStatusWel);
      return;
    case kSectorErase:
    case kBlockErase32:
    case kBlockErase64: {
      if (n != 3) {
        log_printf(LogCategory::kGuestErrors,
                   "spi-nor: erase 0x%02x with %u bytes after the opcode (not 3) dropped", opcode,
                   n);
        return;
      }
      if (!needs_wel("erase")) return;
      const uint32_t unit = opcode == kSectorErase    ? kSectorSize
                            : opcode == kBlockErase32 ? 32u << 10
                                                      : 64u << 10;
      erase(state_.address, unit);
      start_busy(opcode == kSectorErase    ? options_.timing.sector_erase_ns
                 : opcode == kBlockErase32 ? options_.timing.block32_erase_ns
                                           : options_.timing.block64_erase_ns);
      return;
    }
    case kChipErase:
    case kChipEraseAlt:
      if (n != 0 || !needs_wel("chip erase")) return;
      erase(0, size());
      start_busy(options_.timing.chip_erase_ns);
      return;
    case kPageProgram:
      if (n <= 3) {
        log_printf(LogCategory::kGuestErrors, "spi-nor: page program without data dropped");
        return;
      }
      if (!needs_wel("page program")) return;
      program_page();
      start_busy(options_.timing.page_program_ns);
      return;
    case kPowerDown:
      if (n == 0) state_.powered_down = 1;
      return;
    case kResetEnable:
      if (n == 0) state_.reset_enabled = 1;
      return;
    case kReset:
      if (n == 0 && state_.reset_enabled) {
        reset();  // deselect() ends the cycle on the fresh state
        state_.selected = 1;
      }
      state_.reset_enabled = 0;
      return;
    case kReleasePowerDown:
      state_.powered_down = 0;
      return;
    default:
      return;
  }
}

// ---- The array.

void SpiNorFlash::erase(uint32_t address, uint32_t unit) {
  const uint32_t base = address & (size() - 1) & ~(unit - 1);
  for (uint32_t sector = base; sector < base + unit; sector += kSectorSize) {
    uint8_t* bytes = array_.data() + sector;
    if (std::all_of(bytes, bytes + kSectorSize, [](uint8_t b) { return b == 0xFF; })) continue;
    std::fill(bytes, bytes + kSectorSize, 0xFF);
    changed(sector, kSectorSize);
  }
}

void SpiNorFlash::program_page() {
  const uint32_t base = state_.address & (size() - 1) & ~(kPageSize - 1);
  bool any = false;
  for (uint32_t column = 0; column < kPageSize; ++column) {
    uint8_t& cell = array_[base + column];
    const uint8_t programmed = cell & state_.page_buffer[column];  // bits only go 1 -> 0
    if (programmed != cell) {
      cell = programmed;
      any = true;
    }
  }
  if (any) changed(base, kPageSize);
}

void SpiNorFlash::changed(uint32_t offset, uint32_t length) {
  if (backing_) backing_->changed(array_.data(), offset, length);
}

void SpiNorFlash::contents_loaded(uint32_t offset, uint32_t length) {
  if (offset >= size()) return;
  length = std::min(length, size() - offset);
  if (length > 0) changed(offset, length);
}

Error SpiNorFlash::flush() {
  return backing_ ? backing_->flush() : Error();
}

// ---- SFDP (JESD216, the original 9-DWORD basic table).

void SpiNorFlash::build_sfdp() {
  sfdp_.assign(kSfdpBasicTableOffset + 9 * 4, 0xFF);
  const uint8_t header[16] = {
      'S',
      'F',
      'D',
      'P',
      0x00,
      0x01,
      0x00,
      0xFF,  // revision 1.0, one parameter header
      0x00,
      0x00,
      0x01,
      9,  // JEDEC basic table 1.0, 9 DWORDs,
      kSfdpBasicTableOffset,
      0x00,
      0x00,
      0xFF,  // at 0x30
  };
  std::memcpy(sfdp_.data(), header, sizeof header);
  const uint32_t table = kSfdpBasicTableOffset;
  // DWORD 1: 4 KiB erase supported (bits 1:0 = 01), page-size write
  // granularity (bit 2), opcode 0x20 for 4 KiB erase; 3-byte addresses
  // only and no dual/quad reads (bits 22:16 clear, unused bits set).
  put_le32(sfdp_, table + 0, 0xFF802000u | 0xE5u);
  // DWORD 2: the density in bits minus one.
  put_le32(sfdp_, table + 4, size() * 8u - 1);
  put_le32(sfdp_, table + 8, 0);             // DWORD 3: no 1-4-4 / 1-1-4 reads
  put_le32(sfdp_, table + 12, 0);            // DWORD 4: no 1-1-2 / 1-2-2 reads
  put_le32(sfdp_, table + 16, 0xFFFFFFEEu);  // DWORD 5: no 2-2-2 / 4-4-4 reads
  put_le32(sfdp_, table + 20, 0x0000FFFFu);  // DWORD 6: (2-2-2 unsupported)
  put_le32(sfdp_, table + 24, 0x0000FFFFu);  // DWORD 7: (4-4-4 unsupported)
  // DWORDs 8 and 9: erase types 4 KiB 0x20, 32 KiB 0x52, 64 KiB 0xD8.
  put_le32(sfdp_, table + 28, 0x520F200Cu);
  put_le32(sfdp_, table + 32, 0xFF00D810u);
}

// ---- State.

const StateDescription& spi_nor_state_description() {
  return kSpiNorDescription;
}

const StateDescription& spi_nor_contents_state_description() {
  return kContentsDescription;
}

const StateDescription& SpiNorFlash::state_description() const {
  return kSpiNorDescription;
}

const StateDescription& SpiNorFlash::ContentsState::state_description() const {
  return kContentsDescription;
}

void SpiNorFlash::ContentsState::state_loaded() {
  flash_.contents_loaded(0, flash_.size());
}

}  // namespace cr16
