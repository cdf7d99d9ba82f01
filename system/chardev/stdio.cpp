#include "system/chardev/stdio.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace cr16::system {

namespace {

struct termios g_saved_mode;
volatile sig_atomic_t g_mode_saved = 0;

void restore_on_fatal_signal(int signal_number) {
  TerminalMode::restore();
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

}  // namespace

void TerminalMode::enter_raw_mode() {
  if (!isatty(STDIN_FILENO) || g_mode_saved) return;
  struct termios mode;
  if (tcgetattr(STDIN_FILENO, &mode) != 0) return;
  g_saved_mode = mode;
  g_mode_saved = 1;
  mode.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  mode.c_oflag |= OPOST;  // keep \n -> \r\n for host-side messages and semihosting output
  mode.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);  // ISIG stays: Ctrl-C still stops us
  mode.c_cflag &= ~(CSIZE | PARENB);
  mode.c_cflag |= CS8;
  mode.c_cc[VMIN] = 1;
  mode.c_cc[VTIME] = 0;
  tcsetattr(STDIN_FILENO, TCSANOW, &mode);
  std::atexit(TerminalMode::restore);
  for (int fatal : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGQUIT, SIGHUP}) {
    struct sigaction action;
    std::memset(&action, 0, sizeof action);
    action.sa_handler = restore_on_fatal_signal;
    action.sa_flags = SA_RESETHAND;
    sigaction(fatal, &action, nullptr);
  }
}

void TerminalMode::restore() {
  if (g_mode_saved) {
    tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_mode);
    g_mode_saved = 0;
  }
}

namespace {

// A channel on `fd` (0 or 1) that never blocks the loop: a private,
// non-blocking open file description of it where there can be one (a pipe,
// FIFO or terminal), so the description the shell shares keeps its flags;
// otherwise (a regular file, a socket) a duplicate of the fd.
Expected<std::unique_ptr<io::FileChannel>> private_channel(int fd, int access) {
  struct stat info {};
  if (fstat(fd, &info) == 0 && !S_ISREG(info.st_mode) && !S_ISSOCK(info.st_mode)) {
    auto reopened = io::FileChannel::open("/proc/self/fd/" + std::to_string(fd),
                                          access | O_NOCTTY | O_NONBLOCK);
    if (reopened) return reopened;
  }
  return io::FileChannel::from_dup(fd);
}

}  // namespace

Expected<std::unique_ptr<StdioCharBackend>> StdioCharBackend::open(io::Loop& loop) {
  // Reads must never block the loop (a readiness report can be stale by the
  // time it is handled) and writes never wait for a slow terminal. A stdin
  // that stays blocking (a socket) is checked by ChannelCharBackend before
  // each read.
  auto input = private_channel(STDIN_FILENO, O_RDONLY);
  if (!input) return input.error().with_context("-serial stdio");
  auto output = private_channel(STDOUT_FILENO, O_WRONLY);
  if (!output) return output.error().with_context("-serial stdio");
  (*input)->set_name("stdin");
  (*output)->set_name("stdout");
  TerminalMode::enter_raw_mode();
  return std::unique_ptr<StdioCharBackend>(
      new StdioCharBackend(loop, std::move(*input), std::move(*output)));
}

StdioCharBackend::StdioCharBackend(io::Loop& loop, std::unique_ptr<io::FileChannel> input,
                                   std::unique_ptr<io::FileChannel> output)
    : ChannelCharBackend(loop), input_(std::move(input)), output_(std::move(output)) {
  set_channels(input_.get(), output_.get());
}

StdioCharBackend::~StdioCharBackend() {
  close_channels();
  TerminalMode::restore();
}

}  // namespace cr16::system
