// -display sdl: the SDL2 window front end.
#include "system/machine_impl.h"

namespace cr16::system {

Error Machine::Impl::start_sdl() {
  return Error("-display sdl: not available yet");
}

}  // namespace cr16::system
