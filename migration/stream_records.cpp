#include "migration/stream_records.h"

namespace cr16::migration {

std::vector<BlockDescriptor> describe_blocks(std::span<const RamBlock> blocks) {
  std::vector<BlockDescriptor> descriptors;
  descriptors.reserve(blocks.size());
  for (const RamBlock& block : blocks) {
    descriptors.push_back({block.name, block.base, block.size, block.read_only});
  }
  return descriptors;
}

void write_stream_header(StreamWriter& writer) {
  writer.put_bytes(kStreamMagic);
  writer.put_u32(kStreamVersion);
}

void write_config_record(const StreamConfig& config, StreamWriter& writer) {
  writer.put_u8(kRecordConfig);
  writer.put_short_string(config.board, kMaxIdentityName);
  writer.put_short_string(config.cpu, kMaxIdentityName);
  writer.put_u8(static_cast<uint8_t>(config.multifd_channels));
  writer.put_u8(config.flags);
  writer.put_bytes(config.session);
}

void write_blocks_record(std::span<const BlockDescriptor> blocks, StreamWriter& writer) {
  if (blocks.size() > kMaxRamBlocks) {
    writer.fail(Error("more than " + std::to_string(kMaxRamBlocks) + " RAM blocks"));
    return;
  }
  writer.put_u8(kRecordBlocks);
  writer.put_u8(static_cast<uint8_t>(blocks.size()));
  for (const BlockDescriptor& block : blocks) {
    writer.put_short_string(block.name, kMaxStateNameLength);
    writer.put_u32(block.base);
    writer.put_u32(block.size);
    writer.put_u8(block.read_only ? 1 : 0);
  }
}

void write_pages_header(uint8_t block, std::span<const uint32_t> pages, StreamWriter& writer) {
  if (pages.empty() || pages.size() > kMaxPagesPerRecord) {
    writer.fail(Error("internal: a page record of " + std::to_string(pages.size()) + " pages"));
    return;
  }
  writer.put_u8(kRecordPages);
  writer.put_u8(block);
  writer.put_u16(static_cast<uint16_t>(pages.size()));
  for (uint32_t page : pages) writer.put_u32(page);
}

void write_zero_pages_record(uint8_t block, std::span<const uint32_t> pages, StreamWriter& writer) {
  if (pages.empty() || pages.size() > kMaxZeroPagesPerRecord) {
    writer.fail(
        Error("internal: a zero page record of " + std::to_string(pages.size()) + " pages"));
    return;
  }
  writer.put_u8(kRecordZeroPages);
  writer.put_u8(block);
  writer.put_u16(static_cast<uint16_t>(pages.size()));
  for (uint32_t page : pages) writer.put_u32(page);
}

void write_fill_pages_record(uint8_t block, uint8_t value, std::span<const uint32_t> pages,
                             StreamWriter& writer) {
  if (pages.empty() || pages.size() > kMaxZeroPagesPerRecord) {
    writer.fail(
        Error("internal: a fill page record of " + std::to_string(pages.size()) + " pages"));
    return;
  }
  writer.put_u8(kRecordFillPages);
  writer.put_u8(block);
  writer.put_u8(value);
  writer.put_u16(static_cast<uint16_t>(pages.size()));
  for (uint32_t page : pages) writer.put_u32(page);
}

void write_end_of_pass_record(uint32_t pass, StreamWriter& writer) {
  writer.put_u8(kRecordEndOfPass);
  writer.put_u32(pass);
}

void write_channel_hello_record(uint32_t index, uint32_t count, const SessionId& session,
                                StreamWriter& writer) {
  writer.put_u8(kRecordChannelHello);
  writer.put_u8(static_cast<uint8_t>(index));
  writer.put_u8(static_cast<uint8_t>(count));
  writer.put_bytes(session);
}

void write_end_record(StreamWriter& writer) {
  writer.put_u8(kRecordEnd);
}

}  // namespace cr16::migration
