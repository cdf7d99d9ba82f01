// The snapshot area of the command table (commands_snapshot.cpp): QMP
// snapshot-save, snapshot-load and snapshot-delete as jobs, query-jobs and
// job-dismiss; HMP savevm, loadvm, delvm, info snapshots and info jobs.
// All of them go through MachineControl::snapshots() (SnapshotControl).
#pragma once

#include <span>

#include "system/monitor/commands.h"

namespace cr16::system::monitor {

/// The snapshot and job commands; commands() joins them with the others.
std::span<const Command> snapshot_commands();

}  // namespace cr16::system::monitor
