// The VM's run state with QEMU's names and legal transitions, and the
// notifications front ends subscribe to (QMP's STOP/RESUME events, the
// migration code waiting for the source to stop). See docs/machine.md.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "util/error.h"

namespace cr16::system {

/// Where the VM is, named as QEMU's query-status names it.
enum class RunState : uint8_t {
  kPrelaunch,      // "prelaunch": built, not started yet (-S), or after a reset while stopped
  kRunning,        // "running"
  kPaused,         // "paused": stopped by stop / Ctrl-C in a debugger
  kDebug,          // "debug": stopped by the debugger (breakpoint, step)
  kInMigrate,      // "inmigrate": waiting for an incoming migration
  kPostMigrate,    // "postmigrate": the source after a successful migration
  kFinishMigrate,  // "finish-migrate": stopped to send the last of the state
  kSaveVm,         // "save-vm": stopped while a snapshot is written
  kRestoreVm,      // "restore-vm": stopped while a snapshot is loaded
  kShutdown,       // "shutdown": powered off and kept alive (-no-shutdown)
  kGuestPanicked,  // "guest-panicked": the guest cannot continue
  kInternalError,  // "internal-error": the emulator cannot continue
  kIoError,        // "io-error": stopped on a host I/O error
  kWatchdog,       // "watchdog": stopped by a watchdog action
  kSuspended,      // "suspended"
  kColo,           // "colo"
};

/// The QEMU name: "running", "guest-panicked", ...
const char* run_state_name(RunState state);
/// The state named `name`, or nullopt.
std::optional<RunState> parse_run_state(std::string_view name);
/// Every state, in declaration order.
std::span<const RunState> all_run_states();
/// True when the VM may go from `from` to `to` (staying put is always allowed).
bool run_state_transition_allowed(RunState from, RunState to);

/// Callbacks keyed by a caller-chosen id, called in the order they were
/// added. A callback may add or remove callbacks while being called: a
/// removed one is not called again, one added meanwhile hears from the next
/// notify().
template <typename... Args>
class ListenerList {
 public:
  using Listener = std::function<void(Args...)>;
  using Id = uint64_t;

  void add(Id id, Listener listener) { entries_.emplace_back(id, std::move(listener)); }
  /// Removes the callback `id`; unknown ids are ignored.
  void remove(Id id) {
    std::erase_if(entries_, [id](const auto& entry) { return entry.first == id; });
  }
  void notify(Args... args) {
    const std::vector<std::pair<Id, Listener>> snapshot = entries_;
    for (const auto& [id, listener] : snapshot) {
      if (contains(id)) listener(args...);
    }
  }

 private:
  bool contains(Id id) const {
    return std::any_of(entries_.begin(), entries_.end(),
                       [id](const auto& entry) { return entry.first == id; });
  }
  std::vector<std::pair<Id, Listener>> entries_;
};

/// The current run state, guarded by the transition table, and its
/// listeners. Machine thread only.
class RunStateMachine {
 public:
  /// Called after every change, with the old and the new state (see
  /// ListenerList for listeners that change the list).
  using Listener = ListenerList<RunState, RunState>::Listener;
  using ListenerId = uint64_t;

  explicit RunStateMachine(RunState initial = RunState::kPrelaunch) : state_(initial) {}

  RunState state() const { return state_; }
  bool running() const { return state_ == RunState::kRunning; }

  /// Moves to `to` and tells the listeners. An illegal transition changes
  /// nothing and is an Error naming both states. Setting the current state
  /// again is a no-op (no notification).
  Error set(RunState to);

  /// Adds a listener; returns an id for remove_listener() (never 0).
  ListenerId add_listener(Listener listener);
  /// Removes a listener; unknown ids are ignored.
  void remove_listener(ListenerId id);

 private:
  RunState state_;
  ListenerId next_id_ = 1;
  ListenerList<RunState, RunState> listeners_;
};

}  // namespace cr16::system
