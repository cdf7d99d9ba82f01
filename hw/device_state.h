// Device state. Every device keeps its migratable state in a plain struct
// without padding and describes it with a util/state.h table (version,
// fields with masks, a post_load that validates a candidate copy); the
// device itself is a Stateful whose state_loaded() rebuilds what derives
// from that state (interrupt lines, armed deadlines, backend flow control).
// The engine that saves and loads descriptions lives in migration/.
//
// Times in device state are int64 nanoseconds of the machine's virtual
// clock. A loaded time is accepted only in [0, kMaxStateTimeNs), so that no
// later arithmetic on it (adding periods of up to 2^32 ticks, subtracting
// it from "now") can overflow.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "util/error.h"
#include "util/state.h"

namespace cr16 {

/// Devices were described by their own interface before util/state.h; the
/// name stays for code that still says it.
using StatefulDevice = Stateful;

/// Loaded virtual times must be below this (2^62 ns, about 146 years).
inline constexpr int64_t kMaxStateTimeNs = int64_t{1} << 62;

/// An error naming `field` unless 0 <= value < kMaxStateTimeNs (the engine
/// adds the section's name).
inline Error check_state_time(const char* field, int64_t value) {
  if (value >= 0 && value < kMaxStateTimeNs) return Error();
  return Error(std::string(field) + ": virtual time " + std::to_string(value) +
               " ns outside [0, 2^62)");
}

/// The state description of every device kind (icu, sysctl, uart, timer,
/// rtc, watchdog, flash, display, keyboard, spi-nor, spi-nor-contents): for
/// coverage tests and tools.
std::span<const StateDescription* const> hw_state_descriptions();

}  // namespace cr16
