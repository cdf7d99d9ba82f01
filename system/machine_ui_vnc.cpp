// -vnc: the VNC server front end.
#include "system/machine_impl.h"

namespace cr16::system {

Error Machine::Impl::start_vnc() {
  return Error("-vnc: not available yet");
}

}  // namespace cr16::system
