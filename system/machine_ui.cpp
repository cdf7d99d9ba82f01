// The machine's user interface: the display hub between the board's display
// and keyboard controllers and the front ends, then the front ends the
// options ask for (-display sdl: machine_ui_sdl.cpp; -vnc:
// machine_ui_vnc.cpp). Each front end hears the VM's run state.
#include <memory>
#include <string>

#include "hw/board.h"
#include "system/machine_impl.h"

namespace cr16::system {

Error Machine::Impl::start_ui() {
  DisplayDevice* display = board->display_device();
  KeyboardDevice* keyboard = board->keyboard_device();
  if (display != nullptr && keyboard != nullptr) {
    display_hub = std::make_unique<ui::DisplayHub>(*display, *keyboard);
    display_hub->set_loop(loop.get());
  }
  const bool wants_display = options.display != DisplayKind::kNone || !options.vnc.empty();
  if (wants_display && display_hub == nullptr) {
    return Error(std::string(options.display != DisplayKind::kNone ? "-display" : "-vnc") +
                 ": the " + board_type->name + " board has no display");
  }
  if (options.display == DisplayKind::kSdl) {
    if (Error error = start_sdl(); !error.ok()) return error;
  }
  if (!options.vnc.empty()) {
    if (Error error = start_vnc(); !error.ok()) return error;
  }
  if (!ui_frontends.empty()) {
    auto tell = [this](RunState to) {
      for (const auto& frontend : ui_frontends) {
        frontend->machine_state_changed(options.name, run_state_name(to));
      }
    };
    tell(state_machine.state());
    add_state_listener([this, tell](RunState, RunState to) {
      // A stopped VM has no more vertical blanks: show what it drew last.
      if (to != RunState::kRunning && display_hub) display_hub->refresh();
      tell(to);
    });
  }
  return {};
}

}  // namespace cr16::system
