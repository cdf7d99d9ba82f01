// Command-line options of cr16-system, parsed QEMU-style into a plain struct.
// Parsing is pure (no I/O, no globals): errors come back as values naming the
// option, so main() prints one line and exits 1.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cpu/cpu.h"
#include "cpu/engines.h"
#include "io/loop.h"
#include "util/error.h"

namespace cr16::system {

/// One character-device backend specification (-serial, -monitor, -qmp,
/// -chardev).
struct SerialSpec {
  /// kChardev: "chardev:ID", the -chardev named ID.
  enum class Kind : uint8_t { kNone, kNull, kStdio, kFile, kPty, kTcp, kUnix, kChardev };
  Kind kind = Kind::kNull;
  std::string path;   // file:PATH and unix:PATH
  std::string host;   // tcp:HOST:PORT (empty host means all addresses for a server)
  uint16_t port = 0;  // tcp
  bool server = false;
  bool wait = true;  // server only: wait for a client before the guest starts
  /// "mon:SPEC": the backend is shared by the serial port and the human
  /// monitor through a multiplexer (Ctrl-A c switches).
  bool mux_monitor = false;
  std::string chardev;  // kChardev: the -chardev id
  std::string text;     // the spec as written, for messages
};

/// -chardev BACKEND,id=ID[,...]: a character device with a name, used by
/// -mon chardev=ID, -serial chardev:ID, -monitor chardev:ID and -qmp
/// chardev:ID (-qmp SPEC makes one named compat_monitorN).
struct ChardevSpec {
  std::string id;
  SerialSpec backend;  // kNull, kStdio, kFile, kPty, kTcp or kUnix
  /// mux=on: several frontends share it (Ctrl-A c switches the input).
  bool mux = false;
  std::string text;  // the option as written, for messages
};

/// -mon [chardev=]ID[,mode=readline|control][,pretty=on|off]: a monitor on
/// a -chardev. -qmp SPEC is a -chardev plus a control -mon on it.
struct MonitorSpec {
  std::string chardev;
  bool control = false;  // QMP; false: the human monitor (readline)
  bool pretty = false;   // QMP only: indented JSON
};

/// Semihosting: kOn with -semihosting or -semihosting-config enable=on
/// (console and host files), kOff with enable=off (the SVC trap goes to the
/// guest), kAuto otherwise: console I/O, time and exit only, and only for a
/// -kernel ELF linked with the cr16-elf-gcc simulator BSP.
enum class SemihostingMode : uint8_t { kAuto, kOn, kOff };

/// -object tls-creds-x509,id=ID,dir=DIR,endpoint=server|client,verify-peer=on|off:
/// x509 credentials (QEMU's file names in DIR) that migration's tls-creds
/// parameter names.
struct TlsCredsSpec {
  std::string id;
  std::string dir;
  bool server = false;      // endpoint=server (default client, as QEMU)
  bool verify_peer = true;  // verify-peer (default on, as QEMU)
};

/// -display: which window front end shows the guest screen.
enum class DisplayKind : uint8_t { kNone, kSdl };

/// What the program should do once the options are parsed.
enum class Action : uint8_t {
  kRun,
  kHelp,
  kVersion,
  kMachineHelp,          // -M help
  kMachinePropertyHelp,  // -M NAME,help
  kCpuHelp,
  kLogHelp,
  kAccelHelp,  // -accel help
};

/// Every option of the program, with its default.
struct Options {
  Action action = Action::kRun;
  /// -M NAME: a board type of the registry (hw/board.h); the default board
  /// when not given.
  std::string machine;
  /// -M NAME,prop=value,...: checked against the board type.
  std::map<std::string, std::string> machine_properties;
  /// -m; the board's default when not given (resolved by parse_options).
  uint32_t ram_bytes = 0;
  /// -cpu; the board's default CPU when not given (resolved by parse_options).
  CpuModel cpu = CpuModel::kCr16cPlus;
  std::string bios_path;
  std::string kernel_path;
  std::string pflash_path;
  bool pflash_create = false;  // -drive ...,create=on: make a missing image (erased, flash-sized)
  /// -drive if=mtd,file=PATH: the SPI NOR flash image (boards with one).
  std::string mtd_path;
  /// In serial-port order; empty means the default (see plan_consoles()).
  std::vector<SerialSpec> serial;
  /// -monitor SPEC; nullopt: the default (muxed on stdio with the serial
  /// console); kind kNone: no monitor.
  std::optional<SerialSpec> monitor;
  bool start_paused = false;  // -S: stay in prelaunch until `cont`
  bool nographic = false;
  /// -display sdl|none: where the guest screen shows (default none: no
  /// window unless asked; -nographic is none too).
  DisplayKind display = DisplayKind::kNone;
  /// -vnc VALUE as written (":N", "HOST:N", "unix:PATH", with ",websocket=PORT",
  /// ",tls-creds=ID"...); ui::parse_vnc_options() checks it. Empty: no VNC.
  std::string vnc;
  bool no_reboot = false;
  bool no_shutdown = false;
  SemihostingMode semihosting = SemihostingMode::kAuto;
  std::string semihosting_root;  // -semihosting-config root=DIR: paths confined to DIR
  uint32_t log_mask = 0;
  std::string log_file;
  std::vector<std::string> data_dirs;  // -L, searched in order before the built-in places
  io::LoopBackend loop = io::LoopBackend::kIoUring;  // falls back to epoll if refused
  std::optional<unsigned> icount_shift;              // -icount N: virtual ns = instructions << N
  /// -icount ...,align=on|off: pace the CPU to the host clock; nullopt:
  /// the board's default (on for a board with a default paced clock).
  std::optional<bool> icount_align;
  /// -accel interp|jit: the CPU's execution engine (cpu/engines.h).
  EngineKind accel = default_engine_kind();
  /// -chardev, in order; -qmp SPEC adds one too.
  std::vector<ChardevSpec> chardevs;
  /// -mon and -qmp, in order.
  std::vector<MonitorSpec> monitors;
  /// -name [guest=]NAME[,process=PNAME][,debug-threads=on|off]: query-name's
  /// answer, and the process name (prctl) when process= is given.
  std::string name;
  std::string process_name;
  /// -gdb DEV / -s: where the gdbstub listens (a tcp or unix server that
  /// never holds the start; -S does that); nullopt: no gdbstub at start.
  std::optional<SerialSpec> gdb;
  /// -incoming URI (tcp:, unix:, exec:, file:, fd:) or "defer"; empty: none.
  std::string incoming;
  /// -object tls-creds-x509,... in the order given (ids unique).
  std::vector<TlsCredsSpec> tls_creds;
  /// -loadvm NAME: restore that snapshot before the machine starts.
  std::string loadvm;
  /// -snapshot: the pflash image is only read; flash writes go to a
  /// throw-away overlay in memory.
  bool snapshot = false;
  /// -snapshot-dir DIR: where snapshots live (wins over IMAGE.snapshots
  /// beside the pflash image).
  std::string snapshot_dir;
};

/// Parses the arguments after the program name. Returns the options, or an
/// Error whose message is one line naming the offending option or value.
Expected<Options> parse_options(std::span<const std::string_view> args);

/// Convenience overload for main(): argv[1..argc).
Expected<Options> parse_options(int argc, const char* const* argv);

/// Parses a -serial specification such as "tcp:localhost:4444,server=on,wait=off".
Expected<SerialSpec> parse_serial_spec(std::string_view text);

/// Parses a -gdb device (also what HMP `gdbserver` takes): `tcp::PORT`
/// (all addresses), `tcp:HOST:PORT`, `unix:PATH[,server=on]`, a bare PORT
/// (= tcp::PORT), or `none` (nullopt). The result is a listening server
/// that does not wait for its client. Errors name the device.
Expected<std::optional<SerialSpec>> parse_gdb_device(std::string_view text);

/// Parses a -m size: a number with an optional K/M/G/B suffix (no suffix:
/// MiB), also accepted as "size=N". The board's limits are checked by
/// parse_options() once the board is known.
Expected<uint64_t> parse_ram_size(std::string_view text);

/// Which backend serves each serial port and the monitor, once the defaults
/// are applied.
struct ConsolePlan {
  /// One entry per serial port. An entry with mux_monitor set carries the
  /// human monitor too (at most one does).
  std::vector<SerialSpec> serial;
  /// A separate monitor backend (-monitor SPEC), if any.
  std::optional<SerialSpec> monitor;
};

/// Applies the console defaults: without -serial, port 0 is "mon:stdio"
/// (the serial console and the monitor share the terminal, Ctrl-A c
/// switches), or plain "stdio" with -monitor none, or "null" when -monitor
/// uses stdio; other ports are "null". With -serial but without -monitor,
/// -nographic puts the monitor on stdio when no serial port uses it. When
/// `program_owns_stdio` (a semihosting program reads and writes the
/// process's stdio), the defaults leave stdio alone: port 0 is "null" and
/// there is no default monitor.
ConsolePlan plan_consoles(const Options& options, unsigned serial_ports, bool program_owns_stdio);

/// Parses a -drive value ("if=pflash,file=F[,format=raw][,create=on]" or
/// "if=mtd,file=F[,format=raw]") into `options` (pflash_path,
/// pflash_create; mtd_path). Keys may appear once; ",," in a
/// value is a literal comma, as in QEMU.
Error parse_drive(std::string_view text, Options* options);
/// Parses an -icount value ("N" or "shift=N[,align=on|off][,sleep=on]")
/// into `options` (icount_shift, icount_align).
Error parse_icount(std::string_view text, Options* options);

/// Parses a -chardev value ("socket,id=ID,path=P,server=on,wait=off",
/// "socket,id=ID,host=H,port=N,...", "stdio,id=ID[,mux=on]", "pty,id=ID",
/// "file,id=ID,path=P", "null,id=ID") into options->chardevs.
Error parse_chardev(std::string_view text, Options* options);
/// Parses a -mon value into options->monitors.
Error parse_mon(std::string_view text, Options* options);
/// -qmp SPEC / -qmp-pretty SPEC: SPEC as for -serial (unix:, tcp:, stdio,
/// pty, ...) or chardev:ID; adds the chardev compat_monitorN and the
/// control monitor on it.
Error add_qmp(std::string_view spec, bool pretty, Options* options);
/// Parses a -name value into options->name and options->process_name.
Error parse_name(std::string_view text, Options* options);
/// Checks what -chardev, -mon, -qmp, -serial chardev:ID and -monitor
/// chardev:ID refer to, once every option was seen: every id exists, a
/// chardev without mux=on has one user at most, stdio is used once.
Error check_chardev_references(const Options& options);
/// The users of chardev `id` in `options` (serial ports, -monitor, -mon).
unsigned chardev_user_count(const Options& options, std::string_view id);
/// Parses a -object value. Only tls-creds-x509 is known
/// ("tls-creds-x509,id=tls0,dir=DIR,endpoint=server,verify-peer=on");
/// errors name the key or the type.
Error parse_object(std::string_view text, Options* options);

/// Parses a -semihosting-config value ("enable=on|off[,root=DIR]") into
/// `options`. Given without enable=, it enables semihosting (as in QEMU).
Error parse_semihosting_config(std::string_view text, Options* options);

/// The text printed by -h.
std::string usage_text();
/// The text printed by -version.
std::string version_text();
/// The text printed by -M help (every board of the registry), or by
/// -M NAME,help (that board's properties) when options.machine is set.
std::string machine_help_text(const Options& options = {});
/// The text printed by -cpu help.
std::string cpu_help_text();

}  // namespace cr16::system
