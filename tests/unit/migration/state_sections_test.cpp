// Machine state as sections keyed by (name, instance id), on every kind of
// virt device: instances restore into the right objects, bad section lists
// are refused with an error naming the section and change nothing, and an
// accepted load calls state_loaded() in the machine's order.
#include "migration/state_sections.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "hw/device_state.h"
#include "virt_devices.h"

namespace cr16::migration {
namespace {

using test::VirtDevices;

void write32(MmioDevice& device, uint32_t offset, uint32_t value) {
  device.write(offset, AccessSize::kDword, value);
}
uint32_t read32(MmioDevice& device, uint32_t offset) {
  return device.read(offset, AccessSize::kDword);
}

/// Puts every device in a state of its own (nothing left at reset values).
void exercise(VirtDevices& d) {
  write32(d.icu, virt::kIcuEnable, 0xFF);
  write32(d.icu, virt::kIcuPrio0, 0x76543210);
  write32(d.sysctl, virt::kSysScratch, 0xC0FFEE);
  const uint8_t zero[] = {'0', '1'};
  const uint8_t one[] = {'a', 'b', 'c'};
  d.uart0.receive(zero);
  d.uart1.receive(one);
  write32(d.uart1, virt::kUartCtrl, virt::kUartCtrlRxie);
  write32(d.uart1, virt::kUartData, 'x');  // the half sink keeps it queued
  write32(d.timer, virt::kTimerChannelBase + virt::kTimerChLoad, 1000);
  write32(d.timer, virt::kTimerChannelBase + virt::kTimerChCtrl,
          virt::kTimerChCtrlEnable | virt::kTimerChCtrlIe);
  write32(d.rtc, virt::kRtcAlarm, 1'700'000'005);
  write32(d.watchdog, virt::kWdtCtrl, virt::kWdtCtrlEnable);
  write32(*d.flash, virt::kFlashAddr, 0x400);
  write32(d.display, virt::kDispMode, virt::kDispModeRes640x480);
  write32(d.display, virt::kDispCtrl, virt::kDispCtrlEnable | virt::kDispCtrlVblankIe);
  const uint8_t key[] = {0xE0, 0x48};
  d.keyboard.push_scancodes(key);
  d.clock.advance_by(123 * virt::kNsPerTick);
}

std::vector<uint8_t> save(VirtDevices& d) {
  auto bytes = save_state_sections(d.sections());
  EXPECT_TRUE(bytes.ok()) << bytes.error().message();
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

/// Where each section record starts in a stream from save_state_sections,
/// and where the end record is.
std::vector<size_t> record_offsets(const std::vector<uint8_t>& bytes) {
  std::vector<size_t> offsets;
  size_t at = 0;
  while (at < bytes.size() && bytes[at] == kRecordSection) {
    offsets.push_back(at);
    const size_t name_length = bytes[at + 1];
    const size_t length_at = at + 2 + name_length + 4 + 2;
    uint32_t length;
    std::memcpy(&length, &bytes[length_at], 4);
    at = length_at + 4 + length;
  }
  offsets.push_back(at);  // the end record
  return offsets;
}

/// The stream with the records `order` (indices into record_offsets) and an
/// end record.
std::vector<uint8_t> rebuild(const std::vector<uint8_t>& bytes, const std::vector<size_t>& order) {
  const std::vector<size_t> offsets = record_offsets(bytes);
  std::vector<uint8_t> out;
  for (size_t index : order) {
    out.insert(out.end(), bytes.begin() + offsets[index], bytes.begin() + offsets[index + 1]);
  }
  out.push_back(kRecordEnd);
  return out;
}

class StateSections : public ::testing::Test {
 protected:
  void SetUp() override {
    exercise(source);
    stream = save(source);
    before = target.fingerprint();
  }

  /// Loads `bytes` into target; expects a refusal whose message contains
  /// `words`, and that nothing about the target changed.
  void expect_refused(const std::vector<uint8_t>& bytes, const std::string& words) {
    const Error error = load_state_sections(target.sections(), bytes);
    ASSERT_FALSE(error.ok()) << "expected a refusal mentioning '" << words << "'";
    EXPECT_NE(error.message().find(words), std::string::npos) << error.message();
    EXPECT_EQ(target.fingerprint(), before) << error.message();
  }

  VirtDevices source, target;
  std::vector<uint8_t> stream;
  std::vector<uint8_t> before;
};

TEST_F(StateSections, EveryDeviceRestoresAndTwoUartsGoToTheirOwnInstances) {
  ASSERT_TRUE(load_state_sections(target.sections(), stream).ok());
  for (size_t i = 0; i < source.sections().size(); ++i) {
    const StateSection a = source.sections()[i], b = target.sections()[i];
    EXPECT_EQ(std::memcmp(a.object->state_data(), b.object->state_data(),
                          a.object->state_description().object_size),
              0)
        << a.label();
  }
  EXPECT_EQ(read32(target.uart0, virt::kUartData), uint32_t{'0'});
  EXPECT_EQ(read32(target.uart1, virt::kUartData), uint32_t{'a'});
  EXPECT_EQ(read32(target.sysctl, virt::kSysScratch), 0xC0FFEEu);
  EXPECT_TRUE(target.irq);  // uart1 RX with RXIE, enabled in the ICU: re-driven on load
}

TEST_F(StateSections, SectionsMayComeInAnyOrder) {
  const std::vector<uint8_t> reversed = rebuild(stream, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0});
  ASSERT_TRUE(load_state_sections(target.sections(), reversed).ok());
  EXPECT_EQ(read32(target.uart1, virt::kUartData), uint32_t{'a'});
}

TEST_F(StateSections, SwappedInstanceIdsSwapTheUarts) {
  // Sections are matched by (name, instance id), not by position: the
  // record of uart.1 loads into uart.1 wherever it stands.
  std::vector<StateSection> swapped = target.sections();
  std::swap(swapped[2], swapped[3]);
  ASSERT_TRUE(load_state_sections(swapped, stream).ok());
  EXPECT_EQ(read32(target.uart0, virt::kUartData), uint32_t{'0'});
  EXPECT_EQ(read32(target.uart1, virt::kUartData), uint32_t{'a'});
}

TEST_F(StateSections, UnknownSectionIsRefused) {
  std::vector<uint8_t> bytes = stream;
  const size_t at = record_offsets(bytes)[4];  // timer.0
  bytes[at + 2] = 'd';                         // "dimer"
  expect_refused(bytes, "section dimer.0 is not part of this machine");

  std::vector<uint8_t> third_uart = stream;
  const size_t uart1 = record_offsets(third_uart)[3];
  third_uart[uart1 + 2 + 4] = 2;  // uart.2
  expect_refused(third_uart, "section uart.2 is not part of this machine");
}

TEST_F(StateSections, DuplicateSectionIsRefused) {
  expect_refused(rebuild(stream, {0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9}),
                 "section uart.1 appears twice");
}

TEST_F(StateSections, MissingSectionsAreRefusedAndNamed) {
  expect_refused(rebuild(stream, {0, 1, 2, 4, 5, 6, 8, 9}),
                 "missing from the state stream: section uart.1, flash.0");
}

TEST_F(StateSections, TruncatedStreamIsRefusedAtEveryLength) {
  for (size_t length = 0; length < stream.size(); ++length) {
    std::vector<uint8_t> prefix(stream.begin(), stream.begin() + length);
    const Error error = load_state_sections(target.sections(), prefix);
    ASSERT_FALSE(error.ok()) << length;
    ASSERT_EQ(target.fingerprint(), before) << length;
  }
  expect_refused(std::vector<uint8_t>(stream.begin(), stream.begin() + record_offsets(stream)[5]),
                 "state stream ends before its end record");
}

TEST_F(StateSections, SectionLongerThanItsDescriptionIsRefused) {
  std::vector<uint8_t> bytes = stream;
  const size_t at = record_offsets(bytes)[1];  // sysctl.0
  const size_t length_at = at + 2 + 6 + 4 + 2;
  bytes[length_at] = 200;
  // At most: 8 bytes of fields, the power-button subsection (marker, name
  // "power-button", version, length, 8 bytes of fields) and the end byte.
  expect_refused(bytes, "section sysctl.0 is 200 bytes; its description holds at most 37");

  // Longer than what is left of the stream.
  std::vector<uint8_t> cut(stream.begin(), stream.begin() + record_offsets(stream)[2]);
  expect_refused(std::vector<uint8_t>(cut.begin(), cut.end() - 3), "section sysctl.0: truncated");
}

TEST_F(StateSections, BadRecordsAndTrailingBytesAreRefused) {
  std::vector<uint8_t> bytes = stream;
  bytes[record_offsets(bytes)[2]] = 0x42;
  expect_refused(bytes, "unknown record type 0x42");

  std::vector<uint8_t> trailing = stream;
  trailing.push_back(0);
  expect_refused(trailing, "1 bytes after the end record");

  std::vector<uint8_t> unnamed = stream;
  unnamed[record_offsets(unnamed)[0] + 1] = 0;  // empty name
  expect_refused(unnamed, "unusable name");

  std::vector<uint8_t> control = stream;
  control[record_offsets(control)[0] + 2] = '\n';
  expect_refused(control, "section ?cu.0 at offset 1: unusable name");
}

TEST_F(StateSections, NewerSectionVersionIsRefusedNamingTheSection) {
  std::vector<uint8_t> bytes = stream;
  const size_t at = record_offsets(bytes)[3];  // uart.1
  bytes[at + 2 + 4 + 4] = 9;
  expect_refused(bytes, "section uart.1: version 9 is newer than this build supports (1)");
  bytes[at + 2 + 4 + 4] = 0;
  expect_refused(bytes, "section uart.1: version 0 is older than the oldest this build loads (1)");
}

TEST_F(StateSections, HostileFieldValueInOneSectionChangesNoSection) {
  // A timer channel whose sync point is INT64_MIN: with the old tables this
  // loaded and the next read of COUNT overflowed (UBSan) in sync_channel.
  TimerState hostile = source.timer.state();
  hostile.channel[0].sync_ns = INT64_MIN;
  std::memcpy(source.timer.state_data(), &hostile, sizeof hostile);
  expect_refused(save(source),
                 "section timer.0: channel[0]: sync_ns: virtual time -9223372036854775808 ns "
                 "outside [0, 2^62)");

  hostile.channel[0].sync_ns = kMaxStateTimeNs;  // the first value past the range
  std::memcpy(source.timer.state_data(), &hostile, sizeof hostile);
  expect_refused(save(source), "outside [0, 2^62)");

  hostile.channel[0].sync_ns = kMaxStateTimeNs - 1;  // the last value inside it loads
  std::memcpy(source.timer.state_data(), &hostile, sizeof hostile);
  ASSERT_TRUE(load_state_sections(target.sections(), save(source)).ok());
  // The target's clock reads 0, before the sync point: COUNT is as saved.
  EXPECT_EQ(read32(target.timer, virt::kTimerChannelBase + virt::kTimerChCount), 1000u);
}

TEST_F(StateSections, OtherDeviceRulesAreChecked) {
  VirtDevices fresh;
  const std::vector<uint8_t> good = save(fresh);
  auto refused_with = [&](auto mutate, const std::string& words) {
    VirtDevices hostile;
    mutate(hostile);
    expect_refused(save(hostile), words);
  };
  refused_with([](VirtDevices& d) { const_cast<UartState&>(d.uart1.state()).rx_count = 17; },
               "section uart.1: rx_count larger than the FIFO");
  refused_with([](VirtDevices& d) { const_cast<UartState&>(d.uart0.state()).tx_count = 0x20; },
               "section uart.0: tx_count: value 0x20 has bits outside 0x1f");
  refused_with([](VirtDevices& d) { const_cast<TimerState&>(d.timer.state()).epoch_ns = -1; },
               "section timer.0: epoch_ns: virtual time -1");
  refused_with(
      [](VirtDevices& d) {
        auto& channel = const_cast<TimerState&>(d.timer.state()).channel[1];
        channel.ctrl = virt::kTimerChCtrlEnable;
        channel.count = 0;
      },
      "section timer.0: channel[1]: enabled with count 0");
  refused_with(
      [](VirtDevices& d) {
        static_cast<WatchdogState*>(d.watchdog.state_data())->sync_ns = INT64_MAX;
      },
      "section watchdog.0: sync_ns");
  refused_with([](VirtDevices& d) { static_cast<RtcState*>(d.rtc.state_data())->base_ns = -5; },
               "section rtc.0: base_ns");
  refused_with([](VirtDevices& d) { static_cast<RtcState*>(d.rtc.state_data())->ctrl = 2; },
               "section rtc.0: ctrl");
  refused_with([](VirtDevices& d) { const_cast<FlashState&>(d.flash->state()).addr = 0x100000; },
               "section flash.0: addr");
  refused_with(
      [](VirtDevices& d) { const_cast<SysctlState&>(d.sysctl.state()).reset_cause = 0x10; },
      "section sysctl.0: reset_cause");
  refused_with([](VirtDevices& d) { static_cast<IcuState*>(d.icu.state_data())->nmi_status = 2; },
               "section icu.0: nmi_status");
  refused_with([](VirtDevices& d) { static_cast<DisplayState*>(d.display.state_data())->mode = 3; },
               "section display.0: mode");
  refused_with(
      [](VirtDevices& d) { static_cast<DisplayState*>(d.display.state_data())->base = 0x1000000; },
      "section display.0: base");
  refused_with(
      [](VirtDevices& d) { static_cast<KeyboardState*>(d.keyboard.state_data())->count = 33; },
      "section keyboard.0: count larger than the FIFO");
  ASSERT_TRUE(load_state_sections(target.sections(), good).ok());
}

TEST_F(StateSections, StateLoadedRunsInListOrderAfterEveryCommit) {
  // Wrap two devices to see the order in which state_loaded() is called and
  // that every object already holds its new state when the first one runs.
  struct Recorder : Stateful {
    Recorder(Stateful& inner_in, std::vector<std::string>& log_in, const char* name_in,
             VirtDevices& devices_in, const std::vector<uint8_t>& expected_in)
        : inner(inner_in), log(log_in), name(name_in), devices(devices_in), expected(expected_in) {}
    const StateDescription& state_description() const override { return inner.state_description(); }
    void* state_data() override { return inner.state_data(); }
    void state_loaded() override {
      log.push_back(name);
      // uart.1 (later in the list) is already committed when icu runs.
      committed_before =
          std::memcmp(devices.uart1.state_data(), expected.data(), sizeof(UartState)) == 0;
      inner.state_loaded();
    }
    Stateful& inner;
    std::vector<std::string>& log;
    const char* name;
    VirtDevices& devices;
    const std::vector<uint8_t>& expected;
    bool committed_before = false;
  };
  std::vector<std::string> log;
  const auto* uart1 = static_cast<const uint8_t*>(source.uart1.state_data());
  const std::vector<uint8_t> expected(uart1, uart1 + sizeof(UartState));
  Recorder icu(target.icu, log, "icu", target, expected);
  Recorder timer(target.timer, log, "timer", target, expected);
  std::vector<StateSection> sections = target.sections();
  sections[0].object = &icu;
  sections[4].object = &timer;
  std::swap(sections[0], sections[4]);  // the machine lists the timer first
  ASSERT_TRUE(load_state_sections(sections, stream).ok());
  EXPECT_EQ(log, (std::vector<std::string>{"timer", "icu"}));
  EXPECT_TRUE(icu.committed_before);
}

TEST_F(StateSections, TheLoaderCanBeDrivenRecordByRecord) {
  // What a stream with other records (issue 10's RAM pages) does.
  StateLoader loader(target.sections());
  StreamReader reader(stream);
  while (reader.get_u8() == kRecordSection) ASSERT_TRUE(loader.read_section(reader).ok());
  ASSERT_TRUE(reader.ok() && reader.at_end());
  EXPECT_EQ(target.fingerprint(), before);  // nothing before commit()
  ASSERT_TRUE(loader.finish().ok());
  EXPECT_EQ(target.fingerprint(), before);
  EXPECT_TRUE(loader.commit());
  EXPECT_EQ(read32(target.uart1, virt::kUartData), uint32_t{'a'});
}

TEST_F(StateSections, CommitWithoutFinishDoesNothing) {
  StateLoader loader(target.sections());
  const std::vector<uint8_t> two = rebuild(stream, {0, 1});
  StreamReader reader(two);
  EXPECT_TRUE(loader.read(reader).ok());
  EXPECT_FALSE(loader.commit());
  EXPECT_FALSE(loader.finish().ok());
  EXPECT_FALSE(loader.commit());
  EXPECT_EQ(target.fingerprint(), before);
}

TEST_F(StateSections, BadSectionListsAreProgrammerErrors) {
  std::vector<StateSection> twice = target.sections();
  twice[3].instance_id = 0;
  auto saved = save_state_sections(twice);
  ASSERT_FALSE(saved.ok());
  EXPECT_NE(saved.error().message().find("section uart.0 is listed twice"), std::string::npos);
  EXPECT_FALSE(load_state_sections(twice, stream).ok());

  std::vector<StateSection> empty_name = target.sections();
  empty_name[0].name = "";
  EXPECT_FALSE(save_state_sections(empty_name).ok());
  std::vector<StateSection> no_object = target.sections();
  no_object[0].object = nullptr;
  EXPECT_FALSE(save_state_sections(no_object).ok());
  EXPECT_EQ(target.fingerprint(), before);
}

TEST(StateSectionFormat, SysctlSectionMatchesTheDocumentedExample) {
  // docs/migration-format.md, "Example".
  SysctlDevice sysctl(SysctlConfig{virt::kRamMinSize, virt::kSysCpuModelCr16cPlus, "CR16C+"});
  sysctl.write(virt::kSysScratch, AccessSize::kDword, 0xC0FFEE);
  StreamWriter writer;
  write_state_section({"sysctl", 0, &sysctl}, writer);
  ASSERT_TRUE(writer.ok());
  const std::vector<uint8_t> expected = {0x01, 0x06, 's',  'y',  's',  'c',  't',  'l',  0x00,
                                         0x00, 0x00, 0x00, 0x01, 0x00, 0x09, 0x00, 0x00, 0x00,
                                         0x01, 0x00, 0x00, 0x00, 0xEE, 0xFF, 0xC0, 0x00, 0x00};
  EXPECT_EQ(std::vector<uint8_t>(writer.bytes().begin(), writer.bytes().end()), expected);
}

// ---- Versions of one section, on a small object of its own.

struct Counter {
  uint32_t value;
  uint32_t step;  // added in version 2
};
static_assert(std::has_unique_object_representations_v<Counter>);

Error accept_counter(void*) {
  return Error();
}

constexpr StateField kCounterV1Fields[] = {CR16_STATE_FIELD(Counter, value)};
constexpr StateField kCounterFields[] = {CR16_STATE_FIELD(Counter, value),
                                         CR16_STATE_FIELD(Counter, step).since(2)};
const StateDescription kCounterV1 = {"counter",     1, 1, sizeof(Counter), kCounterV1Fields, {},
                                     accept_counter};
const StateDescription kCounterV2 = {"counter",     2, 1, sizeof(Counter), kCounterFields, {},
                                     accept_counter};
const StateDescription kCounterV2Only = {"counter",     2, 2, sizeof(Counter), kCounterFields, {},
                                         accept_counter};

class CounterDevice : public Stateful {
 public:
  explicit CounterDevice(const StateDescription& description) : description_(description) {}
  const StateDescription& state_description() const override { return description_; }
  void* state_data() override { return &state; }
  void state_loaded() override { ++loads; }
  Counter state = {0, 1};
  int loads = 0;

 private:
  const StateDescription& description_;
};

TEST(StateSectionVersions, OlderSectionLoadsWithDefaultsForNewFields) {
  CounterDevice old_build(kCounterV1), new_build(kCounterV2);
  old_build.state.value = 41;
  new_build.state.step = 3;  // the destination's reset value
  const StateSection from[] = {{"counter", 0, &old_build}};
  const StateSection to[] = {{"counter", 0, &new_build}};
  auto bytes = save_state_sections(from);
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(load_state_sections(to, *bytes).ok());
  EXPECT_EQ(new_build.state.value, 41u);
  EXPECT_EQ(new_build.state.step, 3u);
  EXPECT_EQ(new_build.loads, 1);
}

TEST(StateSectionVersions, NewerSectionIsRefusedNamingIt) {
  CounterDevice new_build(kCounterV2), old_build(kCounterV1);
  new_build.state = {5, 6};
  const StateSection from[] = {{"counter", 3, &new_build}};
  const StateSection to[] = {{"counter", 3, &old_build}};
  auto bytes = save_state_sections(from);
  ASSERT_TRUE(bytes.ok());
  const Error error = load_state_sections(to, *bytes);
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.message(), "section counter.3: version 2 is newer than this build supports (1)");
  EXPECT_EQ(old_build.state.value, 0u);
  EXPECT_EQ(old_build.loads, 0);
}

TEST(StateSectionVersions, SectionOlderThanTheMinimumIsRefused) {
  CounterDevice old_build(kCounterV1), strict(kCounterV2Only);
  const StateSection from[] = {{"counter", 0, &old_build}};
  const StateSection to[] = {{"counter", 0, &strict}};
  auto bytes = save_state_sections(from);
  ASSERT_TRUE(bytes.ok());
  const Error error = load_state_sections(to, *bytes);
  EXPECT_EQ(error.message(),
            "section counter.0: version 1 is older than the oldest this build loads (2)");
  EXPECT_EQ(strict.loads, 0);
}

}  // namespace
}  // namespace cr16::migration
