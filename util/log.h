// Logging and tracing by category, in the style of QEMU's -d/-D options.
// Guest misbehaviour is logged (guest_errors, unimp), never fatal.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <string>

#include "util/error.h"

namespace cr16 {

/// Log categories, selectable with -d (a comma-separated list of names).
enum class LogCategory : uint32_t {
  kInAsm = 1u << 0,        // "in_asm": guest instructions as they are decoded
  kExec = 1u << 1,         // "exec": every executed instruction's PC
  kInt = 1u << 2,          // "int": exceptions and interrupts taken
  kCpu = 1u << 3,          // "cpu": register state before each block
  kGuestErrors = 1u << 4,  // "guest_errors": the guest did something invalid
  kUnimp = 1u << 5,        // "unimp": the guest used something we do not model
  kTrace = 1u << 6,        // "trace": device and io events
  kMigration = 1u << 7,    // "migration": migration and snapshot progress
  kOutAsm = 1u << 8,       // "out_asm": host code of each JIT translation
};

/// Parses "-d" text like "in_asm,int". Returns the category mask, or an
/// Error naming the unknown item. "help" lists the names through the error.
Expected<uint32_t> parse_log_categories(const std::string& text);

/// Names of all categories with one-line descriptions, for "-d help".
std::string log_category_help();

/// Enables the given mask of categories (main thread, before running).
void set_log_mask(uint32_t mask);
uint32_t log_mask();

/// Sends log output to FILE (-D); empty path means stderr.
Error set_log_file(const std::string& path);

/// True when the category is enabled: test this before formatting costly text.
inline bool log_enabled(LogCategory category);

/// Writes one formatted line (a newline is added if missing) when the
/// category is enabled. Thread-safe.
void log_printf(LogCategory category, const char* format, ...)
    __attribute__((format(printf, 2, 3)));

/// Same as log_printf but always written (used for -d help and notices).
void log_write(const char* format, ...) __attribute__((format(printf, 1, 2)));

namespace detail {
extern uint32_t g_log_mask;
}

inline bool log_enabled(LogCategory category) {
  return (detail::g_log_mask & static_cast<uint32_t>(category)) != 0;
}

}  // namespace cr16
