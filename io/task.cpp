// The worker pool behind run_task().
#include "io/task.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "io/loop_backend.h"

namespace cr16::io {

namespace {

/// The pool's state; lives until process exit.
class PoolState {
 public:
  PoolState() {
    size_t count = std::clamp<size_t>(std::thread::hardware_concurrency(), 2, 8);
    for (size_t i = 0; i < count; ++i) threads_.emplace_back([this] { work_loop(); });
  }
  ~PoolState() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      jobs_.clear();
    }
    wake_.notify_all();
    for (auto& thread : threads_) thread.join();
  }
  void submit(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
  }
  size_t size() const { return threads_.size(); }

 private:
  void work_loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

PoolState& pool_state() {
  static PoolState state;
  return state;
}

}  // namespace

WorkerPool& WorkerPool::instance() {
  static WorkerPool pool;
  return pool;
}

void WorkerPool::submit(std::function<void()> job) {
  pool_state().submit(std::move(job));
}

size_t WorkerPool::size() const {
  return pool_state().size();
}

namespace detail {
void post_to_queue(const std::shared_ptr<PostQueue>& queue, std::function<void()> callback) {
  queue->post(std::move(callback));
}
}  // namespace detail

TaskHandle run_task(Loop& loop, std::function<Error(const CancelToken&)> work,
                    std::function<void(Error)> done) {
  struct Nothing {};
  return run_task<Nothing>(
      loop,
      [work = std::move(work)](const CancelToken& token) -> Expected<Nothing> {
        Error error = work(token);
        if (!error.ok()) return error;
        return Nothing{};
      },
      [done = std::move(done)](Expected<Nothing> result) { done(result.take_error()); });
}

}  // namespace cr16::io
