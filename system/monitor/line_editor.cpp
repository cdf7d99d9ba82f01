#include "system/monitor/line_editor.h"

#include <algorithm>

namespace cr16::system::monitor {

namespace {

constexpr uint8_t kEscape = 0x1b;
constexpr char ctrl(char letter) {
  return static_cast<char>(letter & 0x1f);
}

}  // namespace

void LineEditor::clear() {
  line_.clear();
  cursor_ = 0;
  overflow_ = false;
  escape_ = Escape::kNone;
  browsing_ = history_.size();
  draft_.clear();
}

std::optional<LineEditor::Line> LineEditor::feed(uint8_t byte, std::string* echo) {
  const bool was_cr = last_was_cr_;
  last_was_cr_ = false;
  if (escape_ != Escape::kNone) {
    escape_byte(byte, echo);
    return std::nullopt;
  }
  const char c = static_cast<char>(byte);
  if (byte == '\r' || (byte == '\n' && !was_cr)) {
    last_was_cr_ = byte == '\r';
    Line line{std::move(line_), overflow_};
    line_.clear();
    cursor_ = 0;
    overflow_ = false;
    if (!line.overflow && line.text.find_first_not_of(' ') != std::string::npos &&
        (history_.empty() || history_.back() != line.text)) {
      history_.push_back(line.text);
      if (history_.size() > kHistorySize) history_.pop_front();
    }
    browsing_ = history_.size();
    draft_.clear();
    return line;
  }
  if (byte == '\n') return std::nullopt;  // the LF of a CR LF
  switch (c) {
    case kEscape:
      escape_ = Escape::kStart;
      return std::nullopt;
    case 0x7f:
    case '\b':
      erase_before(1, echo);
      return std::nullopt;
    case ctrl('A'):
      move_to(0, echo);
      return std::nullopt;
    case ctrl('E'):
      move_to(line_.size(), echo);
      return std::nullopt;
    case ctrl('B'):
      if (cursor_ > 0) move_to(cursor_ - 1, echo);
      return std::nullopt;
    case ctrl('F'):
      move_to(std::min(cursor_ + 1, line_.size()), echo);
      return std::nullopt;
    case ctrl('D'):
      erase_at(1, echo);
      return std::nullopt;
    case ctrl('K'):
      erase_at(line_.size() - cursor_, echo);
      return std::nullopt;
    case ctrl('U'):
      erase_before(cursor_, echo);
      return std::nullopt;
    case ctrl('W'): {
      size_t start = cursor_;
      while (start > 0 && line_[start - 1] == ' ') --start;
      while (start > 0 && line_[start - 1] != ' ') --start;
      erase_before(cursor_ - start, echo);
      return std::nullopt;
    }
    case ctrl('P'):
      recall(-1, echo);
      return std::nullopt;
    case ctrl('N'):
      recall(+1, echo);
      return std::nullopt;
    default:
      break;
  }
  if (byte < 0x20) return std::nullopt;  // other control characters are ignored
  insert(c, echo);
  return std::nullopt;
}

bool LineEditor::escape_byte(uint8_t byte, std::string* echo) {
  switch (escape_) {
    case Escape::kStart:
      escape_ = byte == '[' ? Escape::kBracket : byte == 'O' ? Escape::kSs3 : Escape::kNone;
      parameter_ = 0;
      return true;
    case Escape::kBracket:
      if (byte >= '0' && byte <= '9') {
        parameter_ = std::min(parameter_ * 10 + (byte - '0'), 1000);
        return true;
      }
      if (byte == ';') return true;  // modifiers (Ctrl-Left...) are read and ignored
      escape_ = Escape::kNone;
      if (byte >= 0x40 && byte <= 0x7e) key(static_cast<char>(byte), parameter_, echo);
      return true;
    case Escape::kSs3:
      escape_ = Escape::kNone;
      key(static_cast<char>(byte), 0, echo);
      return true;
    case Escape::kNone:
      break;
  }
  return false;
}

void LineEditor::key(char final_byte, int parameter, std::string* echo) {
  switch (final_byte) {
    case 'A':
      recall(-1, echo);
      break;
    case 'B':
      recall(+1, echo);
      break;
    case 'C':
      move_to(std::min(cursor_ + 1, line_.size()), echo);
      break;
    case 'D':
      if (cursor_ > 0) move_to(cursor_ - 1, echo);
      break;
    case 'H':
      move_to(0, echo);
      break;
    case 'F':
      move_to(line_.size(), echo);
      break;
    case '~':  // ESC [ n ~
      if (parameter == 1 || parameter == 7) move_to(0, echo);
      if (parameter == 4 || parameter == 8) move_to(line_.size(), echo);
      if (parameter == 3) erase_at(1, echo);
      break;
    default:
      break;  // other keys (function keys, Page Up...) do nothing
  }
}

void LineEditor::insert(char c, std::string* echo) {
  if (line_.size() >= kMaxLine) {
    overflow_ = true;
    return;
  }
  line_.insert(cursor_, 1, c);
  ++cursor_;
  // The new character and what follows it, then back to the cursor.
  const size_t tail = line_.size() - cursor_;
  echo->append(line_, cursor_ - 1, tail + 1);
  echo->append(tail, '\b');
}

void LineEditor::erase_before(size_t count, std::string* echo) {
  count = std::min(count, cursor_);
  if (count == 0) return;
  echo->append(count, '\b');
  cursor_ -= count;
  line_.erase(cursor_, count);
  const size_t tail = line_.size() - cursor_;
  echo->append(line_, cursor_, tail);
  echo->append(count, ' ');
  echo->append(tail + count, '\b');
}

void LineEditor::erase_at(size_t count, std::string* echo) {
  count = std::min(count, line_.size() - cursor_);
  if (count == 0) return;
  line_.erase(cursor_, count);
  const size_t tail = line_.size() - cursor_;
  echo->append(line_, cursor_, tail);
  echo->append(count, ' ');
  echo->append(tail + count, '\b');
}

void LineEditor::move_to(size_t position, std::string* echo) {
  if (position < cursor_) {
    echo->append(cursor_ - position, '\b');
  } else if (position > cursor_) {
    echo->append(line_, cursor_, position - cursor_);  // retyping moves the cursor right
  }
  cursor_ = position;
}

void LineEditor::replace_line(const std::string& text, std::string* echo) {
  move_to(0, echo);
  const size_t old_size = line_.size();
  line_ = text.substr(0, kMaxLine);
  echo->append(line_);
  if (old_size > line_.size()) {
    const size_t pad = old_size - line_.size();
    echo->append(pad, ' ');
    echo->append(pad, '\b');
  }
  cursor_ = line_.size();
}

void LineEditor::recall(int direction, std::string* echo) {
  if (direction < 0) {
    if (browsing_ == 0 || history_.empty()) return;
    if (browsing_ == history_.size()) draft_ = line_;  // keep what was being typed
    --browsing_;
    replace_line(history_[browsing_], echo);
    return;
  }
  if (browsing_ >= history_.size()) return;
  ++browsing_;
  replace_line(browsing_ == history_.size() ? draft_ : history_[browsing_], echo);
}

}  // namespace cr16::system::monitor
