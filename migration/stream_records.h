// The records of a migration stream beyond the state sections: the stream
// header, the configuration (which machine, how many multifd channels), the
// RAM block list, batches of normal and zero pages, end of pass, and the
// hello of a multifd channel. Encoders write them into a StreamWriter; the
// loader (incoming_loader.h) takes them apart again. The byte layout is in
// docs/migration-format.md ("The migration stream").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "migration/ram_blocks.h"
#include "migration/state_sections.h"
#include "migration/stream.h"

namespace cr16::migration {

/// The first 8 bytes of every migration stream and of every multifd
/// channel: "CR16MIG" and a zero byte.
inline constexpr std::array<uint8_t, 8> kStreamMagic = {'C', 'R', '1', '6', 'M', 'I', 'G', 0};
/// The format version that follows the magic (u32). A loader refuses a
/// newer one.
inline constexpr uint32_t kStreamVersion = 1;
/// Bytes of the header: magic and version.
inline constexpr size_t kStreamHeaderBytes = kStreamMagic.size() + 4;

// Record types beyond kRecordEnd (0x00) and kRecordSection (0x01), which
// state_sections.h defines.
inline constexpr uint8_t kRecordConfig = 0x10;        // main channel, first record
inline constexpr uint8_t kRecordBlocks = 0x11;        // main channel, second record
inline constexpr uint8_t kRecordPages = 0x12;         // a batch of normal pages
inline constexpr uint8_t kRecordZeroPages = 0x13;     // a batch of zero pages
inline constexpr uint8_t kRecordEndOfPass = 0x14;     // end of a pass (main) / its sync (multifd)
inline constexpr uint8_t kRecordChannelHello = 0x15;  // multifd channel, first record
inline constexpr uint8_t kRecordFillPages = 0x16;     // pages of one repeated byte (erased flash)

/// Most pages one kRecordPages record carries (1 MiB of data).
inline constexpr uint32_t kMaxPagesPerRecord = 256;
/// Most pages one kRecordZeroPages or kRecordFillPages record names.
inline constexpr uint32_t kMaxZeroPagesPerRecord = 1024;
/// Most RAM blocks a stream may list.
inline constexpr uint32_t kMaxRamBlocks = 16;
/// Most multifd channels a stream may declare.
inline constexpr uint32_t kMaxMultifdChannels = 16;
/// Bytes of a session id, shared by the main channel and its multifd channels.
inline constexpr size_t kSessionIdBytes = 16;
/// Longest board or CPU name in the configuration record.
inline constexpr size_t kMaxIdentityName = 63;

using SessionId = std::array<uint8_t, kSessionIdBytes>;

/// What the configuration record carries: the machine the state belongs to
/// (the destination must be the same kind of machine) and the shape of the
/// stream.
struct StreamConfig {
  std::string board;              // board type name, "virt"
  std::string cpu;                // CPU model name, "cr16cplus"
  uint32_t multifd_channels = 0;  // 0: every page comes on the main channel
  uint8_t flags = 0;              // kConfigFlag* bits
  SessionId session{};            // random; multifd channels repeat it
};

/// Configuration flag: the destination answers on the main channel (the
/// return path; set when the main channel is a socket): one byte
/// kPassAcknowledgement each time every channel delivered a pass, and
/// kStreamAcknowledgement once the whole stream arrived and checked out.
/// The source waits for each before it goes on, so it stops the VM only
/// when the destination caught up, and completes only when the destination
/// has everything.
inline constexpr uint8_t kConfigFlagAcknowledge = 0x01;
/// The flags a loader knows.
inline constexpr uint8_t kKnownConfigFlags = kConfigFlagAcknowledge;
/// The destination's answers on the return path.
inline constexpr uint8_t kStreamAcknowledgement = 0x01;
inline constexpr uint8_t kPassAcknowledgement = 0x02;

/// One entry of the RAM block list.
struct BlockDescriptor {
  std::string name;
  uint32_t base = 0;
  uint32_t size = 0;
  bool read_only = false;
};

/// The descriptors of `blocks`, in order (their index is the block index of
/// page records).
std::vector<BlockDescriptor> describe_blocks(std::span<const RamBlock> blocks);

/// Magic and version.
void write_stream_header(StreamWriter& writer);
/// kRecordConfig.
void write_config_record(const StreamConfig& config, StreamWriter& writer);
/// kRecordBlocks: count, then name, base, size and flags of each block.
void write_blocks_record(std::span<const BlockDescriptor> blocks, StreamWriter& writer);
/// The header of a kRecordPages record for `pages` of block `block` (at
/// most kMaxPagesPerRecord): the page data (kPageSize bytes per page, in
/// the same order) must follow it in the stream.
void write_pages_header(uint8_t block, std::span<const uint32_t> pages, StreamWriter& writer);
/// A kRecordZeroPages record (at most kMaxZeroPagesPerRecord pages).
void write_zero_pages_record(uint8_t block, std::span<const uint32_t> pages, StreamWriter& writer);
/// A kRecordFillPages record: every byte of each page is `value` (at most
/// kMaxZeroPagesPerRecord pages).
void write_fill_pages_record(uint8_t block, uint8_t value, std::span<const uint32_t> pages,
                             StreamWriter& writer);
/// kRecordEndOfPass with the pass number (1 for the first pass).
void write_end_of_pass_record(uint32_t pass, StreamWriter& writer);
/// kRecordChannelHello of multifd channel `index` (0-based) of `count`.
void write_channel_hello_record(uint32_t index, uint32_t count, const SessionId& session,
                                StreamWriter& writer);
/// kRecordEnd.
void write_end_record(StreamWriter& writer);

/// Bytes of a kRecordPages header for `count` pages (without the data).
constexpr size_t pages_header_bytes(size_t count) {
  return 1 + 1 + 2 + 4 * count;
}

}  // namespace cr16::migration
