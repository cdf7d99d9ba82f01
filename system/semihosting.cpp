#include "system/semihosting.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "util/log.h"

namespace cr16::system {

namespace {

constexpr uint16_t kNewlibWriteOnly = 0x1;
constexpr uint16_t kNewlibReadWrite = 0x2;
constexpr uint16_t kNewlibAppend = 0x8;
constexpr uint16_t kNewlibCreate = 0x200;
constexpr uint16_t kNewlibTruncate = 0x400;
constexpr uint16_t kNewlibExclusive = 0x800;

constexpr uint16_t kNewlibEio = 5;
constexpr uint16_t kNewlibEfault = 14;
constexpr uint16_t kNewlibEnosys = 88;
constexpr uint16_t kNewlibEnametoolong = 91;

// A host errno we report with a special newlib number.
constexpr int kGuestFault = -1000;

constexpr size_t kMaxPathLength = 1024;
constexpr uint32_t kMaxTransfer = 0x7fff;  // results are 16-bit signed ints

uint32_t pair(const SemihostRegisters& regs, unsigned low) {
  return static_cast<uint32_t>(regs.reg(low)) | (static_cast<uint32_t>(regs.reg(low + 1)) << 16);
}

const char* trap_name(uint32_t code) {
  switch (code) {
    case 0x505:
      return "supervisor call";
    case 0x506:
      return "divide by zero";
    case 0x507:
      return "flag trap";
    case 0x50a:
      return "undefined instruction";
    case 0x50c:
      return "illegal address";
    default:
      return "trap";
  }
}

// Opens `path` beneath the directory `root` without following anything out
// of it, for the fallback when openat2() is missing: no absolute paths, no
// ".." components, no symbolic links at all.
int open_beneath_by_walking(int root, const std::string& path, int flags, mode_t mode) {
  if (path.empty()) {
    errno = ENOENT;
    return -1;
  }
  if (path.front() == '/') {
    errno = EACCES;
    return -1;
  }
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part == "..") {
      errno = EACCES;
      return -1;
    }
    if (!part.empty() && part != ".") parts.push_back(part);
    start = end + 1;
  }
  if (parts.empty()) return ::openat(root, ".", flags | O_NOFOLLOW, mode);
  // A component refused because it is a symbolic link reads as EACCES, like
  // a link leaving the root under openat2().
  auto refused_link = [](int dir, const std::string& name) {
    int saved = errno;
    struct stat info {};
    if ((saved == ELOOP || saved == ENOTDIR) &&
        fstatat(dir, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(info.st_mode)) {
      saved = EACCES;
    }
    return saved;
  };
  int dir = root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    int next = ::openat(dir, parts[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int saved = next < 0 ? refused_link(dir, parts[i]) : 0;
    if (dir != root) ::close(dir);
    if (next < 0) {
      errno = saved;
      return -1;
    }
    dir = next;
  }
  int fd = ::openat(dir, parts.back().c_str(), flags | O_NOFOLLOW, mode);
  int saved = fd < 0 ? refused_link(dir, parts.back()) : 0;
  if (dir != root) ::close(dir);
  errno = saved;
  return fd;
}

// Opens `path` relative to the directory `root`, refusing (EACCES) absolute
// paths and anything that resolves outside it, symbolic links included.
bool g_openat2_missing = false;

int open_beneath(int root, const std::string& path, int flags, mode_t mode) {
  bool& openat2_missing = g_openat2_missing;
  if (!openat2_missing) {
    struct open_how how {};
    how.flags = static_cast<uint64_t>(flags);
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, root, path.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if (errno == EXDEV) errno = EACCES;  // it would leave the root
    if (errno != ENOSYS) return -1;
    openat2_missing = true;
  }
  return open_beneath_by_walking(root, path, flags, mode);
}

}  // namespace

void set_semihosting_path_walk_for_testing(bool walk) {
  g_openat2_missing = walk;
}

int host_open_flags(uint16_t newlib_flags) {
  int flags = O_CLOEXEC;
  switch (newlib_flags & 3) {
    case kNewlibWriteOnly:
      flags |= O_WRONLY;
      break;
    case kNewlibReadWrite:
      flags |= O_RDWR;
      break;
    default:
      flags |= O_RDONLY;
      break;
  }
  if (newlib_flags & kNewlibAppend) flags |= O_APPEND;
  if (newlib_flags & kNewlibCreate) flags |= O_CREAT;
  if (newlib_flags & kNewlibTruncate) flags |= O_TRUNC;
  if (newlib_flags & kNewlibExclusive) flags |= O_EXCL;
  return flags;
}

uint16_t newlib_errno(int host_errno) {
  switch (host_errno) {
    case 0:
      return 0;
    case kGuestFault:
      return kNewlibEfault;
    // Numbers 1..34 are the same in newlib and Linux.
    case EPERM:
    case ENOENT:
    case ESRCH:
    case EINTR:
    case EIO:
    case ENXIO:
    case E2BIG:
    case ENOEXEC:
    case EBADF:
    case ECHILD:
    case EAGAIN:
    case ENOMEM:
    case EACCES:
    case EFAULT:
    case EBUSY:
    case EEXIST:
    case EXDEV:
    case ENODEV:
    case ENOTDIR:
    case EISDIR:
    case EINVAL:
    case ENFILE:
    case EMFILE:
    case ENOTTY:
    case ETXTBSY:
    case EFBIG:
    case ENOSPC:
    case ESPIPE:
    case EROFS:
    case EMLINK:
    case EPIPE:
    case EDOM:
    case ERANGE:
      return static_cast<uint16_t>(host_errno);
    case ENOSYS:
      return kNewlibEnosys;
    case ENAMETOOLONG:
      return kNewlibEnametoolong;
    case ENOTEMPTY:
      return 90;
    case ELOOP:
      return 92;
    default:
      return kNewlibEio;
  }
}

Semihosting::Semihosting(SemihostingConfig config) : config_(std::move(config)), files_(kMaxFiles) {
  time_source_ = [] { return static_cast<int64_t>(std::time(nullptr)); };
}

Expected<std::unique_ptr<Semihosting>> Semihosting::create(const SemihostingConfig& config,
                                                           int host_stdin, int host_stdout,
                                                           int host_stderr) {
  std::unique_ptr<Semihosting> semihosting(new Semihosting(config));
  if (!config.root.empty()) {
    semihosting->root_fd_ = ::open(config.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (semihosting->root_fd_ < 0) {
      return Error::from_errno("semihosting root '" + config.root + "'", errno);
    }
  }
  semihosting->files_[0] = private_stdio(host_stdin, true);
  semihosting->files_[1] = private_stdio(host_stdout, false);
  semihosting->files_[2] = private_stdio(host_stderr, false);
  return semihosting;
}

Semihosting::~Semihosting() {
  for (HostFile& host : files_) {
    if (host.owned && host.fd >= 0) ::close(host.fd);
  }
  if (root_fd_ >= 0) ::close(root_fd_);
}

// A host stdio fd made safe to use from the machine thread. Regular files
// never block. Pipes, terminals and character devices get a private open
// file description (through /proc/self/fd) with O_NONBLOCK, so the
// process's own fd, shared with the shell and other programs, keeps its
// flags. Sockets cannot be reopened that way; they are used with
// MSG_DONTWAIT. Anything else is polled before each transfer.
Semihosting::HostFile Semihosting::private_stdio(int fd, bool for_reading) {
  HostFile host;
  struct stat info {};
  if (fd < 0 || fstat(fd, &info) != 0) return host;  // closed: EBADF for the guest
  host.fd = fd;
  if (S_ISREG(info.st_mode) || S_ISDIR(info.st_mode) || S_ISBLK(info.st_mode)) return host;
  if (S_ISSOCK(info.st_mode)) {
    host.mode = IoMode::kSocket;
    return host;
  }
  std::string self = "/proc/self/fd/" + std::to_string(fd);
  int flags = (for_reading ? O_RDONLY : O_WRONLY) | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  int reopened = ::open(self.c_str(), flags);
  if (reopened >= 0) {
    host.fd = reopened;
    host.owned = true;
    host.mode = IoMode::kNonBlocking;
  } else {
    host.mode = IoMode::kPollFirst;
  }
  return host;
}

size_t Semihosting::open_file_count() const {
  size_t count = 0;
  for (const HostFile& host : files_) count += host.guest_opened && host.fd >= 0;
  return count;
}

Semihosting::HostFile* Semihosting::file(uint16_t guest_fd) {
  if (guest_fd >= files_.size() || files_[guest_fd].fd < 0) return nullptr;
  return &files_[guest_fd];
}

bool Semihosting::allowed(const char* call) {
  if (config_.access == SemihostingAccess::kFull) return true;
  log_printf(LogCategory::kGuestErrors, "semihosting: %s refused (console access only)", call);
  if (!access_notice_given_) {
    access_notice_given_ = true;
    std::fprintf(stderr,
                 "cr16-system: semihosting: the guest asked for host file access (%s); "
                 "allow it with -semihosting or -semihosting-config enable=on\n",
                 call);
  }
  return false;
}

ssize_t Semihosting::host_read(const HostFile& host, uint8_t* data, size_t length) {
  switch (host.mode) {
    case IoMode::kSocket:
      return ::recv(host.fd, data, length, MSG_DONTWAIT);
    case IoMode::kPollFirst: {
      struct pollfd entry = {host.fd, POLLIN, 0};
      if (::poll(&entry, 1, 0) == 0) {
        errno = EAGAIN;
        return -1;
      }
      return ::read(host.fd, data, length);
    }
    case IoMode::kDirect:
    case IoMode::kNonBlocking:
      break;
  }
  return ::read(host.fd, data, length);
}

ssize_t Semihosting::host_write(const HostFile& host, const uint8_t* data, size_t length) {
  switch (host.mode) {
    case IoMode::kSocket:
      return ::send(host.fd, data, length, MSG_DONTWAIT | MSG_NOSIGNAL);
    case IoMode::kPollFirst: {
      struct pollfd entry = {host.fd, POLLOUT, 0};
      if (::poll(&entry, 1, 0) == 0) {
        errno = EAGAIN;
        return -1;
      }
      // A pipe that polls writable takes PIPE_BUF bytes without blocking.
      return ::write(host.fd, data, std::min<size_t>(length, PIPE_BUF));
    }
    case IoMode::kDirect:
    case IoMode::kNonBlocking:
      break;
  }
  return ::write(host.fd, data, length);
}

std::optional<std::string> Semihosting::read_string(SemihostMemory& memory, uint32_t address,
                                                    int* error) {
  std::string text;
  for (size_t i = 0; i <= kMaxPathLength; ++i) {
    uint8_t byte = 0;
    if (!memory.read(address + static_cast<uint32_t>(i), std::span(&byte, 1))) {
      *error = kGuestFault;
      return std::nullopt;
    }
    if (byte == 0) return text;
    text.push_back(static_cast<char>(byte));
  }
  *error = ENAMETOOLONG;
  return std::nullopt;
}

int Semihosting::open_path(const std::string& path, int flags, mode_t mode, int* error) {
  int fd =
      root_fd_ < 0 ? ::open(path.c_str(), flags, mode) : open_beneath(root_fd_, path, flags, mode);
  if (fd < 0) *error = errno;
  return fd;
}

// Opens the directory that holds the last component of `path` (beneath the
// root, or relative to the working directory without one) and returns that
// component in `last`. The caller closes the fd unless it is AT_FDCWD.
int Semihosting::open_parent(const std::string& path, std::string* last, int* error) {
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  size_t slash = trimmed.rfind('/');
  std::string parent = slash == std::string::npos ? std::string() : trimmed.substr(0, slash);
  *last = slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
  if (root_fd_ < 0) {
    if (slash == std::string::npos) return AT_FDCWD;
    if (parent.empty()) parent = "/";
    int fd = ::open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) *error = errno;
    return fd;
  }
  if (last->empty() || *last == "." || *last == ".." ||
      (slash != std::string::npos && parent.empty())) {
    *error = EACCES;  // the root itself, or an absolute path
    return -1;
  }
  int fd = open_beneath(root_fd_, parent.empty() ? std::string(".") : parent,
                        O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) *error = errno;
  return fd;
}

int64_t Semihosting::do_open(SemihostRegisters& regs, SemihostMemory& memory, int* error) {
  if (!allowed("open")) {
    *error = EACCES;
    return -1;
  }
  std::optional<std::string> path = read_string(memory, pair(regs, 2), error);
  if (!path) return -1;
  size_t slot = 3;
  while (slot < files_.size() && files_[slot].fd >= 0) ++slot;
  if (slot == files_.size()) {
    *error = EMFILE;
    return -1;
  }
  // O_NONBLOCK: opening a FIFO with no peer, or a terminal line, must not
  // wait in the kernel. Regular files and directories go back to blocking
  // mode (it means nothing for them); anything else keeps it so a later
  // read or write returns EAGAIN instead of blocking.
  int fd = open_path(*path, host_open_flags(regs.reg(4)) | O_NONBLOCK | O_NOCTTY,
                     static_cast<mode_t>(regs.reg(5) & 07777), error);
  if (fd < 0) return -1;
  HostFile host;
  host.fd = fd;
  host.owned = true;
  host.guest_opened = true;
  host.mode = IoMode::kNonBlocking;
  struct stat info {};
  if (fstat(fd, &info) == 0 && (S_ISREG(info.st_mode) || S_ISDIR(info.st_mode))) {
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    host.mode = IoMode::kDirect;
  }
  files_[slot] = host;
  return static_cast<int64_t>(slot);
}

int64_t Semihosting::do_close(uint16_t guest_fd, int* error) {
  HostFile* host = file(guest_fd);
  if (!host) {
    *error = EBADF;
    return -1;
  }
  int result = host->owned ? ::close(host->fd) : 0;
  *host = HostFile{};
  if (result != 0 && errno != EINTR) {  // after EINTR the fd is closed all the same
    *error = errno;
    return -1;
  }
  return 0;
}

int64_t Semihosting::do_read(SemihostRegisters& regs, SemihostMemory& memory, int* error,
                             std::optional<SemihostWait>* wait) {
  HostFile* host = file(regs.reg(2));
  if (!host) {
    *error = EBADF;
    return -1;
  }
  uint32_t address = pair(regs, 3);
  uint32_t count = std::min<uint32_t>(regs.reg(5), kMaxTransfer);
  if (count == 0) return 0;
  // The destination must take the bytes before any host input is consumed:
  // a buffer in flash or ROM fails here with EFAULT, and the input stays.
  if (!memory.writable(address, count)) {
    *error = kGuestFault;
    return -1;
  }
  std::vector<uint8_t> buffer(count);
  ssize_t got;
  do {
    got = host_read(*host, buffer.data(), count);
  } while (got < 0 && errno == EINTR);
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    *wait = SemihostWait{host->fd, POLLIN};
    return 0;
  }
  if (got < 0) {
    *error = errno;
    return -1;
  }
  if (got > 0 && !memory.write(address, std::span(buffer.data(), static_cast<size_t>(got)))) {
    *error = kGuestFault;  // cannot happen after writable(); kept for safety
    return -1;
  }
  return got;
}

int64_t Semihosting::do_write(SemihostRegisters& regs, SemihostMemory& memory, int* error,
                              std::optional<SemihostWait>* wait) {
  uint16_t guest_fd = regs.reg(2);
  HostFile* host = file(guest_fd);
  if (!host) {
    *error = EBADF;
    return -1;
  }
  uint32_t address = pair(regs, 3);
  uint32_t count = std::min<uint32_t>(regs.reg(5), kMaxTransfer);
  if (count == 0) return 0;
  std::vector<uint8_t> buffer(count);
  if (!memory.read(address, buffer)) {
    *error = kGuestFault;
    return -1;
  }
  // The retry of a write that the host took only in part goes on after it.
  uint32_t done = 0;
  if (partial_write_ && partial_write_->pc == regs.pc() && partial_write_->guest_fd == guest_fd &&
      partial_write_->address == address && partial_write_->count == count) {
    done = partial_write_->done;
  }
  partial_write_.reset();
  while (done < count) {
    ssize_t put = host_write(*host, buffer.data() + done, count - done);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (done > 0) partial_write_ = PartialWrite{regs.pc(), guest_fd, address, count, done};
      *wait = SemihostWait{host->fd, POLLOUT};
      return 0;
    }
    if (put < 0) {
      if (done > 0) break;
      *error = errno;
      return -1;
    }
    done += static_cast<uint32_t>(put);
  }
  return done;
}

int64_t Semihosting::do_lseek(SemihostRegisters& regs, int* error) {
  if (!allowed("lseek")) {
    *error = EACCES;
    return -1;
  }
  HostFile* host = file(regs.reg(2));
  if (!host) {
    *error = EBADF;
    return -1;
  }
  int32_t offset = static_cast<int32_t>(pair(regs, 3));
  uint16_t whence = regs.reg(5);
  if (whence > 2) {
    *error = EINVAL;
    return -1;
  }
  off_t result = ::lseek(host->fd, offset,
                         whence == 0   ? SEEK_SET
                         : whence == 1 ? SEEK_CUR
                                       : SEEK_END);
  if (result < 0) {
    *error = errno;
    return -1;
  }
  if (result > 0x7fffffff) {
    *error = EINVAL;  // newlib's off_t is a 32-bit long
    return -1;
  }
  return result;
}

int64_t Semihosting::do_rename(SemihostRegisters& regs, SemihostMemory& memory, int* error) {
  if (!allowed("rename")) {
    *error = EACCES;
    return -1;
  }
  std::optional<std::string> from = read_string(memory, pair(regs, 2), error);
  if (!from) return -1;
  std::optional<std::string> to = read_string(memory, pair(regs, 4), error);
  if (!to) return -1;
  std::string from_name, to_name;
  int from_dir = open_parent(*from, &from_name, error);
  if (from_dir == -1) return -1;
  int to_dir = open_parent(*to, &to_name, error);
  int result = -1;
  if (to_dir != -1) {
    result = ::renameat(from_dir, from_name.c_str(), to_dir, to_name.c_str());
    if (result != 0) *error = errno;
    if (to_dir >= 0) ::close(to_dir);
  }
  if (from_dir >= 0) ::close(from_dir);
  return result;
}

int64_t Semihosting::do_unlink(SemihostRegisters& regs, SemihostMemory& memory, int* error) {
  if (!allowed("unlink")) {
    *error = EACCES;
    return -1;
  }
  std::optional<std::string> path = read_string(memory, pair(regs, 2), error);
  if (!path) return -1;
  std::string name;
  int dir = open_parent(*path, &name, error);
  if (dir == -1) return -1;
  int result = ::unlinkat(dir, name.c_str(), 0);
  if (result != 0) *error = errno;
  if (dir >= 0) ::close(dir);
  return result;
}

SemihostOutcome Semihosting::handle(SemihostRegisters& regs, SemihostMemory& memory) {
  uint32_t code = pair(regs, 0);
  int error = 0;
  int64_t result = 0;
  bool wide_result = false;  // result in (r1,r0) instead of r0
  std::optional<SemihostWait> wait;
  switch (code) {
    case static_cast<uint32_t>(SemihostCall::kTime):
      result = time_source_();
      wide_result = true;
      break;
    case static_cast<uint32_t>(SemihostCall::kOpen):
      result = do_open(regs, memory, &error);
      wide_result = true;
      break;
    case static_cast<uint32_t>(SemihostCall::kClose):
      result = do_close(regs.reg(2), &error);
      break;
    case static_cast<uint32_t>(SemihostCall::kRead):
      result = do_read(regs, memory, &error, &wait);
      break;
    case static_cast<uint32_t>(SemihostCall::kWrite):
      result = do_write(regs, memory, &error, &wait);
      break;
    case static_cast<uint32_t>(SemihostCall::kLseek):
      result = do_lseek(regs, &error);
      wide_result = true;
      break;
    case static_cast<uint32_t>(SemihostCall::kRename):
      result = do_rename(regs, memory, &error);
      break;
    case static_cast<uint32_t>(SemihostCall::kUnlink):
      result = do_unlink(regs, memory, &error);
      break;
    case static_cast<uint32_t>(SemihostCall::kGetenv):
      result = 0;
      wide_result = true;
      break;
    case static_cast<uint32_t>(SemihostCall::kExit):
      return {true, static_cast<int>(regs.reg(2) & 0xff), std::nullopt};
    case 0x505:
    case 0x506:
    case 0x507:
    case 0x50a:
    case 0x50c:
      std::fprintf(stderr, "cr16-system: semihosting: the guest reported a fatal %s (pc 0x%06x)\n",
                   trap_name(code), regs.pc());
      return {true, 1, std::nullopt};
    default:
      log_printf(LogCategory::kGuestErrors, "semihosting: unknown call 0x%x at pc 0x%06x", code,
                 regs.pc());
      result = -1;
      error = ENOSYS;
      break;
  }
  if (wait) {
    SemihostOutcome outcome;
    outcome.wait = wait;
    return outcome;  // registers untouched: the same call runs again
  }
  uint32_t value = static_cast<uint32_t>(result);
  regs.set_reg(0, static_cast<uint16_t>(value));
  if (wide_result) regs.set_reg(1, static_cast<uint16_t>(value >> 16));
  regs.set_reg(4, static_cast<uint16_t>(value) == 0xffff ? newlib_errno(error) : 0);
  return {};
}

}  // namespace cr16::system
