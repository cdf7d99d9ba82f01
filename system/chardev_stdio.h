// -serial stdio: the emulator's own terminal. On a tty it switches to raw
// mode (restored at exit, on SIGINT/SIGTERM and on fatal signals) and, like
// QEMU with -nographic, interprets the Ctrl-A escape: Ctrl-A x quits,
// Ctrl-A h prints help, Ctrl-A Ctrl-A sends one Ctrl-A.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "system/chardev_common.h"

namespace cr16::system {

/// The Ctrl-A escape state machine, separate from any channel so it is testable.
class EscapeFilter {
 public:
  enum class Command : uint8_t { kNone, kQuit, kHelp };
  static constexpr uint8_t kEscapeByte = 0x01;  // Ctrl-A

  /// Feeds input; bytes for the guest are appended to `out`. Returns the
  /// first command recognised in `in` (bytes after a quit are dropped).
  Command feed(std::span<const uint8_t> in, std::vector<uint8_t>* out);
  /// The text printed for Ctrl-A h.
  static const char* help_text();

 private:
  bool escape_pending_ = false;
};

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
  /// `quit` runs on the machine thread when the user types Ctrl-A x.
  /// Reads a duplicate of fd 0 (left blocking: it is only read when ready)
  /// and writes fd 1 through a private reopen when it is a pipe or tty, so
  /// non-blocking writes do not change the shared file description.
  static Expected<std::unique_ptr<StdioCharBackend>> open(io::Loop& loop,
                                                          std::function<void()> quit);
  ~StdioCharBackend() override;

 protected:
  void on_input(std::span<const uint8_t> bytes) override;

 private:
  StdioCharBackend(io::Loop& loop, std::unique_ptr<io::FileChannel> input,
                   std::unique_ptr<io::FileChannel> output, std::function<void()> quit);
  std::unique_ptr<io::FileChannel> input_;
  std::unique_ptr<io::FileChannel> output_;
  std::function<void()> quit_;
  EscapeFilter filter_;
};

}  // namespace cr16::system
