#include "system/semihosting.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>

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

}  // namespace

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

Semihosting::Semihosting(int host_stdin, int host_stdout, int host_stderr)
    : files_(kMaxFiles, -1), owned_(kMaxFiles, false) {
  files_[0] = host_stdin;
  files_[1] = host_stdout;
  files_[2] = host_stderr;
  time_source_ = [] { return static_cast<int64_t>(std::time(nullptr)); };
}

Semihosting::~Semihosting() {
  for (size_t i = 0; i < files_.size(); ++i) {
    if (owned_[i] && files_[i] >= 0) ::close(files_[i]);
  }
}

size_t Semihosting::open_file_count() const {
  size_t count = 0;
  for (size_t i = 0; i < files_.size(); ++i) count += owned_[i] && files_[i] >= 0;
  return count;
}

bool Semihosting::wait_for(int fd, short events) const {
  struct pollfd fds[2] = {{fd, events, 0}, {interrupt_fd_, POLLIN, 0}};
  nfds_t count = interrupt_fd_ >= 0 ? 2 : 1;
  while (true) {
    int ready = poll(fds, count, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return true;  // let the read/write itself report the problem
    if (count == 2 && (fds[1].revents & POLLIN)) return false;
    if (fds[0].revents) return true;
  }
}

int Semihosting::host_fd(uint16_t guest_fd) const {
  return guest_fd < files_.size() ? files_[guest_fd] : -1;
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

int64_t Semihosting::do_open(SemihostRegisters& regs, SemihostMemory& memory, int* error) {
  std::optional<std::string> path = read_string(memory, pair(regs, 2), error);
  if (!path) return -1;
  size_t slot = 3;
  while (slot < files_.size() && files_[slot] >= 0) ++slot;
  if (slot == files_.size()) {
    *error = EMFILE;
    return -1;
  }
  int fd =
      ::open(path->c_str(), host_open_flags(regs.reg(4)), static_cast<mode_t>(regs.reg(5) & 07777));
  if (fd < 0) {
    *error = errno;
    return -1;
  }
  files_[slot] = fd;
  owned_[slot] = true;
  return static_cast<int64_t>(slot);
}

int64_t Semihosting::do_close(uint16_t guest_fd, int* error) {
  int fd = host_fd(guest_fd);
  if (fd < 0) {
    *error = EBADF;
    return -1;
  }
  int result = 0;
  if (owned_[guest_fd]) result = ::close(fd);
  files_[guest_fd] = -1;
  owned_[guest_fd] = false;
  if (result != 0) {
    *error = errno;
    return -1;
  }
  return 0;
}

int64_t Semihosting::do_read(SemihostRegisters& regs, SemihostMemory& memory, int* error) {
  int fd = host_fd(regs.reg(2));
  if (fd < 0) {
    *error = EBADF;
    return -1;
  }
  uint32_t address = pair(regs, 3);
  uint32_t count = std::min<uint32_t>(regs.reg(5), kMaxTransfer);
  std::vector<uint8_t> buffer(count);
  // Check the destination first so a bad pointer consumes no input.
  if (count > 0 && !memory.read(address, buffer)) {
    *error = kGuestFault;
    return -1;
  }
  if (!wait_for(fd, POLLIN)) {
    *error = EINTR;
    return -1;
  }
  ssize_t got;
  do {
    got = ::read(fd, buffer.data(), count);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    *error = errno;
    return -1;
  }
  if (got > 0 && !memory.write(address, std::span(buffer.data(), static_cast<size_t>(got)))) {
    *error = kGuestFault;
    return -1;
  }
  return got;
}

int64_t Semihosting::do_write(SemihostRegisters& regs, SemihostMemory& memory, int* error) {
  int fd = host_fd(regs.reg(2));
  if (fd < 0) {
    *error = EBADF;
    return -1;
  }
  uint32_t count = std::min<uint32_t>(regs.reg(5), kMaxTransfer);
  std::vector<uint8_t> buffer(count);
  if (count > 0 && !memory.read(pair(regs, 3), buffer)) {
    *error = kGuestFault;
    return -1;
  }
  size_t done = 0;
  while (done < count) {
    ssize_t put = ::write(fd, buffer.data() + done, count - done);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0 && errno == EAGAIN) {
      // A non-blocking host fd (a terminal shared with a chardev): wait for room.
      if (wait_for(fd, POLLOUT)) continue;
      if (done > 0) break;
      *error = EINTR;
      return -1;
    }
    if (put < 0) {
      if (done > 0) break;
      *error = errno;
      return -1;
    }
    done += static_cast<size_t>(put);
  }
  return static_cast<int64_t>(done);
}

int64_t Semihosting::do_lseek(SemihostRegisters& regs, int* error) {
  int fd = host_fd(regs.reg(2));
  if (fd < 0) {
    *error = EBADF;
    return -1;
  }
  int32_t offset = static_cast<int32_t>(pair(regs, 3));
  uint16_t whence = regs.reg(5);
  if (whence > 2) {
    *error = EINVAL;
    return -1;
  }
  off_t result = ::lseek(fd, offset, whence == 0 ? SEEK_SET : whence == 1 ? SEEK_CUR : SEEK_END);
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

SemihostOutcome Semihosting::handle(SemihostRegisters& regs, SemihostMemory& memory) {
  uint32_t code = pair(regs, 0);
  int error = 0;
  int64_t result = 0;
  bool wide_result = false;  // result in (r1,r0) instead of r0
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
      result = do_read(regs, memory, &error);
      break;
    case static_cast<uint32_t>(SemihostCall::kWrite):
      result = do_write(regs, memory, &error);
      break;
    case static_cast<uint32_t>(SemihostCall::kLseek):
      result = do_lseek(regs, &error);
      wide_result = true;
      break;
    case static_cast<uint32_t>(SemihostCall::kRename): {
      std::optional<std::string> from = read_string(memory, pair(regs, 2), &error);
      std::optional<std::string> to;
      if (from) to = read_string(memory, pair(regs, 4), &error);
      result = -1;
      if (from && to) {
        result = ::rename(from->c_str(), to->c_str());
        if (result != 0) error = errno;
      }
      break;
    }
    case static_cast<uint32_t>(SemihostCall::kUnlink): {
      std::optional<std::string> path = read_string(memory, pair(regs, 2), &error);
      result = -1;
      if (path) {
        result = ::unlink(path->c_str());
        if (result != 0) error = errno;
      }
      break;
    }
    case static_cast<uint32_t>(SemihostCall::kGetenv):
      result = 0;
      wide_result = true;
      break;
    case static_cast<uint32_t>(SemihostCall::kExit):
      return {true, static_cast<int>(regs.reg(2) & 0xff)};
    case 0x505:
    case 0x506:
    case 0x507:
    case 0x50a:
    case 0x50c:
      std::fprintf(stderr, "cr16-system: semihosting: the guest reported a fatal %s (pc 0x%06x)\n",
                   trap_name(code), regs.pc());
      return {true, 1};
    default:
      log_printf(LogCategory::kGuestErrors, "semihosting: unknown call 0x%x at pc 0x%06x", code,
                 regs.pc());
      result = -1;
      error = ENOSYS;
      break;
  }
  uint32_t value = static_cast<uint32_t>(result);
  regs.set_reg(0, static_cast<uint16_t>(value));
  if (wide_result) regs.set_reg(1, static_cast<uint16_t>(value >> 16));
  regs.set_reg(4, static_cast<uint16_t>(value) == 0xffff ? newlib_errno(error) : 0);
  return {};
}

}  // namespace cr16::system
