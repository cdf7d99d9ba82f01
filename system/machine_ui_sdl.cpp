// -display sdl: the SDL2 window front end (ui/sdl_display.h). Closing the
// window presses the guest's power button, as QEMU's window does by default
// with ACPI guests; a guest that ignores it keeps running (quit from the
// monitor). The window leaves the hub as soon as the machine starts to quit,
// before the board's devices go away.
#include <memory>
#include <utility>

#include "system/machine_impl.h"
#include "ui/sdl_display.h"

namespace cr16::system {

Error Machine::Impl::start_sdl() {
  Expected<std::unique_ptr<ui::SdlDisplay>> window =
      ui::SdlDisplay::create(*loop, *display_hub, [this] { (void)powerdown(); });
  if (!window) return window.error().with_context("-display sdl");
  ui::SdlDisplay* raw = window->get();
  // kShutdown also reports a -no-shutdown power-off, which keeps the window.
  add_event_listener([this, raw](const MachineEvent& event) {
    if (event.kind == MachineEvent::Kind::kShutdown && quit_requested) raw->detach();
  });
  ui_frontends.push_back(std::move(*window));
  return {};
}

}  // namespace cr16::system
