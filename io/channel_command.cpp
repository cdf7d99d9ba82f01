// Command channel.
#include "io/channel_command.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "io/pipe_write.h"

extern char** environ;

namespace cr16::io {

CommandChannel::CommandChannel(pid_t pid, int to_child, int from_child)
    : pid_(pid), to_child_(to_child), from_child_(from_child) {
  set_features(kFeatureShutdown);
}

CommandChannel::~CommandChannel() {
  (void)close();
}

Expected<std::unique_ptr<CommandChannel>> CommandChannel::spawn(
    const std::vector<std::string>& argv) {
  if (argv.empty()) return Error("command channel needs a program to run", EINVAL);
  int stdin_pipe[2], stdout_pipe[2];
  if (pipe2(stdin_pipe, O_CLOEXEC) < 0) return Error::from_errno("pipe", errno);
  if (pipe2(stdout_pipe, O_CLOEXEC) < 0) {
    int error = errno;
    ::close(stdin_pipe[0]);
    ::close(stdin_pipe[1]);
    return Error::from_errno("pipe", error);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears close-on-exec on the child's 0 and 1 only.
  posix_spawn_file_actions_adddup2(&actions, stdin_pipe[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, stdout_pipe[1], STDOUT_FILENO);
  std::vector<char*> arguments;
  for (const std::string& argument : argv) arguments.push_back(const_cast<char*>(argument.c_str()));
  arguments.push_back(nullptr);
  pid_t pid = -1;
  int result = posix_spawnp(&pid, arguments[0], &actions, nullptr, arguments.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(stdin_pipe[0]);
  ::close(stdout_pipe[1]);
  if (result != 0) {
    ::close(stdin_pipe[1]);
    ::close(stdout_pipe[0]);
    return Error::from_errno("cannot run '" + argv[0] + "'", result);
  }
  std::unique_ptr<CommandChannel> channel(new CommandChannel(pid, stdin_pipe[1], stdout_pipe[0]));
  channel->set_name("command '" + argv[0] + "' (pid " + std::to_string(pid) + ")");
  return channel;
}

std::optional<int> CommandChannel::exit_code() const {
  if (!wait_status_ || !WIFEXITED(*wait_status_)) return std::nullopt;
  return WEXITSTATUS(*wait_status_);
}

std::optional<int> CommandChannel::exit_signal() const {
  if (!wait_status_ || !WIFSIGNALED(*wait_status_)) return std::nullopt;
  return WTERMSIG(*wait_status_);
}

IoResult CommandChannel::do_readv(std::span<const iovec> iov, std::vector<UniqueFd>*, uint32_t) {
  if (!from_child_.valid()) return Error("reading side of " + name() + " is closed", EBADF);
  if (iov_size(iov) == 0) return IoResult::bytes(0);
  ssize_t result;
  do {
    result = ::readv(from_child_.get(), iov.data(), static_cast<int>(iov.size()));
  } while (result < 0 && errno == EINTR);
  if (result > 0) return IoResult::bytes(static_cast<size_t>(result));
  if (result == 0) return IoResult::eof();
  if (errno == EAGAIN) return IoResult::would_block();
  return Error::from_errno("read from " + name(), errno);
}

IoResult CommandChannel::do_writev(std::span<const iovec> iov, std::span<const int>, uint32_t) {
  if (!to_child_.valid()) return Error("writing side of " + name() + " is closed", EBADF);
  if (iov_size(iov) == 0) return IoResult::bytes(0);
  ssize_t result =
      detail::writev_without_sigpipe(to_child_.get(), iov.data(), static_cast<int>(iov.size()));
  if (result >= 0) return IoResult::bytes(static_cast<size_t>(result));
  if (errno == EAGAIN) return IoResult::would_block();
  return Error::from_errno("write to " + name(), errno);  // EPIPE: the child is gone
}

Error CommandChannel::do_set_blocking(bool blocking) {
  for (const UniqueFd* fd : {&to_child_, &from_child_}) {
    if (!fd->valid()) continue;
    int flags = fcntl(fd->get(), F_GETFL);
    if (flags < 0) return Error::from_errno("fcntl(F_GETFL)", errno);
    flags = blocking ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK);
    if (fcntl(fd->get(), F_SETFL, flags) < 0) return Error::from_errno("fcntl(F_SETFL)", errno);
  }
  return Error();
}

Error CommandChannel::shutdown(ShutdownDirection direction) {
  if (direction != ShutdownDirection::kRead) to_child_.reset();
  if (direction != ShutdownDirection::kWrite) from_child_.reset();
  return Error();
}

bool CommandChannel::reap_within(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t result = waitpid(pid_, &status, WNOHANG);
    if (result == pid_) {
      wait_status_ = status;
      return true;
    }
    if (result < 0 && errno != EINTR) return true;  // not our child any more
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

Error CommandChannel::close_with_grace(std::chrono::milliseconds grace) {
  to_child_.reset();
  from_child_.reset();
  if (pid_ <= 0 || wait_status_) return Error();
  if (reap_within(grace)) return Error();
  ::kill(pid_, SIGTERM);
  if (reap_within(grace)) return Error();
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return Error::from_errno("waitpid for " + name(), errno);
  }
  wait_status_ = status;
  return Error();
}

Error CommandChannel::close() {
  return close_with_grace(std::chrono::milliseconds(1000));
}

}  // namespace cr16::io
