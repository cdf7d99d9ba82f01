// Command-line options of cr16-system, parsed QEMU-style into a plain struct.
// Parsing is pure (no I/O, no globals): errors come back as values naming the
// option, so main() prints one line and exits 1.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/loop.h"
#include "util/error.h"

namespace cr16::system {

/// The largest RAM the virt board maps (14 MiB below the flash at 0xE00000).
inline constexpr uint32_t kMaxRamBytes = 14u << 20;
/// Default RAM size (-m): 2 MiB.
inline constexpr uint32_t kDefaultRamBytes = 2u << 20;
/// Number of UARTs on the virt board (one -serial each, in order).
inline constexpr unsigned kSerialPortCount = 2;

/// One -serial backend specification.
struct SerialSpec {
  enum class Kind : uint8_t { kNone, kNull, kStdio, kFile, kPty, kTcp, kUnix };
  Kind kind = Kind::kNull;
  std::string path;   // file:PATH and unix:PATH
  std::string host;   // tcp:HOST:PORT (empty host means all addresses for a server)
  uint16_t port = 0;  // tcp
  bool server = false;
  bool wait = true;  // server only: wait for a client before the guest starts
  std::string text;  // the spec as written, for messages
};

/// Which CPU model -cpu selected.
enum class CpuChoice : uint8_t { kCr16c, kCr16cPlus };

/// Semihosting: kOn with -semihosting or -semihosting-config enable=on
/// (console and host files), kOff with enable=off (the SVC trap goes to the
/// guest), kAuto otherwise: console I/O, time and exit only, and only for a
/// -kernel ELF linked with the cr16-elf-gcc simulator BSP.
enum class SemihostingMode : uint8_t { kAuto, kOn, kOff };

/// What the program should do once the options are parsed.
enum class Action : uint8_t { kRun, kHelp, kVersion, kMachineHelp, kCpuHelp, kLogHelp };

/// Every option of the program, with its default.
struct Options {
  Action action = Action::kRun;
  std::string machine = "virt";
  uint32_t ram_bytes = kDefaultRamBytes;
  CpuChoice cpu = CpuChoice::kCr16cPlus;
  std::string bios_path;
  std::string kernel_path;
  std::string pflash_path;
  bool pflash_create = false;  // -drive ...,create=on: make a missing image (erased, flash-sized)
  std::vector<SerialSpec> serial;  // in UART order; empty means the default (UART0 on stdio)
  bool nographic = false;
  bool no_reboot = false;
  bool no_shutdown = false;
  SemihostingMode semihosting = SemihostingMode::kAuto;
  std::string semihosting_root;  // -semihosting-config root=DIR: paths confined to DIR
  uint32_t log_mask = 0;
  std::string log_file;
  std::vector<std::string> data_dirs;  // -L, searched in order before the built-in places
  io::LoopBackend loop = io::LoopBackend::kIoUring;  // falls back to epoll if refused
  std::optional<unsigned> icount_shift;              // -icount N: virtual ns = instructions << N
};

/// Parses the arguments after the program name. Returns the options, or an
/// Error whose message is one line naming the offending option or value.
Expected<Options> parse_options(std::span<const std::string_view> args);

/// Convenience overload for main(): argv[1..argc).
Expected<Options> parse_options(int argc, const char* const* argv);

/// Parses a -serial specification such as "tcp:localhost:4444,server=on,wait=off".
Expected<SerialSpec> parse_serial_spec(std::string_view text);

/// Parses a -drive value ("if=pflash,file=F[,format=raw][,create=on]") into
/// `options` (pflash_path, pflash_create). Keys may appear once; ",," in a
/// value is a literal comma, as in QEMU.
Error parse_drive(std::string_view text, Options* options);

/// Parses a -semihosting-config value ("enable=on|off[,root=DIR]") into
/// `options`. Given without enable=, it enables semihosting (as in QEMU).
Error parse_semihosting_config(std::string_view text, Options* options);

/// Parses a -m size: a number with an optional K/M/G suffix (no suffix: MiB),
/// also accepted as "size=N". Checks the board's limits.
Expected<uint32_t> parse_ram_size(std::string_view text);

/// The text printed by -h.
std::string usage_text();
/// The text printed by -version.
std::string version_text();
/// The text printed by -M help.
std::string machine_help_text();
/// The text printed by -cpu help.
std::string cpu_help_text();

/// The name of a CPU choice as written on the command line ("cr16c", "cr16cplus").
const char* cpu_choice_name(CpuChoice cpu);

}  // namespace cr16::system
