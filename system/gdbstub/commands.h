// The debugger's area of the monitor command table: HMP `gdbserver [DEV]`
// (start the gdbstub on DEV, default tcp::1234; `none` stops it). Joined
// into the whole table by monitor::commands().
#pragma once

#include <span>

#include "system/monitor/commands.h"

namespace cr16::system::monitor {

/// The gdbstub's commands.
std::span<const Command> gdb_commands();

}  // namespace cr16::system::monitor
