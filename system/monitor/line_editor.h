// Line editing and history for the human monitor on a terminal: the
// cursor keys, Home/End, Delete, Up/Down through the history, and the
// Emacs keys Ctrl-A/E/B/F/D/K/U/W/P/N. Pure logic: bytes in, what to echo
// and completed lines out. The echo uses only the typed characters, '\b'
// and spaces (no terminal escape sequences), so it shows right on any
// terminal, and a script on a pipe that types plain lines sees a plain
// echo of what it typed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace cr16::system::monitor {

class LineEditor {
 public:
  /// Longest line kept; longer input is cut and the line refused.
  static constexpr size_t kMaxLine = 4096;
  /// Lines the history keeps (the oldest go first).
  static constexpr size_t kHistorySize = 100;

  /// What one completed line is.
  struct Line {
    std::string text;
    bool overflow = false;  // it was longer than kMaxLine (text is cut)
  };

  /// Feeds one input byte; appends to `echo` what the terminal should show.
  /// Returns the line when the byte completes it (CR, LF, or CR LF once).
  std::optional<Line> feed(uint8_t byte, std::string* echo);

  /// The line being edited and the cursor's position in it.
  const std::string& text() const { return line_; }
  size_t cursor() const { return cursor_; }
  /// Forgets the line being edited (the peer left); the history stays.
  void clear();
  /// Remembered lines, oldest first.
  const std::deque<std::string>& history() const { return history_; }

 private:
  void insert(char c, std::string* echo);
  void erase_before(size_t count, std::string* echo);
  void erase_at(size_t count, std::string* echo);
  void move_to(size_t position, std::string* echo);
  void replace_line(const std::string& text, std::string* echo);
  void recall(int direction, std::string* echo);
  bool escape_byte(uint8_t byte, std::string* echo);
  void key(char final_byte, int parameter, std::string* echo);

  std::string line_;
  size_t cursor_ = 0;
  bool overflow_ = false;
  bool last_was_cr_ = false;
  // Escape sequences: ESC, then '[' or 'O', then digits and a final byte.
  enum class Escape : uint8_t { kNone, kStart, kBracket, kSs3 };
  Escape escape_ = Escape::kNone;
  int parameter_ = 0;
  std::deque<std::string> history_;
  size_t browsing_ = 0;  // index into history_ while browsing; history_.size(): the draft
  std::string draft_;    // the line being typed before browsing started
};

}  // namespace cr16::system::monitor
