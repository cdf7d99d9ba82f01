#include "migration/channel_writer.h"

#include <vector>

namespace cr16::migration {

Error ChannelWriter::record(Error error) {
  if (error_.ok() && !error.ok()) error_ = std::move(error);
  return error_;
}

void ChannelWriter::count(uint64_t bytes) {
  bytes_written_ += bytes;
  if (total_ != nullptr) *total_ += bytes;
}

Error ChannelWriter::flush() {
  return write_with_data({}, false);
}

Error ChannelWriter::write_with_data(std::span<const iovec> data, bool zero_copy) {
  if (!error_.ok()) return error_;
  if (!records_.ok()) return record(records_.error());
  std::vector<uint8_t> pending = records_.take();
  records_ = StreamWriter();
  const size_t data_bytes = io::iov_size(data);
  if (zero_copy && data_bytes > 0) {
    if (!pending.empty()) {
      if (Error error = io::write_all(channel_, pending.data(), pending.size()); !error.ok()) {
        return record(error);
      }
      count(pending.size());
    }
    if (Error error = io::write_all(channel_, data, nullptr, {}, io::kWriteZeroCopy); !error.ok()) {
      return record(error);
    }
    count(data_bytes);
    return Error();
  }
  // One writev for the records and the data.
  std::vector<iovec> all;
  all.reserve(data.size() + 1);
  if (!pending.empty()) all.push_back({pending.data(), pending.size()});
  all.insert(all.end(), data.begin(), data.end());
  if (all.empty()) return Error();
  // writev takes at most IOV_MAX entries at once; write_all loops over
  // partial writes but each call must stay within it.
  constexpr size_t kMaxIov = 1024;
  std::span<const iovec> rest(all);
  while (!rest.empty()) {
    std::span<const iovec> part = rest.first(std::min(rest.size(), kMaxIov));
    if (Error error = io::write_all(channel_, part); !error.ok()) return record(error);
    count(io::iov_size(part));
    rest = rest.subspan(part.size());
  }
  return Error();
}

Error ChannelWriter::write_bytes(std::span<const uint8_t> bytes) {
  iovec entry{const_cast<uint8_t*>(bytes.data()), bytes.size()};
  return write_with_data(bytes.empty() ? std::span<const iovec>() : std::span(&entry, 1), false);
}

}  // namespace cr16::migration
