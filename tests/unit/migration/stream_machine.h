// A small machine for migration stream tests and the loader fuzzer: every
// virt device (virt_devices.h) plus 64 KiB of RAM at 0 beside the flash
// array, and a builder for migration streams of every record type, so
// tests can write valid streams and break them on purpose.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "migration/incoming_loader.h"
#include "migration/ram_blocks.h"
#include "migration/state_sections.h"
#include "migration/stream_records.h"
#include "virt_devices.h"

namespace cr16::test {

inline constexpr uint32_t kStreamRamBytes = 64 * 1024;

/// VirtDevices with RAM: a complete target for a migration stream.
struct StreamMachine {
  StreamMachine() { (void)devices.memory.add_ram("ram", 0, kStreamRamBytes); }

  migration::LoadTarget target() {
    migration::LoadTarget target;
    target.memory = &devices.memory;
    target.blocks = migration::ram_blocks(devices.memory);
    target.sections = devices.sections();
    target.board = "virt";
    target.cpu = "cr16cplus";
    return target;
  }
  std::vector<migration::RamBlock> blocks() { return migration::ram_blocks(devices.memory); }
  uint8_t* ram() { return migration::find_ram_block(blocks(), "ram")->host; }
  /// The RAM's index in the block list (the flash array is mapped first).
  uint8_t ram_index() {
    std::vector<migration::RamBlock> list = blocks();
    return static_cast<uint8_t>(migration::find_ram_block(list, "ram") - list.data());
  }

  VirtDevices devices;
};

/// Builds a migration stream record by record.
class StreamBuilder {
 public:
  StreamBuilder& header() {
    migration::write_stream_header(writer_);
    return *this;
  }
  StreamBuilder& config(uint32_t multifd = 0, std::string board = "virt",
                        std::string cpu = "cr16cplus") {
    migration::StreamConfig config;
    config.board = std::move(board);
    config.cpu = std::move(cpu);
    config.multifd_channels = multifd;
    config.session = session;
    migration::write_config_record(config, writer_);
    return *this;
  }
  /// The block list of `machine` (RAM and flash), as a source would send it.
  StreamBuilder& blocks(StreamMachine& machine) {
    migration::write_blocks_record(migration::describe_blocks(machine.blocks()), writer_);
    return *this;
  }
  StreamBuilder& blocks(std::span<const migration::BlockDescriptor> list) {
    migration::write_blocks_record(list, writer_);
    return *this;
  }
  /// A page record: each page filled with `fill` + its index.
  StreamBuilder& pages(uint8_t block, std::vector<uint32_t> indexes, uint8_t fill) {
    migration::write_pages_header(block, indexes, writer_);
    for (uint32_t index : indexes) {
      std::vector<uint8_t> page(kPageSize, static_cast<uint8_t>(fill + index));
      writer_.put_bytes(page);
    }
    return *this;
  }
  StreamBuilder& zero(uint8_t block, std::vector<uint32_t> indexes) {
    migration::write_zero_pages_record(block, indexes, writer_);
    return *this;
  }
  StreamBuilder& fill(uint8_t block, uint8_t value, std::vector<uint32_t> indexes) {
    migration::write_fill_pages_record(block, value, indexes, writer_);
    return *this;
  }
  StreamBuilder& end_of_pass(uint32_t pass) {
    migration::write_end_of_pass_record(pass, writer_);
    return *this;
  }
  StreamBuilder& hello(uint32_t index, uint32_t count) {
    migration::write_channel_hello_record(index, count, session, writer_);
    return *this;
  }
  /// Every section of `machine`'s devices as they are now.
  StreamBuilder& sections(StreamMachine& machine) {
    for (const StateSection& section : machine.devices.sections()) {
      migration::write_state_section(section, writer_);
    }
    return *this;
  }
  StreamBuilder& end() {
    migration::write_end_record(writer_);
    return *this;
  }
  StreamBuilder& raw(std::vector<uint8_t> bytes) {
    writer_.put_bytes(bytes);
    return *this;
  }
  std::vector<uint8_t> bytes() const {
    return std::vector<uint8_t>(writer_.bytes().begin(), writer_.bytes().end());
  }

  migration::SessionId session{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

 private:
  migration::StreamWriter writer_;
};

/// A valid single-channel stream from `source` (its device state and two
/// passes of a few RAM pages) for the destination shape of `source`.
inline std::vector<uint8_t> sample_stream(StreamMachine& source) {
  StreamBuilder builder;
  const uint8_t ram = source.ram_index();
  builder.header().config().blocks(source);
  builder.pages(ram, {0, 1, 5}, 0x40).zero(ram, {2, 3}).end_of_pass(1);
  builder.pages(ram, {1}, 0x80).zero(ram, {5}).fill(ram, 0xFF, {6}).end_of_pass(2);
  builder.sections(source).end();
  return builder.bytes();
}

}  // namespace cr16::test
