// The io_uring backend: readiness through multishot poll requests, file
// reads/writes as real io_uring submissions.
//
// Multishot poll reports wake-ups, not levels: a handler that leaves data
// unread would not be told again. To keep the loop level-triggered like
// epoll, every fd reported in one wait is re-checked with poll(2) at the
// start of the next wait and reported again while still ready.
#include <liburing.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "io/loop_backend.h"

namespace cr16::io::detail {

namespace {

constexpr uint64_t kKindShift = 60;
constexpr uint64_t kKindPoll = 1;
constexpr uint64_t kKindFileIo = 2;
constexpr uint64_t kKindCancel = 3;
constexpr uint64_t kPayloadMask = (uint64_t{1} << kKindShift) - 1;

uint64_t make_user_data(uint64_t kind, uint64_t payload) {
  return (kind << kKindShift) | (payload & kPayloadMask);
}

class IoUringPoller final : public Poller {
 public:
  IoUringPoller() = default;
  ~IoUringPoller() override {
    if (!initialized_) return;
    // Let in-flight file I/O finish so it never writes into freed buffers.
    while (pending_file_io_ > 0) {
      io_uring_cqe* cqe = nullptr;
      if (io_uring_wait_cqe(&ring_, &cqe) < 0) break;
      if ((cqe->user_data >> kKindShift) == kKindFileIo) --pending_file_io_;
      io_uring_cqe_seen(&ring_, cqe);
    }
    io_uring_queue_exit(&ring_);
  }

  Error init() {
    int result = io_uring_queue_init(256, &ring_, 0);
    if (result < 0) return Error::from_errno("io_uring_queue_init", -result);
    // Probe that multishot poll works (kernel 5.13+); older kernels refuse.
    int fds[2];
    if (pipe(fds) < 0) {
      io_uring_queue_exit(&ring_);
      return Error::from_errno("pipe", errno);
    }
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    io_uring_prep_poll_multishot(sqe, fds[1], POLLOUT);
    sqe->user_data = 1;
    io_uring_submit(&ring_);
    io_uring_cqe* cqe = nullptr;
    result = io_uring_wait_cqe(&ring_, &cqe);
    int poll_result = result < 0 ? result : cqe->res;
    if (result == 0) io_uring_cqe_seen(&ring_, cqe);
    sqe = io_uring_get_sqe(&ring_);
    io_uring_prep_poll_remove(sqe, 1);
    sqe->user_data = 2;
    io_uring_submit(&ring_);
    // Drain the cancellation and the poll's final completion.
    for (int i = 0; i < 2; ++i) {
      __kernel_timespec ts{0, 100000000};
      if (io_uring_wait_cqe_timeout(&ring_, &cqe, &ts) < 0) break;
      io_uring_cqe_seen(&ring_, cqe);
    }
    ::close(fds[0]);
    ::close(fds[1]);
    if (poll_result < 0) {
      io_uring_queue_exit(&ring_);
      return Error::from_errno("io_uring multishot poll", -poll_result);
    }
    initialized_ = true;
    return Error();
  }

  LoopBackend kind() const override { return LoopBackend::kIoUring; }

  Error set_interest(int fd, uint32_t conditions) override {
    auto it = registrations_.find(fd);
    if (it != registrations_.end()) {
      cancel_poll(it->second.tag);
      tag_to_fd_.erase(it->second.tag);
      registrations_.erase(it);
    }
    level_pending_.erase(fd);
    if (conditions == 0) return Error();
    Registration registration{conditions, next_tag_++};
    registrations_.emplace(fd, registration);
    tag_to_fd_.emplace(registration.tag, fd);
    arm_poll(fd, registration);
    return Error();
  }

  Error wait(int64_t timeout_ns, std::vector<ReadyEvent>& events,
             std::vector<FileCompletion>& completions) override {
    std::unordered_map<int, uint32_t> ready;
    recheck_levels(ready);
    if (!ready.empty()) timeout_ns = 0;
    io_uring_cqe* cqe = nullptr;
    int result;
    if (timeout_ns == 0) {
      result = io_uring_submit(&ring_);
    } else if (timeout_ns < 0) {
      result = io_uring_submit_and_wait(&ring_, 1);
    } else {
      __kernel_timespec ts{timeout_ns / 1000000000, timeout_ns % 1000000000};
      result = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    }
    if (result < 0 && result != -ETIME && result != -EINTR && result != -EBUSY) {
      return Error::from_errno("io_uring wait", -result);
    }
    unsigned head;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      handle_completion(cqe, ready, completions);
    }
    io_uring_cq_advance(&ring_, seen);
    for (const auto& [fd, revents] : ready) {
      events.push_back({fd, revents});
      level_pending_.insert(fd);
    }
    return Error();
  }

  void submit_file_io(uint64_t token, bool write, int fd, void* buffer, size_t length,
                      uint64_t offset) override {
    io_uring_sqe* sqe = get_sqe();
    if (write) {
      io_uring_prep_write(sqe, fd, buffer, static_cast<unsigned>(length), offset);
    } else {
      io_uring_prep_read(sqe, fd, buffer, static_cast<unsigned>(length), offset);
    }
    io_uring_sqe_set_data64(sqe, make_user_data(kKindFileIo, token));
    ++pending_file_io_;
    io_uring_submit(&ring_);
  }

 private:
  struct Registration {
    uint32_t conditions;
    uint64_t tag;
  };

  io_uring_sqe* get_sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (sqe == nullptr) {
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  void arm_poll(int fd, const Registration& registration) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_poll_multishot(sqe, fd, conditions_to_poll(registration.conditions));
    io_uring_sqe_set_data64(sqe, make_user_data(kKindPoll, registration.tag));
  }

  // An asynchronous cancel, not IORING_OP_POLL_REMOVE: a poll removal that
  // meets a wake-up being delivered fails with -EALREADY and leaves a
  // multishot poll armed, so the poll keeps the closed socket's file alive
  // (its peer never sees the close: a QMP client writing to a dropped
  // connection blocked for good). ASYNC_CANCEL marks the poll cancelled
  // whatever it is doing.
  void cancel_poll(uint64_t tag) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_cancel64(sqe, make_user_data(kKindPoll, tag), 0);
    io_uring_sqe_set_data64(sqe, make_user_data(kKindCancel, 0));
  }

  void recheck_levels(std::unordered_map<int, uint32_t>& ready) {
    if (level_pending_.empty()) return;
    std::vector<pollfd> fds;
    for (int fd : level_pending_) {
      auto it = registrations_.find(fd);
      if (it == registrations_.end()) continue;
      fds.push_back({fd, static_cast<short>(conditions_to_poll(it->second.conditions)), 0});
    }
    level_pending_.clear();
    if (fds.empty() || ::poll(fds.data(), fds.size(), 0) <= 0) return;
    for (const pollfd& entry : fds) {
      if (entry.revents != 0) ready[entry.fd] |= poll_to_conditions(entry.revents);
    }
  }

  void handle_completion(io_uring_cqe* cqe, std::unordered_map<int, uint32_t>& ready,
                         std::vector<FileCompletion>& completions) {
    uint64_t kind = cqe->user_data >> kKindShift;
    uint64_t payload = cqe->user_data & kPayloadMask;
    if (kind == kKindFileIo) {
      --pending_file_io_;
      completions.push_back({payload, cqe->res});
      return;
    }
    if (kind != kKindPoll) return;
    auto tag_it = tag_to_fd_.find(payload);
    if (tag_it == tag_to_fd_.end()) return;  // a poll we already replaced
    int fd = tag_it->second;
    if (cqe->res >= 0) {
      ready[fd] |= poll_to_conditions(static_cast<uint32_t>(cqe->res));
    } else if (cqe->res != -ECANCELED) {
      ready[fd] |= kErr;
    }
    if (!(cqe->flags & IORING_CQE_F_MORE)) {
      // The multishot request ended (overflow, error or kernel decision):
      // re-arm it under a new tag unless the fd itself is bad.
      tag_to_fd_.erase(tag_it);
      auto registration = registrations_.find(fd);
      if (registration == registrations_.end()) return;
      if (cqe->res == -EBADF || cqe->res == -EINVAL) {
        registrations_.erase(registration);
        return;
      }
      registration->second.tag = next_tag_++;
      tag_to_fd_.emplace(registration->second.tag, fd);
      arm_poll(fd, registration->second);
    }
  }

  io_uring ring_{};
  bool initialized_ = false;
  std::unordered_map<int, Registration> registrations_;
  std::unordered_map<uint64_t, int> tag_to_fd_;
  std::unordered_set<int> level_pending_;
  uint64_t next_tag_ = 1;
  size_t pending_file_io_ = 0;
};

std::atomic<int> g_refusal_for_testing{0};

}  // namespace

void set_io_uring_refusal_for_testing(int error) {
  g_refusal_for_testing.store(error, std::memory_order_relaxed);
}

Expected<std::unique_ptr<Poller>> make_io_uring_poller() {
  if (int refused = g_refusal_for_testing.load(std::memory_order_relaxed)) {
    return Error::from_errno("io_uring_queue_init", refused);
  }
  auto poller = std::make_unique<IoUringPoller>();
  Error error = poller->init();
  if (!error.ok()) return error;
  return std::unique_ptr<Poller>(std::move(poller));
}

}  // namespace cr16::io::detail
