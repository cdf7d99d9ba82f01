// The buffer channel: a growable, seekable block of memory (used to stash
// device state and in tests). Always ready; reads at the end return EOF.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "io/channel.h"

namespace cr16::io {

class BufferChannel final : public Channel {
 public:
  /// An empty buffer, or one holding `initial` with the offset at 0.
  explicit BufferChannel(std::vector<uint8_t> initial = {});

  /// The whole content (independent of the offset).
  const std::vector<uint8_t>& data() const { return data_; }
  /// Moves the content out, leaving the buffer empty at offset 0.
  std::vector<uint8_t> take_data();
  uint64_t offset() const { return offset_; }

  Error close() override;
  Expected<uint64_t> seek(int64_t offset, int whence) override;

 protected:
  IoResult do_readv(std::span<const iovec> iov, std::vector<UniqueFd>* fds,
                    uint32_t flags) override;
  IoResult do_writev(std::span<const iovec> iov, std::span<const int> fds, uint32_t flags) override;
  IoResult do_preadv(std::span<const iovec> iov, uint64_t offset) override;
  IoResult do_pwritev(std::span<const iovec> iov, uint64_t offset) override;
  Error do_set_blocking(bool) override { return Error(); }

 private:
  size_t read_at(std::span<const iovec> iov, uint64_t offset) const;
  Expected<size_t> write_at(std::span<const iovec> iov, uint64_t offset);

  std::vector<uint8_t> data_;
  uint64_t offset_ = 0;
  bool closed_ = false;
};

}  // namespace cr16::io
