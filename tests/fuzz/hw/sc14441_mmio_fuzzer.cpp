// libFuzzer target: drives the sc14441 board's SFRs, XIP window and RAM
// with arbitrary guest accesses (the CPU does not run), as the records of
// mmio_records.h: address bits 23:22 pick the SFR window, the modelled
// blocks, the XIP window and RAM, or any address; operation 3 is UART or
// UART2 input. DMA transfers, software resets and watchdog expiries happen
// as the guest triggers them.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "hw/manual_device_clock.h"
#include "hw/sc14441_board.h"
#include "hw/sc14441_map.h"
#include "migration/state_sections.h"
#include "mmio_records.h"

namespace {

namespace map = cr16::sc14441;

using cr16::fuzz::CountingClock;
using cr16::fuzz::SinkBackend;

constexpr uint32_t kBlocks[] = {map::kQspiBase,  map::kClkBase,     map::kDmaBase,
                                map::kPowerBase, map::kGpioBase,    map::kUartBase,
                                map::kTimerBase, map::kWatchdogReg, map::kSysCtlBase,
                                map::kIcuBase,   map::kChipIdBase,  map::kIntaAddress - 0x20};

uint32_t fold_address(uint32_t raw) {
  switch (raw >> 22) {
    case 0:
      return map::kSfrBase + (raw & 0xFFFF);
    case 1:
      return kBlocks[(raw >> 6) % std::size(kBlocks)] + (raw & 0x3F);
    case 2:
      return (raw & 0x100000) ? map::kXipBase + (raw & 0xFFFFF)
                              : map::kSharedRamBase + (raw & 0x7FFF);
    default:
      return raw & 0xFFFFFF;
  }
}

// One board for the process, put back to its reset state before every input
// through the state engine (devices, flash array), with RAM copied back.
class Fixture {
 public:
  Fixture() {
    cr16::BoardConfig config;
    config.serial = {&serial0_, &serial1_};
    board_ = std::move(cr16::Sc14441Board::create(config, clock_).value());
    board_->set_reset_request_handler([this] { board_->reset(); });
    board_->reset();
    for (const cr16::StateSection& section : board_->state_sections()) {
      if (section.name != "cpu") sections_.push_back(section);
    }
    device_state_ = std::move(cr16::migration::save_state_sections(sections_).value());
    for (uint32_t base : {map::kRam0Base, map::kRamAdmBase, map::kSharedRamBase}) {
      const uint32_t size = base == map::kRam0Base     ? map::kRam0Size
                            : base == map::kRamAdmBase ? map::kRamAdmSize
                                                       : map::kSharedRamSize;
      rams_.push_back({board_->memory().host_pointer(base, size), size});
    }
  }

  void restore() {
    clock_.restart(0);
    if (cr16::Error error = cr16::migration::load_state_sections(sections_, device_state_);
        !error.ok()) {
      __builtin_trap();  // our own saved state must load
    }
    for (const Ram& ram : rams_) std::fill(ram.host, ram.host + ram.size, 0);
  }

  cr16::AddressSpace& memory() { return board_->memory(); }
  CountingClock& clock() { return clock_; }
  SinkBackend& serial(unsigned index) { return index ? serial1_ : serial0_; }

 private:
  struct Ram {
    uint8_t* host;
    uint32_t size;
  };
  CountingClock clock_;
  SinkBackend serial0_, serial1_;
  std::unique_ptr<cr16::Sc14441Board> board_;
  std::vector<cr16::StateSection> sections_;
  std::vector<uint8_t> device_state_;
  std::vector<Ram> rams_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  fixture.restore();
  cr16::fuzz::run_mmio_records({data, size}, fixture.memory(), fixture.clock(), fold_address,
                               [](const uint8_t* record, uint32_t) {
                                 fixture.serial(record[0] >> 7).feed({record + 4, 4});
                               });
  return 0;
}
