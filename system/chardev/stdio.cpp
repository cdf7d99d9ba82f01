#include "system/chardev/stdio.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

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

Expected<std::unique_ptr<StdioCharBackend>> StdioCharBackend::open(io::Loop& loop) {
  // Reads must never block the loop (a readiness report can be stale by the
  // time it is handled): read through a private, non-blocking open file
  // description of stdin where there is one (a pipe, FIFO or terminal), so
  // the shell's own stdin stays blocking. A socket cannot be reopened: it
  // stays blocking and ChannelCharBackend checks it before each read.
  std::unique_ptr<io::FileChannel> input;
  struct stat in_info {};
  if (fstat(STDIN_FILENO, &in_info) == 0 && !S_ISREG(in_info.st_mode) &&
      !S_ISSOCK(in_info.st_mode)) {
    auto reopened = io::FileChannel::open("/proc/self/fd/0", O_RDONLY | O_NOCTTY | O_NONBLOCK);
    if (reopened) input = std::move(*reopened);
  }
  if (!input) {
    auto copy = io::FileChannel::from_dup(STDIN_FILENO);
    if (!copy) return copy.error().with_context("-serial stdio");
    input = std::move(*copy);
  }
  std::unique_ptr<io::FileChannel> output;
  struct stat info {};
  if (fstat(STDOUT_FILENO, &info) == 0 && !S_ISREG(info.st_mode)) {
    // A private open file description: O_NONBLOCK on it leaves fd 1 alone.
    auto reopened = io::FileChannel::open("/proc/self/fd/1", O_WRONLY | O_NOCTTY | O_NONBLOCK);
    if (reopened) output = std::move(*reopened);
  }
  if (!output) {
    auto copy = io::FileChannel::from_dup(STDOUT_FILENO);
    if (!copy) return copy.error().with_context("-serial stdio");
    output = std::move(*copy);
  }
  input->set_name("stdin");
  output->set_name("stdout");
  TerminalMode::enter_raw_mode();
  return std::unique_ptr<StdioCharBackend>(
      new StdioCharBackend(loop, std::move(input), std::move(output)));
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
