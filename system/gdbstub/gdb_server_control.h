// GdbServerControl: what front ends (the HMP `gdbserver` command) call to
// start, stop and inspect the gdbstub at run time. The machine owns the one
// implementation (system/gdbstub/server.h) and hands it out through
// MachineControl::gdb_server(). Machine thread only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace cr16::system {

class GdbServerControl {
 public:
  /// What the server is doing.
  struct Status {
    bool listening = false;
    std::string device;                  // as given ("tcp::1234"); empty when not listening
    std::vector<std::string> addresses;  // bound addresses ("0.0.0.0:1234", "/tmp/gdb.sock")
    bool client_connected = false;
    std::string client;  // the peer's address, when connected
  };

  virtual ~GdbServerControl() = default;

  /// Listens on `device`: `tcp::PORT`, `tcp:HOST:PORT`, `unix:PATH[,server=on]`
  /// or a bare PORT (tcp::PORT); "none" stops the server. A running server
  /// is replaced: its debugger is detached first (breakpoints removed, a VM
  /// it held in `debug` resumed). Errors name the device; on error the old
  /// server keeps running.
  virtual Error start(std::string_view device) = 0;
  /// Stops listening and detaches the debugger, as start("none").
  virtual void stop() = 0;
  /// The current status.
  virtual Status status() const = 0;
};

}  // namespace cr16::system
