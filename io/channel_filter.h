// The common part of channels layered on a "master" channel (TLS,
// websock): ownership of the master, plain delegation of shutdown, cork,
// delay and blocking mode to it, the read fd that also reports input the
// layer has already buffered (see io/tls_pending_input.h), and the driver
// of an asynchronous handshake run by watches on the master.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "io/channel.h"
#include "io/loop.h"
#include "io/tls_pending_input.h"
#include "util/error.h"

namespace cr16::io {

/// A Channel that wraps and owns a master channel. Supports
/// kFeatureShutdown when the master does. Derived classes implement the
/// data path (do_readv/do_writev) and close(), which must set closed_ and
/// close the master.
class FilterChannel : public Channel {
 public:
  /// Called once when an asynchronous handshake ends: ok, or why it failed.
  /// It runs from the loop and may destroy the channel.
  using HandshakeCallback = std::function<void(Error)>;

  ~FilterChannel() override;

  Channel& master() { return *master_; }

  /// Starts the layer's handshake on LOOP (loop thread only). The master is
  /// made non-blocking while it runs and restored afterwards. DONE runs
  /// later from the loop, never from inside this call. Destroying or closing
  /// the channel first cancels the handshake without calling DONE.
  void start_handshake(Loop& loop, HandshakeCallback done);

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

  /// Advances the handshake as far as it can without waiting, then ends
  /// with finish_handshake() or wait_on_master().
  virtual void handshake_step() = 0;
  /// Raises or clears the pending-input signal after buffers changed.
  virtual void update_input_signal() = 0;
  /// Runs handshake_step() again once the master is ready for CONDITION.
  void wait_on_master(uint32_t condition);
  /// Ends the asynchronous handshake: restores blocking mode, updates the
  /// input signal and calls the callback (which may destroy the channel).
  void finish_handshake(Error error);
  /// Drops a running asynchronous handshake without calling its callback.
  void cancel_handshake();

  Error do_set_blocking(bool blocking) override;
  /// The pending-input signal's fd while open, else the master's.
  int read_fd() const override;
  int write_fd() const override;

  std::unique_ptr<Channel> master_;
  std::unique_ptr<PendingInputSignal> input_signal_;  // null: watch the master directly
  bool closed_ = false;

 private:
  std::string kind_;
  // Expires with the channel; deferred handshake callbacks check it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  Loop* handshake_loop_ = nullptr;
  Loop::WatchId handshake_watch_ = 0;
  HandshakeCallback handshake_done_;
  bool restore_blocking_ = false;
};

}  // namespace cr16::io
