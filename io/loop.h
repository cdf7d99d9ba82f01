// The main loop: one per thread. Waits for fd readiness (epoll or io_uring),
// runs realtime timers, bottom halves, callbacks posted from other threads,
// and asynchronous file reads/writes. Guest (virtual) time is not the loop's
// business: hw/virtual_clock.h keeps it, and the machine loop sleeps here
// with a timeout until its next virtual deadline.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/error.h"

namespace cr16::io {

/// Readiness conditions of a watch (bitmask). kErr and kHup are always
/// reported to a watch, whatever it asked for.
enum Condition : uint32_t { kIn = 1, kOut = 2, kErr = 4, kHup = 8 };

/// The clock a loop timer runs on: the host's monotonic clock. (Guest time
/// lives in hw/virtual_clock.h; the enum stays so callers name the clock.)
enum class ClockType : uint8_t { kRealtime };

/// How the loop waits for readiness.
enum class LoopBackend : uint8_t { kEpoll, kIoUring };

/// Parses the `-loop` option value: "epoll" or "io_uring" (also "io-uring",
/// "uring"). Returns an Error naming the bad value otherwise.
Expected<LoopBackend> parse_loop_backend(std::string_view text);

/// "epoll" or "io_uring".
const char* loop_backend_name(LoopBackend backend);

namespace detail {
class Poller;
class PostQueue;
}  // namespace detail

class Loop {
 public:
  /// Creates a loop; io_uring falls back to epoll with one notice line on
  /// stderr if the kernel refuses. Fails only if no backend can be created.
  static Expected<std::unique_ptr<Loop>> create(LoopBackend preferred = LoopBackend::kIoUring);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  /// The backend actually in use.
  LoopBackend backend() const;

  using WatchId = uint64_t;
  using TimerId = uint64_t;
  using WatchCallback = std::function<bool(int fd, uint32_t revents)>;

  /// Calls `callback(fd, revents)` while any of `conditions` is ready (level
  /// triggered); return false to remove the watch. Handlers may add/remove
  /// watches (including their own) while dispatching. Remove the watch
  /// before closing the fd. Loop thread only. Returns a non-zero id.
  WatchId add_watch(int fd, uint32_t conditions, WatchCallback callback);

  /// One watch on a pair of fds (e.g. a child's stdout and stdin pipes):
  /// kIn is watched on `read_fd`, kOut on `write_fd`; `callback` gets the fd
  /// that became ready. Either fd may be -1.
  WatchId add_watch_pair(int read_fd, int write_fd, uint32_t conditions, WatchCallback callback);

  /// A watch with no fd that is always ready with `revents` (for memory
  /// channels): the callback runs once per loop iteration until it returns
  /// false or is removed; the loop does not sleep while it exists.
  WatchId add_ready_watch(uint32_t revents, WatchCallback callback);

  /// Removes a watch; unknown or already removed ids are ignored.
  void remove_watch(WatchId id);

  /// One-shot timer at an absolute deadline (ns of the monotonic clock).
  /// Timers with equal deadlines fire in the order they were added.
  TimerId add_timer(ClockType clock, int64_t deadline_ns, std::function<void()> callback);
  /// Cancels a pending timer; unknown or fired ids are ignored.
  void cancel_timer(TimerId id);

  /// Current time of `clock` in nanoseconds (CLOCK_MONOTONIC).
  int64_t now(ClockType clock = ClockType::kRealtime) const;

  /// Earliest pending timer deadline on `clock`, or INT64_MAX.
  int64_t next_deadline(ClockType clock = ClockType::kRealtime) const;

  /// Bottom half: runs once, soon, on this loop's thread (loop thread only).
  void schedule(std::function<void()> callback);

  /// Thread-safe: queue `callback` to run on the loop thread and wake it.
  /// Callbacks posted after the loop is destroyed are dropped.
  void post(std::function<void()> callback);

  /// Thread-safe: makes a blocked run_once() return soon.
  void wakeup();

  /// Asynchronous positional read into `buffer` (which must stay valid until
  /// `done` runs). io_uring submits a read; epoll performs pread and
  /// delivers the result from a bottom half. `done` runs on the loop thread
  /// with the byte count (0 at end of file) or an Error.
  void submit_read(int fd, void* buffer, size_t length, uint64_t offset,
                   std::function<void(Expected<size_t>)> done);
  /// Asynchronous positional write; same rules as submit_read().
  void submit_write(int fd, const void* buffer, size_t length, uint64_t offset,
                    std::function<void(Expected<size_t>)> done);
  /// Number of file reads/writes submitted but not yet completed.
  size_t pending_file_io() const { return file_io_.size(); }

  /// Dispatches what is ready; waits at most timeout_ns (-1 = until
  /// something happens, 0 = poll). Re-entrant (a handler may call it).
  /// Returns false once quit() was called.
  bool run_once(int64_t timeout_ns);
  /// Runs until quit().
  void run();
  /// Thread-safe: makes run() return and run_once() return false.
  void quit();
  /// Clears a previous quit() so the loop can run again.
  void clear_quit() { quit_requested_ = false; }

  /// Shared queue handle used by tasks to deliver results after the loop
  /// may have been destroyed (internal).
  std::shared_ptr<detail::PostQueue> post_queue() const { return post_queue_; }

 private:
  struct WatchEntry {
    int fd;
    uint32_t conditions;
  };
  struct Watch {
    std::vector<WatchEntry> entries;  // empty = always ready
    uint32_t ready_revents = 0;
    WatchCallback callback;
    bool removed = false;
  };
  struct TimerKey {
    int64_t deadline;
    TimerId id;
    bool operator<(const TimerKey& other) const {
      return deadline != other.deadline ? deadline < other.deadline : id < other.id;
    }
  };
  struct TimerInfo {
    int64_t deadline;
  };
  struct FileIo {
    std::function<void(Expected<size_t>)> done;
  };

  explicit Loop(std::unique_ptr<detail::Poller> poller);
  WatchId add_watch_entries(std::vector<WatchEntry> entries, uint32_t ready_revents,
                            WatchCallback callback);
  void update_interest(int fd);
  void dispatch_fd(int fd, uint32_t revents);
  void run_bottom_halves();
  void run_posted();
  void run_expired_timers();
  void run_ready_watches();
  int64_t compute_timeout(int64_t requested) const;
  void complete_file_io(uint64_t token, Expected<size_t> result);

  std::unique_ptr<detail::Poller> poller_;
  std::shared_ptr<detail::PostQueue> post_queue_;
  WatchId wakeup_watch_ = 0;

  WatchId next_watch_id_ = 1;
  std::unordered_map<WatchId, std::shared_ptr<Watch>> watches_;
  std::unordered_map<int, std::vector<WatchId>> watches_by_fd_;
  std::unordered_map<int, uint32_t> interest_by_fd_;
  std::vector<WatchId> ready_watches_;

  TimerId next_timer_id_ = 1;
  std::map<TimerKey, std::function<void()>> timers_;
  std::unordered_map<TimerId, TimerInfo> timer_index_;

  std::vector<std::function<void()>> bottom_halves_;

  uint64_t next_file_io_token_ = 1;
  std::unordered_map<uint64_t, FileIo> file_io_;

  std::atomic<bool> quit_requested_{false};
};

}  // namespace cr16::io
