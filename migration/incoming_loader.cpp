#include "migration/incoming_loader.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace cr16::migration {
namespace {

std::string hex_bytes(std::span<const uint8_t> bytes) {
  std::string text;
  for (uint8_t byte : bytes) {
    char item[4];
    std::snprintf(item, sizeof item, "%s%02x", text.empty() ? "" : " ", byte);
    text += item;
  }
  return text;
}

std::string hex_address(uint32_t address) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%06" PRIx32, address);
  return text;
}

std::string printable(std::string_view text) {
  std::string out;
  for (char c : text) out += (c >= 0x20 && c < 0x7F) ? c : '?';
  return out;
}

// Reads a little-endian u16/u32 at `at` (the caller checked the length).
uint16_t peek_u16(std::span<const uint8_t> bytes, size_t at) {
  return static_cast<uint16_t>(bytes[at] | (bytes[at + 1] << 8));
}
uint32_t peek_u32(std::span<const uint8_t> bytes, size_t at) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= uint32_t{bytes[at + i]} << (8 * i);
  return value;
}

constexpr size_t kNeedMore = 0;

}  // namespace

struct IncomingLoader::Connection {
  enum class Role : uint8_t { kUnknown, kMain, kMultifd };

  unsigned id = 0;
  Role role = Role::kUnknown;
  uint32_t multifd_index = 0;
  uint32_t declared_count = 0;  // multifd: the channel count its hello named
  SessionId session{};          // multifd: the session its hello named
  std::vector<uint8_t> buffer;
  size_t start = 0;     // first byte not processed yet
  size_t end = 0;       // bytes of `buffer` holding input
  uint64_t offset = 0;  // stream offset of buffer[start]
  bool header_seen = false;
  uint32_t records = 0;  // records processed after the header
  uint32_t pass_done = 0;
  bool ended = false;
  bool eof = false;
  // A page record whose header was checked: its data goes straight into
  // guest memory, page by page, as it arrives.
  bool in_pages = false;
  size_t page_block = 0;  // index into the target's blocks
  std::vector<uint32_t> page_list;
  size_t page_next = 0;      // pages of the record already complete
  uint32_t page_offset = 0;  // bytes of page_list[page_next] already in

  std::span<const uint8_t> pending() const {
    return std::span<const uint8_t>(buffer).subspan(start, end - start);
  }
  void consume(size_t count) {
    start += count;
    offset += count;
    if (start == end) start = end = 0;
  }
};

IncomingLoader::IncomingLoader(LoadTarget target)
    : target_(std::move(target)), state_(target_.sections) {
  for (const StateSection& section : target_.sections) {
    if (section.object == nullptr) continue;
    max_section_bytes_ = std::max(
        max_section_bytes_,
        state_body_bound(section.object->state_description(), section.object->state_data()));
  }
  touched_.resize(target_.blocks.size());
  for (size_t i = 0; i < target_.blocks.size(); ++i) {
    touched_[i].assign(target_.blocks[i].page_count(), false);
  }
  if (target_.memory == nullptr) error_ = Error("internal: a load target without memory");
}

IncomingLoader::~IncomingLoader() = default;

Error IncomingLoader::fail(Error error) {
  if (error_.ok()) error_ = std::move(error);
  return error_;
}

const StreamConfig* IncomingLoader::config() const {
  return config_.get();
}

std::optional<unsigned> IncomingLoader::main_connection() const {
  if (main_ == nullptr) return std::nullopt;
  return main_->id;
}

unsigned IncomingLoader::add_connection() {
  auto connection = std::make_unique<Connection>();
  connection->id = static_cast<unsigned>(connections_.size());
  connections_.push_back(std::move(connection));
  return connections_.back()->id;
}

std::string IncomingLoader::where(const Connection& connection) const {
  std::string channel;
  switch (connection.role) {
    case Connection::Role::kMain:
      channel = config_ && config_->multifd_channels == 0 ? "stream" : "main channel";
      break;
    case Connection::Role::kMultifd:
      channel = "multifd channel " + std::to_string(connection.multifd_index);
      break;
    case Connection::Role::kUnknown:
      channel = connections_.size() == 1 ? "stream" : "connection " + std::to_string(connection.id);
      break;
  }
  return channel + ", offset " + std::to_string(connection.offset);
}

bool IncomingLoader::paused(const Connection& connection) const {
  if (connection.in_pages) return false;  // a record is never cut at a barrier
  if (connection.ended) return true;
  if (connection.role == Connection::Role::kMultifd && !blocks_known_) return true;
  return connection.pass_done > released_pass_;
}

bool IncomingLoader::wants_input(unsigned id) const {
  if (!error_.ok() || id >= connections_.size()) return false;
  const Connection& connection = *connections_[id];
  if (connection.eof) return false;
  return connection.ended || !paused(connection);
}

bool IncomingLoader::all_at_end_of_input() const {
  for (const auto& connection : connections_) {
    if (!connection->eof) return false;
  }
  return true;
}

std::span<uint8_t> IncomingLoader::input_space(unsigned id, size_t max_bytes) {
  if (id >= connections_.size() || max_bytes == 0) return {};
  Connection& connection = *connections_[id];
  if (connection.in_pages && error_.ok()) {
    // Straight into guest memory: the rest of this page and the pages of
    // the record that follow it in host memory.
    const RamBlock& block = target_.blocks[connection.page_block];
    uint8_t* first = block.page(connection.page_list[connection.page_next]);
    size_t length = kPageSize - connection.page_offset;
    for (size_t next = connection.page_next + 1;
         next < connection.page_list.size() && length < max_bytes &&
         block.page(connection.page_list[next]) == first + connection.page_offset + length;
         ++next) {
      length += kPageSize;
    }
    return std::span<uint8_t>(first + connection.page_offset, std::min(length, max_bytes));
  }
  // Record headers, sections and small records go through the buffer, a
  // bounded read at a time (page data that follows is read directly).
  const size_t want = std::min(max_bytes, kBufferedReadBytes);
  if (connection.start > 0 && connection.start == connection.end) {
    connection.start = connection.end = 0;
  }
  if (connection.buffer.size() - connection.end < want) {
    if (connection.start > 0) {
      std::memmove(connection.buffer.data(), connection.buffer.data() + connection.start,
                   connection.end - connection.start);
      connection.end -= connection.start;
      connection.start = 0;
    }
    if (connection.buffer.size() - connection.end < want) {
      connection.buffer.resize(connection.end + want);
    }
  }
  return std::span<uint8_t>(connection.buffer).subspan(connection.end, want);
}

void IncomingLoader::pages_arrived(Connection& connection, size_t count) {
  const RamBlock& block = target_.blocks[connection.page_block];
  connection.offset += count;
  counters_.bytes += count;
  while (count > 0) {
    const size_t take = std::min<size_t>(count, kPageSize - connection.page_offset);
    connection.page_offset += static_cast<uint32_t>(take);
    count -= take;
    if (connection.page_offset < kPageSize) break;
    // A whole page is in: the dirty log and the code-page tracking hear
    // about it as they do for load_page().
    const uint32_t page = connection.page_list[connection.page_next];
    target_.memory->note_host_write(block.base + page * kPageSize, kPageSize);
    touched_[connection.page_block][page] = true;
    ++counters_.normal_pages;
    connection.page_offset = 0;
    if (++connection.page_next == connection.page_list.size()) {
      connection.in_pages = false;
      connection.page_list.clear();
      ++connection.records;
    }
  }
}

Error IncomingLoader::commit_input(unsigned id, size_t count) {
  if (!error_.ok()) return error_;
  if (id >= connections_.size()) return fail(Error("internal: unknown connection"));
  Connection& connection = *connections_[id];
  if (connection.in_pages) {
    pages_arrived(connection, count);
    return pump();
  }
  if (count > connection.buffer.size() - connection.end) {
    return fail(Error("internal: more input committed than room was given"));
  }
  if (connection.ended && count > 0) {
    return fail(Error(where(connection) + ": data after the end record"));
  }
  connection.end += count;
  if (connection.end - connection.start > kMaxBufferedBytes) {
    return fail(Error(where(connection) + ": more than " + std::to_string(kMaxBufferedBytes) +
                      " bytes buffered without a complete record"));
  }
  return pump();
}

Error IncomingLoader::feed(unsigned id, std::span<const uint8_t> bytes) {
  if (!error_.ok()) return error_;
  if (id >= connections_.size()) return fail(Error("internal: unknown connection"));
  while (!bytes.empty()) {
    std::span<uint8_t> room = input_space(id, std::min(bytes.size(), size_t{1} << 20));
    const size_t piece = std::min(room.size(), bytes.size());
    std::memcpy(room.data(), bytes.data(), piece);
    if (Error error = commit_input(id, piece); !error.ok()) return error;
    bytes = bytes.subspan(piece);
  }
  return Error();
}

Error IncomingLoader::end_of_input(unsigned id) {
  if (!error_.ok()) return error_;
  if (id >= connections_.size()) return fail(Error("internal: unknown connection"));
  connections_[id]->eof = true;
  return pump();
}

// ---- Record framing

Expected<size_t> IncomingLoader::record_size(const Connection& connection,
                                             std::span<const uint8_t> bytes) const {
  if (bytes.empty()) return kNeedMore;
  const uint8_t type = bytes[0];
  const size_t have = bytes.size();
  switch (type) {
    case kRecordEnd:
      return size_t{1};
    case kRecordEndOfPass:
      return have >= 5 ? size_t{5} : kNeedMore;
    case kRecordChannelHello:
      return have >= 3 + kSessionIdBytes ? 3 + kSessionIdBytes : kNeedMore;
    case kRecordConfig: {
      size_t at = 1;
      for (int name = 0; name < 2; ++name) {
        if (have < at + 1) return kNeedMore;
        const size_t length = bytes[at];
        if (length == 0 || length > kMaxIdentityName) {
          return Error(where(connection) + ": configuration record with a " +
                       std::to_string(length) + "-byte name (1 to " +
                       std::to_string(kMaxIdentityName) + ")");
        }
        at += 1 + length;
      }
      const size_t total = at + 1 + 1 + kSessionIdBytes;
      return have >= total ? total : kNeedMore;
    }
    case kRecordBlocks: {
      if (have < 2) return kNeedMore;
      const uint32_t count = bytes[1];
      if (count == 0 || count > kMaxRamBlocks) {
        return Error(where(connection) + ": RAM block list of " + std::to_string(count) +
                     " blocks (1 to " + std::to_string(kMaxRamBlocks) + ")");
      }
      size_t at = 2;
      for (uint32_t i = 0; i < count; ++i) {
        if (have < at + 1) return kNeedMore;
        const size_t length = bytes[at];
        if (length == 0 || length > kMaxStateNameLength) {
          return Error(where(connection) + ": RAM block " + std::to_string(i) + " has a " +
                       std::to_string(length) + "-byte name (1 to " +
                       std::to_string(kMaxStateNameLength) + ")");
        }
        at += 1 + length + 4 + 4 + 1;
      }
      return have >= at ? at : kNeedMore;
    }
    case kRecordFillPages: {
      if (have < 5) return kNeedMore;
      const uint32_t count = peek_u16(bytes, 3);
      if (count == 0 || count > kMaxZeroPagesPerRecord) {
        return Error(where(connection) + ": fill page record of " + std::to_string(count) +
                     " pages (1 to " + std::to_string(kMaxZeroPagesPerRecord) + ")");
      }
      const size_t total = 5 + size_t{count} * 4;
      return have >= total ? total : kNeedMore;
    }
    case kRecordPages:
    case kRecordZeroPages: {
      if (have < 4) return kNeedMore;
      const uint32_t count = peek_u16(bytes, 2);
      const bool zero = type == kRecordZeroPages;
      const uint32_t most = zero ? kMaxZeroPagesPerRecord : kMaxPagesPerRecord;
      if (count == 0 || count > most) {
        return Error(where(connection) + ": " + (zero ? "zero page" : "page") + " record of " +
                     std::to_string(count) + " pages (1 to " + std::to_string(most) + ")");
      }
      // A page record's data is not buffered: only its header is a "record" here.
      const size_t total = 4 + size_t{count} * 4;
      return have >= total ? total : kNeedMore;
    }
    case kRecordSection: {
      if (have < 2) return kNeedMore;
      const size_t length = bytes[1];
      if (length == 0 || length > kMaxStateNameLength) {
        return Error(where(connection) + ": section record with a " + std::to_string(length) +
                     "-byte name (1 to " + std::to_string(kMaxStateNameLength) + ")");
      }
      const size_t header = 2 + length + 4 + 2 + 4;
      if (have < header) return kNeedMore;
      const uint32_t body = peek_u32(bytes, header - 4);
      if (body > max_section_bytes_) {
        const std::string name(reinterpret_cast<const char*>(bytes.data() + 2), length);
        return Error(where(connection) + ": section " + printable(name) + "." +
                     std::to_string(peek_u32(bytes, 2 + length)) + " claims " +
                     std::to_string(body) + " bytes; no section of this machine holds more than " +
                     std::to_string(max_section_bytes_));
      }
      const size_t total = header + body;
      return have >= total ? total : kNeedMore;
    }
    default: {
      char text[64];
      std::snprintf(text, sizeof text, ": unknown record type 0x%02x", type);
      return Error(where(connection) + text);
    }
  }
}

Error IncomingLoader::process_header(Connection& connection, std::span<const uint8_t> bytes) {
  if (!std::equal(kStreamMagic.begin(), kStreamMagic.end(), bytes.begin())) {
    return Error(where(connection) + ": not a cr16-system migration stream (it starts with " +
                 hex_bytes(bytes.first(kStreamMagic.size())) + ")");
  }
  const uint32_t version = peek_u32(bytes, kStreamMagic.size());
  if (version == 0 || version > kStreamVersion) {
    return Error(where(connection) + ": migration stream format version " +
                 std::to_string(version) +
                 (version == 0 ? " is invalid" : " is newer than this build supports (") +
                 (version == 0 ? std::string() : std::to_string(kStreamVersion) + ")"));
  }
  connection.header_seen = true;
  return Error();
}

// ---- The loop

Error IncomingLoader::pump() {
  if (!error_.ok()) return error_;
  bool progress = true;
  while (progress) {
    progress = false;
    for (const auto& owned : connections_) {
      Connection& connection = *owned;
      while (true) {
        if (!connection.header_seen) {
          if (connection.end - connection.start < kStreamHeaderBytes) break;
          if (Error error = process_header(connection, connection.pending()); !error.ok()) {
            return fail(error);
          }
          connection.consume(kStreamHeaderBytes);
          progress = true;
          continue;
        }
        if (connection.ended) {
          if (connection.end > connection.start) {
            return fail(Error(where(connection) + ": " +
                              std::to_string(connection.end - connection.start) +
                              " bytes after the end record"));
          }
          break;
        }
        if (connection.in_pages) {
          // Page data that came with the header: copy it where it belongs.
          const size_t buffered = connection.end - connection.start;
          if (buffered == 0) break;
          std::span<uint8_t> room = input_space(connection.id, buffered);
          const size_t take = std::min(room.size(), buffered);
          std::memcpy(room.data(), connection.buffer.data() + connection.start, take);
          connection.start += take;
          if (connection.start == connection.end) connection.start = connection.end = 0;
          pages_arrived(connection, take);
          progress = true;
          continue;
        }
        if (paused(connection)) break;
        std::span<const uint8_t> pending = connection.pending();
        Expected<size_t> size = record_size(connection, pending);
        if (!size) return fail(size.error());
        if (*size == kNeedMore) break;
        if (Error error = process_record(connection, pending.first(*size)); !error.ok()) {
          return fail(error);
        }
        counters_.bytes += *size;
        if (!connection.in_pages) ++connection.records;
        connection.consume(*size);
        progress = true;
      }
    }
  }
  // A connection at end of file that still needs bytes is a cut stream.
  for (const auto& owned : connections_) {
    const Connection& connection = *owned;
    if (!connection.eof || connection.ended) continue;
    if (connection.in_pages) {
      return fail(Error(
          "truncated: the " + where(connection).substr(0, where(connection).find(", offset")) +
          " ends inside a page record at offset " + std::to_string(connection.offset) + " (page " +
          std::to_string(connection.page_next + 1) + " of " +
          std::to_string(connection.page_list.size()) + ")"));
    }
    if (paused(connection)) continue;
    const size_t left = connection.end - connection.start;
    std::string channel = where(connection);
    channel = channel.substr(0, channel.find(", offset"));
    return fail(Error(
        "truncated: the " + channel + " ends " +
        (!connection.header_seen
             ? "before its stream header (" + std::to_string(left) + " bytes came)"
         : left > 0
             ? "inside a record at offset " + std::to_string(connection.offset) + " (" +
                   std::to_string(left) + " bytes of it came)"
             : "before its end record (after " + std::to_string(connection.offset) + " bytes)")));
  }
  // A paused connection at end of file whose peers all ended cannot go on.
  if (complete()) return Error();
  bool all_stuck = !connections_.empty();
  for (const auto& owned : connections_) {
    all_stuck = all_stuck && owned->eof;
  }
  if (all_stuck && main_ != nullptr && config_ &&
      connections_.size() >= size_t{config_->multifd_channels} + 1) {
    return fail(Error("truncated: every channel ended before the stream was complete"));
  }
  return Error();
}

Error IncomingLoader::process_record(Connection& connection, std::span<const uint8_t> record) {
  const uint8_t type = record[0];
  StreamReader reader(record.subspan(1));
  const std::string at = where(connection);
  // What may come where.
  if (connection.role == Connection::Role::kUnknown) {
    if (type == kRecordConfig) return process_config(connection, reader);
    if (type == kRecordChannelHello) return process_hello(connection, reader);
    return Error(at + ": expected a configuration or channel hello record, got type " +
                 std::to_string(type));
  }
  if (connection.role == Connection::Role::kMain && connection.records == 1 &&
      type != kRecordBlocks) {
    return Error(at + ": expected the RAM block list after the configuration");
  }
  Error error;
  switch (type) {
    case kRecordConfig:
      return Error(at + ": a second configuration record");
    case kRecordChannelHello:
      return Error(at + ": a channel hello after the start of the channel");
    case kRecordBlocks:
      if (connection.role != Connection::Role::kMain || connection.records != 1) {
        return Error(at + ": a RAM block list out of place");
      }
      error = process_blocks(reader);
      break;
    case kRecordPages:
    case kRecordZeroPages:
    case kRecordFillPages:
      error = process_pages(connection, reader, type);
      break;
    case kRecordEndOfPass:
      error = process_end_of_pass(connection, reader);
      break;
    case kRecordSection:
      if (connection.role != Connection::Role::kMain) {
        return Error(at + ": a state section on a multifd channel");
      }
      error = state_.read_section(reader);
      if (error.ok()) ++counters_.sections;
      break;
    case kRecordEnd:
      return process_end(connection);
    default:
      return Error(at + ": unknown record type " + std::to_string(type));
  }
  if (!error.ok()) return error.message().starts_with(at) ? error : error.with_context(at);
  if (!reader.ok()) return reader.error().with_context(at);
  if (!reader.at_end()) {
    return Error(at + ": " + std::to_string(reader.remaining()) + " bytes left in the record");
  }
  return Error();
}

Error IncomingLoader::process_config(Connection& connection, StreamReader& reader) {
  if (main_ != nullptr) return Error(where(connection) + ": a second main channel");
  auto config = std::make_unique<StreamConfig>();
  config->board = reader.get_short_string("board name", kMaxIdentityName);
  config->cpu = reader.get_short_string("CPU name", kMaxIdentityName);
  config->multifd_channels = reader.get_u8();
  config->flags = reader.get_u8();
  reader.get_bytes(config->session);
  if (!reader.ok()) return reader.error().with_context(where(connection));
  if (config->flags & ~kKnownConfigFlags) {
    char text[96];
    std::snprintf(text, sizeof text, ": configuration flags 0x%02x unknown to this build",
                  config->flags);
    return Error(where(connection) + text);
  }
  if (config->board != target_.board) {
    return Error("the stream is for the '" + printable(config->board) + "' machine; this one is '" +
                 target_.board + "'");
  }
  if (config->cpu != target_.cpu) {
    return Error("the stream is for a " + printable(config->cpu) + " CPU; this machine has a " +
                 target_.cpu + " (use the source's -cpu)");
  }
  if (config->multifd_channels > kMaxMultifdChannels) {
    return Error(where(connection) + ": " + std::to_string(config->multifd_channels) +
                 " multifd channels (at most " + std::to_string(kMaxMultifdChannels) + ")");
  }
  connection.role = Connection::Role::kMain;
  main_ = &connection;
  config_ = std::move(config);
  for (const auto& other : connections_) {
    if (other->role != Connection::Role::kMultifd) continue;
    if (Error error = check_multifd_channel(*other); !error.ok()) return error;
  }
  return Error();
}

Error IncomingLoader::check_multifd_channel(const Connection& connection) const {
  if (!config_) return Error();
  if (config_->multifd_channels == 0) {
    return Error(where(connection) + ": a multifd channel, but the stream declared none");
  }
  if (connection.declared_count != config_->multifd_channels) {
    return Error(where(connection) + ": the channel says " +
                 std::to_string(connection.declared_count) + " channels, the main channel " +
                 std::to_string(config_->multifd_channels));
  }
  if (connection.session != config_->session) {
    return Error(where(connection) + ": the channel belongs to another migration (session id)");
  }
  return Error();
}

Error IncomingLoader::process_hello(Connection& connection, StreamReader& reader) {
  const uint32_t index = reader.get_u8();
  const uint32_t count = reader.get_u8();
  SessionId session{};
  reader.get_bytes(session);
  if (!reader.ok()) return reader.error().with_context(where(connection));
  if (count == 0 || count > kMaxMultifdChannels || index >= count) {
    return Error(where(connection) + ": channel hello for channel " + std::to_string(index) +
                 " of " + std::to_string(count));
  }
  for (const auto& other : connections_) {
    if (other->role == Connection::Role::kMultifd && other->multifd_index == index) {
      return Error(where(connection) + ": multifd channel " + std::to_string(index) +
                   " connected twice");
    }
  }
  connection.role = Connection::Role::kMultifd;
  connection.multifd_index = index;
  connection.declared_count = count;
  connection.session = session;
  // Without the configuration yet, process_config() checks it when it comes.
  return check_multifd_channel(connection);
}

Error IncomingLoader::process_blocks(StreamReader& reader) {
  const uint32_t count = reader.get_u8();
  std::vector<BlockDescriptor> listed;
  for (uint32_t i = 0; i < count && reader.ok(); ++i) {
    BlockDescriptor block;
    block.name = reader.get_short_string("RAM block name", kMaxStateNameLength);
    block.base = reader.get_u32();
    block.size = reader.get_u32();
    const uint8_t flags = reader.get_u8();
    if (flags > 1) {
      return Error("RAM block '" + printable(block.name) + "': unknown flags " +
                   std::to_string(flags));
    }
    block.read_only = flags != 0;
    listed.push_back(std::move(block));
  }
  if (!reader.ok()) return reader.error();
  block_map_.clear();
  std::vector<bool> seen(target_.blocks.size(), false);
  for (const BlockDescriptor& block : listed) {
    const RamBlock* local = find_ram_block(target_.blocks, block.name);
    if (local == nullptr) {
      return Error("RAM block '" + printable(block.name) + "' is not part of this machine");
    }
    const size_t index = static_cast<size_t>(local - target_.blocks.data());
    if (seen[index]) return Error("RAM block '" + block.name + "' is listed twice");
    seen[index] = true;
    if (local->base != block.base || local->size != block.size) {
      return Error("RAM block '" + block.name + "' is " + std::to_string(block.size) +
                   " bytes at " + hex_address(block.base) + " in the stream, " +
                   std::to_string(local->size) + " bytes at " + hex_address(local->base) +
                   " here (start the destination with the source's -m and -M)");
    }
    if (local->read_only != block.read_only) {
      return Error("RAM block '" + block.name + "' is " +
                   (block.read_only ? "read-only" : "writable") + " in the stream, not here");
    }
    block_map_.push_back(index);
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) {
      return Error("RAM block '" + target_.blocks[i].name + "' is missing from the stream");
    }
  }
  blocks_known_ = true;
  return Error();
}

Error IncomingLoader::process_pages(Connection& connection, StreamReader& reader, uint8_t type) {
  const bool zero = type != kRecordPages;  // no data follows
  const uint8_t stream_block = reader.get_u8();
  const uint8_t fill = type == kRecordFillPages ? reader.get_u8() : 0;
  const uint32_t count = reader.get_u16();
  if (!reader.ok()) return reader.error();
  if (!blocks_known_) return Error("pages before the RAM block list");
  if (stream_block >= block_map_.size()) {
    const char* what = type == kRecordPages       ? "page"
                       : type == kRecordZeroPages ? "zero page"
                                                  : "fill page";
    return Error(what + std::string(" record for block index ") + std::to_string(stream_block) +
                 "; the stream listed " + std::to_string(block_map_.size()) + " blocks");
  }
  const size_t local = block_map_[stream_block];
  const RamBlock& block = target_.blocks[local];
  std::span<const uint8_t> indexes = reader.get_span(size_t{count} * 4);
  if (!reader.ok()) return reader.error();
  // Check every index before writing anything of this record.
  std::vector<uint32_t> pages(count);
  for (uint32_t i = 0; i < count; ++i) {
    pages[i] = peek_u32(indexes, size_t{i} * 4);
    if (pages[i] >= block.page_count()) {
      return Error("block '" + block.name + "': page " + std::to_string(pages[i]) +
                   " is past its end (" + std::to_string(block.page_count()) + " pages)");
    }
  }
  if (!zero) {
    // The data follows: it is written into these pages as it arrives.
    connection.in_pages = true;
    connection.page_block = local;
    connection.page_list = std::move(pages);
    connection.page_next = 0;
    connection.page_offset = 0;
    return Error();
  }
  std::vector<uint8_t> filled;
  if (fill != 0) filled.assign(kPageSize, fill);
  for (uint32_t page : pages) {
    if (Error error = load_page(*target_.memory, block, page, filled); !error.ok()) return error;
    touched_[local][page] = true;
  }
  counters_.zero_pages += count;
  return Error();
}

Error IncomingLoader::process_end_of_pass(Connection& connection, StreamReader& reader) {
  const uint32_t pass = reader.get_u32();
  if (!reader.ok()) return reader.error();
  if (pass != connection.pass_done + 1) {
    return Error("end of pass " + std::to_string(pass) + " after pass " +
                 std::to_string(connection.pass_done) + " (expected " +
                 std::to_string(connection.pass_done + 1) + ")");
  }
  connection.pass_done = pass;
  update_barrier();
  return Error();
}

void IncomingLoader::update_barrier() {
  if (main_ == nullptr || !config_) return;
  uint32_t lowest = main_->pass_done;
  size_t present = 0;
  for (const auto& connection : connections_) {
    if (connection->role != Connection::Role::kMultifd) continue;
    ++present;
    lowest = std::min(lowest, connection->pass_done);
  }
  if (present < config_->multifd_channels) return;
  released_pass_ = std::max(released_pass_, lowest);
  counters_.passes = released_pass_;
}

Error IncomingLoader::process_end(Connection& connection) {
  if (connection.role == Connection::Role::kMain) {
    if (Error error = state_.finish(); !error.ok()) return error;
  }
  connection.ended = true;
  if (!complete()) return Error();
  for (const auto& other : connections_) {
    if (other->role == Connection::Role::kMultifd && other->pass_done != main_->pass_done) {
      return Error("multifd channel " + std::to_string(other->multifd_index) +
                   " ended after pass " + std::to_string(other->pass_done) +
                   ", the main channel after pass " + std::to_string(main_->pass_done));
    }
  }
  return Error();
}

bool IncomingLoader::complete() const {
  if (!error_.ok() || main_ == nullptr || !main_->ended || !config_) return false;
  size_t ended = 0;
  for (const auto& connection : connections_) {
    if (connection->role == Connection::Role::kMultifd && connection->ended) ++ended;
  }
  return ended == config_->multifd_channels;
}

bool IncomingLoader::commit() {
  if (committed_ || !complete()) return false;
  committed_ = true;
  return state_.commit();
}

}  // namespace cr16::migration
