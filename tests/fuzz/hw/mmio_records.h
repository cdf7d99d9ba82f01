// What the board MMIO fuzzers share: a serial sink, a clock that counts armed
// deadlines, and the interpreter of the input as 8-byte records —
//   byte 0: operation (low 2 bits: read, write, advance the clock, board
//           input) and access width (bits 2-3)
//   bytes 1-3: address (the board's fold_address() maps it)
//   bytes 4-7: value (write data, nanoseconds to advance, or input bytes)
// Time advances in steps of at most 1 ms and stops for the rest of the input
// once devices have armed kArmBudget deadlines: a guest can program a 1 us
// periodic timer, and a second of it would be a million callbacks.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "hw/address_space.h"
#include "hw/chardev.h"
#include "hw/manual_device_clock.h"

namespace cr16::fuzz {

/// A serial backend that takes half of what the UART writes and remembers
/// the frontend, so records can feed it input.
class SinkBackend : public CharBackend {
 public:
  size_t write(std::span<const uint8_t> bytes) override { return bytes.size() / 2; }
  void attach(CharFrontend* frontend) override { frontend_ = frontend; }
  void frontend_ready() override {}
  /// Hands up to `bytes.size()` bytes to the frontend, as much as it takes.
  void feed(std::span<const uint8_t> bytes) {
    const size_t room = frontend_ != nullptr ? frontend_->can_receive() : 0;
    if (room > 0) frontend_->receive(bytes.first(std::min(room, bytes.size())));
  }

 private:
  CharFrontend* frontend_ = nullptr;
};

/// A manual clock that counts armed deadlines (each timer callback re-arms).
class CountingClock : public ManualDeviceClock {
 public:
  TimerHandle arm(int64_t deadline_ns, std::function<void()> callback) override {
    ++arms;
    return ManualDeviceClock::arm(deadline_ns, std::move(callback));
  }
  uint64_t arms = 0;
};

inline constexpr uint64_t kArmBudget = 5'000;
inline constexpr int64_t kAdvanceStepNs = 1'000'000;

/// Runs the records of `data` against `memory` and `clock`; `fold` maps a
/// record's 24-bit address, `input` handles operation 3 (record, value).
inline void run_mmio_records(std::span<const uint8_t> data, AddressSpace& memory,
                             CountingClock& clock, uint32_t (*fold)(uint32_t raw),
                             const std::function<void(const uint8_t*, uint32_t)>& input) {
  const uint64_t arms_at_start = clock.arms;
  for (size_t at = 0; at + 8 <= data.size(); at += 8) {
    const uint8_t* record = data.data() + at;
    const uint32_t address = fold(record[1] | (record[2] << 8) | (record[3] << 16));
    const uint32_t value =
        record[4] | (record[5] << 8) | (record[6] << 16) | (uint32_t{record[7]} << 24);
    static constexpr AccessSize kSizes[] = {AccessSize::kByte, AccessSize::kWord,
                                            AccessSize::kDword, AccessSize::kWord};
    const AccessSize width = kSizes[(record[0] >> 2) & 3];
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
        while (remaining > 0 && clock.arms - arms_at_start < kArmBudget) {
          const int64_t step = std::min(remaining, kAdvanceStepNs);
          clock.advance_by(step);
          remaining -= step;
        }
        break;
      }
      case 3:
        input(record, value);
        break;
    }
  }
}

}  // namespace cr16::fuzz
