// The destination's side of a migration stream: takes the bytes of one or
// more connections (the main channel and, with multifd, its page channels)
// as they arrive, checks every record and loads it into a machine. The
// stream is hostile input: every length, count, block index, page index,
// pass number, section and version is checked, and a refused stream is an
// Error naming what was wrong and where — never a crash, never a write
// outside the machine's RAM blocks (pages go through load_page()), never an
// allocation sized by the stream beyond one bounded record.
//
// Pages are written into guest memory as they arrive (the destination's
// VM does not run while it loads; a failed load ends the destination). The
// state sections are staged (StateLoader) and written only by commit(),
// once the whole stream checked out.
//
// Multifd: each connection starts with the stream header; the main channel
// then carries the configuration (with the number of page channels and a
// session id) and the RAM block list, each page channel a hello naming its
// index and the session. Pages of pass n+1 are applied only after every
// channel delivered all of pass n (the end-of-pass records are a barrier),
// so a page resent on another channel never overtakes its older copy.
//
// Machine thread only (it writes guest memory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hw/address_space.h"
#include "migration/ram_blocks.h"
#include "migration/state_sections.h"
#include "migration/stream_records.h"
#include "util/error.h"
#include "util/state.h"

namespace cr16::migration {

/// The machine a stream is loaded into.
struct LoadTarget {
  AddressSpace* memory = nullptr;      // where pages go (must outlive the loader)
  std::vector<RamBlock> blocks;        // ram_blocks(*memory)
  std::vector<StateSection> sections;  // the clock first, then the board's sections
  std::string board;                   // must equal the stream's board name
  std::string cpu;                     // must equal the stream's CPU model name
};

/// What was loaded so far.
struct LoadCounters {
  uint64_t bytes = 0;         // stream bytes consumed, all connections
  uint64_t normal_pages = 0;  // pages loaded with data
  uint64_t zero_pages = 0;    // pages loaded as zeros (or one repeated byte)
  uint32_t passes = 0;        // passes every channel completed
  uint32_t sections = 0;      // state sections staged
};

class IncomingLoader {
 public:
  /// Most bytes buffered for one connection (a record that does not fit is
  /// refused before it is buffered).
  static constexpr size_t kMaxBufferedBytes = 8u << 20;
  /// Most bytes read into a buffer at a time (page data is read directly).
  static constexpr size_t kBufferedReadBytes = 64u << 10;

  explicit IncomingLoader(LoadTarget target);
  ~IncomingLoader();
  IncomingLoader(const IncomingLoader&) = delete;
  IncomingLoader& operator=(const IncomingLoader&) = delete;

  /// A new connection (accepted socket, the file, the command's output);
  /// returns its id for the calls below. Its first records tell whether it
  /// is the main channel or a multifd channel.
  unsigned add_connection();

  /// Hands bytes received on `connection` to the loader, which processes
  /// every complete record it may (see wants_input()). The first error is
  /// kept and returned again by every later call.
  Error feed(unsigned connection, std::span<const uint8_t> bytes);
  /// Where the connection's next bytes go, at most `max_bytes`: inside a
  /// page record straight into the guest pages it names (checked against
  /// their block when its header came), otherwise into the connection's
  /// buffer. Read into it, then commit_input() with the count actually
  /// read. The span is valid until the next call.
  std::span<uint8_t> input_space(unsigned connection, size_t max_bytes);
  Error commit_input(unsigned connection, size_t count);
  /// The connection reached end of file. Before its end record that is a
  /// truncated stream (an Error naming the channel and the offset).
  Error end_of_input(unsigned connection);

  /// Whether the connection's reader should read now: false while it
  /// waits at a pass barrier for the others (it resumes when this turns
  /// true again after input on another connection), after end of file and
  /// after an error. After its end record it should read on, to see the
  /// end of file (anything else there is an error).
  bool wants_input(unsigned connection) const;
  /// True once end_of_input() was called for every connection.
  bool all_at_end_of_input() const;
  /// True once every channel sent its end record and every section of
  /// the machine came: commit() may run.
  bool complete() const;
  /// Writes the staged state into the machine (StateLoader::commit): the
  /// clock first, then the devices, each told state_loaded(). Only after
  /// complete(); returns false otherwise.
  bool commit();

  /// The first error (ok() when none).
  const Error& error() const { return error_; }
  /// The configuration record, once the main channel sent it.
  const StreamConfig* config() const;
  /// The connection that turned out to be the main channel.
  std::optional<unsigned> main_connection() const;
  const LoadCounters& counters() const { return counters_; }
  /// The target's blocks.
  const std::vector<RamBlock>& blocks() const { return target_.blocks; }
  /// Indexes (into LoadTarget::blocks) of the blocks loaded pages touched,
  /// as a bitmap over each block's pages: for a flash backing file.
  const std::vector<std::vector<bool>>& touched_pages() const { return touched_; }

 private:
  struct Connection;
  Error fail(Error error);
  Error pump();
  bool paused(const Connection& connection) const;
  /// Size of the record at the start of `bytes`: 0 when more bytes are
  /// needed, else its length; an Error when the header is impossible.
  Expected<size_t> record_size(const Connection& connection, std::span<const uint8_t> bytes) const;
  Error process_header(Connection& connection, std::span<const uint8_t> bytes);
  Error process_record(Connection& connection, std::span<const uint8_t> record);
  Error process_config(Connection& connection, StreamReader& reader);
  Error process_blocks(StreamReader& reader);
  Error process_hello(Connection& connection, StreamReader& reader);
  Error process_pages(Connection& connection, StreamReader& reader, uint8_t type);
  /// `count` bytes of page data are in guest memory: advances the record,
  /// noting each complete page (dirty log, code pages) like load_page().
  void pages_arrived(Connection& connection, size_t count);
  Error process_end_of_pass(Connection& connection, StreamReader& reader);
  Error process_end(Connection& connection);
  Error check_multifd_channel(const Connection& connection) const;
  void update_barrier();
  std::string where(const Connection& connection) const;

  LoadTarget target_;
  StateLoader state_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::unique_ptr<StreamConfig> config_;
  Connection* main_ = nullptr;
  // Stream block index -> index in target_.blocks (after the block list).
  std::vector<size_t> block_map_;
  bool blocks_known_ = false;
  uint32_t released_pass_ = 0;  // every channel finished this pass
  uint64_t max_section_bytes_ = 0;
  LoadCounters counters_;
  std::vector<std::vector<bool>> touched_;
  Error error_;
  bool committed_ = false;
};

}  // namespace cr16::migration
