// libFuzzer target: drives the sc14441 board's SFRs, XIP window and RAM
// with arbitrary guest accesses (the CPU does not run). Each 8-byte record
// is one operation:
//   byte 0: operation (low 2 bits: read, write, advance the clock, UART or
//           UART2 input) and access width (bits 2-3)
//   bytes 1-3: address (bits 23:22 pick the SFR window, the modelled blocks,
//              the XIP window and RAM, or any address)
//   bytes 4-7: value (write data, nanoseconds to advance, or input bytes)
// DMA transfers, software resets and watchdog expiries happen as the guest
// triggers them. Time advances in steps of at most 1 ms and stops once
// devices armed kArmBudget deadlines.
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

namespace {

namespace map = cr16::sc14441;

class SinkBackend : public cr16::CharBackend {
 public:
  size_t write(std::span<const uint8_t> bytes) override { return bytes.size() / 2; }
  void attach(cr16::CharFrontend* frontend) override { frontend_ = frontend; }
  void frontend_ready() override {}
  cr16::CharFrontend* frontend_ = nullptr;
};

class CountingClock : public cr16::ManualDeviceClock {
 public:
  TimerHandle arm(int64_t deadline_ns, std::function<void()> callback) override {
    ++arms;
    return ManualDeviceClock::arm(deadline_ns, std::move(callback));
  }
  uint64_t arms = 0;
};

constexpr uint64_t kArmBudget = 5'000;
constexpr int64_t kAdvanceStepNs = 1'000'000;

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
  cr16::AddressSpace& memory = fixture.memory();
  const uint64_t arms_at_start = fixture.clock().arms;
  for (size_t at = 0; at + 8 <= size; at += 8) {
    const uint8_t* record = data + at;
    const uint32_t address = fold_address(record[1] | (record[2] << 8) | (record[3] << 16));
    const uint32_t value =
        record[4] | (record[5] << 8) | (record[6] << 16) | (uint32_t{record[7]} << 24);
    static constexpr cr16::AccessSize kSizes[] = {cr16::AccessSize::kByte, cr16::AccessSize::kWord,
                                                  cr16::AccessSize::kDword,
                                                  cr16::AccessSize::kWord};
    const cr16::AccessSize width = kSizes[(record[0] >> 2) & 3];
    switch (record[0] & 3) {
      case 0: {
        uint32_t out = 0;
        (void)memory.read_slow(address, width, &out);
        break;
      }
      case 1:
        (void)memory.write_slow(address, width, value);
        break;
      case 2: {
        int64_t remaining = value & 0x3FFFFFFF;
        while (remaining > 0 && fixture.clock().arms - arms_at_start < kArmBudget) {
          const int64_t step = std::min(remaining, kAdvanceStepNs);
          fixture.clock().advance_by(step);
          remaining -= step;
        }
        break;
      }
      case 3: {
        cr16::CharFrontend* frontend = fixture.serial(record[0] >> 7).frontend_;
        const size_t room = frontend != nullptr ? frontend->can_receive() : 0;
        if (room > 0)
          frontend->receive(std::span<const uint8_t>(record + 4, std::min<size_t>(room, 4)));
        break;
      }
    }
  }
  return 0;
}
