// The destination's stream loader: a valid stream loads pages and state
// (whole, byte by byte, across multifd channels with the pass barrier), and
// every hostile or damaged stream is refused with an error naming what was
// wrong, never writing outside the machine's blocks and never changing a
// device before the whole stream checked out.
#include "migration/incoming_loader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "hw/sysctl.h"
#include "stream_machine.h"

namespace cr16::migration {
namespace {

using test::kStreamRamBytes;
using test::sample_stream;
using test::StreamBuilder;
using test::StreamMachine;

// Feeds `bytes` on a single connection, then end of input. Returns the
// first error (ok when the stream was complete).
Error load(IncomingLoader& loader, const std::vector<uint8_t>& bytes) {
  const unsigned connection = loader.add_connection();
  if (Error error = loader.feed(connection, bytes); !error.ok()) return error;
  return loader.end_of_input(connection);
}

void expect_refused(StreamMachine& destination, const std::vector<uint8_t>& bytes,
                    const std::string& message) {
  const std::vector<uint8_t> before = destination.devices.fingerprint();
  IncomingLoader loader(destination.target());
  Error error = load(loader, bytes);
  ASSERT_FALSE(error.ok()) << "expected a refusal mentioning: " << message;
  EXPECT_NE(error.message().find(message), std::string::npos) << error.message();
  EXPECT_FALSE(loader.complete());
  EXPECT_FALSE(loader.commit());
  EXPECT_EQ(destination.devices.fingerprint(), before) << "a refused stream changed a device";
}

SysctlState& sysctl_state(StreamMachine& machine) {
  return *static_cast<SysctlState*>(machine.devices.sysctl.state_data());
}

TEST(IncomingLoader, LoadsPagesZeroPagesAndStateOfAValidStream) {
  StreamMachine source, destination;
  sysctl_state(source).scratch = 0xC0FFEE;
  std::memset(destination.ram(), 0x77, kStreamRamBytes);
  IncomingLoader loader(destination.target());
  ASSERT_TRUE(load(loader, sample_stream(source)).ok()) << loader.error().message();
  ASSERT_TRUE(loader.complete());
  EXPECT_NE(sysctl_state(destination).scratch, 0xC0FFEEu) << "state must wait for commit()";
  ASSERT_TRUE(loader.commit());
  EXPECT_EQ(sysctl_state(destination).scratch, 0xC0FFEEu);
  const uint8_t* ram = destination.ram();
  EXPECT_EQ(ram[0], 0x40);                     // page 0, pass 1
  EXPECT_EQ(ram[1 * kPageSize], 0x81);         // page 1, rewritten in pass 2
  EXPECT_EQ(ram[2 * kPageSize], 0);            // zero page
  EXPECT_EQ(ram[5 * kPageSize + 7], 0);        // sent in pass 1, zero in pass 2
  EXPECT_EQ(ram[4 * kPageSize], 0x77);         // never sent: untouched
  EXPECT_EQ(ram[6 * kPageSize + 4095], 0xFF);  // a page of one repeated byte
  EXPECT_EQ(loader.counters().normal_pages, 4u);
  EXPECT_EQ(loader.counters().zero_pages, 4u);
  EXPECT_EQ(loader.counters().passes, 2u);
  EXPECT_EQ(loader.counters().sections, source.devices.sections().size());
  const size_t ram_index = destination.ram_index();
  EXPECT_TRUE(loader.touched_pages()[ram_index][5]);
  EXPECT_FALSE(loader.touched_pages()[ram_index][4]);
}

TEST(IncomingLoader, LoadsTheSameStreamFedOneByteAtATime) {
  StreamMachine source, destination;
  sysctl_state(source).scratch = 0x123456;
  const std::vector<uint8_t> bytes = sample_stream(source);
  IncomingLoader loader(destination.target());
  const unsigned connection = loader.add_connection();
  for (uint8_t byte : bytes) {
    ASSERT_TRUE(loader.feed(connection, std::span(&byte, 1)).ok()) << loader.error().message();
  }
  ASSERT_TRUE(loader.end_of_input(connection).ok());
  ASSERT_TRUE(loader.commit());
  EXPECT_EQ(sysctl_state(destination).scratch, 0x123456u);
  EXPECT_EQ(destination.ram()[1 * kPageSize], 0x81);
}

TEST(IncomingLoader, EveryTruncationIsRefusedAndNoDeviceChanges) {
  StreamMachine source;
  sysctl_state(source).scratch = 0xABCDEF;
  const std::vector<uint8_t> bytes = sample_stream(source);
  // Cut points: every byte of the header and records, plus a stride through pages.
  for (size_t cut = 0; cut < bytes.size(); cut += (cut < 64 || bytes.size() - cut < 600) ? 1 : 97) {
    StreamMachine destination;
    const std::vector<uint8_t> before = destination.devices.fingerprint();
    IncomingLoader loader(destination.target());
    Error error = load(loader, std::vector<uint8_t>(bytes.begin(), bytes.begin() + cut));
    ASSERT_FALSE(error.ok()) << "a stream cut at " << cut << " of " << bytes.size() << " loaded";
    EXPECT_NE(error.message().find("truncated"), std::string::npos)
        << "cut at " << cut << ": " << error.message();
    EXPECT_FALSE(loader.commit());
    EXPECT_EQ(destination.devices.fingerprint(), before);
  }
}

TEST(IncomingLoader, RefusesWhatIsNotAMigrationStream) {
  StreamMachine destination;
  expect_refused(destination, {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1'},
                 "not a cr16-system migration stream (it starts with 47 45 54 20");
}

TEST(IncomingLoader, RefusesANewerFormatVersion) {
  StreamMachine destination;
  std::vector<uint8_t> bytes(kStreamMagic.begin(), kStreamMagic.end());
  bytes.insert(bytes.end(), {2, 0, 0, 0});
  expect_refused(destination, bytes, "format version 2 is newer than this build supports (1)");
}

TEST(IncomingLoader, RefusesAnotherMachineOrCpu) {
  StreamMachine source, destination;
  expect_refused(destination, StreamBuilder().header().config(0, "npce").bytes(),
                 "the stream is for the 'npce' machine; this one is 'virt'");
  expect_refused(destination, StreamBuilder().header().config(0, "virt", "cr16c").bytes(),
                 "for a cr16c CPU; this machine has a cr16cplus");
}

TEST(IncomingLoader, RefusesBlockListsThatDoNotMatchTheMachine) {
  StreamMachine source, destination;
  std::vector<BlockDescriptor> blocks = describe_blocks(source.blocks());
  const size_t ram = source.ram_index();

  std::vector<BlockDescriptor> bigger = blocks;
  bigger[ram].size = 14u << 20;
  expect_refused(destination, StreamBuilder().header().config().blocks(bigger).bytes(),
                 "RAM block 'ram' is 14680064 bytes at 0x000000 in the stream, 65536 bytes at "
                 "0x000000 here");

  std::vector<BlockDescriptor> unknown = blocks;
  unknown[ram].name = "sram";
  expect_refused(destination, StreamBuilder().header().config().blocks(unknown).bytes(),
                 "RAM block 'sram' is not part of this machine");

  std::vector<BlockDescriptor> missing = {blocks[1 - ram]};
  expect_refused(destination, StreamBuilder().header().config().blocks(missing).bytes(),
                 "RAM block 'ram' is missing from the stream");

  std::vector<BlockDescriptor> twice = {blocks[0], blocks[1], blocks[ram]};
  expect_refused(destination, StreamBuilder().header().config().blocks(twice).bytes(),
                 "is listed twice");

  std::vector<BlockDescriptor> writable = blocks;
  writable[1 - ram].read_only = false;
  expect_refused(destination, StreamBuilder().header().config().blocks(writable).bytes(),
                 "RAM block 'flash' is writable in the stream, not here");

  expect_refused(destination, StreamBuilder().header().config().raw({kRecordBlocks, 0}).bytes(),
                 "RAM block list of 0 blocks");
}

TEST(IncomingLoader, RefusesRecordsOutOfPlace) {
  StreamMachine source, destination;
  const uint8_t ram = source.ram_index();
  expect_refused(destination, StreamBuilder().header().pages(ram, {0}, 1).bytes(),
                 "expected a configuration or channel hello record");
  expect_refused(destination, StreamBuilder().header().config().pages(ram, {0}, 1).bytes(),
                 "expected the RAM block list after the configuration");
  expect_refused(destination, StreamBuilder().header().config().blocks(source).config().bytes(),
                 "a second configuration record");
  expect_refused(destination,
                 StreamBuilder().header().config().blocks(source).blocks(source).bytes(),
                 "a RAM block list out of place");
  expect_refused(destination, StreamBuilder().header().config().blocks(source).raw({0x42}).bytes(),
                 "unknown record type 0x42");
}

TEST(IncomingLoader, RefusesPageRecordsOutsideTheBlocks) {
  StreamMachine source, destination;
  const uint8_t ram = source.ram_index();
  auto start = [&] { return StreamBuilder().header().config().blocks(source); };
  expect_refused(destination, start().pages(7, {0}, 1).bytes(),
                 "page record for block index 7; the stream listed 2 blocks");
  expect_refused(destination, start().zero(2, {0}).bytes(), "zero page record for block index 2");
  expect_refused(destination, start().pages(ram, {16}, 1).bytes(),
                 "block 'ram': page 16 is past its end (16 pages)");
  expect_refused(destination, start().zero(ram, {0xFFFFFFFF}).bytes(),
                 "block 'ram': page 4294967295 is past its end");
  expect_refused(destination, start().raw({kRecordPages, ram, 0, 0}).bytes(),
                 "page record of 0 pages (1 to 256)");
  expect_refused(destination, start().raw({kRecordPages, ram, 0x01, 0x01}).bytes(),
                 "page record of 257 pages (1 to 256)");
  expect_refused(destination, start().raw({kRecordZeroPages, ram, 0x01, 0x04}).bytes(),
                 "zero page record of 1025 pages (1 to 1024)");
  expect_refused(destination, start().raw({kRecordFillPages, ram, 0xFF, 0, 0}).bytes(),
                 "fill page record of 0 pages (1 to 1024)");
  expect_refused(destination, start().fill(5, 0xFF, {0}).bytes(),
                 "fill page record for block index 5");
  expect_refused(destination, start().fill(ram, 0xFF, {3, 16}).bytes(),
                 "block 'ram': page 16 is past its end (16 pages)");
}

TEST(IncomingLoader, APageRecordWithOneBadIndexWritesNothing) {
  StreamMachine source, destination;
  const uint8_t ram = source.ram_index();
  std::memset(destination.ram(), 0x55, kStreamRamBytes);
  expect_refused(destination,
                 StreamBuilder().header().config().blocks(source).pages(ram, {3, 99}, 1).bytes(),
                 "page 99 is past its end");
  EXPECT_EQ(destination.ram()[3 * kPageSize], 0x55);
}

TEST(IncomingLoader, RefusesPassesOutOfOrder) {
  StreamMachine source, destination;
  expect_refused(
      destination,
      StreamBuilder().header().config().blocks(source).end_of_pass(1).end_of_pass(3).bytes(),
      "end of pass 3 after pass 1 (expected 2)");
  expect_refused(destination,
                 StreamBuilder().header().config().blocks(source).end_of_pass(0).bytes(),
                 "end of pass 0 after pass 0 (expected 1)");
}

TEST(IncomingLoader, RefusesHostileSections) {
  StreamMachine source, destination;
  auto start = [&] { return StreamBuilder().header().config().blocks(source); };
  // A section the machine does not have.
  StreamWriter dimer;
  dimer.put_u8(kRecordSection);
  dimer.put_short_string("dimer");
  dimer.put_u32(0);
  dimer.put_u16(1);
  dimer.put_u32(1);
  dimer.put_u8(0);
  std::vector<uint8_t> dimer_bytes(dimer.bytes().begin(), dimer.bytes().end());
  expect_refused(destination, start().raw(dimer_bytes).bytes(),
                 "section dimer.0 is not part of this machine");
  // A length no section of the machine can have: refused before buffering.
  StreamWriter huge;
  huge.put_u8(kRecordSection);
  huge.put_short_string("uart");
  huge.put_u32(1);
  huge.put_u16(1);
  huge.put_u32(0x7FFFFFFF);
  std::vector<uint8_t> huge_bytes(huge.bytes().begin(), huge.bytes().end());
  expect_refused(destination, start().raw(huge_bytes).bytes(),
                 "section uart.1 claims 2147483647 bytes");
  // A version from the future.
  StreamWriter future;
  future.put_u8(kRecordSection);
  future.put_short_string("sysctl");
  future.put_u32(0);
  future.put_u16(99);
  future.put_u32(9);
  for (int i = 0; i < 9; ++i) future.put_u8(0);
  std::vector<uint8_t> future_bytes(future.bytes().begin(), future.bytes().end());
  expect_refused(destination, start().raw(future_bytes).bytes(),
                 "section sysctl.0: version 99 is newer than this build supports");
  // The end before every section came.
  expect_refused(destination, start().end_of_pass(1).end().bytes(),
                 "missing from the state stream: section icu.0");
  // A section name that is no name.
  expect_refused(destination, start().raw({kRecordSection, 0}).bytes(),
                 "section record with a 0-byte name");
}

TEST(IncomingLoader, RefusesBytesAfterTheEnd) {
  StreamMachine source, destination;
  std::vector<uint8_t> bytes = sample_stream(source);
  bytes.push_back(0);
  expect_refused(destination, bytes, "1 bytes after the end record");
}

TEST(IncomingLoader, KeepsItsFirstError) {
  StreamMachine source, destination;
  IncomingLoader loader(destination.target());
  const unsigned connection = loader.add_connection();
  Error first = loader.feed(connection, StreamBuilder().header().config(0, "npce").bytes());
  ASSERT_FALSE(first.ok());
  Error again = loader.feed(connection, sample_stream(source));
  EXPECT_EQ(again.message(), first.message());
  EXPECT_FALSE(loader.wants_input(connection));
}

// ---- multifd

struct MultifdStreams {
  std::vector<uint8_t> main;
  std::vector<uint8_t> channel[2];
};

// Pass 1 sends page 3 on channel 0 (fill 0x10); pass 2 resends it on
// channel 1 (fill 0x20): the barrier must keep the newer copy.
MultifdStreams multifd_streams(StreamMachine& source) {
  const uint8_t ram = source.ram_index();
  MultifdStreams streams;
  streams.main = StreamBuilder()
                     .header()
                     .config(2)
                     .blocks(source)
                     .end_of_pass(1)
                     .end_of_pass(2)
                     .sections(source)
                     .end()
                     .bytes();
  streams.channel[0] = StreamBuilder()
                           .header()
                           .hello(0, 2)
                           .pages(ram, {3}, 0x10)
                           .end_of_pass(1)
                           .pages(ram, {4}, 0x10)
                           .end_of_pass(2)
                           .end()
                           .bytes();
  streams.channel[1] = StreamBuilder()
                           .header()
                           .hello(1, 2)
                           .zero(ram, {6})
                           .end_of_pass(1)
                           .pages(ram, {3}, 0x20)
                           .end_of_pass(2)
                           .end()
                           .bytes();
  return streams;
}

TEST(IncomingLoader, MultifdPagesOfALaterPassWaitForEveryChannel) {
  StreamMachine source, destination;
  sysctl_state(source).scratch = 0x4242;
  MultifdStreams streams = multifd_streams(source);
  IncomingLoader loader(destination.target());
  // Connections arrive in any order; channel 1 delivers everything first.
  const unsigned c1 = loader.add_connection();
  const unsigned main = loader.add_connection();
  const unsigned c0 = loader.add_connection();
  ASSERT_TRUE(loader.feed(c1, streams.channel[1]).ok()) << loader.error().message();
  EXPECT_FALSE(loader.wants_input(c1)) << "channel 1 must wait at the end of pass 1";
  ASSERT_TRUE(loader.feed(main, streams.main).ok()) << loader.error().message();
  EXPECT_EQ(destination.ram()[3 * kPageSize], 0) << "pass 2's copy went in before pass 1's";
  ASSERT_TRUE(loader.feed(c0, streams.channel[0]).ok()) << loader.error().message();
  for (unsigned connection : {c1, main, c0}) {
    ASSERT_TRUE(loader.end_of_input(connection).ok()) << loader.error().message();
  }
  ASSERT_TRUE(loader.complete());
  ASSERT_TRUE(loader.commit());
  EXPECT_EQ(destination.ram()[3 * kPageSize], 0x20 + 3) << "the newer copy of page 3 must win";
  EXPECT_EQ(destination.ram()[4 * kPageSize], 0x10 + 4);
  EXPECT_EQ(sysctl_state(destination).scratch, 0x4242u);
  EXPECT_EQ(loader.counters().passes, 2u);
}

TEST(IncomingLoader, RefusesMultifdChannelsThatDoNotBelong) {
  StreamMachine source, destination;
  MultifdStreams streams = multifd_streams(source);
  auto run = [&](std::vector<std::vector<uint8_t>> inputs, const std::string& message) {
    IncomingLoader loader(destination.target());
    Error error;
    for (const auto& input : inputs) {
      const unsigned connection = loader.add_connection();
      if (error.ok()) error = loader.feed(connection, input);
    }
    ASSERT_FALSE(error.ok()) << message;
    EXPECT_NE(error.message().find(message), std::string::npos) << error.message();
  };
  StreamBuilder other;
  other.session[0] = 99;
  run({streams.main, other.header().hello(0, 2).bytes()},
      "the channel belongs to another migration");
  run({streams.main, StreamBuilder().header().hello(0, 3).bytes()},
      "the channel says 3 channels, the main channel 2");
  run({StreamBuilder().header().hello(2, 2).bytes()}, "channel hello for channel 2 of 2");
  run({streams.main, StreamBuilder().header().hello(1, 2).bytes(),
       StreamBuilder().header().hello(1, 2).bytes()},
      "multifd channel 1 connected twice");
  run({StreamBuilder().header().config().blocks(source).bytes(),
       StreamBuilder().header().hello(0, 1).bytes()},
      "a multifd channel, but the stream declared none");
  run({streams.main, StreamBuilder().header().hello(0, 2).sections(source).bytes()},
      "a state section on a multifd channel");
}

TEST(IncomingLoader, RefusesAMultifdChannelThatEndsAtAnotherPass) {
  StreamMachine source, destination;
  MultifdStreams streams = multifd_streams(source);
  const uint8_t ram = source.ram_index();
  IncomingLoader loader(destination.target());
  const unsigned main = loader.add_connection();
  const unsigned c0 = loader.add_connection();
  const unsigned c1 = loader.add_connection();
  ASSERT_TRUE(loader.feed(main, streams.main).ok());
  ASSERT_TRUE(loader.feed(c0, streams.channel[0]).ok());
  // Channel 1 ends after pass 1 only.
  Error error = loader.feed(
      c1, StreamBuilder().header().hello(1, 2).zero(ram, {6}).end_of_pass(1).end().bytes());
  if (error.ok()) error = loader.end_of_input(c1);
  if (error.ok()) error = loader.end_of_input(c0);
  if (error.ok()) error = loader.end_of_input(main);
  ASSERT_FALSE(error.ok());
  EXPECT_FALSE(loader.commit());
}

}  // namespace
}  // namespace cr16::migration
