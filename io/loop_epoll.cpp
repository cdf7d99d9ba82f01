// The epoll backend: level-triggered readiness with nanosecond timeouts
// (epoll_pwait2). Asynchronous file I/O runs on a worker thread of this
// poller (started on first use), in submission order, so a slow or stuck
// disk never holds up the loop thread; the worker wakes the loop through an
// eventfd in the epoll set and the completions come back from wait().
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

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
  EpollPoller(int epoll_fd, int event_fd) : epoll_fd_(epoll_fd), event_fd_(event_fd) {}
  ~EpollPoller() override {
    // Queued reads and writes finish first: they may still use their buffers.
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    work_ready_.notify_all();
    if (worker_.joinable()) worker_.join();
    ::close(event_fd_);
    ::close(epoll_fd_);
  }

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
    {
      std::lock_guard lock(mutex_);
      if (!finished_io_.empty()) timeout_ns = 0;
    }
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
      if (ready[i].data.fd == event_fd_) {  // the file-I/O worker finished something
        uint64_t counter;
        while (::read(event_fd_, &counter, sizeof counter) < 0 && errno == EINTR) {
        }
        continue;
      }
      events.push_back({ready[i].data.fd, epoll_to_conditions(ready[i].events)});
    }
    std::lock_guard lock(mutex_);
    completions.insert(completions.end(), finished_io_.begin(), finished_io_.end());
    finished_io_.clear();
    return Error();
  }

  void submit_file_io(uint64_t token, bool write, int fd, void* buffer, size_t length,
                      uint64_t offset) override {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back({token, write, fd, buffer, length, offset});
      if (!worker_.joinable()) worker_ = std::thread([this] { run_file_io(); });
    }
    work_ready_.notify_one();
  }

 private:
  struct FileJob {
    uint64_t token;
    bool write;
    int fd;
    void* buffer;
    size_t length;
    uint64_t offset;
  };

  // The worker: performs jobs in order until stopped with nothing queued.
  void run_file_io() {
    std::unique_lock lock(mutex_);
    while (true) {
      work_ready_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      FileJob job = jobs_.front();
      jobs_.pop_front();
      lock.unlock();
      ssize_t result;
      do {
        result = job.write
                     ? ::pwrite(job.fd, job.buffer, job.length, static_cast<off_t>(job.offset))
                     : ::pread(job.fd, job.buffer, job.length, static_cast<off_t>(job.offset));
      } while (result < 0 && errno == EINTR);
      int64_t value = result < 0 ? -static_cast<int64_t>(errno) : result;
      lock.lock();
      finished_io_.push_back({job.token, value});
      uint64_t one = 1;
      ssize_t ignored = ::write(event_fd_, &one, sizeof one);  // wakes wait()
      (void)ignored;
    }
  }

  int epoll_fd_;
  int event_fd_;
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::deque<FileJob> jobs_;
  std::vector<FileCompletion> finished_io_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace

Expected<std::unique_ptr<Poller>> make_epoll_poller() {
  // epoll_pwait2 timeouts get the thread's timer slack (50 us by default)
  // added; timers promise nanosecond resolution, so the loop thread (the
  // one creating its loop) asks for the minimum slack.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return Error::from_errno("epoll_create1", errno);
  int event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd < 0) {
    int saved = errno;
    ::close(epoll_fd);
    return Error::from_errno("eventfd", saved);
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = event_fd;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, event_fd, &event) < 0) {
    int saved = errno;
    ::close(event_fd);
    ::close(epoll_fd);
    return Error::from_errno("epoll_ctl(file-I/O eventfd)", saved);
  }
  return std::unique_ptr<Poller>(new EpollPoller(epoll_fd, event_fd));
}

}  // namespace cr16::io::detail
