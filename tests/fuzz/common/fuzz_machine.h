// A machine for fuzzers that drive a front end (QMP, HMP, the gdbstub): a
// raw program loaded with -kernel, no serial port, no monitor, the epoll
// loop, plus `extra` arguments. Created once per process; any failure
// aborts (a fuzzer cannot go on without it).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "system/machine.h"
#include "system/options.h"

namespace cr16::fuzz {

inline std::unique_ptr<system::Machine> make_fuzz_machine(
    std::span<const uint8_t> program, std::initializer_list<std::string_view> extra = {}) {
  char path[] = "/tmp/cr16-fuzz-machine-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) std::abort();
  if (write(fd, program.data(), program.size()) != static_cast<ssize_t>(program.size())) {
    std::abort();
  }
  close(fd);
  std::vector<std::string_view> args = {"-kernel",  path,   "-serial", "none",
                                        "-monitor", "none", "-loop",   "epoll"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto options = system::parse_options(args);
  if (!options.ok()) std::abort();
  auto created = system::Machine::create(*options);
  unlink(path);
  if (!created.ok()) std::abort();
  return std::move(*created);
}

}  // namespace cr16::fuzz
