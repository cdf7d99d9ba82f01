// The character-device multiplexer: one host backend (the terminal, a
// socket) shared by several frontends (a serial port and the human
// monitor), as QEMU's "mon:stdio" and -nographic do. Input goes to the
// frontend that has the focus; output from every frontend goes to the host.
// The Ctrl-A escape is interpreted here:
//   Ctrl-A c        switch the focus to the next frontend (serial <-> monitor)
//   Ctrl-A x        quit the emulator
//   Ctrl-A h or ?   print the escape help
//   Ctrl-A Ctrl-A   send one Ctrl-A to the focused frontend
// Any other byte after Ctrl-A is dropped.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "hw/chardev.h"

namespace cr16::system {

/// The Ctrl-A escape state machine, on its own so it is testable.
class EscapeFilter {
 public:
  enum class Command : uint8_t { kNone, kQuit, kHelp, kSwitch };
  static constexpr uint8_t kEscapeByte = 0x01;  // Ctrl-A

  /// What one input byte means.
  struct Result {
    Command command = Command::kNone;
    bool has_byte = false;  // `byte` goes to the focused frontend
    uint8_t byte = 0;
  };

  /// Feeds one byte (an escape may span two reads).
  Result feed(uint8_t byte);
  /// True after a Ctrl-A whose command byte has not arrived yet.
  bool escape_pending() const { return escape_pending_; }
  /// The text printed for Ctrl-A h (lines end with \r\n: the terminal is raw).
  static const char* help_text();

 private:
  bool escape_pending_ = false;
};

/// A backend shared by up to kMaxPorts frontends. Owns the backend; the
/// frontends attach to the ports add_port() returns. Machine thread only.
class MuxCharDevice : public CharFrontend {
 public:
  static constexpr unsigned kMaxPorts = 4;
  /// Bytes a port buffers for a frontend that cannot take them yet; while
  /// the focused port's buffer is full the host side is not read.
  static constexpr size_t kPortBuffer = 64;

  /// Takes `backend` and attaches to it. `quit` runs on Ctrl-A x.
  MuxCharDevice(std::unique_ptr<CharBackend> backend, std::function<void()> quit);
  ~MuxCharDevice() override;
  MuxCharDevice(const MuxCharDevice&) = delete;
  MuxCharDevice& operator=(const MuxCharDevice&) = delete;

  /// A new port for one frontend (the first one added has the focus).
  /// The returned backend lives as long as the mux.
  CharBackend* add_port();
  /// Index of the port with the focus.
  unsigned focus() const { return focus_; }
  /// Moves the focus to the next port (what Ctrl-A c does).
  void switch_focus();
  /// Moves the focus to port `index` (e.g. the monitor after -S).
  void set_focus(unsigned index);
  /// The shared host backend.
  CharBackend& backend() { return *backend_; }

  // CharFrontend: the host side's input and events.
  size_t can_receive() override;
  void receive(std::span<const uint8_t> bytes) override;
  void char_event(CharEvent event) override;

 private:
  class Port;
  /// Hands a port's buffered input to its frontend as far as it can take it.
  void drain(Port& port);
  void print(const char* text);

  std::unique_ptr<CharBackend> backend_;
  std::function<void()> quit_;
  std::vector<std::unique_ptr<Port>> ports_;
  unsigned focus_ = 0;
  bool opened_ = false;
  EscapeFilter filter_;
};

}  // namespace cr16::system
