// The epoll backend: level-triggered readiness with nanosecond timeouts
// (epoll_pwait2). Asynchronous file I/O is performed synchronously at
// submission and its completion is returned from the next wait().
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>

#include "io/loop_backend.h"

namespace cr16::io::detail {

namespace {

uint32_t conditions_to_epoll(uint32_t conditions) {
  uint32_t events = 0;
  if (conditions & kIn) events |= EPOLLIN;
  if (conditions & kOut) events |= EPOLLOUT;
  return events;  // EPOLLERR and EPOLLHUP are always reported by the kernel
}

uint32_t epoll_to_conditions(uint32_t events) {
  uint32_t conditions = 0;
  if (events & (EPOLLIN | EPOLLPRI | EPOLLRDHUP)) conditions |= kIn;
  if (events & EPOLLOUT) conditions |= kOut;
  if (events & EPOLLERR) conditions |= kErr;
  if (events & EPOLLHUP) conditions |= kHup;
  return conditions;
}

class EpollPoller final : public Poller {
 public:
  explicit EpollPoller(int epoll_fd) : epoll_fd_(epoll_fd) {}
  ~EpollPoller() override { ::close(epoll_fd_); }

  LoopBackend kind() const override { return LoopBackend::kEpoll; }

  Error set_interest(int fd, uint32_t conditions) override {
    if (conditions == 0) {
      if (epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr) < 0 && errno != ENOENT &&
          errno != EBADF) {
        return Error::from_errno("epoll_ctl(DEL)", errno);
      }
      return Error();
    }
    epoll_event event{};
    event.events = conditions_to_epoll(conditions);
    event.data.fd = fd;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) == 0) return Error();
    if (errno == ENOENT && epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) == 0) return Error();
    return Error::from_errno("epoll_ctl on fd " + std::to_string(fd), errno);
  }

  Error wait(int64_t timeout_ns, std::vector<ReadyEvent>& events,
             std::vector<FileCompletion>& completions) override {
    if (!finished_io_.empty()) timeout_ns = 0;
    epoll_event ready[64];
    timespec timeout{};
    timespec* timeout_pointer = nullptr;
    if (timeout_ns >= 0) {
      timeout.tv_sec = timeout_ns / 1000000000;
      timeout.tv_nsec = timeout_ns % 1000000000;
      timeout_pointer = &timeout;
    }
    int count = epoll_pwait2(epoll_fd_, ready, 64, timeout_pointer, nullptr);
    if (count < 0 && errno != EINTR) return Error::from_errno("epoll_pwait2", errno);
    for (int i = 0; i < count; ++i) {
      events.push_back({ready[i].data.fd, epoll_to_conditions(ready[i].events)});
    }
    completions.insert(completions.end(), finished_io_.begin(), finished_io_.end());
    finished_io_.clear();
    return Error();
  }

  void submit_file_io(uint64_t token, bool write, int fd, void* buffer, size_t length,
                      uint64_t offset) override {
    ssize_t result = write ? ::pwrite(fd, buffer, length, static_cast<off_t>(offset))
                           : ::pread(fd, buffer, length, static_cast<off_t>(offset));
    finished_io_.push_back({token, result < 0 ? -static_cast<int64_t>(errno) : result});
  }

 private:
  int epoll_fd_;
  std::vector<FileCompletion> finished_io_;
};

}  // namespace

Expected<std::unique_ptr<Poller>> make_epoll_poller() {
  // epoll_pwait2 timeouts get the thread's timer slack (50 us by default)
  // added; timers promise nanosecond resolution, so the loop thread (the
  // one creating its loop) asks for the minimum slack.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return Error::from_errno("epoll_create1", errno);
  return std::unique_ptr<Poller>(new EpollPoller(epoll_fd));
}

}  // namespace cr16::io::detail
