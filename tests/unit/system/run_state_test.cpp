// The run-state table: QEMU's names, the legal transitions, and the
// notifications front ends subscribe to.
#include "system/run_state.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace cr16::system {
namespace {

TEST(RunState, NamesAreQemusAndRoundTrip) {
  EXPECT_STREQ(run_state_name(RunState::kPrelaunch), "prelaunch");
  EXPECT_STREQ(run_state_name(RunState::kRunning), "running");
  EXPECT_STREQ(run_state_name(RunState::kPaused), "paused");
  EXPECT_STREQ(run_state_name(RunState::kPostMigrate), "postmigrate");
  EXPECT_STREQ(run_state_name(RunState::kInMigrate), "inmigrate");
  EXPECT_STREQ(run_state_name(RunState::kShutdown), "shutdown");
  EXPECT_STREQ(run_state_name(RunState::kGuestPanicked), "guest-panicked");
  EXPECT_STREQ(run_state_name(RunState::kFinishMigrate), "finish-migrate");
  EXPECT_STREQ(run_state_name(RunState::kRestoreVm), "restore-vm");
  EXPECT_STREQ(run_state_name(RunState::kSaveVm), "save-vm");
  EXPECT_STREQ(run_state_name(RunState::kInternalError), "internal-error");
  EXPECT_STREQ(run_state_name(RunState::kIoError), "io-error");
  EXPECT_STREQ(run_state_name(RunState::kWatchdog), "watchdog");
  EXPECT_STREQ(run_state_name(RunState::kDebug), "debug");
  std::set<std::string> names;
  for (RunState state : all_run_states()) {
    EXPECT_TRUE(names.insert(run_state_name(state)).second);
    EXPECT_EQ(parse_run_state(run_state_name(state)), state);
  }
  EXPECT_EQ(names.size(), 16u);
  EXPECT_FALSE(parse_run_state("sleeping").has_value());
}

TEST(RunState, TheUsualLifecycleIsLegal) {
  using enum RunState;
  EXPECT_TRUE(run_state_transition_allowed(kPrelaunch, kRunning));   // -S then cont
  EXPECT_TRUE(run_state_transition_allowed(kRunning, kPaused));      // stop
  EXPECT_TRUE(run_state_transition_allowed(kPaused, kRunning));      // cont
  EXPECT_TRUE(run_state_transition_allowed(kPaused, kPrelaunch));    // system_reset while stopped
  EXPECT_TRUE(run_state_transition_allowed(kRunning, kShutdown));    // power-off, -no-shutdown
  EXPECT_TRUE(run_state_transition_allowed(kShutdown, kPrelaunch));  // then system_reset
  EXPECT_TRUE(run_state_transition_allowed(kRunning, kGuestPanicked));
  EXPECT_TRUE(run_state_transition_allowed(kRunning, kDebug));  // a breakpoint
  EXPECT_TRUE(run_state_transition_allowed(kDebug, kRunning));
  // Migration: the source stops, finishes, stays postmigrate; the destination runs.
  EXPECT_TRUE(run_state_transition_allowed(kRunning, kFinishMigrate));
  EXPECT_TRUE(run_state_transition_allowed(kFinishMigrate, kPostMigrate));
  EXPECT_TRUE(run_state_transition_allowed(kFinishMigrate, kRunning));  // a failed migration
  EXPECT_TRUE(run_state_transition_allowed(kPrelaunch, kInMigrate));
  EXPECT_TRUE(run_state_transition_allowed(kInMigrate, kRunning));
  // Snapshots.
  EXPECT_TRUE(run_state_transition_allowed(kRunning, kSaveVm));
  EXPECT_TRUE(run_state_transition_allowed(kSaveVm, kRunning));
  EXPECT_TRUE(run_state_transition_allowed(kRunning, kRestoreVm));
  EXPECT_TRUE(run_state_transition_allowed(kRestoreVm, kRunning));
  for (RunState state : all_run_states()) EXPECT_TRUE(run_state_transition_allowed(state, state));
}

TEST(RunState, ImpossibleChangesAreRefused) {
  using enum RunState;
  EXPECT_FALSE(run_state_transition_allowed(kShutdown, kRunning));  // needs a reset first
  EXPECT_FALSE(run_state_transition_allowed(kPrelaunch, kPaused));
  EXPECT_FALSE(run_state_transition_allowed(kPostMigrate, kInMigrate));
  EXPECT_FALSE(run_state_transition_allowed(kSaveVm, kPaused));
  EXPECT_FALSE(run_state_transition_allowed(kRunning, kPrelaunch));
  EXPECT_FALSE(run_state_transition_allowed(kGuestPanicked, kPaused));
  // Every state can be left for running or prelaunch except where QEMU needs more.
  for (RunState state : all_run_states()) {
    if (state == kPrelaunch) continue;
    EXPECT_TRUE(run_state_transition_allowed(state, kRunning) ||
                run_state_transition_allowed(state, kPrelaunch))
        << run_state_name(state) << " is a dead end";
  }
}

TEST(RunStateMachine, TellsListenersAboutEveryChange) {
  RunStateMachine machine;
  EXPECT_EQ(machine.state(), RunState::kPrelaunch);
  EXPECT_FALSE(machine.running());
  std::vector<std::pair<RunState, RunState>> seen;
  RunStateMachine::ListenerId id =
      machine.add_listener([&](RunState from, RunState to) { seen.emplace_back(from, to); });
  EXPECT_NE(id, 0u);
  ASSERT_TRUE(machine.set(RunState::kRunning).ok());
  EXPECT_TRUE(machine.running());
  ASSERT_TRUE(machine.set(RunState::kRunning).ok());  // no change, no notification
  ASSERT_TRUE(machine.set(RunState::kPaused).ok());
  EXPECT_EQ(seen,
            (std::vector<std::pair<RunState, RunState>>{{RunState::kPrelaunch, RunState::kRunning},
                                                        {RunState::kRunning, RunState::kPaused}}));
  machine.remove_listener(id);
  machine.remove_listener(12345);  // unknown: ignored
  ASSERT_TRUE(machine.set(RunState::kRunning).ok());
  EXPECT_EQ(seen.size(), 2u);
}

TEST(RunStateMachine, AnIllegalChangeIsAnErrorAndChangesNothing) {
  RunStateMachine machine(RunState::kShutdown);
  int calls = 0;
  machine.add_listener([&](RunState, RunState) { ++calls; });
  Error error = machine.set(RunState::kRunning);
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.message(), "invalid run state transition from 'shutdown' to 'running'");
  EXPECT_EQ(machine.state(), RunState::kShutdown);
  EXPECT_EQ(calls, 0);
}

TEST(RunStateMachine, ListenersMayRemoveThemselvesAndOthers) {
  RunStateMachine machine;
  std::vector<int> calls;
  RunStateMachine::ListenerId second = 0;
  RunStateMachine::ListenerId first = 0;
  first = machine.add_listener([&](RunState, RunState) {
    calls.push_back(1);
    machine.remove_listener(first);
    machine.remove_listener(second);  // removed before its turn: not called
    machine.add_listener([&](RunState, RunState) { calls.push_back(3); });
  });
  second = machine.add_listener([&](RunState, RunState) { calls.push_back(2); });
  ASSERT_TRUE(machine.set(RunState::kRunning).ok());
  EXPECT_EQ(calls, std::vector<int>{1});
  ASSERT_TRUE(machine.set(RunState::kPaused).ok());
  EXPECT_EQ(calls, (std::vector<int>{1, 3}));
}

}  // namespace
}  // namespace cr16::system
