#include "system/monitor/hmp.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <vector>

namespace cr16::system::monitor {

namespace {

std::vector<std::string> split_words(std::string_view line) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) words.emplace_back(line.substr(start, i - start));
  }
  return words;
}

// A number as C writes it (0x hex, 0 octal, decimal).
Expected<int64_t> parse_number(std::string_view text) {
  std::string copy(text);
  char* end = nullptr;
  errno = 0;
  unsigned long long value = std::strtoull(copy.c_str(), &end, 0);
  if (copy.empty() || copy[0] == '-' || copy[0] == '+' || end != copy.c_str() + copy.size() ||
      errno == ERANGE || value > static_cast<unsigned long long>(INT64_MAX)) {
    return Error("bad number '" + copy + "'");
  }
  return static_cast<int64_t>(value);
}

// An integer argument: terms (numbers or $register) joined by + and -.
Expected<int64_t> parse_integer(std::string_view text, MachineControl& control) {
  int64_t total = 0;
  int sign = 1;
  size_t start = 0;
  while (true) {
    const size_t end = text.find_first_of("+-", start);
    const std::string_view term =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    int64_t value = 0;
    if (term.starts_with("$")) {
      Expected<uint64_t> reg = control.read_register(term.substr(1));
      if (!reg) return reg.error();
      value = static_cast<int64_t>(*reg);
    } else {
      Expected<int64_t> number = parse_number(term);
      if (!number) return number.error();
      value = *number;
    }
    if (__builtin_add_overflow(total, sign * value, &total)) {
      return Error("number too large: '" + std::string(text) + "'");
    }
    if (end == std::string_view::npos) return total;
    sign = text[end] == '-' ? -1 : 1;
    start = end + 1;
  }
}

// "/NFU": count, then format and unit letters in any order.
Error parse_format(std::string_view text, Value* arguments) {
  size_t i = 1;  // after the '/'
  size_t digits_end = i;
  while (digits_end < text.size() && std::isdigit(static_cast<unsigned char>(text[digits_end]))) {
    ++digits_end;
  }
  if (digits_end > i) {
    Expected<int64_t> count = parse_number(text.substr(i, digits_end - i));
    if (!count) return Error("bad count in '" + std::string(text) + "'");
    arguments->set("count", Value::integer(*count));
  }
  for (i = digits_end; i < text.size(); ++i) {
    char letter = text[i];
    switch (letter) {
      case 'x':
      case 'd':
      case 'u':
      case 'o':
      case 'c':
      case 'i':
        arguments->set("format", Value::string(std::string(1, letter)));
        break;
      case 'b':
        arguments->set("size", Value::integer(1));
        break;
      case 'h':
        arguments->set("size", Value::integer(2));
        break;
      case 'w':
        arguments->set("size", Value::integer(4));
        break;
      case 'g':
        arguments->set("size", Value::integer(8));
        break;
      default:
        return Error("invalid format letter '" + std::string(1, letter) + "' in '" +
                     std::string(text) + "'");
    }
  }
  return Error();
}

const Command* find_hmp_command(std::string_view name) {
  for (const Command& command : commands()) {
    if (command.hmp_name != nullptr && name == command.hmp_name) return &command;
  }
  return nullptr;
}

}  // namespace

Expected<ParsedLine> parse_hmp_line(std::string_view line, MachineControl& control) {
  ParsedLine parsed;
  std::vector<std::string> words = split_words(line);
  if (words.empty()) return parsed;
  // "x/4i" carries its format glued to the name.
  if (size_t slash = words[0].find('/'); slash != std::string::npos && slash > 0) {
    words.insert(words.begin() + 1, words[0].substr(slash));
    words[0].resize(slash);
  }
  size_t next = 1;
  if (words.size() >= 2) parsed.command = find_hmp_command(words[0] + " " + words[1]);
  if (parsed.command != nullptr) {
    next = 2;
  } else {
    parsed.command = find_hmp_command(words[0]);
  }
  if (parsed.command == nullptr) {
    if (words[0] == "info") {  // "info" alone or with an unknown topic: list the info commands
      parsed.command = find_command("help");
      parsed.arguments.set("command", Value::string("info"));
      if (words.size() == 1) return parsed;
      return Error("unknown info command: '" + words[1] + "' (try 'info')");
    }
    return Error("unknown command: '" + words[0] + "' (try 'help')");
  }
  const std::string name = parsed.command->hmp_name;
  const std::span<const Parameter> parameters = parsed.command->parameters;
  for (size_t p = 0; p < parameters.size(); ++p) {
    const Parameter& parameter = parameters[p];
    const bool last = p + 1 == parameters.size();
    if (next >= words.size()) {
      if (parameter.optional) continue;
      return Error(name + ": missing argument '" + parameter.name + "'");
    }
    const std::string& word = words[next];
    switch (parameter.type) {
      case ParameterType::kFormat:
        if (!word.starts_with("/"))
          continue;  // optional, absent: the next word is the next argument
        if (Error error = parse_format(word, &parsed.arguments); !error.ok()) {
          return error.with_context(name);
        }
        ++next;
        break;
      case ParameterType::kString: {
        std::string text = word;
        ++next;
        while (last && next < words.size()) text += " " + words[next++];
        parsed.arguments.set(parameter.name, Value::string(text));
        break;
      }
      case ParameterType::kInt: {
        Expected<int64_t> value = parse_integer(word, control);
        if (!value) return value.error().with_context(name + ": " + parameter.name);
        parsed.arguments.set(parameter.name, Value::integer(*value));
        ++next;
        break;
      }
      case ParameterType::kList:
        return Error(name + ": " + parameter.name + " cannot be given in the human monitor");
      case ParameterType::kBool: {
        bool value;
        if (word == "on" || word == "true" || word == "yes") {
          value = true;
        } else if (word == "off" || word == "false" || word == "no") {
          value = false;
        } else {
          return Error(name + ": " + parameter.name + ": expected on or off, got '" + word + "'");
        }
        parsed.arguments.set(parameter.name, Value::boolean(value));
        ++next;
        break;
      }
    }
  }
  if (next < words.size()) {
    return Error(name + ": too many arguments ('" + words[next] + "' and after)");
  }
  return parsed;
}

std::string execute_hmp_line(std::string_view line, MachineControl& control) {
  Expected<ParsedLine> parsed = parse_hmp_line(line, control);
  if (!parsed) return parsed.error().message() + "\n";
  if (parsed->command == nullptr) return "";
  if (Error error = validate_arguments(*parsed->command, parsed->arguments); !error.ok()) {
    return error.message() + "\n";
  }
  CommandContext context{control};
  Expected<Value> result = parsed->command->handler(context, parsed->arguments);
  if (!result) return "Error: " + result.error().message() + "\n";
  if (parsed->command->format == nullptr) return "";
  return parsed->command->format(*result, parsed->arguments);
}

// ---------------------------------------------------------------------------

HmpSession::HmpSession(MachineControl& control, CharBackend& backend)
    : control_(control), backend_(backend) {
  backend_.attach(this);
}

HmpSession::~HmpSession() {
  backend_.attach(nullptr);
}

size_t HmpSession::can_receive() {
  return kMaxLine;
}

void HmpSession::receive(std::span<const uint8_t> bytes) {
  for (uint8_t byte : bytes) {
    const bool was_cr = last_was_cr_;
    last_was_cr_ = false;
    if (escape_ == 1) {
      escape_ = byte == '[' ? 2 : 0;
      continue;
    }
    if (escape_ == 2) {
      if (byte >= 0x40 && byte <= 0x7e) escape_ = 0;
      continue;
    }
    switch (byte) {
      case 0x1b:
        escape_ = 1;
        break;
      case '\r':
        last_was_cr_ = true;
        run_line();
        break;
      case '\n':
        if (!was_cr) run_line();
        break;
      case 0x7f:
      case 0x08:
        if (!line_.empty()) {
          line_.pop_back();
          print("\b \b");
        }
        break;
      case 0x15:  // Ctrl-U: forget the line
        line_.clear();
        print("\n");
        print(kHmpPrompt);
        break;
      default:
        if (byte < 0x20) break;  // other control characters are ignored
        if (line_.size() >= kMaxLine) {
          overflow_ = true;
          break;
        }
        line_.push_back(static_cast<char>(byte));
        print(std::string_view(reinterpret_cast<const char*>(&byte), 1));
        break;
    }
  }
}

void HmpSession::char_event(CharEvent event) {
  switch (event) {
    case CharEvent::kOpened:
      open_ = true;
      banner_shown_ = false;
      if (focused_) {
        show_banner();
        print(kHmpPrompt);
      }
      break;
    case CharEvent::kClosed:
      open_ = false;
      line_.clear();
      break;
    case CharEvent::kFocusIn:
      focused_ = true;
      if (open_) {
        print("\n");
        if (!banner_shown_) show_banner();
        print(kHmpPrompt);
        print(line_);
      }
      break;
    case CharEvent::kFocusOut:
      focused_ = false;
      break;
  }
}

void HmpSession::show_banner() {
  VersionNumbers version = emulator_version();
  print("cr16-system " + std::to_string(version.major) + "." + std::to_string(version.minor) + "." +
        std::to_string(version.micro) + " monitor - type 'help' for more information\n");
  banner_shown_ = true;
}

void HmpSession::run_line() {
  print("\n");
  std::string line = std::move(line_);
  line_.clear();
  if (overflow_) {
    overflow_ = false;
    print("line too long (at most " + std::to_string(kMaxLine) + " characters)\n");
  } else {
    print(execute_hmp_line(line, control_));
  }
  print(kHmpPrompt);
}

void HmpSession::print(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  backend_.write(std::span(reinterpret_cast<const uint8_t*>(out.data()), out.size()));
}

}  // namespace cr16::system::monitor
