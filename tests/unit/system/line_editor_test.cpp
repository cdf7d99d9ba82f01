// The monitor's line editor: what each key does to the line and the cursor,
// what it echoes (a terminal replaying the echo shows the line), and the
// history.
#include "system/monitor/line_editor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cr16::system::monitor {
namespace {

// A one-line terminal: applies an echo ('\b' moves left, other characters
// overwrite and move right) and shows what is on the screen.
struct Screen {
  std::string cells;
  size_t column = 0;
  void apply(const std::string& echo) {
    for (char c : echo) {
      if (c == '\b') {
        if (column > 0) --column;
        continue;
      }
      if (column == cells.size())
        cells.push_back(c);
      else
        cells[column] = c;
      ++column;
    }
  }
};

struct Typist {
  LineEditor editor;
  Screen screen;
  std::vector<std::string> lines;
  std::string echo;  // everything echoed so far

  void type(const std::string& bytes) {
    for (char c : bytes) {
      std::string out;
      std::optional<LineEditor::Line> line = editor.feed(static_cast<uint8_t>(c), &out);
      echo += out;
      screen.apply(out);
      if (line) {
        lines.push_back(line->text);
        screen = Screen();  // the next line starts afresh
      }
    }
  }
  // The screen must always show the editor's line (then only blanks) with
  // the cursor in place.
  void check() const {
    const std::string& text = editor.text();
    EXPECT_EQ(screen.cells.substr(0, text.size()), text);
    EXPECT_EQ(screen.cells.find_first_not_of(' ', text.size()), std::string::npos) << screen.cells;
    EXPECT_EQ(screen.column, editor.cursor());
  }
};

const std::string kLeft = "\x1b[D", kRight = "\x1b[C", kUp = "\x1b[A", kDown = "\x1b[B";
const std::string kHome = "\x1b[H", kEnd = "\x1b[F", kDelete = "\x1b[3~";

TEST(LineEditor, PlainTypingEchoesExactlyWhatWasTyped) {
  Typist t;
  t.type("info status\r");
  EXPECT_EQ(t.echo, "info status");  // what a script on a pipe sees
  EXPECT_EQ(t.lines, std::vector<std::string>{"info status"});
  t.type("stop\r\ncont\n");  // CR LF is one line end; LF alone is one too
  EXPECT_EQ(t.lines, (std::vector<std::string>{"info status", "stop", "cont"}));
}

TEST(LineEditor, CursorKeysMoveAndInsertInTheMiddle) {
  Typist t;
  t.type("info stats");
  t.type(kLeft);
  t.check();
  t.type("u");
  t.check();
  EXPECT_EQ(t.editor.text(), "info status");
  t.type(kHome + "x" + kEnd + "!");
  t.check();
  EXPECT_EQ(t.editor.text(), "xinfo status!");
  t.type("\x01");  // Ctrl-A: home
  t.check();
  EXPECT_EQ(t.editor.cursor(), 0u);
  t.type("\x05");  // Ctrl-E: end
  EXPECT_EQ(t.editor.cursor(), t.editor.text().size());
  t.type("\x1bOH");  // Home as some terminals send it
  EXPECT_EQ(t.editor.cursor(), 0u);
  t.type("\x1b[4~");
  EXPECT_EQ(t.editor.cursor(), t.editor.text().size());
  t.type(kRight);  // at the end: nothing
  t.check();
}

TEST(LineEditor, DeletingAndKilling) {
  Typist t;
  t.type("print 1 + 2");
  t.type(kLeft + kLeft + kLeft + "\x7f");  // backspace in the middle: the space before '+'
  t.check();
  EXPECT_EQ(t.editor.text(), "print 1+ 2");
  t.type(kRight + kDelete);  // delete at the cursor: the space after '+'
  t.check();
  EXPECT_EQ(t.editor.text(), "print 1+2");
  t.type(kLeft + "\x0b");  // Ctrl-K: to the end
  t.check();
  EXPECT_EQ(t.editor.text(), "print 1");
  t.type(" words here");
  t.type("\x17");  // Ctrl-W: the previous word
  t.check();
  EXPECT_EQ(t.editor.text(), "print 1 words ");
  t.type(kLeft + kLeft + kLeft + "\x15");  // Ctrl-U: everything before the cursor
  t.check();
  EXPECT_EQ(t.editor.text(), "ds ");
  EXPECT_EQ(t.editor.cursor(), 0u);
  t.type("\x04");  // Ctrl-D: delete at the cursor
  t.check();
  EXPECT_EQ(t.editor.text(), "s ");
  t.type("\x7f\x7f\x7f");  // backspace at the start: nothing
  t.check();
  EXPECT_EQ(t.editor.text(), "s ");
}

TEST(LineEditor, HistoryWalksUpAndDownAndKeepsTheDraft) {
  Typist t;
  t.type("info status\r");
  t.type("x/4x 0\r");
  t.type("x/4x 0\r");  // a repeat is kept once
  t.type("   \r");     // a blank line is not kept
  EXPECT_EQ(t.editor.history().size(), 2u);
  t.type("draft");
  t.type(kUp);
  t.check();
  EXPECT_EQ(t.editor.text(), "x/4x 0");
  t.type(kUp);
  t.check();
  EXPECT_EQ(t.editor.text(), "info status");
  t.type(kUp);  // the oldest: stays
  EXPECT_EQ(t.editor.text(), "info status");
  t.type(kDown + kDown);
  t.check();
  EXPECT_EQ(t.editor.text(), "draft");  // back to what was being typed
  t.type("\x10");                       // Ctrl-P
  EXPECT_EQ(t.editor.text(), "x/4x 0");
  t.type(
      "\x7f"
      "8\r");  // an edited recall runs as edited
  EXPECT_EQ(t.lines.back(), "x/4x 8");
  EXPECT_EQ(t.editor.history().back(), "x/4x 8");
}

TEST(LineEditor, LongLinesOverflowAndUnknownKeysAreIgnored) {
  Typist t;
  t.type(std::string(LineEditor::kMaxLine + 5, 'a'));
  std::string out;
  std::optional<LineEditor::Line> line = t.editor.feed('\r', &out);
  ASSERT_TRUE(line);
  EXPECT_TRUE(line->overflow);
  EXPECT_TRUE(t.editor.history().empty());
  Typist u;
  u.type("ab\x1b[5~\x1b[1;5C\x1bOP\x07\x1bzc");  // Page Up, Ctrl-Right, F1, bell, Alt-z
  u.check();
  EXPECT_EQ(u.editor.text(), "abc");
  u.editor.clear();
  EXPECT_EQ(u.editor.text(), "");
}

TEST(LineEditor, HistoryIsBounded) {
  Typist t;
  for (size_t i = 0; i < LineEditor::kHistorySize + 10; ++i)
    t.type("cmd " + std::to_string(i) + "\r");
  EXPECT_EQ(t.editor.history().size(), LineEditor::kHistorySize);
  EXPECT_EQ(t.editor.history().front(), "cmd 10");
}

}  // namespace
}  // namespace cr16::system::monitor
