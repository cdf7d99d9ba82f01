// libFuzzer target: drives the virt board's devices with arbitrary guest
// accesses. Each 8-byte record is one operation:
//   byte 0: operation (low 2 bits: read, write, advance the clock, UART input)
//           and access width (bits 2-3)
//   bytes 1-3: address (folded into the device area, the ICU or the flash)
//   bytes 4-7: value (write data, nanoseconds to advance, or input bytes)
#include <cstddef>
#include <cstdint>
#include <memory>

#include "hw/manual_device_clock.h"
#include "hw/virt_board.h"
#include "hw/virt_map.h"

namespace {

class SinkBackend : public cr16::CharBackend {
 public:
  size_t write(std::span<const uint8_t> bytes) override { return bytes.size() / 2; }
  void attach(cr16::CharFrontend* frontend) override { frontend_ = frontend; }
  void frontend_ready() override {}
  cr16::CharFrontend* frontend_ = nullptr;
};

uint32_t fold_address(uint32_t raw) {
  switch (raw >> 22) {
    case 0:
      return cr16::virt::kSysctlBase + (raw & 0x7FF);  // sysctl .. flash control + holes
    case 1:
      return cr16::virt::kIcuBase + (raw & 0x3FF);
    case 2:
      return cr16::virt::kFlashBase + (raw & 0xFFFFF);
    default:
      return raw & 0xFFFFFF;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cr16::ManualDeviceClock clock;
  SinkBackend serial0, serial1;
  cr16::VirtConfig config;
  config.ram_bytes = cr16::virt::kRamMinSize;
  config.serial = {&serial0, &serial1};
  auto board = cr16::VirtBoard::create(config, clock);
  if (!board) return 0;
  (*board)->set_poweroff_handler([](int) {});
  (*board)->set_reset_request_handler([&] { (*board)->reset(cr16::virt::kFlashBase); });
  cr16::AddressSpace& memory = (*board)->memory();
  for (size_t at = 0; at + 8 <= size; at += 8) {
    const uint8_t* record = data + at;
    uint32_t address = fold_address(record[1] | (record[2] << 8) | (record[3] << 16));
    uint32_t value = record[4] | (record[5] << 8) | (record[6] << 16) | (uint32_t{record[7]} << 24);
    static constexpr cr16::AccessSize kSizes[] = {cr16::AccessSize::kByte, cr16::AccessSize::kWord,
                                                  cr16::AccessSize::kDword,
                                                  cr16::AccessSize::kWord};
    cr16::AccessSize width = kSizes[(record[0] >> 2) & 3];
    switch (record[0] & 3) {
      case 0: {
        uint32_t out = 0;
        (void)memory.read_slow(address, width, &out);
        break;
      }
      case 1:
        (void)memory.write_slow(address, width, value);
        break;
      case 2:
        clock.advance_by(value & 0x3FFFFFFF);
        break;
      case 3: {
        cr16::CharFrontend* frontend = (value & 1) ? serial1.frontend_ : serial0.frontend_;
        size_t room = frontend != nullptr ? frontend->can_receive() : 0;
        if (room > 0) frontend->receive(std::span<const uint8_t>(record + 4, room < 4 ? room : 4));
        break;
      }
    }
  }
  return 0;
}
