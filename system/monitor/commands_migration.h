// The migration area of the command table (commands_migration.cpp): QMP
// migrate, migrate-incoming, migrate_cancel, query-migrate,
// migrate-set-capabilities, query-migrate-capabilities,
// migrate-set-parameters, query-migrate-parameters; HMP migrate [-d],
// migrate_incoming, migrate_cancel, migrate_set_parameter,
// migrate_set_capability, info migrate, info migrate_parameters,
// info migrate_capabilities. One implementation each, on MigrationControl.
#pragma once

#include <span>

#include "system/monitor/commands.h"

namespace cr16::system::monitor {

/// The migration commands (joined into commands()).
std::span<const Command> migration_commands();

}  // namespace cr16::system::monitor
