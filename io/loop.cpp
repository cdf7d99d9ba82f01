// Loop core: watches, timers, bottom halves, posted callbacks and file I/O
// completions, on top of a Poller backend.
#include "io/loop.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <climits>
#include <cstdio>

#include "io/loop_backend.h"

namespace cr16::io {

namespace {

int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

constexpr uint32_t kAlwaysReported = kErr | kHup;

}  // namespace

Expected<LoopBackend> parse_loop_backend(std::string_view text) {
  if (text == "epoll") return LoopBackend::kEpoll;
  if (text == "io_uring" || text == "io-uring" || text == "uring") return LoopBackend::kIoUring;
  return Error("invalid -loop value '" + std::string(text) + "' (expected epoll or io_uring)",
               EINVAL);
}

const char* loop_backend_name(LoopBackend backend) {
  return backend == LoopBackend::kEpoll ? "epoll" : "io_uring";
}

namespace detail {

uint32_t conditions_to_poll(uint32_t conditions) {
  uint32_t events = 0;
  if (conditions & kIn) events |= POLLIN;
  if (conditions & kOut) events |= POLLOUT;
  if (conditions & kErr) events |= POLLERR;
  if (conditions & kHup) events |= POLLHUP;
  return events;
}

uint32_t poll_to_conditions(uint32_t poll_events) {
  uint32_t conditions = 0;
  if (poll_events & (POLLIN | POLLPRI)) conditions |= kIn;
  if (poll_events & POLLOUT) conditions |= kOut;
  if (poll_events & (POLLERR | POLLNVAL)) conditions |= kErr;
  if (poll_events & POLLHUP) conditions |= kHup;
  return conditions;
}

PostQueue::~PostQueue() {
  ::close(event_fd_);
}

bool PostQueue::post(std::function<void()> callback) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    queue_.push_back(std::move(callback));
  }
  wakeup();
  return true;
}

void PostQueue::wakeup() {
  uint64_t one = 1;
  ssize_t written = ::write(event_fd_, &one, sizeof one);
  (void)written;  // EAGAIN means the counter is already non-zero: still woken.
}

std::vector<std::function<void()>> PostQueue::take() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::function<void()>> taken;
  taken.swap(queue_);
  return taken;
}

bool PostQueue::has_pending() {
  std::lock_guard<std::mutex> lock(mutex_);
  return !queue_.empty();
}

void PostQueue::drain_wakeups() {
  uint64_t counter;
  while (::read(event_fd_, &counter, sizeof counter) > 0) {
  }
}

void PostQueue::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
  queue_.clear();
}

}  // namespace detail

Expected<std::unique_ptr<Loop>> Loop::create(LoopBackend preferred) {
  Expected<std::unique_ptr<detail::Poller>> poller = Error("no backend");
  if (preferred == LoopBackend::kIoUring) {
    poller = detail::make_io_uring_poller();
    if (!poller) {
      std::fprintf(stderr, "cr16-system: io_uring unavailable (%s); using epoll\n",
                   poller.error().message().c_str());
    }
  }
  if (!poller) poller = detail::make_epoll_poller();
  if (!poller) return poller.error();
  int event_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd < 0) return Error::from_errno("eventfd", errno);
  std::unique_ptr<Loop> loop(new Loop(std::move(*poller)));
  loop->post_queue_ = std::make_shared<detail::PostQueue>(event_fd);
  loop->wakeup_watch_ =
      loop->add_watch(event_fd, kIn, [queue = loop->post_queue_.get()](int, uint32_t) {
        queue->drain_wakeups();
        return true;
      });
  return loop;
}

Loop::Loop(std::unique_ptr<detail::Poller> poller) : poller_(std::move(poller)) {}

Loop::~Loop() {
  post_queue_->close();
  remove_watch(wakeup_watch_);
  // Pending file I/O on io_uring may still write into caller buffers; the
  // poller's destructor waits for or cancels it before the ring goes away.
  poller_.reset();
}

LoopBackend Loop::backend() const {
  return poller_->kind();
}

Loop::WatchId Loop::add_watch(int fd, uint32_t conditions, WatchCallback callback) {
  return add_watch_entries({{fd, conditions}}, 0, std::move(callback));
}

Loop::WatchId Loop::add_watch_pair(int read_fd, int write_fd, uint32_t conditions,
                                   WatchCallback callback) {
  std::vector<WatchEntry> entries;
  uint32_t always = conditions & kAlwaysReported;
  if (read_fd >= 0) entries.push_back({read_fd, (conditions & kIn) | always});
  if (write_fd >= 0) entries.push_back({write_fd, (conditions & kOut) | always});
  return add_watch_entries(std::move(entries), 0, std::move(callback));
}

Loop::WatchId Loop::add_ready_watch(uint32_t revents, WatchCallback callback) {
  return add_watch_entries({}, revents, std::move(callback));
}

Loop::WatchId Loop::add_watch_entries(std::vector<WatchEntry> entries, uint32_t ready_revents,
                                      WatchCallback callback) {
  WatchId id = next_watch_id_++;
  auto watch = std::make_shared<Watch>();
  watch->entries = std::move(entries);
  watch->ready_revents = ready_revents;
  watch->callback = std::move(callback);
  bool fdless = watch->entries.empty();
  for (const WatchEntry& entry : watch->entries) watches_by_fd_[entry.fd].push_back(id);
  watches_.emplace(id, watch);
  if (fdless) {
    ready_watches_.push_back(id);
  } else {
    for (const WatchEntry& entry : watch->entries) update_interest(entry.fd);
  }
  return id;
}

void Loop::remove_watch(WatchId id) {
  auto it = watches_.find(id);
  if (it == watches_.end()) return;
  std::shared_ptr<Watch> watch = it->second;
  watch->removed = true;
  watches_.erase(it);
  if (watch->entries.empty()) {
    std::erase(ready_watches_, id);
    return;
  }
  for (const WatchEntry& entry : watch->entries) {
    auto by_fd = watches_by_fd_.find(entry.fd);
    if (by_fd != watches_by_fd_.end()) {
      std::erase(by_fd->second, id);
      if (by_fd->second.empty()) watches_by_fd_.erase(by_fd);
    }
    update_interest(entry.fd);
  }
}

void Loop::update_interest(int fd) {
  uint32_t wanted = 0;
  auto by_fd = watches_by_fd_.find(fd);
  if (by_fd != watches_by_fd_.end()) {
    for (WatchId id : by_fd->second) {
      for (const WatchEntry& entry : watches_[id]->entries) {
        if (entry.fd == fd) wanted |= entry.conditions;
      }
    }
  }
  auto current = interest_by_fd_.find(fd);
  uint32_t old = current == interest_by_fd_.end() ? 0 : current->second;
  bool registered = current != interest_by_fd_.end();
  if (registered && old == wanted) return;
  if (!registered && by_fd == watches_by_fd_.end()) return;
  if (by_fd == watches_by_fd_.end()) {
    interest_by_fd_.erase(fd);
    (void)poller_->set_interest(fd, 0);
  } else {
    interest_by_fd_[fd] = wanted;
    // Registration failure (e.g. a regular file under epoll) leaves the
    // watch registered but never ready from the backend: report it as an
    // error condition on the next dispatch instead of failing silently.
    Error error = poller_->set_interest(fd, wanted);
    if (!error.ok()) {
      int failed_fd = fd;
      schedule([this, failed_fd] { dispatch_fd(failed_fd, kErr); });
    }
  }
}

Loop::TimerId Loop::add_timer(ClockType, int64_t deadline_ns, std::function<void()> callback) {
  TimerId id = next_timer_id_++;
  timers_.emplace(TimerKey{deadline_ns, id}, std::move(callback));
  timer_index_.emplace(id, TimerInfo{deadline_ns});
  return id;
}

void Loop::cancel_timer(TimerId id) {
  auto it = timer_index_.find(id);
  if (it == timer_index_.end()) return;
  timers_.erase(TimerKey{it->second.deadline, id});
  timer_index_.erase(it);
}

int64_t Loop::now(ClockType) const {
  return monotonic_ns();
}

int64_t Loop::next_deadline(ClockType) const {
  return timers_.empty() ? INT64_MAX : timers_.begin()->first.deadline;
}

void Loop::schedule(std::function<void()> callback) {
  bottom_halves_.push_back(std::move(callback));
}

void Loop::post(std::function<void()> callback) {
  post_queue_->post(std::move(callback));
}

void Loop::wakeup() {
  post_queue_->wakeup();
}

void Loop::quit() {
  quit_requested_ = true;
  post_queue_->wakeup();
}

void Loop::submit_read(int fd, void* buffer, size_t length, uint64_t offset,
                       std::function<void(Expected<size_t>)> done) {
  uint64_t token = next_file_io_token_++;
  file_io_.emplace(token, FileIo{std::move(done)});
  poller_->submit_file_io(token, false, fd, buffer, length, offset);
}

void Loop::submit_write(int fd, const void* buffer, size_t length, uint64_t offset,
                        std::function<void(Expected<size_t>)> done) {
  uint64_t token = next_file_io_token_++;
  file_io_.emplace(token, FileIo{std::move(done)});
  poller_->submit_file_io(token, true, fd, const_cast<void*>(buffer), length, offset);
}

void Loop::complete_file_io(uint64_t token, Expected<size_t> result) {
  auto it = file_io_.find(token);
  if (it == file_io_.end()) return;
  auto done = std::move(it->second.done);
  file_io_.erase(it);
  if (done) done(std::move(result));
}

void Loop::run_bottom_halves() {
  if (bottom_halves_.empty()) return;
  std::vector<std::function<void()>> batch;
  batch.swap(bottom_halves_);
  for (auto& callback : batch) callback();
}

void Loop::run_posted() {
  for (auto& callback : post_queue_->take()) callback();
}

void Loop::dispatch_fd(int fd, uint32_t revents) {
  auto by_fd = watches_by_fd_.find(fd);
  if (by_fd == watches_by_fd_.end()) return;
  std::vector<WatchId> ids = by_fd->second;  // handlers may change the list
  for (WatchId id : ids) {
    auto it = watches_.find(id);
    if (it == watches_.end()) continue;
    std::shared_ptr<Watch> watch = it->second;
    uint32_t wanted = 0;
    for (const WatchEntry& entry : watch->entries) {
      if (entry.fd == fd) wanted |= entry.conditions | kAlwaysReported;
    }
    uint32_t matched = revents & wanted;
    if (matched == 0 || watch->removed) continue;
    if (!watch->callback(fd, matched) && !watch->removed) remove_watch(id);
  }
}

void Loop::run_ready_watches() {
  std::vector<WatchId> ids = ready_watches_;
  for (WatchId id : ids) {
    auto it = watches_.find(id);
    if (it == watches_.end()) continue;
    std::shared_ptr<Watch> watch = it->second;
    if (!watch->callback(-1, watch->ready_revents) && !watch->removed) remove_watch(id);
  }
}

void Loop::run_expired_timers() {
  auto& timers = timers_;
  int64_t current = monotonic_ns();
  // Fire one at a time so that callbacks may add or cancel timers; a timer
  // added by a callback with a past deadline fires on the next iteration.
  TimerId last_id = next_timer_id_;
  while (!timers.empty()) {
    auto first = timers.begin();
    if (first->first.deadline > current || first->first.id >= last_id) break;
    auto callback = std::move(first->second);
    timer_index_.erase(first->first.id);
    timers.erase(first);
    callback();
  }
}

int64_t Loop::compute_timeout(int64_t requested) const {
  if (!bottom_halves_.empty() || !ready_watches_.empty() || quit_requested_) return 0;
  int64_t timeout = requested;
  auto consider = [&timeout](int64_t delta) {
    if (delta < 0) delta = 0;
    if (timeout < 0 || delta < timeout) timeout = delta;
  };
  if (!timers_.empty()) consider(next_deadline() - monotonic_ns());
  return timeout;
}

bool Loop::run_once(int64_t timeout_ns) {
  if (quit_requested_) return false;
  run_posted();
  run_bottom_halves();
  std::vector<detail::ReadyEvent> events;
  std::vector<detail::FileCompletion> completions;
  Error error = poller_->wait(compute_timeout(timeout_ns), events, completions);
  if (!error.ok()) {
    std::fprintf(stderr, "cr16-system: main loop wait failed: %s\n", error.message().c_str());
  }
  for (const auto& event : events) dispatch_fd(event.fd, event.revents);
  for (const auto& completion : completions) {
    if (completion.result < 0) {
      complete_file_io(completion.token, Error::from_errno("asynchronous file I/O",
                                                           static_cast<int>(-completion.result)));
    } else {
      complete_file_io(completion.token, static_cast<size_t>(completion.result));
    }
  }
  run_expired_timers();
  run_ready_watches();
  run_posted();
  run_bottom_halves();
  return !quit_requested_;
}

void Loop::run() {
  while (run_once(-1)) {
  }
}

}  // namespace cr16::io
