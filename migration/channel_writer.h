// A migration stream written to an io channel: small records are encoded
// into a memory buffer (StreamWriter) and go out with the next batch of
// page data, which is written straight from guest memory (iovecs, no
// copy), with MSG_ZEROCOPY when asked. Like StreamWriter it keeps its first
// error; later writes do nothing.
//
// Blocking: writes wait until the channel took everything (write_all).
// One thread at a time (a migration sender thread).
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <span>

#include "io/channel.h"
#include "migration/stream.h"
#include "util/error.h"

namespace cr16::migration {

class ChannelWriter {
 public:
  /// Writes to `channel` (not owned; must outlive the writer). Every byte
  /// written is also added to `total` when given (shared progress counter).
  explicit ChannelWriter(io::Channel& channel, std::atomic<uint64_t>* total = nullptr)
      : channel_(channel), total_(total) {}

  /// Where records are encoded; they are written by flush() or together
  /// with the next page data.
  StreamWriter& records() { return records_; }
  /// Writes the buffered records.
  Error flush();
  /// Writes the buffered records (typically a page record header), then
  /// `data` (guest pages). With `zero_copy` the data goes with
  /// kWriteZeroCopy: its memory is read by the kernel later, until the
  /// channel's flush(); the records are written without it.
  Error write_with_data(std::span<const iovec> data, bool zero_copy);
  /// Writes `bytes` after the buffered records (state sections, end).
  Error write_bytes(std::span<const uint8_t> bytes);

  /// Bytes written to the channel so far.
  uint64_t bytes_written() const { return bytes_written_; }
  const Error& error() const { return error_; }
  io::Channel& channel() { return channel_; }

 private:
  Error record(Error error);
  void count(uint64_t bytes);

  io::Channel& channel_;
  std::atomic<uint64_t>* total_;
  StreamWriter records_;
  uint64_t bytes_written_ = 0;
  Error error_;
};

}  // namespace cr16::migration
