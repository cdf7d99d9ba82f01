// -serial stdio: the emulator's own terminal. On a tty it switches to raw
// mode (restored at exit, on SIGINT/SIGTERM and on fatal signals). The
// Ctrl-A escapes (x quits, h helps, c switches to the monitor) belong to the
// multiplexer the machine puts in front of it (mux.h).
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "system/chardev/common.h"

namespace cr16::system {

/// Terminal handling for stdin: raw mode on, and restored from anywhere
/// (normal exit, signals). Only one instance is active at a time.
class TerminalMode {
 public:
  /// Puts fd 0 in raw mode when it is a terminal; no-op otherwise.
  static void enter_raw_mode();
  /// Restores the saved mode; safe to call from a signal handler and twice.
  static void restore();
};

class StdioCharBackend : public ChannelCharBackend {
 public:
  /// Reads a duplicate of fd 0 (left blocking: it is only read when ready)
  /// and writes fd 1 through a private reopen when it is a pipe or tty, so
  /// non-blocking writes do not change the shared file description.
  static Expected<std::unique_ptr<StdioCharBackend>> open(io::Loop& loop);
  ~StdioCharBackend() override;

 private:
  StdioCharBackend(io::Loop& loop, std::unique_ptr<io::FileChannel> input,
                   std::unique_ptr<io::FileChannel> output);
  std::unique_ptr<io::FileChannel> input_;
  std::unique_ptr<io::FileChannel> output_;
};

}  // namespace cr16::system
