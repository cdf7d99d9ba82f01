// The user-interface area of the command table (commands_ui.cpp): QMP
// screendump, send-key and input-send-event; HMP screendump and sendkey.
// All of them go through MachineControl::display() (ui::DisplayHub).
#pragma once

#include <span>

#include "system/monitor/commands.h"

namespace cr16::system::monitor {

/// The display and keyboard commands; commands() joins them with the others.
std::span<const Command> ui_commands();

}  // namespace cr16::system::monitor
