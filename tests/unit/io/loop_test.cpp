// Loop: watches, timers, bottom halves, posts, quit, file I/O, on both
// backends.
#include "io/loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "io/channel.h"
#include "io/channel_buffer.h"
#include "io/channel_file.h"
#include "io/loop_backend.h"
#include "tests/unit/io/io_test_util.h"

namespace cr16::io {
namespace {

class LoopTest : public ::testing::TestWithParam<LoopBackend> {
 protected:
  void SetUp() override {
    auto created = Loop::create(GetParam());
    ASSERT_TRUE(created) << created.error().message();
    loop_ = std::move(*created);
    if (loop_->backend() != GetParam()) {
      GTEST_SKIP() << "the kernel refuses io_uring here (seccomp or kernel.io_uring_disabled)";
    }
  }
  std::unique_ptr<Loop> loop_;
};

TEST_P(LoopTest, WatchFiresWhenPipeReadableAndIsLevelTriggered) {
  TestPipe pipe_fds;
  int calls = 0;
  loop_->add_watch(pipe_fds.read_end(), kIn, [&](int fd, uint32_t revents) {
    EXPECT_EQ(fd, pipe_fds.read_end());
    EXPECT_TRUE(revents & kIn);
    ++calls;
    return calls < 3;  // leaves the byte unread: level-triggered fires again
  });
  loop_->run_once(0);
  EXPECT_EQ(calls, 0);
  ASSERT_EQ(::write(pipe_fds.write_end(), "x", 1), 1);
  for (int i = 0; i < 10 && calls < 3; ++i) loop_->run_once(1000000000);
  EXPECT_EQ(calls, 3);
  loop_->run_once(0);
  EXPECT_EQ(calls, 3);  // removed after returning false
}

TEST_P(LoopTest, HandlerMayRemoveOtherWatchesWhileDispatching) {
  TestPipe pipe_fds;
  int first_calls = 0, second_calls = 0;
  Loop::WatchId second = 0;
  loop_->add_watch(pipe_fds.read_end(), kIn, [&](int, uint32_t) {
    ++first_calls;
    loop_->remove_watch(second);
    return true;
  });
  second = loop_->add_watch(pipe_fds.read_end(), kIn, [&](int, uint32_t) {
    ++second_calls;
    return true;
  });
  ASSERT_EQ(::write(pipe_fds.write_end(), "x", 1), 1);
  loop_->run_once(1000000000);
  EXPECT_EQ(first_calls, 1);
  EXPECT_EQ(second_calls, 0);
}

TEST_P(LoopTest, HandlerMayReplaceItsOwnWatch) {
  TestPipe pipe_fds;
  int old_calls = 0, new_calls = 0;
  ASSERT_EQ(::write(pipe_fds.write_end(), "x", 1), 1);
  Loop::WatchId old_id = 0;
  old_id = loop_->add_watch(pipe_fds.read_end(), kIn, [&](int fd, uint32_t) {
    ++old_calls;
    loop_->remove_watch(old_id);
    loop_->add_watch(fd, kIn, [&](int, uint32_t) {
      ++new_calls;
      return false;
    });
    return true;  // ignored: the watch is already gone
  });
  for (int i = 0; i < 5 && new_calls == 0; ++i) loop_->run_once(1000000000);
  EXPECT_EQ(old_calls, 1);
  EXPECT_EQ(new_calls, 1);
}

TEST_P(LoopTest, ChannelWaitFailsWhenTheLoopQuits) {
  BufferChannel always_ready;
  EXPECT_TRUE(always_ready.wait(kIn, loop_.get()).ok());  // memory channels never wait
  TestPipe pipe_fds;
  auto channel = FileChannel::from_dup(pipe_fds.read_end());
  ASSERT_TRUE(channel);
  loop_->quit();
  Error error = (*channel)->wait(kIn, loop_.get());
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.errno_value(), ECANCELED);
  loop_->clear_quit();
  ASSERT_EQ(::write(pipe_fds.write_end(), "x", 1), 1);
  EXPECT_TRUE((*channel)->wait(kIn, loop_.get()).ok());
}

TEST_P(LoopTest, WritableWatchAndHangup) {
  TestPipe pipe_fds;
  uint32_t seen = 0;
  Loop::WatchId id = loop_->add_watch(pipe_fds.write_end(), kOut, [&](int, uint32_t revents) {
    seen |= revents;
    return true;
  });
  loop_->run_once(1000000000);
  EXPECT_TRUE(seen & kOut);
  loop_->remove_watch(id);
  seen = 0;
  loop_->add_watch(pipe_fds.read_end(), kIn, [&](int, uint32_t revents) {
    seen |= revents;
    return false;
  });
  pipe_fds.close_write_end();
  loop_->run_once(1000000000);
  EXPECT_TRUE(seen & kHup);
}

TEST_P(LoopTest, PairWatchReportsEachFd) {
  TestPipe input, output;
  std::vector<int> fired;
  loop_->add_watch_pair(input.read_end(), output.write_end(), kIn | kOut, [&](int fd, uint32_t) {
    fired.push_back(fd);
    return fired.size() < 2;
  });
  ASSERT_EQ(::write(input.write_end(), "x", 1), 1);
  for (int i = 0; i < 5 && fired.size() < 2; ++i) loop_->run_once(1000000000);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_NE(fired[0], fired[1]);
}

TEST_P(LoopTest, TimersFireInDeadlineOrder) {
  std::vector<int> order;
  int64_t now = loop_->now(ClockType::kRealtime);
  loop_->add_timer(ClockType::kRealtime, now + 3000000, [&] { order.push_back(3); });
  loop_->add_timer(ClockType::kRealtime, now + 1000000, [&] { order.push_back(1); });
  loop_->add_timer(ClockType::kRealtime, now + 2000000, [&] { order.push_back(2); });
  loop_->add_timer(ClockType::kRealtime, now + 2000000, [&] { order.push_back(22); });
  Loop::TimerId cancelled =
      loop_->add_timer(ClockType::kRealtime, now + 1500000, [&] { order.push_back(99); });
  loop_->cancel_timer(cancelled);
  EXPECT_EQ(loop_->next_deadline(ClockType::kRealtime), now + 1000000);
  while (order.size() < 4) loop_->run_once(-1);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 22, 3}));
  EXPECT_EQ(loop_->next_deadline(ClockType::kRealtime), INT64_MAX);
}

TEST_P(LoopTest, BottomHalvesRunOnceInOrder) {
  std::vector<int> order;
  loop_->schedule([&] {
    order.push_back(1);
    loop_->schedule([&] { order.push_back(3); });
  });
  loop_->schedule([&] { order.push_back(2); });
  loop_->run_once(-1);  // pending bottom halves make the wait non-blocking
  loop_->run_once(0);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST_P(LoopTest, PostFromAnotherThreadWakesTheLoop) {
  bool ran = false;
  std::thread poster([&] { loop_->post([&] { ran = true; }); });
  while (!ran) loop_->run_once(-1);
  poster.join();
  EXPECT_TRUE(ran);
}

TEST_P(LoopTest, QuitFromAnotherThreadStopsRun) {
  std::thread quitter([&] { loop_->quit(); });
  loop_->run();
  quitter.join();
  EXPECT_FALSE(loop_->run_once(0));
  loop_->clear_quit();
  EXPECT_TRUE(loop_->run_once(0));
}

TEST_P(LoopTest, ReadyWatchRunsEveryIterationUntilRemoved) {
  int calls = 0;
  loop_->add_ready_watch(kIn | kOut, [&](int fd, uint32_t revents) {
    EXPECT_EQ(fd, -1);
    EXPECT_EQ(revents, kIn | kOut);
    return ++calls < 3;
  });
  for (int i = 0; i < 3; ++i) loop_->run_once(-1);  // never blocks while it exists
  EXPECT_EQ(calls, 3);
  loop_->run_once(0);
  EXPECT_EQ(calls, 3);
}

TEST_P(LoopTest, AsynchronousFileReadAndWrite) {
  TempFile file;
  std::string text = "hello, file I/O through the loop";
  bool written = false;
  loop_->submit_write(file.fd(), text.data(), text.size(), 10, [&](Expected<size_t> result) {
    ASSERT_TRUE(result) << result.error().message();
    EXPECT_EQ(*result, text.size());
    written = true;
  });
  while (!written) loop_->run_once(-1);
  std::string back(text.size(), '\0');
  bool read_done = false;
  loop_->submit_read(file.fd(), back.data(), back.size(), 10, [&](Expected<size_t> result) {
    ASSERT_TRUE(result) << result.error().message();
    EXPECT_EQ(*result, text.size());
    read_done = true;
  });
  EXPECT_EQ(loop_->pending_file_io(), 1u);
  while (!read_done) loop_->run_once(-1);
  EXPECT_EQ(back, text);
  bool failed = false;
  loop_->submit_read(-1, back.data(), back.size(), 0, [&](Expected<size_t> result) {
    EXPECT_FALSE(result);
    EXPECT_EQ(result.error().errno_value(), EBADF);
    failed = true;
  });
  while (!failed) loop_->run_once(-1);
}

INSTANTIATE_TEST_SUITE_P(Backends, LoopTest,
                         ::testing::Values(LoopBackend::kEpoll, LoopBackend::kIoUring),
                         [](const auto& info) {
                           return std::string(loop_backend_name(info.param));
                         });

TEST(LoopOption, ParsesBackendNames) {
  EXPECT_EQ(*parse_loop_backend("epoll"), LoopBackend::kEpoll);
  EXPECT_EQ(*parse_loop_backend("io_uring"), LoopBackend::kIoUring);
  auto bad = parse_loop_backend("select");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("select"), std::string::npos);
}

TEST(LoopCreate, RefusedIoUringFallsBackToEpollWithOneNotice) {
  detail::set_io_uring_refusal_for_testing(EPERM);
  testing::internal::CaptureStderr();
  Expected<std::unique_ptr<Loop>> loop = Loop::create(LoopBackend::kIoUring);
  const std::string notice = testing::internal::GetCapturedStderr();
  detail::set_io_uring_refusal_for_testing(0);
  ASSERT_TRUE(loop) << loop.error().message();
  EXPECT_EQ((*loop)->backend(), LoopBackend::kEpoll);
  EXPECT_NE(notice.find("io_uring unavailable"), std::string::npos) << notice;
  EXPECT_NE(notice.find("using epoll"), std::string::npos) << notice;
  EXPECT_EQ(std::count(notice.begin(), notice.end(), '\n'), 1) << notice;
  // The fallback loop works: a posted callback runs.
  bool ran = false;
  (*loop)->schedule([&] { ran = true; });
  (*loop)->run_once(0);
  EXPECT_TRUE(ran);
}

TEST(LoopCreate, IoUringIsUsedWhenTheKernelAllowsIt) {
  Expected<std::unique_ptr<Loop>> loop = Loop::create(LoopBackend::kIoUring);
  ASSERT_TRUE(loop);
  if ((*loop)->backend() != LoopBackend::kIoUring) GTEST_SKIP() << "the kernel refuses io_uring";
  EXPECT_STREQ(loop_backend_name((*loop)->backend()), "io_uring");
}

}  // namespace
}  // namespace cr16::io
