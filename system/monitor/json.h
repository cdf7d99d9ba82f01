// JSON for QMP: a parser with hard limits, a serializer that writes what
// QEMU writes, and the splitter that cuts a byte stream into messages.
//
// The parser takes RFC 8259 JSON plus QEMU's single-quoted strings
// ('it\'s'); every input is hostile: a message is at most
// JsonLimits::max_message bytes, containers nest at most max_depth deep,
// numbers must fit a double (integers that fit int64 stay integers), strings
// must be valid UTF-8 without raw control characters, and \u escapes must
// pair their surrogates. Errors name the problem and where it is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "system/monitor/value.h"
#include "util/error.h"

namespace cr16::system::monitor {

/// The hard limits of the parser and the splitter.
struct JsonLimits {
  /// Bytes of one message (the splitter refuses longer ones whole).
  size_t max_message = size_t{1} << 20;
  /// Containers nested in one another ({"a": [ ... ]} is depth 2).
  unsigned max_depth = 128;
  /// Characters of one number literal.
  size_t max_number = 128;
};

/// Parses one complete JSON text (surrounding whitespace allowed, nothing
/// else after the value). Errors read "JSON parse error, WHAT (at byte N)"
/// or "JSON nesting depth limit exceeded" (QEMU's text).
Expected<Value> parse_json(std::string_view text, const JsonLimits& limits = {});

/// Serializes `value` the way QEMU's QMP does: ", " between members and
/// items, ": " after keys, dictionaries in their insertion order, strings
/// as ASCII (\uXXXX escapes, surrogate pairs above U+FFFF), doubles in
/// their shortest exact form with a '.' or an exponent (1.0, 1e+300), so
/// what is written parses back to the same Value. `pretty`:
/// one member per line, four spaces of indentation (QEMU's pretty=on).
/// Non-finite doubles (never produced by the parser) are written as null.
std::string to_json(const Value& value, bool pretty = false);
/// Appends the serialization to `out` (no allocation of a temporary).
void append_json(std::string& out, const Value& value, bool pretty = false);

/// Cuts a byte stream into JSON messages as QMP reads them: a top-level
/// object or array ends at its matching bracket (counted outside strings),
/// a top-level scalar at the next whitespace or bracket. Only the current
/// message is buffered; one longer than max_message, or nested deeper than
/// max_depth, is skipped to its end without being stored and reported as
/// one error. A stray closing bracket is one error. Not thread-safe.
class JsonSplitter {
 public:
  /// Receives each message: the parsed Value, or the Error that explains
  /// why the message was refused (the stream goes on after it).
  using Sink = std::function<void(Expected<Value> message)>;

  explicit JsonSplitter(JsonLimits limits = {}) : limits_(limits) {}

  /// Feeds bytes; calls `sink` for every message they complete, in order.
  /// `sink` may not call feed() on the same splitter.
  void feed(std::string_view bytes, const Sink& sink);
  /// Forgets a partial message (the peer went away).
  void reset();
  /// Bytes of the partial message held (at most max_message).
  size_t buffered() const { return buffer_.size(); }
  /// True while a message has started and not ended.
  bool in_message() const { return depth_ > 0 || quote_ != 0 || scalar_; }

 private:
  void finish(const Sink& sink);
  void append(char c);

  JsonLimits limits_;
  std::string buffer_;
  uint64_t depth_ = 0;      // open brackets of the current message
  char quote_ = 0;          // inside a string: its quote character
  bool escaped_ = false;    // the previous string character was a backslash
  bool scalar_ = false;     // reading a top-level scalar (a number, a keyword)
  bool too_large_ = false;  // the message outgrew max_message: skipping it
  bool too_deep_ = false;   // the message nests deeper than max_depth: skipping it
};

}  // namespace cr16::system::monitor
