// Character devices: the byte-stream link between a guest device (a UART, the
// frontend) and a host endpoint (stdio, a file, a pty, a socket: the backend).
// Backends live in system/chardev/; frontends (devices, the monitor) attach
// to them through this interface only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace cr16 {

/// Changes of the host side that a frontend may care about (a monitor prints
/// its banner when a client connects or when it gets the focus of a shared
/// terminal). Devices normally ignore them.
enum class CharEvent : uint8_t {
  kOpened,    // a peer is there (a socket client connected; stdio, pty, file at once)
  kClosed,    // the peer left (a socket client disconnected)
  kFocusIn,   // a multiplexed terminal switched to this frontend (Ctrl-A c)
  kFocusOut,  // ... and away from it
};

/// The device side of a character device: receives bytes from the host.
/// All calls happen on the machine (main loop) thread.
class CharFrontend {
 public:
  virtual ~CharFrontend() = default;
  /// How many bytes the device can accept right now. A backend must not pass
  /// more than this to receive(); when it returns 0 the backend stops reading
  /// until frontend_ready() is called.
  virtual size_t can_receive() = 0;
  /// Delivers host input; `bytes.size()` never exceeds the last can_receive().
  virtual void receive(std::span<const uint8_t> bytes) = 0;
  /// Reports a change of the host side; the default ignores it.
  virtual void char_event(CharEvent event) {}
};

/// The host side of a character device, implemented by system/chardev/
/// (stdio, null, file, pty, tcp, unix, and the multiplexer's ports). All
/// calls happen on the machine (main loop) thread.
class CharBackend {
 public:
  virtual ~CharBackend() = default;
  /// Sends guest output. Never blocks: what cannot be sent now is buffered
  /// by the backend. Returns the number of bytes accepted (normally all;
  /// fewer only if the backend's buffer limit is reached, and the device
  /// then drops the rest and logs it).
  virtual size_t write(std::span<const uint8_t> bytes) = 0;
  /// Connects the frontend that receives input; nullptr detaches. The
  /// frontend must outlive the attachment. A backend whose peer is already
  /// there reports CharEvent::kOpened to the new frontend.
  virtual void attach(CharFrontend* frontend) = 0;
  /// The frontend can receive again after reporting can_receive() == 0:
  /// resume reading the host side.
  virtual void frontend_ready() = 0;
};

}  // namespace cr16
