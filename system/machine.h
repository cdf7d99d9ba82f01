// The machine lifecycle of cr16-system: builds the loop, the character
// devices and the virt board from the options, loads the images, and runs
// the one main loop (CPU slices between loop iterations) until the guest
// powers off, the user quits (Ctrl-A x, SIGINT, SIGTERM) or semihosting exits.
#pragma once

#include <cstdint>
#include <memory>

#include "system/options.h"
#include "util/error.h"

namespace cr16::system {

class Machine {
 public:
  /// Builds everything `options` describes. Errors (a missing or bad image,
  /// a -serial that cannot be opened...) are one line naming the culprit.
  static Expected<std::unique_ptr<Machine>> create(const Options& options);
  ~Machine();

  /// Runs until the end; returns the process exit status (the guest's
  /// power-off or semihosting exit code, 0 after a user quit).
  int run();

  /// Guest instructions executed so far (all resets included).
  uint64_t instruction_count() const;

 private:
  struct Impl;
  explicit Machine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cr16::system
