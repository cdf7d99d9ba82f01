// Character devices: the byte-stream link between a guest device (a UART, the
// frontend) and a host endpoint (stdio, a file, a pty, a socket: the backend).
// Backends live in system/; frontends (devices) live in hw/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace cr16 {

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
};

/// The host side of a character device, implemented by system/ (stdio, null,
/// file, pty, tcp, unix). All calls happen on the machine (main loop) thread.
class CharBackend {
 public:
  virtual ~CharBackend() = default;
  /// Sends guest output. Never blocks: what cannot be sent now is buffered
  /// by the backend. Returns the number of bytes accepted (normally all;
  /// fewer only if the backend's buffer limit is reached, and the device
  /// then drops the rest and logs it).
  virtual size_t write(std::span<const uint8_t> bytes) = 0;
  /// Connects the frontend that receives input; nullptr detaches. The
  /// frontend must outlive the attachment.
  virtual void attach(CharFrontend* frontend) = 0;
  /// The frontend can receive again after reporting can_receive() == 0:
  /// resume reading the host side.
  virtual void frontend_ready() = 0;
};

}  // namespace cr16
