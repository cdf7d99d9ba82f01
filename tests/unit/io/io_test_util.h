// Small helpers shared by the io tests: pipes, temporary files, payloads.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cr16::io {

/// A pipe closed on destruction.
class TestPipe {
 public:
  TestPipe() {
    if (::pipe2(fds_, O_CLOEXEC) < 0) fds_[0] = fds_[1] = -1;
  }
  ~TestPipe() {
    if (fds_[0] >= 0) ::close(fds_[0]);
    close_write_end();
  }
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }
  void close_write_end() {
    if (fds_[1] >= 0) ::close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2];
};

/// An unlinked-on-destruction temporary file, opened read/write.
class TempFile {
 public:
  TempFile() {
    char name[] = "/tmp/cr16-io-test-XXXXXX";
    fd_ = ::mkstemp(name);
    path_ = name;
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

/// Deterministic pseudo-random bytes.
inline std::vector<uint8_t> make_payload(size_t size, uint32_t seed = 1) {
  std::vector<uint8_t> data(size);
  uint32_t state = seed * 2654435761u + 1;
  for (auto& byte : data) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<uint8_t>(state >> 24);
  }
  return data;
}

}  // namespace cr16::io
