#include "system/run_state.h"

#include <algorithm>
#include <array>
#include <string>

namespace cr16::system {

namespace {

using enum RunState;

struct StateName {
  RunState state;
  const char* name;
};

constexpr StateName kNames[] = {
    {kPrelaunch, "prelaunch"},
    {kRunning, "running"},
    {kPaused, "paused"},
    {kDebug, "debug"},
    {kInMigrate, "inmigrate"},
    {kPostMigrate, "postmigrate"},
    {kFinishMigrate, "finish-migrate"},
    {kSaveVm, "save-vm"},
    {kRestoreVm, "restore-vm"},
    {kShutdown, "shutdown"},
    {kGuestPanicked, "guest-panicked"},
    {kInternalError, "internal-error"},
    {kIoError, "io-error"},
    {kWatchdog, "watchdog"},
    {kSuspended, "suspended"},
    {kColo, "colo"},
};

constexpr auto kAllStates = [] {
  std::array<RunState, std::size(kNames)> states{};
  for (size_t i = 0; i < states.size(); ++i) states[i] = kNames[i].state;
  return states;
}();

struct Transition {
  RunState from;
  RunState to;
};

// Which changes are legal. Stopped states lead back to running (cont) and to
// prelaunch (a reset while stopped); migration and snapshots pass through
// their own states; a powered-off or crashed VM needs a reset (prelaunch)
// before it may run again.
constexpr Transition kTransitions[] = {
    {kPrelaunch, kRunning},
    {kPrelaunch, kInMigrate},
    {kPrelaunch, kFinishMigrate},

    {kRunning, kPaused},
    {kRunning, kDebug},
    {kRunning, kShutdown},
    {kRunning, kGuestPanicked},
    {kRunning, kInternalError},
    {kRunning, kIoError},
    {kRunning, kWatchdog},
    {kRunning, kFinishMigrate},
    {kRunning, kSaveVm},
    {kRunning, kRestoreVm},
    {kRunning, kSuspended},
    {kRunning, kColo},

    {kPaused, kRunning},
    {kPaused, kPrelaunch},
    {kPaused, kFinishMigrate},
    {kPaused, kPostMigrate},
    {kPaused, kColo},

    {kDebug, kRunning},
    {kDebug, kPrelaunch},
    {kDebug, kFinishMigrate},
    {kDebug, kSuspended},
    // Beyond QEMU: a debugger's single step runs while the VM stays in
    // debug, so the stepped instruction may crash or power off the guest.
    {kDebug, kGuestPanicked},
    {kDebug, kShutdown},

    {kInMigrate, kRunning},
    {kInMigrate, kPaused},
    {kInMigrate, kPrelaunch},
    {kInMigrate, kPostMigrate},
    {kInMigrate, kFinishMigrate},
    {kInMigrate, kShutdown},
    {kInMigrate, kGuestPanicked},
    {kInMigrate, kInternalError},
    {kInMigrate, kIoError},
    {kInMigrate, kWatchdog},
    {kInMigrate, kSuspended},
    {kInMigrate, kColo},

    {kPostMigrate, kRunning},
    {kPostMigrate, kPrelaunch},
    {kPostMigrate, kFinishMigrate},

    {kFinishMigrate, kRunning},
    {kFinishMigrate, kPaused},
    {kFinishMigrate, kPostMigrate},
    {kFinishMigrate, kPrelaunch},
    {kFinishMigrate, kShutdown},
    {kFinishMigrate, kGuestPanicked},
    {kFinishMigrate, kInternalError},
    {kFinishMigrate, kIoError},
    {kFinishMigrate, kWatchdog},
    {kFinishMigrate, kSuspended},
    {kFinishMigrate, kColo},

    {kSaveVm, kRunning},

    {kRestoreVm, kRunning},
    {kRestoreVm, kPrelaunch},

    {kShutdown, kPaused},
    {kShutdown, kPrelaunch},
    {kShutdown, kFinishMigrate},
    {kShutdown, kColo},

    {kGuestPanicked, kRunning},
    {kGuestPanicked, kPrelaunch},
    {kGuestPanicked, kFinishMigrate},

    {kInternalError, kRunning},
    {kInternalError, kPaused},
    {kInternalError, kPrelaunch},
    {kInternalError, kFinishMigrate},

    {kIoError, kRunning},
    {kIoError, kPrelaunch},
    {kIoError, kFinishMigrate},

    {kWatchdog, kRunning},
    {kWatchdog, kPrelaunch},
    {kWatchdog, kFinishMigrate},
    {kWatchdog, kColo},

    {kSuspended, kRunning},
    {kSuspended, kPrelaunch},
    {kSuspended, kFinishMigrate},
    {kSuspended, kColo},

    {kColo, kRunning},
    {kColo, kPrelaunch},
    {kColo, kShutdown},
};

}  // namespace

const char* run_state_name(RunState state) {
  for (const StateName& entry : kNames) {
    if (entry.state == state) return entry.name;
  }
  return "unknown";
}

std::optional<RunState> parse_run_state(std::string_view name) {
  for (const StateName& entry : kNames) {
    if (name == entry.name) return entry.state;
  }
  return std::nullopt;
}

std::span<const RunState> all_run_states() {
  return kAllStates;
}

bool run_state_transition_allowed(RunState from, RunState to) {
  if (from == to) return true;
  return std::any_of(std::begin(kTransitions), std::end(kTransitions),
                     [&](const Transition& t) { return t.from == from && t.to == to; });
}

Error RunStateMachine::set(RunState to) {
  if (to == state_) return Error();
  if (!run_state_transition_allowed(state_, to)) {
    return Error(std::string("invalid run state transition from '") + run_state_name(state_) +
                 "' to '" + run_state_name(to) + "'");
  }
  const RunState from = state_;
  state_ = to;
  listeners_.notify(from, to);
  return Error();
}

RunStateMachine::ListenerId RunStateMachine::add_listener(Listener listener) {
  ListenerId id = next_id_++;
  listeners_.add(id, std::move(listener));
  return id;
}

void RunStateMachine::remove_listener(ListenerId id) {
  listeners_.remove(id);
}

}  // namespace cr16::system
