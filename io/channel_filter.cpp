#include "io/channel_filter.h"

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
    : master_(std::move(master)) {
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
