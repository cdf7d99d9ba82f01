// Readiness for layered channels that buffer input (TLS, websock): bytes
// already pulled from the master and decoded, or waiting to be, do not make
// the master's fd readable, so a watch on that fd alone could sleep forever
// with data in hand. PendingInputSignal combines the master's fd with an
// eventfd in a private epoll set; its fd is readable when either is.
#pragma once

#include <memory>

#include "io/channel.h"
#include "util/error.h"

namespace cr16::io {

class PendingInputSignal {
 public:
  /// A signal over MASTER_READ_FD (not owned; must stay open while this
  /// exists, or be closed, which drops it from the set automatically).
  static Expected<std::unique_ptr<PendingInputSignal>> create(int master_read_fd);

  /// The fd to watch for kIn: readable when the master fd is readable or
  /// set(true) is in effect.
  int fd() const { return epoll_.get(); }

  /// Marks buffered input present (true) or consumed (false). Cheap when the
  /// state does not change.
  void set(bool pending);

 private:
  PendingInputSignal(UniqueFd epoll, UniqueFd event)
      : epoll_(std::move(epoll)), event_(std::move(event)) {}
  UniqueFd epoll_;
  UniqueFd event_;
  bool pending_ = false;
};

}  // namespace cr16::io
