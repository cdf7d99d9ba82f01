// libFuzzer target: hostile state streams against the state engine
// (migration/state_sections.h) loading into every kind of virt device, with
// both UARTs as uart.0 and uart.1.
//
// Checks, for every input:
//   - a refused load changed nothing: every device's state bytes, the
//     deadlines armed on the clock, the interrupt output and the backends
//     are exactly as before (else the fuzzer traps);
//   - an accepted load leaves devices that can be driven without UB: every
//     register is read, a few are written, the clock advances past UART
//     retries and short timer periods; afterwards the devices' own state
//     saves and loads again (a device never reaches a state its own
//     post_load refuses).
//
// Input: byte 0 picks the mode (low 2 bits), the rest is its payload.
//   mode 0, patches: pairs of (u16 offset, u8 xor) applied to a valid stream
//     of the devices at reset; a first u16 cuts the stream to that length
//     when it is shorter.
//   mode 1, structured: operations on a source set of devices and on the
//     stream built from them (see Op below); with no emitting operation,
//     every section is emitted in order. An end record is appended unless
//     one was emitted.
//   mode 2 and 3, raw: the payload is the stream.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "migration/state_codec.h"
#include "migration/state_sections.h"
#include "virt_devices.h"

namespace {

using cr16::StateSection;
using cr16::migration::StreamWriter;
namespace virt = cr16::virt;

/// One scalar element of one section: where it lives in the object.
struct Element {
  size_t section;
  size_t offset;  // bytes from the start of the state struct
  uint32_t width;
};

/// Interesting values for a hostile field (selector % kValueCount); the
/// last selector takes 8 raw input bytes.
uint64_t pick_value(uint8_t selector, uint64_t raw, uint32_t width) {
  const uint64_t width_max = width == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * width)) - 1;
  switch (selector % 12) {
    case 0:
      return 0;
    case 1:
      return width_max;
    case 2:
      return uint64_t{1} << 63;  // INT64_MIN
    case 3:
      return (uint64_t{1} << 63) - 1;  // INT64_MAX
    case 4:
      return uint64_t{1} << 62;  // the first time past the accepted range
    case 5:
      return (uint64_t{1} << 62) - 1;  // the last time inside it
    case 6:
      return 1;
    case 7:
      return 16;  // a FIFO size
    case 8:
      return 17;
    case 9:
      return width_max >> 1;
    case 10:
      return raw & 0xFF;
    default:
      return raw;
  }
}

class Fixture {
 public:
  Fixture() {
    // The source starts from a state with something in every device.
    write32(source_.timer, virt::kTimerChannelBase + virt::kTimerChLoad, 5);
    write32(source_.timer, virt::kTimerChannelBase + virt::kTimerChCtrl,
            virt::kTimerChCtrlEnable | virt::kTimerChCtrlIe);
    write32(source_.icu, virt::kIcuEnable, 0xFFFFFFFF);
    write32(source_.watchdog, virt::kWdtCtrl, virt::kWdtCtrlEnable);
    const uint8_t input[] = {'s', 't', 'a', 't', 'e'};
    source_.uart0.receive(input);
    write32(source_.uart1, virt::kUartData, 'x');
    source_.clock.advance_by(3 * virt::kNsPerTick);

    for (const StateSection& section : source_.sections()) {
      const auto* bytes = static_cast<const uint8_t*>(section.object->state_data());
      source_pristine_.emplace_back(bytes, bytes + section.object->state_description().object_size);
    }
    const std::vector<StateSection> sections = source_.sections();
    for (size_t s = 0; s < sections.size(); ++s) {
      const auto* start = static_cast<const uint8_t*>(sections[s].object->state_data());
      cr16::state_for_each_scalar(
          sections[s].object->state_description(), start,
          [&](const std::string&, const cr16::StateField& field, const void* base, uint32_t index) {
            const size_t offset = static_cast<const uint8_t*>(base) - start + field.offset +
                                  size_t{index} * field.element_size;
            elements_.push_back({s, offset, field.element_size});
          });
    }
    target_pristine_ = save(target_);
  }

  void run(const uint8_t* data, size_t size) {
    if (size == 0) return;
    std::vector<uint8_t> stream;
    switch (data[0] & 3) {
      case 0:
        stream = patched(data + 1, size - 1);
        break;
      case 1:
        stream = structured(data + 1, size - 1);
        break;
      default:
        stream.assign(data + 1, data + size);
        break;
    }
    for (size_t s = 0; s < source_pristine_.size(); ++s) {  // undo field edits
      std::memcpy(source_.sections()[s].object->state_data(), source_pristine_[s].data(),
                  source_pristine_[s].size());
    }

    const std::vector<uint8_t> before = target_.fingerprint();
    const cr16::Error error = cr16::migration::load_state_sections(target_.sections(), stream);
    if (!error.ok()) {
      if (target_.fingerprint() != before) __builtin_trap();  // a refused load changed something
      return;
    }
    drive();
    // What the devices hold now must save and load again.
    if (!cr16::migration::load_state_sections(target_.sections(), save(target_)).ok()) {
      __builtin_trap();
    }
    // Back to the state every input starts from.
    target_.clock.restart(0);
    if (!cr16::migration::load_state_sections(target_.sections(), target_pristine_).ok()) {
      __builtin_trap();
    }
  }

 private:
  static void write32(cr16::MmioDevice& device, uint32_t offset, uint32_t value) {
    device.write(offset, cr16::AccessSize::kDword, value);
  }

  static std::vector<uint8_t> save(cr16::test::VirtDevices& devices) {
    auto bytes = cr16::migration::save_state_sections(devices.sections());
    if (!bytes.ok()) __builtin_trap();
    return std::move(*bytes);
  }

  std::vector<uint8_t> patched(const uint8_t* data, size_t size) {
    std::vector<uint8_t> stream = target_pristine_;
    if (size >= 2) {
      const size_t length = data[0] | (data[1] << 8);
      if (length < stream.size()) stream.resize(length);
    }
    for (size_t at = 2; at + 3 <= size && !stream.empty(); at += 3) {
      const size_t offset = (data[at] | (data[at + 1] << 8)) % stream.size();
      stream[offset] ^= data[at + 2];
    }
    return stream;
  }

  // Operations of mode 1 (op byte % 8, then its operands):
  //   0 set a source field: u8 section, u8 element, u8 value selector, 8 raw bytes
  //   1 emit a section: u8 section
  //   2 emit a section with another version: u8 section, u8 version
  //   3 emit a section with another instance id: u8 section, u8 id
  //   4 emit a section under another section's name: u8 section, u8 name from
  //   5 emit a section whose length is off: u8 section, i8 delta (the body is
  //     cut, or padded with the delta's bytes)
  //   6 emit the end record
  //   7 emit raw bytes: u8 count (% 16), then the bytes
  std::vector<uint8_t> structured(const uint8_t* data, size_t size) {
    StreamWriter writer;
    const std::vector<StateSection> sections = source_.sections();
    bool emitted = false, ended = false;
    size_t at = 0;
    auto next = [&]() -> uint8_t { return at < size ? data[at++] : 0; };
    while (at < size) {
      const uint8_t op = next() % 8;
      if (op == 0) {
        const size_t section = next() % sections.size();
        const uint8_t element_pick = next();
        const uint8_t selector = next();
        uint64_t raw = 0;
        for (int i = 0; i < 8; ++i) raw |= uint64_t{next()} << (8 * i);
        // Elements of that section, picked by number within it.
        std::vector<const Element*> own;
        for (const Element& element : elements_) {
          if (element.section == section) own.push_back(&element);
        }
        if (own.empty()) continue;
        const Element& element = *own[element_pick % own.size()];
        const uint64_t value = pick_value(selector, raw, element.width);
        auto* object = static_cast<uint8_t*>(sections[section].object->state_data());
        std::memcpy(object + element.offset, &value, element.width);  // little-endian host
        continue;
      }
      if (op == 6) {
        writer.put_u8(cr16::migration::kRecordEnd);
        emitted = ended = true;
        continue;
      }
      if (op == 7) {
        const size_t count = next() % 16;
        for (size_t i = 0; i < count; ++i) writer.put_u8(next());
        emitted = true;
        continue;
      }
      const StateSection& section = sections[next() % sections.size()];
      std::string name = section.name;
      uint32_t instance = section.instance_id;
      uint16_t version = section.object->state_description().version;
      int delta = 0;
      if (op == 2) version = next();
      if (op == 3) instance = next();
      if (op == 4) name = sections[next() % sections.size()].name;
      if (op == 5) delta = static_cast<int8_t>(next());
      StreamWriter body;
      cr16::migration::save_state_body(section.object->state_description(),
                                       section.object->state_data(), body);
      std::vector<uint8_t> bytes = body.take();
      if (delta < 0) {
        bytes.resize(bytes.size() > size_t(-delta) ? bytes.size() + delta : 0);
      } else {
        bytes.insert(bytes.end(), size_t(delta), static_cast<uint8_t>(delta));
      }
      writer.put_u8(cr16::migration::kRecordSection);
      writer.put_short_string(name);
      writer.put_u32(instance);
      writer.put_u16(version);
      writer.put_u32(static_cast<uint32_t>(bytes.size()));
      writer.put_bytes(bytes);
      emitted = true;
    }
    if (!emitted) {
      if (!cr16::migration::save_state_sections(sections, writer).ok()) __builtin_trap();
      ended = true;
    }
    if (!ended) writer.put_u8(cr16::migration::kRecordEnd);
    return writer.take();
  }

  /// Drives an accepted state: every register read, a few writes, time
  /// moving past UART retries and short timer periods (bounded so a
  /// 1-tick periodic timer fires at most a few thousand times).
  void drive() {
    cr16::test::VirtDevices& d = target_;
    cr16::MmioDevice* windows[] = {&d.sysctl, &d.uart0,    &d.uart1,     &d.timer,
                                   &d.rtc,    &d.watchdog, d.flash.get()};
    auto read_all = [&] {
      for (cr16::MmioDevice* device : windows) {
        for (uint32_t offset = 0; offset < virt::kDeviceWindow; offset += 4) {
          (void)device->read(offset, cr16::AccessSize::kDword);
        }
      }
      for (uint32_t offset = 0; offset < virt::kIcuSize; offset += 4) {
        (void)d.icu.read(offset, cr16::AccessSize::kDword);
      }
    };
    read_all();
    d.clock.advance_by(150'000);  // past a UART retry
    const uint8_t input[] = {'i', 'n'};
    d.uart0.receive(input);
    d.uart1.receive(input);
    write32(d.uart0, virt::kUartData, 'o');
    write32(d.uart1, virt::kUartCtrl, virt::kUartCtrlRxie | virt::kUartCtrlTxie);
    write32(d.timer, virt::kTimerChannelBase + virt::kTimerChannelStride + virt::kTimerChCtrl,
            virt::kTimerChCtrlEnable | virt::kTimerChCtrlOneshot);
    write32(d.rtc, virt::kRtcCtrl, virt::kRtcCtrlAlarmIe);
    write32(d.watchdog, virt::kWdtKick, virt::kWdtKickKey);
    write32(*d.flash, virt::kFlashCmd, virt::kFlashCmdProgram);
    d.clock.advance_by(2'000'000);
    read_all();
  }

  cr16::test::VirtDevices source_, target_;
  std::vector<std::vector<uint8_t>> source_pristine_;
  std::vector<Element> elements_;
  std::vector<uint8_t> target_pristine_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  fixture.run(data, size);
  return 0;
}
