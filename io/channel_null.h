// The null channel: writes are discarded (and succeed), reads return end of
// file, and watches are always ready.
#pragma once

#include "io/channel.h"

namespace cr16::io {

class NullChannel final : public Channel {
 public:
  NullChannel() { set_name("null"); }
  Error close() override {
    closed_ = true;
    return Error();
  }

 protected:
  IoResult do_readv(std::span<const iovec> iov, std::vector<UniqueFd>*, uint32_t) override {
    if (closed_) return Error("null channel is closed", EBADF);
    return iov_size(iov) == 0 ? IoResult::bytes(0) : IoResult::eof();
  }
  IoResult do_writev(std::span<const iovec> iov, std::span<const int>, uint32_t) override {
    if (closed_) return Error("null channel is closed", EBADF);
    return IoResult::bytes(iov_size(iov));
  }
  Error do_set_blocking(bool) override { return Error(); }

 private:
  bool closed_ = false;
};

}  // namespace cr16::io
