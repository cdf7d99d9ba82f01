// The machine's virtual clock: host-time and instruction-count sources,
// pause/resume, its own deadline-ordered timers, the -icount idle warp, and
// its state section, including a device moved between two clocks whose host
// time sources read very differently.
#include "hw/virtual_clock.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "hw/timer.h"
#include "hw/virt_map.h"
#include "migration/state_sections.h"
#include "test_helpers.h"

namespace cr16 {
namespace {

// A host clock the test moves by hand.
struct FakeHost {
  int64_t now = 0;
  VirtualClock::HostSource source() {
    return [this] { return now; };
  }
};

TEST(VirtualClock, StartsAtZeroAndStopped) {
  FakeHost host{5'000'000'000};
  VirtualClock clock(host.source());
  EXPECT_FALSE(clock.running());
  EXPECT_EQ(clock.now_ns(), 0);
  host.now += 1000;
  EXPECT_EQ(clock.now_ns(), 0);  // not running yet
  clock.resume();
  host.now += 250;
  EXPECT_EQ(clock.now_ns(), 250);
}

TEST(VirtualClock, StandsStillWhilePaused) {
  FakeHost host{100};
  VirtualClock clock(host.source());
  clock.resume();
  host.now += 1000;
  clock.pause();
  host.now += 1'000'000;
  EXPECT_EQ(clock.now_ns(), 1000);
  clock.resume();
  host.now += 5;
  EXPECT_EQ(clock.now_ns(), 1005);
}

TEST(VirtualClock, TimersFireInDeadlineOrderOnlyWhenDue) {
  FakeHost host;
  VirtualClock clock(host.source());
  clock.resume();
  std::vector<int> fired;
  std::vector<int64_t> seen;
  clock.arm(300, [&] { fired.push_back(3); });
  DeviceClock::TimerHandle first = clock.arm(100, [&] {
    fired.push_back(1);
    seen.push_back(clock.now_ns());
  });
  clock.arm(200, [&] { fired.push_back(2); });
  clock.arm(200, [&] { fired.push_back(22); });  // same deadline: arming order
  DeviceClock::TimerHandle cancelled = clock.arm(150, [&] { fired.push_back(99); });
  EXPECT_NE(first, 0u);
  clock.cancel(cancelled);
  clock.cancel(0);
  clock.cancel(12345);
  EXPECT_EQ(clock.next_deadline(), 100);
  EXPECT_EQ(clock.host_timeout_ns(), 100);
  EXPECT_EQ(clock.run_due_timers(), 0u);
  host.now = 250;
  EXPECT_EQ(clock.host_timeout_ns(), 0);
  EXPECT_EQ(clock.run_due_timers(), 3u);
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 22}));
  EXPECT_EQ(seen, (std::vector<int64_t>{250}));
  host.now = 300;
  EXPECT_EQ(clock.run_due_timers(), 1u);
  EXPECT_EQ(clock.armed_count(), 0u);
  EXPECT_EQ(clock.host_timeout_ns(), -1);
  EXPECT_EQ(clock.next_deadline(), INT64_MAX);
}

TEST(VirtualClock, PausedClockRunsNoTimersAndAsksNoWakeup) {
  FakeHost host;
  VirtualClock clock(host.source());
  bool fired = false;
  clock.arm(10, [&] { fired = true; });
  host.now = 1000;
  EXPECT_EQ(clock.host_timeout_ns(), -1);
  EXPECT_EQ(clock.run_due_timers(), 0u);
  EXPECT_FALSE(fired);
  clock.resume();
  host.now += 10;
  EXPECT_EQ(clock.run_due_timers(), 1u);
  EXPECT_TRUE(fired);
}

TEST(VirtualClock, TimerArmedByACallbackWithAPastDeadlineWaitsForTheNextCall) {
  FakeHost host;
  VirtualClock clock(host.source());
  clock.resume();
  int runs = 0;
  std::function<void()> again = [&] {
    ++runs;
    clock.arm(0, again);  // always due: must not loop forever
  };
  clock.arm(0, again);
  EXPECT_EQ(clock.run_due_timers(), 1u);
  EXPECT_EQ(clock.run_due_timers(), 1u);
  EXPECT_EQ(runs, 2);
}

TEST(VirtualClock, SetNowContinuesFromTheGivenTime) {
  FakeHost host{777'000};
  VirtualClock clock(host.source());
  clock.set_now(40);  // while paused
  EXPECT_EQ(clock.now_ns(), 40);
  clock.resume();
  host.now += 10;
  EXPECT_EQ(clock.now_ns(), 50);
  clock.set_now(1'000'000);  // while running
  EXPECT_EQ(clock.now_ns(), 1'000'000);
  host.now += 1;
  EXPECT_EQ(clock.now_ns(), 1'000'001);
}

TEST(VirtualClock, InstructionCountDrivesTimeWithinSlices) {
  FakeHost host;
  uint64_t instructions = 5000;  // any origin: only differences count
  VirtualClock clock(host.source());
  clock.use_instruction_count([&] { return instructions; }, 3);
  EXPECT_TRUE(clock.counts_instructions());
  clock.resume();
  host.now += 1'000'000;  // host time does not matter with -icount
  EXPECT_EQ(clock.now_ns(), 0);
  clock.begin_slice();
  instructions += 10;
  EXPECT_EQ(clock.now_ns(), 80);  // read inside the slice: 10 << 3
  instructions += 5;
  clock.end_slice();
  EXPECT_EQ(clock.now_ns(), 120);
  instructions = 1;  // e.g. the CPU's counter was loaded: no jump outside a slice
  EXPECT_EQ(clock.now_ns(), 120);
  clock.begin_slice();
  instructions += 1;
  clock.end_slice();
  EXPECT_EQ(clock.now_ns(), 128);
}

TEST(VirtualClock, SliceBudgetEndsAtTheNextDeadline) {
  uint64_t instructions = 0;
  VirtualClock clock([] { return int64_t{0}; });
  clock.use_instruction_count([&] { return instructions; }, 2);
  clock.resume();
  EXPECT_EQ(clock.slice_budget(20000), 20000u);  // no timer
  bool fired = false;
  clock.arm(100, [&] { fired = true; });
  uint64_t budget = clock.slice_budget(20000);
  EXPECT_EQ(budget, 26u);  // (100 >> 2) + 1: reaches the deadline
  clock.begin_slice();
  instructions += budget;
  clock.end_slice();
  EXPECT_GE(clock.now_ns(), 100);
  EXPECT_EQ(clock.run_due_timers(), 1u);
  EXPECT_TRUE(fired);
  VirtualClock host_clock;
  EXPECT_EQ(host_clock.slice_budget(77), 77u);
}

TEST(VirtualClock, IdleWarpFollowsHostTimeButStopsAtTheDeadline) {
  FakeHost host;
  uint64_t instructions = 0;
  VirtualClock clock(host.source());
  clock.use_instruction_count([&] { return instructions; }, 0);
  clock.resume();
  clock.begin_idle();  // no timer armed: no warp
  host.now += 500;
  clock.end_idle();
  EXPECT_EQ(clock.now_ns(), 0);
  clock.arm(1000, [] {});
  clock.begin_idle();
  host.now += 300;  // io arrived after 300 ns
  clock.end_idle();
  EXPECT_EQ(clock.now_ns(), 300);
  clock.begin_idle();
  host.now += 5000;  // slept past the deadline
  clock.end_idle();
  EXPECT_EQ(clock.now_ns(), 1000);  // exactly the deadline
  EXPECT_EQ(clock.run_due_timers(), 1u);
}

TEST(VirtualClock, AlignedClockReportsHowFarItRunsAheadOfTheHost) {
  FakeHost host{1'000'000};
  uint64_t instructions = 0;
  VirtualClock clock(host.source());
  clock.use_instruction_count([&] { return instructions; }, 8);  // 256 ns each
  clock.set_align(true);
  EXPECT_TRUE(clock.aligned());
  EXPECT_EQ(clock.ahead_ns(), 0);  // paused
  clock.resume();
  // A slice is at most the alignment quantum of virtual time.
  EXPECT_EQ(clock.slice_budget(1'000'000),
            static_cast<uint64_t>(VirtualClock::kAlignQuantumNs >> 8) + 1);
  clock.begin_slice();
  instructions += 4000;  // 1.024 ms of virtual time in no host time
  clock.end_slice();
  EXPECT_EQ(clock.ahead_ns(), 1'024'000);
  host.now += 1'000'000;
  EXPECT_EQ(clock.ahead_ns(), 24'000);
  host.now += 24'000;
  EXPECT_EQ(clock.ahead_ns(), 0);
  // Idle time follows the host even with no deadline armed.
  clock.begin_idle();
  host.now += 3'000'000;
  clock.end_idle();
  EXPECT_EQ(clock.now_ns(), 1'024'000 + 3'000'000);
  EXPECT_EQ(clock.ahead_ns(), 0);
  // Far behind (the process was stopped): start afresh, no catch-up race.
  host.now += 10 * VirtualClock::kMaxAlignLagNs;
  EXPECT_EQ(clock.ahead_ns(), 0);
  clock.begin_slice();
  instructions += 1000;
  clock.end_slice();
  EXPECT_EQ(clock.ahead_ns(), 256'000);
  // Pausing and resuming starts afresh too: paused time is never owed.
  clock.pause();
  host.now += 5'000'000;
  clock.resume();
  EXPECT_EQ(clock.ahead_ns(), 0);
}

TEST(VirtualClock, SwitchingToInstructionCountKeepsTheTime) {
  FakeHost host;
  VirtualClock clock(host.source());
  clock.resume();
  host.now = 700;
  uint64_t instructions = 42;
  clock.use_instruction_count([&] { return instructions; }, 1);
  EXPECT_EQ(clock.now_ns(), 700);
}

TEST(VirtualClock, StateSectionSavesNowAndLoadingSetsIt) {
  FakeHost source_host{1'000};
  VirtualClock source(source_host.source());
  source.resume();
  source_host.now += 123'456;
  const StateDescription& description = source.state_description();
  EXPECT_STREQ(description.name, "clock");
  EXPECT_EQ(description.object_size, sizeof(VirtualClockState));
  EXPECT_TRUE(state_check_coverage(description).ok());
  VirtualClockState saved;
  std::memcpy(&saved, source.state_data(), sizeof saved);
  EXPECT_EQ(saved.now_ns, 123'456);

  FakeHost destination_host{9'000'000'000'000};
  VirtualClock destination(destination_host.source());
  VirtualClockState candidate = saved;
  ASSERT_TRUE(description.post_load(&candidate).ok());
  std::memcpy(destination.state_data(), &candidate, sizeof candidate);
  destination.state_loaded();
  EXPECT_EQ(destination.now_ns(), 123'456);
}

TEST(VirtualClock, LoadRefusesTimesOutsideTheValidRange) {
  const StateDescription& description = virtual_clock_state_description();
  VirtualClockState negative{-1};
  Error error = description.post_load(&negative);
  EXPECT_FALSE(error.ok());
  EXPECT_NE(error.message().find("now_ns"), std::string::npos);
  VirtualClockState huge{int64_t{1} << 62};
  EXPECT_FALSE(description.post_load(&huge).ok());
  VirtualClockState fine{(int64_t{1} << 62) - 1};
  EXPECT_TRUE(description.post_load(&fine).ok());
}

// Records the virtual time at which an interrupt line rises.
class TimedIrqSink : public IrqSink {
 public:
  explicit TimedIrqSink(VirtualClock& clock) : clock_(clock) {}
  void set_irq_level(unsigned source, bool level) override {
    if (level && !levels_[source & 31]) rises.push_back(clock_.now_ns());
    levels_[source & 31] = level;
  }
  std::vector<int64_t> rises;

 private:
  VirtualClock& clock_;
  bool levels_[32] = {};
};

// Advances a fake host clock in steps, running due timers after each, the
// way the machine loop does.
void run_for(FakeHost& host, VirtualClock& clock, int64_t ns, int64_t step) {
  for (int64_t done = 0; done < ns; done += step) {
    host.now += step;
    clock.run_due_timers();
  }
}

TEST(VirtualClock, TimerMovedMidPeriodFiresAtTheSameVirtualTimeOnADisagreeingHost) {
  using test::write32;
  constexpr int64_t kPeriodTicks = 100;
  constexpr int64_t kPeriodNs = kPeriodTicks * virt::kNsPerTick;

  // The source machine: its host clock reads about 11 days.
  FakeHost source_host{987'654'321'000'000};
  VirtualClock source_clock(source_host.source());
  source_clock.resume();
  run_for(source_host, source_clock, 3'000'000, 1'000);  // the guest ran 3 ms before
  TimedIrqSink source_irqs(source_clock);
  TimerDevice source_timer(source_clock, {IrqLine(&source_irqs, 0), IrqLine(&source_irqs, 1)});
  write32(source_timer, virt::kTimerChannelBase + virt::kTimerChLoad, kPeriodTicks);
  write32(source_timer, virt::kTimerChannelBase + virt::kTimerChCtrl,
          virt::kTimerChCtrlEnable | virt::kTimerChCtrlIe);
  const int64_t started = source_clock.now_ns();
  run_for(source_host, source_clock, kPeriodNs * 3 / 10, 1'000);  // 30 % into the period
  source_clock.pause();                                           // the source stops for migration
  const int64_t source_deadline = source_clock.next_deadline();
  ASSERT_EQ(source_deadline, started + kPeriodNs);

  // Save through the state engine: the clock section first, then the device.
  const StateSection source_sections[] = {{"clock", 0, &source_clock}, {"timer", 0, &source_timer}};
  auto saved = migration::save_state_sections(source_sections);
  ASSERT_TRUE(saved.ok()) << saved.error().message();

  // The destination: a host clock that reads 2 s since boot, and a fresh
  // machine whose virtual time started at 0.
  FakeHost destination_host{2'000'000'000};
  VirtualClock destination_clock(destination_host.source());
  TimedIrqSink destination_irqs(destination_clock);
  TimerDevice destination_timer(destination_clock,
                                {IrqLine(&destination_irqs, 0), IrqLine(&destination_irqs, 1)});
  const StateSection destination_sections[] = {{"clock", 0, &destination_clock},
                                               {"timer", 0, &destination_timer}};
  const Error loaded = migration::load_state_sections(destination_sections, *saved);
  ASSERT_TRUE(loaded.ok()) << loaded.message();
  destination_clock.resume();
  EXPECT_EQ(destination_clock.now_ns(), source_clock.now_ns());
  EXPECT_EQ(destination_clock.next_deadline(), source_deadline);

  // The source would have fired at started + kPeriodNs; so must the destination,
  // and keep the period after that.
  run_for(destination_host, destination_clock, kPeriodNs * 2, 1'000);
  ASSERT_EQ(destination_irqs.rises.size(), 1u);  // the line stays high until cleared
  EXPECT_EQ(destination_irqs.rises[0], started + kPeriodNs);
  EXPECT_TRUE(source_irqs.rises.empty());
}

}  // namespace
}  // namespace cr16
