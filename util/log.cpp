#include "util/log.h"

#include <cstdio>
#include <cstring>
#include <mutex>
#include <sstream>

namespace cr16 {

namespace detail {
uint32_t g_log_mask = 0;
}

namespace {

struct CategoryName {
  const char* name;
  LogCategory category;
  const char* help;
};

constexpr CategoryName kCategories[] = {
    {"in_asm", LogCategory::kInAsm, "show guest instructions as they are decoded"},
    {"exec", LogCategory::kExec, "show the PC of every executed instruction"},
    {"int", LogCategory::kInt, "show exceptions and interrupts"},
    {"cpu", LogCategory::kCpu, "show CPU registers before each instruction block"},
    {"guest_errors", LogCategory::kGuestErrors, "log invalid guest operations"},
    {"unimp", LogCategory::kUnimp, "log guest use of unmodelled features"},
    {"trace", LogCategory::kTrace, "log device and io events"},
    {"migration", LogCategory::kMigration, "log migration and snapshot progress"},
    {"out_asm", LogCategory::kOutAsm, "show the host code of each JIT translation (-accel jit)"},
};

std::mutex g_log_lock;
FILE* g_log_file = nullptr;  // null means stderr

FILE* log_stream() {
  return g_log_file ? g_log_file : stderr;
}

void write_line(const char* format, va_list args) {
  char stack_buffer[512];
  va_list copy;
  va_copy(copy, args);
  int length = std::vsnprintf(stack_buffer, sizeof stack_buffer, format, copy);
  va_end(copy);
  std::string heap_buffer;
  const char* text = stack_buffer;
  if (length >= static_cast<int>(sizeof stack_buffer)) {
    heap_buffer.resize(static_cast<size_t>(length) + 1);
    std::vsnprintf(heap_buffer.data(), heap_buffer.size(), format, args);
    text = heap_buffer.c_str();
  }
  if (length < 0) return;
  std::lock_guard guard(g_log_lock);
  FILE* out = log_stream();
  std::fputs(text, out);
  if (length == 0 || text[length - 1] != '\n') std::fputc('\n', out);
  std::fflush(out);
}

}  // namespace

Expected<uint32_t> parse_log_categories(const std::string& text) {
  uint32_t mask = 0;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (item.empty()) continue;
    if (item == "help") return Error(log_category_help());
    bool found = false;
    for (const auto& entry : kCategories) {
      if (item == entry.name) {
        mask |= static_cast<uint32_t>(entry.category);
        found = true;
      }
    }
    if (!found) return Error("-d: unknown log item '" + item + "' (try -d help)");
  }
  return mask;
}

std::string log_category_help() {
  std::string text = "Log items (comma separated):\n";
  for (const auto& entry : kCategories) {
    char line[160];
    std::snprintf(line, sizeof line, "%-13s %s\n", entry.name, entry.help);
    text += line;
  }
  return text;
}

void set_log_mask(uint32_t mask) {
  detail::g_log_mask = mask;
}
uint32_t log_mask() {
  return detail::g_log_mask;
}

Error set_log_file(const std::string& path) {
  std::lock_guard guard(g_log_lock);
  if (g_log_file) {
    std::fclose(g_log_file);
    g_log_file = nullptr;
  }
  if (path.empty()) return Error();
  FILE* file = std::fopen(path.c_str(), "w");
  if (!file) return Error::from_errno("-D " + path, errno);
  g_log_file = file;
  return Error();
}

void log_printf(LogCategory category, const char* format, ...) {
  if (!log_enabled(category)) return;
  va_list args;
  va_start(args, format);
  write_line(format, args);
  va_end(args);
}

void log_write(const char* format, ...) {
  va_list args;
  va_start(args, format);
  write_line(format, args);
  va_end(args);
}

}  // namespace cr16
