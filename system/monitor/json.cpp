#include "system/monitor/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_set>

namespace cr16::system::monitor {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-' ||
         c == '+' || c == '.';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// Decodes one UTF-8 sequence at text[*pos]; advances *pos. Returns -1 (and
// advances one byte) for an invalid sequence: a stray continuation byte, a
// truncated sequence, an overlong form, a surrogate, or past U+10FFFF.
int32_t decode_utf8(std::string_view text, size_t* pos) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte(*pos);
  if (lead < 0x80) {
    ++*pos;
    return lead;
  }
  unsigned length;
  uint32_t code_point;
  uint32_t minimum;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, code_point = lead & 0x1F, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code_point = lead & 0x0F, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code_point = lead & 0x07, minimum = 0x10000;
  } else {
    ++*pos;
    return -1;
  }
  if (*pos + length > text.size()) {
    ++*pos;
    return -1;
  }
  for (unsigned i = 1; i < length; ++i) {
    const uint8_t next = byte(*pos + i);
    if ((next & 0xC0) != 0x80) {
      ++*pos;
      return -1;
    }
    code_point = (code_point << 6) | (next & 0x3F);
  }
  if (code_point < minimum || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    ++*pos;
    return -1;
  }
  *pos += length;
  return static_cast<int32_t>(code_point);
}

// A byte or a short excerpt of the input, printable in an error message.
std::string describe_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  char text[16];
  if (u >= 0x21 && u < 0x7F) {
    std::snprintf(text, sizeof text, "'%c'", c);
  } else {
    std::snprintf(text, sizeof text, "byte 0x%02x", u);
  }
  return text;
}

std::string excerpt(std::string_view text) {
  constexpr size_t kShown = 32;
  std::string shown;
  for (char c : text.substr(0, kShown)) {
    const auto u = static_cast<unsigned char>(c);
    shown.push_back(u >= 0x20 && u < 0x7F ? c : '?');
  }
  if (text.size() > kShown) shown += "...";
  return shown;
}

class Parser {
 public:
  Parser(std::string_view text, const JsonLimits& limits) : text_(text), limits_(limits) {}

  Expected<Value> parse_document() {
    skip_space();
    Expected<Value> value = parse_value(0);
    if (!value) return value;
    skip_space();
    if (pos_ < text_.size()) {
      return error("unexpected " + describe_byte(text_[pos_]) + " after the value");
    }
    return value;
  }

 private:
  Error error(const std::string& what) const { return error_at(what, pos_); }
  Error error_at(const std::string& what, size_t position) const {
    return Error("JSON parse error, " + what + " (at byte " + std::to_string(position) + ")");
  }

  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }

  bool at_end() const { return pos_ >= text_.size(); }

  Expected<Value> parse_value(unsigned depth) {
    if (at_end()) return error("expecting a value, found the end of the input");
    const char c = text_[pos_];
    switch (c) {
      case '{':
      case '[':
        if (depth + 1 > limits_.max_depth) return Error("JSON nesting depth limit exceeded");
        return c == '{' ? parse_object(depth + 1) : parse_array(depth + 1);
      case '"':
      case '\'': {
        Expected<std::string> text = parse_string();
        if (!text) return text.error();
        return Value::string(std::move(*text));
      }
      default:
        break;
    }
    if (c == '-' || is_digit(c)) return parse_number();
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return parse_keyword();
    return error("expecting a value, found " + describe_byte(c));
  }

  Expected<Value> parse_object(unsigned depth) {
    ++pos_;  // '{'
    Value::Dict members;
    std::unordered_set<std::string> keys;  // duplicates are refused, in linear time
    skip_space();
    if (!at_end() && text_[pos_] == '}') {
      ++pos_;
      return Value::dict(std::move(members));
    }
    while (true) {
      skip_space();
      if (at_end()) return error("unterminated object");
      if (text_[pos_] != '"' && text_[pos_] != '\'') {
        return error("expecting a string key, found " + describe_byte(text_[pos_]));
      }
      const size_t key_start = pos_;
      Expected<std::string> key = parse_string();
      if (!key) return key.error();
      skip_space();
      if (at_end() || text_[pos_] != ':') {
        return error("expecting ':' after the key '" + excerpt(*key) + "'");
      }
      ++pos_;
      skip_space();
      Expected<Value> member = parse_value(depth);
      if (!member) return member;
      if (!keys.insert(*key).second) {
        return error_at("duplicate key '" + excerpt(*key) + "'", key_start);
      }
      members.emplace_back(std::move(*key), std::move(*member));
      skip_space();
      if (at_end()) return error("unterminated object");
      if (text_[pos_] == '}') {
        ++pos_;
        return Value::dict(std::move(members));
      }
      if (text_[pos_] != ',') {
        return error("expecting ',' or '}' in an object, found " + describe_byte(text_[pos_]));
      }
      ++pos_;
    }
  }

  Expected<Value> parse_array(unsigned depth) {
    ++pos_;  // '['
    Value::List items;
    skip_space();
    if (!at_end() && text_[pos_] == ']') {
      ++pos_;
      return Value::list(std::move(items));
    }
    while (true) {
      skip_space();
      Expected<Value> item = parse_value(depth);
      if (!item) return item;
      items.push_back(std::move(*item));
      skip_space();
      if (at_end()) return error("unterminated array");
      if (text_[pos_] == ']') {
        ++pos_;
        return Value::list(std::move(items));
      }
      if (text_[pos_] != ',') {
        return error("expecting ',' or ']' in an array, found " + describe_byte(text_[pos_]));
      }
      ++pos_;
    }
  }

  // Four hex digits after "\u" at pos_ (which is on the 'u').
  Expected<uint32_t> parse_hex4() {
    if (pos_ + 5 > text_.size()) return error("truncated \\u escape in a string");
    uint32_t value = 0;
    for (size_t i = 1; i <= 4; ++i) {
      const int digit = hex_value(text_[pos_ + i]);
      if (digit < 0) return error("invalid \\u escape in a string (four hex digits expected)");
      value = value << 4 | static_cast<uint32_t>(digit);
    }
    pos_ += 5;
    return value;
  }

  Expected<std::string> parse_string() {
    const char quote = text_[pos_++];
    std::string out;
    while (true) {
      if (at_end()) return error("unterminated string");
      const char c = text_[pos_];
      const auto u = static_cast<unsigned char>(c);
      if (c == quote) {
        ++pos_;
        return out;
      }
      if (u < 0x20) return error("control character 0x" + hex2(u) + " in a string (escape it)");
      if (c != '\\') {
        if (u < 0x80) {
          out.push_back(c);
          ++pos_;
          continue;
        }
        const size_t start = pos_;
        if (decode_utf8(text_, &pos_) < 0) {
          return error_at("invalid UTF-8 sequence in a string", start);
        }
        out.append(text_.substr(start, pos_ - start));
        continue;
      }
      const size_t escape_start = pos_;
      ++pos_;
      if (at_end()) return error("unterminated string");
      const char e = text_[pos_];
      switch (e) {
        case '"':
        case '\'':
        case '\\':
        case '/':
          out.push_back(e);
          ++pos_;
          continue;
        case 'b':
          out.push_back('\b');
          ++pos_;
          continue;
        case 'f':
          out.push_back('\f');
          ++pos_;
          continue;
        case 'n':
          out.push_back('\n');
          ++pos_;
          continue;
        case 'r':
          out.push_back('\r');
          ++pos_;
          continue;
        case 't':
          out.push_back('\t');
          ++pos_;
          continue;
        case 'u':
          break;
        default:
          return error_at(
              "invalid escape sequence '\\" + excerpt(std::string(1, e)) + "' in a string",
              escape_start);
      }
      Expected<uint32_t> unit = parse_hex4();
      if (!unit) return unit.error();
      uint32_t code_point = *unit;
      if (code_point >= 0xDC00 && code_point <= 0xDFFF) {
        return error_at("\\u" + hex4(code_point) + " is a lone low surrogate", escape_start);
      }
      if (code_point >= 0xD800 && code_point <= 0xDBFF) {
        if (pos_ + 1 >= text_.size() || text_[pos_] != '\\' || text_[pos_ + 1] != 'u') {
          return error_at("\\u" + hex4(code_point) + " is a high surrogate without its low half",
                          escape_start);
        }
        ++pos_;
        Expected<uint32_t> low = parse_hex4();
        if (!low) return low.error();
        if (*low < 0xDC00 || *low > 0xDFFF) {
          return error_at("\\u" + hex4(code_point) + " is a high surrogate followed by \\u" +
                              hex4(*low) + ", not a low surrogate",
                          escape_start);
        }
        code_point = 0x10000 + ((code_point - 0xD800) << 10) + (*low - 0xDC00);
      }
      append_utf8(out, code_point);
    }
  }

  static std::string hex2(unsigned value) {
    char text[8];
    std::snprintf(text, sizeof text, "%02x", value & 0xFF);
    return text;
  }
  static std::string hex4(uint32_t value) {
    char text[8];
    std::snprintf(text, sizeof text, "%04x", value & 0xFFFF);
    return text;
  }

  Expected<Value> parse_number() {
    const size_t start = pos_;
    bool integral = true;
    auto digits = [&] {
      const size_t first = pos_;
      while (!at_end() && is_digit(text_[pos_])) ++pos_;
      return pos_ > first;
    };
    if (text_[pos_] == '-') ++pos_;
    if (!at_end() && text_[pos_] == '0') {
      ++pos_;
    } else if (!digits()) {
      return bad_number(start);
    }
    if (!at_end() && text_[pos_] == '.') {
      ++pos_;
      integral = false;
      if (!digits()) return bad_number(start);
    }
    if (!at_end() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      integral = false;
      if (!at_end() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!digits()) return bad_number(start);
    }
    if (!at_end() && is_word_char(text_[pos_])) return bad_number(start);
    const std::string_view literal = text_.substr(start, pos_ - start);
    if (literal.size() > limits_.max_number) {
      return error_at(
          "number too long (more than " + std::to_string(limits_.max_number) + " characters)",
          start);
    }
    if (integral) {
      int64_t value = 0;
      const auto [end, code] =
          std::from_chars(literal.data(), literal.data() + literal.size(), value);
      if (code == std::errc() && end == literal.data() + literal.size()) {
        return Value::integer(value);
      }
      // Too large for int64: a double, as QEMU parses it.
    }
    const std::string copy(literal);
    char* end = nullptr;
    const double value = std::strtod(copy.c_str(), &end);
    if (end != copy.c_str() + copy.size()) return bad_number(start);
    if (!std::isfinite(value)) {
      return error_at("number out of range: " + excerpt(literal), start);
    }
    return Value::number(value);
  }

  Error bad_number(size_t start) {
    size_t end = start;
    while (end < text_.size() && is_word_char(text_[end])) ++end;
    return error_at("invalid number '" + excerpt(text_.substr(start, end - start)) + "'", start);
  }

  Expected<Value> parse_keyword() {
    const size_t start = pos_;
    while (!at_end() && is_word_char(text_[pos_])) ++pos_;
    const std::string_view word = text_.substr(start, pos_ - start);
    if (word == "true") return Value::boolean(true);
    if (word == "false") return Value::boolean(false);
    if (word == "null") return Value();
    return error_at("invalid keyword '" + excerpt(word) + "'", start);
  }

  std::string_view text_;
  const JsonLimits& limits_;
  size_t pos_ = 0;
};

void append_string(std::string& out, std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  auto escape = [&out](uint32_t unit) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kHex[(unit >> shift) & 0xF]);
  };
  out.push_back('"');
  size_t pos = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
      ++pos;
      continue;
    }
    switch (c) {
      case '\b':
        out += "\\b";
        ++pos;
        continue;
      case '\f':
        out += "\\f";
        ++pos;
        continue;
      case '\n':
        out += "\\n";
        ++pos;
        continue;
      case '\r':
        out += "\\r";
        ++pos;
        continue;
      case '\t':
        out += "\\t";
        ++pos;
        continue;
      default:
        break;
    }
    int32_t code_point = decode_utf8(text, &pos);
    if (code_point < 0) code_point = 0xFFFD;  // not UTF-8: the replacement character
    if (code_point >= 0x10000) {
      const uint32_t rest = static_cast<uint32_t>(code_point) - 0x10000;
      escape(0xD800 + (rest >> 10));
      escape(0xDC00 + (rest & 0x3FF));
    } else {
      escape(static_cast<uint32_t>(code_point));
    }
  }
  out.push_back('"');
}

void append_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char text[64];
  const auto [end, code] = std::to_chars(text, text + sizeof text, value);
  if (code != std::errc()) {
    out += "null";
    return;
  }
  const std::string_view shortest(text, static_cast<size_t>(end - text));
  out.append(shortest);
  // A double stays a double when read back: 1.0, not 1.
  if (shortest.find_first_of(".e") == std::string_view::npos) out += ".0";
}

void append_indent(std::string& out, bool pretty, unsigned level) {
  if (!pretty) return;
  out.push_back('\n');
  out.append(size_t{level} * 4, ' ');
}

void append_value(std::string& out, const Value& value, bool pretty, unsigned level) {
  switch (value.type()) {
    case Value::Type::kNull:
      out += "null";
      return;
    case Value::Type::kBool:
      out += value.as_bool() ? "true" : "false";
      return;
    case Value::Type::kInt: {
      char text[32];
      const auto [end, code] = std::to_chars(text, text + sizeof text, value.as_int());
      out.append(text, end);
      return;
    }
    case Value::Type::kDouble:
      append_number(out, value.as_double());
      return;
    case Value::Type::kString:
      append_string(out, value.as_string());
      return;
    case Value::Type::kList: {
      out.push_back('[');
      bool first = true;
      for (const Value& item : value.as_list()) {
        if (!first) out += pretty ? "," : ", ";
        first = false;
        append_indent(out, pretty, level + 1);
        append_value(out, item, pretty, level + 1);
      }
      append_indent(out, pretty, level);
      out.push_back(']');
      return;
    }
    case Value::Type::kDict: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, member] : value.as_dict()) {
        if (!first) out += pretty ? "," : ", ";
        first = false;
        append_indent(out, pretty, level + 1);
        append_string(out, key);
        out += ": ";
        append_value(out, member, pretty, level + 1);
      }
      append_indent(out, pretty, level);
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

Expected<Value> parse_json(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_message) {
    return Error("JSON message too large (more than " + std::to_string(limits.max_message) +
                 " bytes)");
  }
  return Parser(text, limits).parse_document();
}

std::string to_json(const Value& value, bool pretty) {
  std::string out;
  append_value(out, value, pretty, 0);
  return out;
}

void append_json(std::string& out, const Value& value, bool pretty) {
  append_value(out, value, pretty, 0);
}

// ---------------------------------------------------------------------------

void JsonSplitter::reset() {
  buffer_.clear();
  depth_ = 0;
  quote_ = 0;
  escaped_ = false;
  scalar_ = false;
  too_large_ = false;
  too_deep_ = false;
}

void JsonSplitter::append(char c) {
  if (too_large_ || too_deep_) return;  // skipping: nothing is stored
  if (buffer_.size() >= limits_.max_message) {
    too_large_ = true;
    std::string().swap(buffer_);  // give the memory back now
    return;
  }
  buffer_.push_back(c);
}

void JsonSplitter::finish(const Sink& sink) {
  Expected<Value> message = Error("");
  if (too_deep_) {
    message = Error("JSON nesting depth limit exceeded");
  } else if (too_large_) {
    message = Error("JSON message too large (more than " + std::to_string(limits_.max_message) +
                    " bytes)");
  } else {
    message = parse_json(buffer_, limits_);
  }
  reset();
  sink(std::move(message));
}

void JsonSplitter::feed(std::string_view bytes, const Sink& sink) {
  size_t i = 0;
  while (i < bytes.size()) {
    const char c = bytes[i];
    if (scalar_) {
      // A top-level number or keyword ends where a delimiter starts; the
      // delimiter is looked at again as the start of what follows.
      if (is_space(c) || c == '{' || c == '}' || c == '[' || c == ']' || c == '"' || c == '\'' ||
          c == ',' || c == ':') {
        finish(sink);
        continue;
      }
      append(c);
      ++i;
      continue;
    }
    if (depth_ == 0 && quote_ == 0) {
      ++i;
      if (is_space(c)) continue;
      if (c == '}' || c == ']' || c == ',' || c == ':') {
        sink(Error(std::string("JSON parse error, unexpected ") + describe_byte(c) +
                   " between messages"));
        continue;
      }
      append(c);
      if (c == '{' || c == '[') {
        depth_ = 1;
      } else if (c == '"' || c == '\'') {
        quote_ = c;
      } else {
        scalar_ = true;
      }
      continue;
    }
    ++i;
    append(c);
    if (quote_ != 0) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == quote_) {
        quote_ = 0;
        if (depth_ == 0) finish(sink);  // a top-level string
      }
      continue;
    }
    if (c == '"' || c == '\'') {
      quote_ = c;
    } else if (c == '{' || c == '[') {
      ++depth_;
      if (depth_ > limits_.max_depth && !too_deep_) {
        too_deep_ = true;
        std::string().swap(buffer_);
      }
    } else if (c == '}' || c == ']') {
      if (--depth_ == 0) finish(sink);
    }
  }
}

}  // namespace cr16::system::monitor
