// The human monitor (HMP): a command line on a character device (-monitor
// SPEC, or sharing the serial terminal through the multiplexer with
// mon:stdio / -nographic and Ctrl-A c). It parses a line into the command
// table's typed arguments, runs the handler through MachineControl and
// prints the result with the command's HMP formatter.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "hw/chardev.h"
#include "system/machine_control.h"
#include "system/monitor/commands.h"
#include "system/monitor/line_editor.h"
#include "system/monitor/value.h"

namespace cr16::system::monitor {

/// The prompt HMP prints before each command.
inline constexpr std::string_view kHmpPrompt = "(cr16) ";

/// Parses an HMP line into a command and its arguments ($register values
/// are read through `control`). Errors are one line ("unknown command:
/// 'foo'", "x: missing argument 'address'").
struct ParsedLine {
  const Command* command = nullptr;  // nullptr for an empty line
  Value arguments = Value::dict();
};
Expected<ParsedLine> parse_hmp_line(std::string_view line, MachineControl& control);

/// Runs one HMP line and returns what it prints ("\n" line ends; empty for
/// an empty line or a silent command). For the interactive session and for
/// QMP's human-monitor-command.
std::string execute_hmp_line(std::string_view line, MachineControl& control);

/// One interactive monitor on a backend. Prints a banner and the prompt when
/// the peer is there (at once on stdio; when a socket client connects; on
/// the first Ctrl-A c of a shared terminal), echoes what is typed with line
/// editing and history (line_editor.h), runs each line on Enter. Output
/// uses \r\n line ends (raw terminals). Machine thread only.
class HmpSession : public CharFrontend {
 public:
  /// Attaches to `backend` (not owned; must outlive the session).
  HmpSession(MachineControl& control, CharBackend& backend);
  ~HmpSession() override;
  HmpSession(const HmpSession&) = delete;
  HmpSession& operator=(const HmpSession&) = delete;

  // CharFrontend
  size_t can_receive() override;
  void receive(std::span<const uint8_t> bytes) override;
  void char_event(CharEvent event) override;

  /// Longest line kept; longer input is cut (and the line refused).
  static constexpr size_t kMaxLine = LineEditor::kMaxLine;

  /// The editor (its history, for tests).
  const LineEditor& editor() const { return editor_; }

 private:
  void print(std::string_view text);
  void show_banner();
  void run_line(const LineEditor::Line& line);

  MachineControl& control_;
  CharBackend& backend_;
  LineEditor editor_;
  bool focused_ = true;  // false while a shared terminal shows another frontend
  bool open_ = false;
  bool banner_shown_ = false;
};

}  // namespace cr16::system::monitor
