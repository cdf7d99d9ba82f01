#include "io/channel_filter.h"

#include <cerrno>
#include <string>
#include <utility>

namespace cr16::io {
namespace {

// Reaches another channel's watch fds: read_fd()/write_fd() are protected in
// Channel, and naming them through a class derived from Channel is the one
// way C++ allows to call them on another Channel object.
struct ChannelFds : Channel {
  static int read_fd_of(const Channel& channel) { return (channel.*&ChannelFds::read_fd)(); }
  static int write_fd_of(const Channel& channel) { return (channel.*&ChannelFds::write_fd)(); }
};

}  // namespace

FilterChannel::FilterChannel(std::unique_ptr<Channel> master, std::string_view kind)
    : master_(std::move(master)), kind_(kind) {
  set_features(master_->features() & kFeatureShutdown);
  set_name(std::string(kind) + "(" + master_->name() + ")");
}

Error FilterChannel::attach_to_master() {
  const int master_fd = ChannelFds::read_fd_of(*master_);
  if (master_fd >= 0) {
    auto signal = PendingInputSignal::create(master_fd);
    if (signal) input_signal_ = std::move(*signal);
  }
  if (!master_->is_blocking()) return set_blocking(false);
  return Error();
}

FilterChannel::~FilterChannel() {
  cancel_handshake();
}

void FilterChannel::start_handshake(Loop& loop, HandshakeCallback done) {
  cancel_handshake();
  handshake_loop_ = &loop;
  handshake_done_ = std::move(done);
  std::weak_ptr<bool> alive = alive_;
  auto finish_later = [this, alive, &loop](Error error) {
    loop.schedule([this, alive, error] {
      if (alive.lock() && handshake_done_) finish_handshake(error);
    });
  };
  if (closed_) return finish_later(Error(kind_ + " channel is closed", EBADF));
  if (is_blocking()) {
    if (Error error = set_blocking(false); !error.ok()) return finish_later(error);
    restore_blocking_ = true;
  }
  loop.schedule([this, alive] {
    if (alive.lock() && handshake_done_) handshake_step();
  });
}

void FilterChannel::wait_on_master(uint32_t condition) {
  std::weak_ptr<bool> alive = alive_;
  handshake_watch_ = master_->create_watch(*handshake_loop_, condition, [this, alive](uint32_t) {
    if (!alive.lock()) return false;
    handshake_watch_ = 0;
    handshake_step();
    return false;
  });
}

void FilterChannel::finish_handshake(Error error) {
  const bool restore = restore_blocking_;
  HandshakeCallback done = std::move(handshake_done_);
  cancel_handshake();
  if (restore && !closed_) {
    Error restored = set_blocking(true);
    if (error.ok() && !restored.ok()) error = restored;
  }
  update_input_signal();             // input may have come right behind the last handshake bytes
  if (done) done(std::move(error));  // may destroy this channel
}

void FilterChannel::cancel_handshake() {
  if (handshake_watch_ != 0 && handshake_loop_ != nullptr) {
    handshake_loop_->remove_watch(handshake_watch_);
  }
  handshake_watch_ = 0;
  handshake_loop_ = nullptr;
  handshake_done_ = nullptr;
  restore_blocking_ = false;
}

Error FilterChannel::shutdown(ShutdownDirection direction) {
  return master_->shutdown(direction);
}
Error FilterChannel::set_cork(bool enabled) {
  return master_->set_cork(enabled);
}
Error FilterChannel::set_delay(bool enabled) {
  return master_->set_delay(enabled);
}
Error FilterChannel::do_set_blocking(bool blocking) {
  return master_->set_blocking(blocking);
}
int FilterChannel::read_fd() const {
  if (input_signal_ && !closed_) return input_signal_->fd();
  return ChannelFds::read_fd_of(*master_);
}
int FilterChannel::write_fd() const {
  return ChannelFds::write_fd_of(*master_);
}

}  // namespace cr16::io
