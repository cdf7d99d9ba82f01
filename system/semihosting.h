// Semihosting: host I/O for guest programs built with newlib's libgloss/cr16
// (the cr16-elf-gcc simulator BSP), served the way the GNU simulator serves
// them. The guest loads a call code into (r1,r0) and executes `excp svc`;
// arguments are in r2..r5 (32-bit pointers as register pairs, low half in
// the lower register), the result comes back in r0 (or (r1,r0) for 32-bit
// results) and the host errno (newlib numbering) in r4.
//
// Calls (code: arguments -> result):
//   0x300 time:    -> (r1,r0) seconds since the epoch
//   0x401 open:    path (r3,r2), flags r4 (newlib O_*), mode r5 -> (r1,r0) fd
//   0x402 close:   fd r2 -> r0
//   0x403 read:    fd r2, buffer (r4,r3), count r5 -> r0 bytes read
//   0x404 write:   fd r2, buffer (r4,r3), count r5 -> r0 bytes written
//   0x405 lseek:   fd r2, offset (r4,r3), whence r5 -> (r1,r0) new offset
//   0x406 rename:  old path (r3,r2), new path (r5,r4) -> r0
//   0x407 unlink:  path (r3,r2) -> r0
//   0x408 getenv:  -> (r1,r0) = 0 (no environment, as in the GNU simulator)
//   0x410 exit:    status r2 -> the program ends with status r2 & 0xff
//   0x505..0x50c:  libgloss trap handlers reporting a fatal guest trap
//                  (svc, divide by zero, flag, undefined instruction, address);
//                  the program ends with status 1 and a message on stderr.
// Anything else returns -1 with ENOSYS. Guest fds 0/1/2 are the host's
// stdin/stdout/stderr; others are files opened through this interface.
// Bad guest pointers give -1/EFAULT, never a host crash.
//
// Access levels (SemihostingConfig): kConsole serves fds 0/1/2, time,
// getenv, exit and the trap reports only; open, lseek, rename and unlink
// need kFull and otherwise fail with EACCES (with one notice on stderr).
// A configured root directory confines every path to it: paths are
// relative to it; absolute paths, ".." that leaves it and symlinks that
// point out of it are refused (EACCES).
//
// Nothing here blocks: host fds that are not regular files are used
// through private non-blocking descriptions. A call that would wait for a
// pipe, terminal or socket leaves the guest's registers untouched and
// returns an outcome naming the fd and the poll(2) events to wait for; the
// caller runs the same call again once the fd is ready.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "util/error.h"

namespace cr16::system {

/// Call codes of the libgloss/cr16 ABI.
enum class SemihostCall : uint32_t {
  kTime = 0x300,
  kOpen = 0x401,
  kClose = 0x402,
  kRead = 0x403,
  kWrite = 0x404,
  kLseek = 0x405,
  kRename = 0x406,
  kUnlink = 0x407,
  kGetenv = 0x408,
  kExit = 0x410,
};

/// The guest's general registers as semihosting sees them (r0..r15, 16 bits).
class SemihostRegisters {
 public:
  virtual ~SemihostRegisters() = default;
  virtual uint16_t reg(unsigned index) const = 0;
  virtual void set_reg(unsigned index, uint16_t value) = 0;
  /// The PC of the excp instruction, for messages.
  virtual uint32_t pc() const = 0;
};

/// Bounds-checked guest memory access. read/write return false (and
/// transfer nothing) when any byte of the range is not plain memory.
class SemihostMemory {
 public:
  virtual ~SemihostMemory() = default;
  virtual bool read(uint32_t address, std::span<uint8_t> out) = 0;
  virtual bool write(uint32_t address, std::span<const uint8_t> in) = 0;
  /// True when write() of `length` bytes at `address` would succeed (RAM,
  /// not ROM or flash). No side effects: checked before host input is consumed.
  virtual bool writable(uint32_t address, uint32_t length) = 0;
};

/// How much of the host a guest may reach.
enum class SemihostingAccess : uint8_t {
  kConsole,  // fds 0/1/2, time, getenv, exit, trap reports (auto-detected programs)
  kFull,     // also host files: open, close, lseek, rename, unlink (-semihosting)
};

/// What the user allowed (-semihosting, -semihosting-config).
struct SemihostingConfig {
  SemihostingAccess access = SemihostingAccess::kFull;
  /// Non-empty: file paths resolve beneath this directory only (root=DIR).
  std::string root;
};

/// A call that could not complete without blocking: wait until `fd` is
/// ready for `events` (POLLIN or POLLOUT; POLLERR/POLLHUP count as ready),
/// then run the same `excp svc` again.
struct SemihostWait {
  int fd = -1;
  short events = 0;
};

/// What the CPU should do after a call.
struct SemihostOutcome {
  bool handled = true;             // false: not a semihosting call, deliver the exception
  std::optional<int> exit_status;  // set when the guest asked to end the program
  /// Set when the call must be retried: the guest's registers were not
  /// changed and no guest-visible effect happened beyond bytes already
  /// transferred, which the retry does not repeat.
  std::optional<SemihostWait> wait;
};

/// Serves semihosting calls. Owns the host files the guest opened and its
/// private descriptions of the host's stdin/stdout/stderr.
/// Machine thread only. Never blocks on a pipe, terminal or socket.
class Semihosting {
 public:
  /// `host_stdin/out/err` are the host fds behind guest fds 0, 1 and 2
  /// (not owned; tests pass pipes). Fails only when `config.root` cannot be
  /// opened as a directory.
  static Expected<std::unique_ptr<Semihosting>> create(const SemihostingConfig& config,
                                                       int host_stdin = 0, int host_stdout = 1,
                                                       int host_stderr = 2);
  ~Semihosting();
  Semihosting(const Semihosting&) = delete;
  Semihosting& operator=(const Semihosting&) = delete;

  /// Replaces the clock used by `time` (tests, -icount). Returns seconds.
  void set_time_source(std::function<int64_t()> source) { time_source_ = std::move(source); }

  /// Performs the call whose code is in (r1,r0). Never blocks: see SemihostOutcome::wait.
  SemihostOutcome handle(SemihostRegisters& regs, SemihostMemory& memory);

  /// Number of guest-opened files still open (tests).
  size_t open_file_count() const;

 private:
  static constexpr size_t kMaxFiles = 32;
  /// How a host fd is used without blocking.
  enum class IoMode : uint8_t {
    kDirect,       // a regular file: plain read/write
    kNonBlocking,  // our own O_NONBLOCK description: EAGAIN means wait
    kSocket,       // a shared socket: recv/send with MSG_DONTWAIT
    kPollFirst,    // a shared blocking fd: poll(0) first, at most PIPE_BUF per write
  };
  struct HostFile {
    int fd = -1;
    bool owned = false;         // we close it
    bool guest_opened = false;  // opened by the guest's open()
    IoMode mode = IoMode::kDirect;
  };
  /// A write that moved some bytes before the host fd filled up: its retry
  /// continues after them.
  struct PartialWrite {
    uint32_t pc = 0;
    uint16_t guest_fd = 0;
    uint32_t address = 0;
    uint32_t count = 0;
    uint32_t done = 0;
  };

  explicit Semihosting(SemihostingConfig config);
  static HostFile private_stdio(int fd, bool for_reading);
  HostFile* file(uint16_t guest_fd);
  bool allowed(const char* call);
  ssize_t host_read(const HostFile& file, uint8_t* data, size_t length);
  ssize_t host_write(const HostFile& file, const uint8_t* data, size_t length);
  int open_path(const std::string& path, int flags, mode_t mode, int* error);
  int open_parent(const std::string& path, std::string* last, int* error);
  int64_t do_open(SemihostRegisters& regs, SemihostMemory& memory, int* error);
  int64_t do_close(uint16_t guest_fd, int* error);
  int64_t do_read(SemihostRegisters& regs, SemihostMemory& memory, int* error,
                  std::optional<SemihostWait>* wait);
  int64_t do_write(SemihostRegisters& regs, SemihostMemory& memory, int* error,
                   std::optional<SemihostWait>* wait);
  int64_t do_lseek(SemihostRegisters& regs, int* error);
  int64_t do_rename(SemihostRegisters& regs, SemihostMemory& memory, int* error);
  int64_t do_unlink(SemihostRegisters& regs, SemihostMemory& memory, int* error);
  std::optional<std::string> read_string(SemihostMemory& memory, uint32_t address, int* error);

  SemihostingConfig config_;
  int root_fd_ = -1;             // the root directory (O_PATH) when config_.root is set
  std::vector<HostFile> files_;  // guest fd -> host file; fd -1 when free
  std::optional<PartialWrite> partial_write_;
  std::function<int64_t()> time_source_;
  bool access_notice_given_ = false;
};

/// Tests: resolve root= paths with the fallback used where openat2() is
/// missing (one component at a time, no "..", no symbolic links).
void set_semihosting_path_walk_for_testing(bool walk);

/// Translates newlib open flags (O_WRONLY 1, O_RDWR 2, O_APPEND 0x8,
/// O_CREAT 0x200, O_TRUNC 0x400, O_EXCL 0x800) into host flags.
int host_open_flags(uint16_t newlib_flags);

/// Translates a host errno into newlib's numbering (EIO for unknown ones).
uint16_t newlib_errno(int host_errno);

}  // namespace cr16::system
