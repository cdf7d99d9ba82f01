// Tasks: results and errors delivered on the loop thread, cancellation.
#include "io/task.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace cr16::io {
namespace {

class TaskTest : public ::testing::TestWithParam<LoopBackend> {
 protected:
  void SetUp() override { loop_ = Loop::create(GetParam()).value(); }
  std::unique_ptr<Loop> loop_;
};

TEST_P(TaskTest, WorkRunsOnAWorkerAndResultOnTheLoopThread) {
  std::thread::id loop_thread = std::this_thread::get_id();
  std::thread::id worker_thread;
  bool done = false;
  run_task<int>(
      *loop_,
      [&](const CancelToken&) -> Expected<int> {
        worker_thread = std::this_thread::get_id();
        return 42;
      },
      [&](Expected<int> result) {
        EXPECT_EQ(std::this_thread::get_id(), loop_thread);
        ASSERT_TRUE(result);
        EXPECT_EQ(*result, 42);
        done = true;
      });
  while (!done) loop_->run_once(-1);
  EXPECT_NE(worker_thread, loop_thread);
}

TEST_P(TaskTest, FailureDeliversTheError) {
  bool done = false;
  run_task(
      *loop_, [](const CancelToken&) { return Error("disk on fire", EIO); },
      [&](Error error) {
        EXPECT_FALSE(error.ok());
        EXPECT_EQ(error.message(), "disk on fire");
        EXPECT_EQ(error.errno_value(), EIO);
        done = true;
      });
  while (!done) loop_->run_once(-1);
}

TEST_P(TaskTest, CancelledWhileRunningDeliversEcanceled) {
  std::mutex mutex;
  std::condition_variable changed;
  bool started = false;
  bool saw_cancel = false;
  bool done = false;
  TaskHandle handle = run_task<int>(
      *loop_,
      [&](const CancelToken& token) -> Expected<int> {
        {
          std::lock_guard<std::mutex> lock(mutex);
          started = true;
        }
        changed.notify_all();
        while (!token.cancelled()) std::this_thread::yield();
        saw_cancel = true;
        return 1;
      },
      [&](Expected<int> result) {
        ASSERT_FALSE(result);
        EXPECT_EQ(result.error().errno_value(), ECANCELED);
        done = true;
      });
  {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return started; });
  }
  handle.cancel();
  EXPECT_TRUE(handle.cancelled());
  while (!done) loop_->run_once(-1);
  EXPECT_TRUE(saw_cancel);
}

TEST_P(TaskTest, CancelledBeforeCompletionDeliveryDropsTheResult) {
  std::atomic<bool> finished{false};
  bool done = false;
  TaskHandle handle = run_task<int>(
      *loop_,
      [&](const CancelToken&) -> Expected<int> {
        finished = true;
        return 7;
      },
      [&](Expected<int> result) {
        EXPECT_FALSE(result);
        done = true;
      });
  while (!finished) std::this_thread::yield();
  handle.cancel();  // the result is queued for the loop but not yet delivered
  while (!done) loop_->run_once(-1);
}

TEST_P(TaskTest, ManyTasksAllComplete) {
  int completed = 0;
  long sum = 0;
  for (int i = 0; i < 100; ++i) {
    run_task<int>(
        *loop_, [i](const CancelToken&) -> Expected<int> { return i; },
        [&](Expected<int> result) {
          sum += *result;
          ++completed;
        });
  }
  while (completed < 100) loop_->run_once(-1);
  EXPECT_EQ(sum, 4950);
}

INSTANTIATE_TEST_SUITE_P(Backends, TaskTest,
                         ::testing::Values(LoopBackend::kEpoll, LoopBackend::kIoUring),
                         [](const auto& info) {
                           return std::string(loop_backend_name(info.param));
                         });

TEST(Task, CompletionAfterTheLoopIsGoneIsDropped) {
  // Flags shared with the workers, so a worker that is still finishing its
  // job when the test returns never reads a dead stack frame.
  struct Flags {
    std::atomic<bool> release{false}, returned{false}, called{false};
  };
  auto flags = std::make_shared<Flags>();
  {
    auto loop = Loop::create(LoopBackend::kEpoll).value();
    run_task<int>(
        *loop,
        [flags](const CancelToken&) -> Expected<int> {
          while (!flags->release) std::this_thread::yield();
          return 1;
        },
        [flags](Expected<int>) { flags->called = true; });
  }
  flags->release = true;
  // The worker posts into a closed queue; nothing runs and nothing crashes.
  run_task<int>(
      *Loop::create(LoopBackend::kEpoll).value(),
      [flags](const CancelToken&) -> Expected<int> {
        flags->returned = true;
        return 0;
      },
      [](Expected<int>) {});
  while (!flags->returned) std::this_thread::yield();
  EXPECT_FALSE(flags->called);
}

}  // namespace
}  // namespace cr16::io
