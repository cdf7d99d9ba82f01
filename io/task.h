// Tasks: blocking work on a worker pool whose result (a value or an Error)
// is delivered back on the loop that started it, with cancellation.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "io/loop.h"
#include "util/error.h"

namespace cr16::io {

/// Shared between a task's worker and its owner: set by cancel(), read by
/// work that wants to stop early.
class CancelToken {
 public:
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  void cancel() { cancelled_.store(true, std::memory_order_release); }

 private:
  std::atomic<bool> cancelled_{false};
};

/// The owner's handle on a running task. Copyable; dropping it does not
/// cancel the task.
class TaskHandle {
 public:
  TaskHandle() = default;
  explicit TaskHandle(std::shared_ptr<CancelToken> token) : token_(std::move(token)) {}
  /// Requests cancellation: work not yet started is skipped, running work
  /// may notice through its CancelToken, and the completion callback then
  /// receives an ECANCELED Error instead of the result. Any thread.
  void cancel() {
    if (token_) token_->cancel();
  }
  bool cancelled() const { return token_ && token_->cancelled(); }

 private:
  std::shared_ptr<CancelToken> token_;
};

/// Runs jobs on a small pool of worker threads (process-wide, started on
/// first use, joined at exit; jobs still queued at exit are dropped).
class WorkerPool {
 public:
  /// The process-wide pool.
  static WorkerPool& instance();
  /// Queues `job` to run on a worker thread. Thread-safe.
  void submit(std::function<void()> job);
  /// Number of worker threads.
  size_t size() const;

 private:
  WorkerPool() = default;
};

namespace detail {
/// Posts `callback` to a loop's queue (dropped if the loop is gone).
void post_to_queue(const std::shared_ptr<PostQueue>& queue, std::function<void()> callback);
}  // namespace detail

/// Runs `work(token)` on a worker thread, then calls `done(result)` exactly
/// once on `loop`'s thread (never if the loop was destroyed first). After
/// cancel(), `done` receives Error("operation cancelled", ECANCELED).
/// Call from the loop thread.
template <typename T>
TaskHandle run_task(Loop& loop, std::function<Expected<T>(const CancelToken&)> work,
                    std::function<void(Expected<T>)> done) {
  auto token = std::make_shared<CancelToken>();
  auto queue = loop.post_queue();
  WorkerPool::instance().submit(
      [token, queue, work = std::move(work), done = std::move(done)]() mutable {
        auto result = std::make_shared<Expected<T>>(Error("operation cancelled", ECANCELED));
        if (!token->cancelled()) *result = work(*token);
        detail::post_to_queue(queue, [token, result, done = std::move(done)]() mutable {
          if (token->cancelled()) {
            done(Error("operation cancelled", ECANCELED));
          } else {
            done(std::move(*result));
          }
        });
      });
  return TaskHandle(token);
}

/// A task with no value: `work` returns an Error (ok = success).
TaskHandle run_task(Loop& loop, std::function<Error(const CancelToken&)> work,
                    std::function<void(Error)> done);

}  // namespace cr16::io
