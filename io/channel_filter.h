// The common part of channels layered on a "master" channel (TLS,
// websock): ownership of the master, plain delegation of shutdown, cork,
// delay and blocking mode to it, and the read fd that also reports input
// the layer has already buffered (see io/tls_pending_input.h).
#pragma once

#include <memory>
#include <string_view>

#include "io/channel.h"
#include "io/tls_pending_input.h"
#include "util/error.h"

namespace cr16::io {

/// A Channel that wraps and owns a master channel. Supports
/// kFeatureShutdown when the master does. Derived classes implement the
/// data path (do_readv/do_writev) and close(), which must set closed_ and
/// close the master.
class FilterChannel : public Channel {
 public:
  Channel& master() { return *master_; }

  Error shutdown(ShutdownDirection direction) override;
  Error set_cork(bool enabled) override;
  Error set_delay(bool enabled) override;

 protected:
  /// Takes MASTER (not null) and names the channel "KIND(master name)".
  FilterChannel(std::unique_ptr<Channel> master, std::string_view kind);

  /// Completes construction: creates the pending-input signal over the
  /// master's read fd (masters whose fd epoll refuses, such as regular
  /// files, keep plain fd watches) and puts the channel in the master's
  /// blocking mode.
  Error attach_to_master();

  Error do_set_blocking(bool blocking) override;
  /// The pending-input signal's fd while open, else the master's.
  int read_fd() const override;
  int write_fd() const override;

  std::unique_ptr<Channel> master_;
  std::unique_ptr<PendingInputSignal> input_signal_;  // null: watch the master directly
  bool closed_ = false;
};

}  // namespace cr16::io
