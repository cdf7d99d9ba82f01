// libFuzzer target for the command-line parser: the input is split at NUL
// bytes into arguments; parsing must give options or a one-line error,
// never crash, and parsed options keep their invariants (-drive, -serial
// tcp hosts, -semihosting-config).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "hw/board.h"
#include "system/options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> storage;
  size_t start = 0;
  while (start <= text.size() && storage.size() < 64) {
    size_t end = text.find('\0', start);
    if (end == std::string::npos) end = text.size();
    storage.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  std::vector<std::string_view> args(storage.begin(), storage.end());
  cr16::Expected<cr16::system::Options> options =
      cr16::system::parse_options(std::span<const std::string_view>(args));
  if (!options) {
    const std::string& message = options.error().message();
    if (message.empty()) std::abort();
    return 0;
  }
  if (options->action != cr16::system::Action::kRun) return 0;
  const cr16::BoardType* board = cr16::find_board_type(options->machine);
  if (board == nullptr) std::abort();
  if (!cr16::check_ram_size(*board, options->ram_bytes).ok()) std::abort();
  if (options->serial.size() > board->limits.serial_ports) std::abort();
  // -drive/-pflash: create=on only together with a file; a file name never empty.
  if (options->pflash_create && options->pflash_path.empty()) std::abort();
  // tcp hosts come out without brackets (an IPv6 literal is unwrapped once).
  for (const auto& spec : options->serial) {
    if (spec.host.find_first_of("[]") != std::string::npos) std::abort();
  }
  // -semihosting-config: a root is only ever set with its option, which enables.
  if (!options->semihosting_root.empty() &&
      options->semihosting == cr16::system::SemihostingMode::kAuto) {
    std::abort();
  }
  return 0;
}
