#include "hw/loop_device_clock.h"

#include <gtest/gtest.h>

#include <vector>

namespace cr16 {
namespace {

// A virtual clock source the test moves by hand, so nothing depends on timing.
struct LoopClockFixture : ::testing::Test {
  void SetUp() override {
    auto created = io::Loop::create(io::LoopBackend::kEpoll);
    ASSERT_TRUE(created.has_value()) << created.error().message();
    loop = std::move(*created);
    loop->set_virtual_clock_source([this] { return virtual_now; });
  }
  int64_t virtual_now = 1'000'000;
  std::unique_ptr<io::Loop> loop;
};

TEST_F(LoopClockFixture, ReadsTheLoopsVirtualClock) {
  LoopDeviceClock clock(*loop);
  EXPECT_EQ(clock.now_ns(), 1'000'000);
  virtual_now = 2'000'000;
  EXPECT_EQ(clock.now_ns(), 2'000'000);
}

TEST_F(LoopClockFixture, ArmedDeadlinesFireInOrderAndCancelledOnesNever) {
  LoopDeviceClock clock(*loop);
  std::vector<int> fired;
  DeviceClock::TimerHandle first = clock.arm(1'500'000, [&] { fired.push_back(1); });
  DeviceClock::TimerHandle cancelled = clock.arm(1'600'000, [&] { fired.push_back(2); });
  clock.arm(1'700'000, [&] { fired.push_back(3); });
  EXPECT_NE(first, 0u);
  EXPECT_NE(first, cancelled);
  clock.cancel(cancelled);
  clock.cancel(0);  // ignored
  (void)loop->run_once(0);
  EXPECT_TRUE(fired.empty());
  virtual_now = 2'000'000;
  for (int i = 0; i < 10 && fired.size() < 2; ++i) (void)loop->run_once(0);
  EXPECT_EQ(fired, (std::vector<int>{1, 3}));
}

}  // namespace
}  // namespace cr16
