// The command channel: runs a child process with pipes on its stdin and
// stdout; writes go to the child's stdin, reads come from its stdout.
// Closing reaps the child (SIGTERM, then SIGKILL if it will not exit).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/channel.h"

namespace cr16::io {

class CommandChannel final : public Channel {
 public:
  /// Starts argv[0] (searched in PATH) with `argv`. The child's stderr is
  /// ours. Fails with the exec error if the program cannot be started.
  static Expected<std::unique_ptr<CommandChannel>> spawn(const std::vector<std::string>& argv);

  ~CommandChannel() override;

  pid_t pid() const { return pid_; }

  /// The child's wait status once reaped (after close() or wait_exit()).
  std::optional<int> wait_status() const { return wait_status_; }
  /// The exit code if the child exited normally, else nullopt.
  std::optional<int> exit_code() const;
  /// The terminating signal if the child was killed, else nullopt.
  std::optional<int> exit_signal() const;

  /// Closes the pipes and waits for the child: first up to `grace` for it to
  /// exit by itself, then SIGTERM and `grace` again, then SIGKILL.
  Error close_with_grace(std::chrono::milliseconds grace);
  /// close_with_grace(1 s).
  Error close() override;
  /// kWrite closes the child's stdin (it sees EOF); kRead closes its stdout.
  Error shutdown(ShutdownDirection direction) override;

 protected:
  IoResult do_readv(std::span<const iovec> iov, std::vector<UniqueFd>* fds,
                    uint32_t flags) override;
  IoResult do_writev(std::span<const iovec> iov, std::span<const int> fds, uint32_t flags) override;
  Error do_set_blocking(bool blocking) override;
  int read_fd() const override { return from_child_.get(); }
  int write_fd() const override { return to_child_.get(); }

 private:
  CommandChannel(pid_t pid, int to_child, int from_child);
  /// Waits up to `timeout` for the child; true once reaped.
  bool reap_within(std::chrono::milliseconds timeout);

  pid_t pid_;
  UniqueFd to_child_;
  UniqueFd from_child_;
  std::optional<int> wait_status_;
};

}  // namespace cr16::io
