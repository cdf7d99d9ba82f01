// The JIT's dual-mapped code memory (see code_buffer.h).
#include "cpu/jit/code_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

namespace cr16::jit {

DualMapping::DualMapping(size_t bytes) {
  const int fd = memfd_create("cr16-jit", MFD_CLOEXEC);
  if (fd < 0) return;
  if (ftruncate(fd, static_cast<off_t>(bytes)) == 0) {
    void* writable = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    void* executable = mmap(nullptr, bytes, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    if (writable != MAP_FAILED && executable != MAP_FAILED) {
      rw = static_cast<uint8_t*>(writable);
      rx = static_cast<uint8_t*>(executable);
      mapped_bytes = bytes;
    } else {
      if (writable != MAP_FAILED) munmap(writable, bytes);
      if (executable != MAP_FAILED) munmap(executable, bytes);
    }
  }
  close(fd);
}

DualMapping::~DualMapping() {
  if (rw != nullptr) {
    munmap(rw, mapped_bytes);
    munmap(rx, mapped_bytes);
  }
}

}  // namespace cr16::jit
