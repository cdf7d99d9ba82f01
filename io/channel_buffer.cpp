// Buffer channel.
#include "io/channel_buffer.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace cr16::io {

namespace {
/// Largest buffer we let a write grow to (guards against runaway offsets).
constexpr uint64_t kMaxBufferSize = uint64_t{1} << 34;
}  // namespace

BufferChannel::BufferChannel(std::vector<uint8_t> initial) : data_(std::move(initial)) {
  set_features(kFeatureSeekable);
  set_name("buffer");
}

std::vector<uint8_t> BufferChannel::take_data() {
  std::vector<uint8_t> taken;
  taken.swap(data_);
  offset_ = 0;
  return taken;
}

size_t BufferChannel::read_at(std::span<const iovec> iov, uint64_t offset) const {
  size_t done = 0;
  for (const iovec& entry : iov) {
    if (offset >= data_.size()) break;
    size_t take = std::min<uint64_t>(entry.iov_len, data_.size() - offset);
    std::memcpy(entry.iov_base, data_.data() + offset, take);
    offset += take;
    done += take;
  }
  return done;
}

Expected<size_t> BufferChannel::write_at(std::span<const iovec> iov, uint64_t offset) {
  size_t total = iov_size(iov);
  if (offset > kMaxBufferSize || total > kMaxBufferSize - offset) {
    return Error("buffer channel write beyond " + std::to_string(kMaxBufferSize) + " bytes", EFBIG);
  }
  if (offset + total > data_.size()) data_.resize(offset + total);
  for (const iovec& entry : iov) {
    if (entry.iov_len == 0) continue;
    std::memcpy(data_.data() + offset, entry.iov_base, entry.iov_len);
    offset += entry.iov_len;
  }
  return total;
}

IoResult BufferChannel::do_readv(std::span<const iovec> iov, std::vector<UniqueFd>*, uint32_t) {
  if (closed_) return Error("buffer channel is closed", EBADF);
  if (iov_size(iov) == 0) return IoResult::bytes(0);
  size_t done = read_at(iov, offset_);
  if (done == 0) return IoResult::eof();
  offset_ += done;
  return IoResult::bytes(done);
}

IoResult BufferChannel::do_writev(std::span<const iovec> iov, std::span<const int>, uint32_t) {
  if (closed_) return Error("buffer channel is closed", EBADF);
  Expected<size_t> done = write_at(iov, offset_);
  if (!done) return done.error();
  offset_ += *done;
  return IoResult::bytes(*done);
}

IoResult BufferChannel::do_preadv(std::span<const iovec> iov, uint64_t offset) {
  if (closed_) return Error("buffer channel is closed", EBADF);
  if (iov_size(iov) == 0) return IoResult::bytes(0);
  size_t done = read_at(iov, offset);
  if (done == 0) return IoResult::eof();
  return IoResult::bytes(done);
}

IoResult BufferChannel::do_pwritev(std::span<const iovec> iov, uint64_t offset) {
  if (closed_) return Error("buffer channel is closed", EBADF);
  Expected<size_t> done = write_at(iov, offset);
  if (!done) return done.error();
  return IoResult::bytes(*done);
}

Error BufferChannel::close() {
  closed_ = true;
  return Error();
}

Expected<uint64_t> BufferChannel::seek(int64_t offset, int whence) {
  if (closed_) return Error("buffer channel is closed", EBADF);
  int64_t base = whence == SEEK_SET   ? 0
                 : whence == SEEK_CUR ? static_cast<int64_t>(offset_)
                 : whence == SEEK_END ? static_cast<int64_t>(data_.size())
                                      : -1;
  if (base < 0) return Error("invalid whence " + std::to_string(whence), EINVAL);
  int64_t target = base + offset;
  if (target < 0) return Error("seek before the start of the buffer", EINVAL);
  offset_ = static_cast<uint64_t>(target);
  return offset_;
}

}  // namespace cr16::io
