// Internal to io/: the interface between Loop and its readiness backends
// (loop_epoll.cpp, loop_io_uring.cpp), and the thread-safe post queue.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "io/loop.h"
#include "util/error.h"

namespace cr16::io::detail {

/// An fd the backend reports as ready, with Condition bits.
struct ReadyEvent {
  int fd;
  uint32_t revents;
};

/// A finished asynchronous file read or write: result is a byte count or
/// a negative errno.
struct FileCompletion {
  uint64_t token;
  int64_t result;
};

/// What the loop needs from a backend. Loop thread only.
class Poller {
 public:
  virtual ~Poller() = default;
  virtual LoopBackend kind() const = 0;
  /// Sets the Condition mask watched on `fd`; 0 stops watching it.
  virtual Error set_interest(int fd, uint32_t conditions) = 0;
  /// Waits at most timeout_ns (-1 forever, 0 poll) and appends what is ready.
  virtual Error wait(int64_t timeout_ns, std::vector<ReadyEvent>& events,
                     std::vector<FileCompletion>& completions) = 0;
  /// Starts a positional read/write; its completion comes back from wait().
  virtual void submit_file_io(uint64_t token, bool write, int fd, void* buffer, size_t length,
                              uint64_t offset) = 0;
};

/// Creates the epoll backend.
Expected<std::unique_ptr<Poller>> make_epoll_poller();
/// Creates the io_uring backend (fails when the kernel refuses io_uring).
Expected<std::unique_ptr<Poller>> make_io_uring_poller();
/// Test hook: while ERROR is nonzero, make_io_uring_poller() fails with it
/// as if the kernel had refused the ring (exercises the epoll fallback).
void set_io_uring_refusal_for_testing(int error);

/// Converts Condition bits to poll(2) bits and back.
uint32_t conditions_to_poll(uint32_t conditions);
uint32_t poll_to_conditions(uint32_t poll_events);

/// Callbacks posted from any thread plus the eventfd that wakes the loop.
/// Shared with tasks so a late completion after the loop is gone is dropped
/// instead of touching freed memory.
class PostQueue {
 public:
  explicit PostQueue(int event_fd) : event_fd_(event_fd) {}
  ~PostQueue();
  /// Queues a callback and wakes the loop; returns false once closed.
  bool post(std::function<void()> callback);
  /// Wakes the loop (thread-safe).
  void wakeup();
  /// Takes all queued callbacks (loop thread).
  std::vector<std::function<void()>> take();
  /// Reads the eventfd counter back to zero (loop thread).
  void drain_wakeups();
  /// Refuses further posts (loop destruction).
  void close();
  int event_fd() const { return event_fd_; }
  bool has_pending();

 private:
  std::mutex mutex_;
  std::vector<std::function<void()>> queue_;
  bool closed_ = false;
  int event_fd_;
};

}  // namespace cr16::io::detail
