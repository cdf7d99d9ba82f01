#include "system/chardev_common.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace cr16::system {

namespace {
constexpr size_t kReadChunk = 4096;
}

bool set_nonblocking(int fd, bool enabled) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return false;
  int wanted = enabled ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  return wanted == flags || fcntl(fd, F_SETFL, wanted) == 0;
}

FdCharBackend::FdCharBackend(io::Loop& loop) : loop_(loop) {}

FdCharBackend::~FdCharBackend() {
  set_fds(-1, -1);
}

void FdCharBackend::set_fds(int input_fd, int output_fd) {
  if (input_watch_) loop_.remove_watch(input_watch_);
  if (output_watch_) loop_.remove_watch(output_watch_);
  input_watch_ = output_watch_ = 0;
  input_fd_ = input_fd;
  output_fd_ = output_fd;
  input_open_ = input_fd >= 0;
  output_.clear();
  output_start_ = 0;
  update_input_watch();
}

size_t FdCharBackend::write(std::span<const uint8_t> bytes) {
  if (output_fd_ < 0) return bytes.size();  // nobody listening: dropped, as QEMU does
  size_t room = kCharOutputLimit - std::min(kCharOutputLimit, pending_output());
  size_t accepted = std::min(room, bytes.size());
  output_.insert(output_.end(), bytes.begin(), bytes.begin() + accepted);
  flush_output();
  return accepted;
}

void FdCharBackend::flush_output() {
  while (output_fd_ >= 0 && pending_output() > 0) {
    ssize_t put = ::write(output_fd_, output_.data() + output_start_, pending_output());
    if (put > 0) {
      output_start_ += static_cast<size_t>(put);
      continue;
    }
    if (put < 0 && errno == EINTR) continue;
    if (put < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!output_watch_) {
        output_watch_ =
            loop_.add_watch(output_fd_, io::kOut, [this](int, uint32_t) { return on_writable(); });
      }
      return;
    }
    on_output_failed();
    return;
  }
  output_.clear();
  output_start_ = 0;
  if (output_watch_) {
    loop_.remove_watch(output_watch_);
    output_watch_ = 0;
  }
}

bool FdCharBackend::on_writable() {
  io::Loop::WatchId self = output_watch_;
  flush_output();
  // flush_output removed the watch when done; keep it only if still registered.
  return output_watch_ == self && self != 0;
}

void FdCharBackend::on_output_failed() {
  output_.clear();
  output_start_ = 0;
  if (output_watch_) loop_.remove_watch(output_watch_);
  output_watch_ = 0;
  output_fd_ = -1;
}

void FdCharBackend::drain(int timeout_ms) {
  int64_t waited_ms = 0;
  while (output_fd_ >= 0 && pending_output() > 0 && waited_ms < timeout_ms) {
    struct pollfd ready = {output_fd_, POLLOUT, 0};
    poll(&ready, 1, 10);
    waited_ms += 10;
    flush_output();
  }
}

void FdCharBackend::attach(CharFrontend* frontend) {
  frontend_ = frontend;
  update_input_watch();
}

void FdCharBackend::frontend_ready() {
  update_input_watch();
}

void FdCharBackend::stop_input() {
  input_open_ = false;
  update_input_watch();
}

void FdCharBackend::update_input_watch() {
  bool want = input_open_ && input_fd_ >= 0 && frontend_ && frontend_->can_receive() > 0;
  if (want && !input_watch_) {
    input_watch_ =
        loop_.add_watch(input_fd_, io::kIn, [this](int, uint32_t) { return on_readable(); });
  } else if (!want && input_watch_) {
    loop_.remove_watch(input_watch_);
    input_watch_ = 0;
  }
}

bool FdCharBackend::on_readable() {
  io::Loop::WatchId self = input_watch_;
  size_t room = frontend_ ? std::min(frontend_->can_receive(), kReadChunk) : 0;
  if (room > 0) {
    uint8_t buffer[kReadChunk];
    ssize_t got = ::read(input_fd_, buffer, room);
    if (got > 0) {
      on_input(std::span<const uint8_t>(buffer, static_cast<size_t>(got)));
    } else if (got == 0 || (errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK)) {
      on_input_closed();
    }
  }
  update_input_watch();
  return input_watch_ == self && self != 0;
}

void FdCharBackend::on_input(std::span<const uint8_t> bytes) {
  deliver(bytes);
}

void FdCharBackend::deliver(std::span<const uint8_t> bytes) {
  if (frontend_ && !bytes.empty()) frontend_->receive(bytes);
}

void FdCharBackend::on_input_closed() {
  stop_input();
}

// ---------------------------------------------------------------------------

Expected<std::unique_ptr<FileCharBackend>> FileCharBackend::open(io::Loop& loop,
                                                                 const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0666);
  if (fd < 0) return Error::from_errno("-serial file:" + path, errno);
  return std::unique_ptr<FileCharBackend>(new FileCharBackend(loop, fd));
}

FileCharBackend::FileCharBackend(io::Loop& loop, int fd) : FdCharBackend(loop), fd_(fd) {
  set_fds(-1, fd_);
}

FileCharBackend::~FileCharBackend() {
  set_fds(-1, -1);
  ::close(fd_);
}

// ---------------------------------------------------------------------------

Expected<std::unique_ptr<PtyCharBackend>> PtyCharBackend::open(io::Loop& loop,
                                                               const std::string& label) {
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return Error::from_errno("-serial pty: posix_openpt", errno);
  char name[128];
  if (grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, name, sizeof name) != 0) {
    int saved = errno;
    ::close(master);
    return Error::from_errno("-serial pty", saved);
  }
  int slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) {
    int saved = errno;
    ::close(master);
    return Error::from_errno(std::string("-serial pty: ") + name, saved);
  }
  struct termios mode {};
  if (tcgetattr(slave, &mode) == 0) {
    cfmakeraw(&mode);
    tcsetattr(slave, TCSANOW, &mode);
  }
  set_nonblocking(master, true);
  std::fprintf(stderr, "char device redirected to %s (label %s)\n", name, label.c_str());
  return std::unique_ptr<PtyCharBackend>(new PtyCharBackend(loop, master, slave, name));
}

PtyCharBackend::PtyCharBackend(io::Loop& loop, int master, int slave, std::string slave_path)
    : FdCharBackend(loop), master_(master), slave_(slave), slave_path_(std::move(slave_path)) {
  set_fds(master_, master_);
}

PtyCharBackend::~PtyCharBackend() {
  set_fds(-1, -1);
  ::close(slave_);
  ::close(master_);
}

}  // namespace cr16::system
