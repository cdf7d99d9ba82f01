// Character-device backends built on file descriptors and io::Loop watches:
// the shared machinery (buffered non-blocking output, input paced by the
// frontend's can_receive()) and the simple backends (null, file, pty).
// The stdio and socket backends live in chardev_stdio.h / chardev_socket.h.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hw/chardev.h"
#include "io/loop.h"
#include "util/error.h"

namespace cr16::system {

/// Upper bound on output a backend buffers while its host side is slow.
inline constexpr size_t kCharOutputLimit = 1u << 20;

/// A backend whose host side is a pair of fds (either may be -1). Writes
/// never block: what the fd does not take now waits in a buffer drained by a
/// kOut watch. Input is read only while the frontend can receive.
/// Machine thread only. The fds are not owned (subclasses own them).
class FdCharBackend : public CharBackend {
 public:
  explicit FdCharBackend(io::Loop& loop);
  ~FdCharBackend() override;

  size_t write(std::span<const uint8_t> bytes) override;
  void attach(CharFrontend* frontend) override;
  void frontend_ready() override;

  /// Bytes accepted by write() and not yet handed to the host fd.
  size_t pending_output() const { return output_.size() - output_start_; }
  /// Hands buffered output to the host, waiting at most `timeout_ms` for it
  /// to make room (used once at exit so the guest's last words are not lost).
  void drain(int timeout_ms);

 protected:
  /// Starts using new fds (-1 = none); removes old watches first.
  void set_fds(int input_fd, int output_fd);
  /// Called with bytes read from the input fd; default: pass to the frontend.
  virtual void on_input(std::span<const uint8_t> bytes);
  /// Called when the input fd reached end of file or hung up; default: stop reading.
  virtual void on_input_closed();
  /// Called when writing failed for good (EPIPE, ECONNRESET...); default:
  /// drop the output and stop writing.
  virtual void on_output_failed();
  /// Sends bytes straight to the frontend (subclasses that filter input).
  void deliver(std::span<const uint8_t> bytes);
  CharFrontend* frontend() const { return frontend_; }
  io::Loop& loop() { return loop_; }
  int input_fd() const { return input_fd_; }
  int output_fd() const { return output_fd_; }
  /// Stops reading the input fd (e.g. after EOF).
  void stop_input();

 private:
  void update_input_watch();
  void flush_output();
  bool on_readable();
  bool on_writable();

  io::Loop& loop_;
  CharFrontend* frontend_ = nullptr;
  int input_fd_ = -1;
  int output_fd_ = -1;
  bool input_open_ = false;
  io::Loop::WatchId input_watch_ = 0;
  io::Loop::WatchId output_watch_ = 0;
  std::vector<uint8_t> output_;
  size_t output_start_ = 0;
};

/// -serial null: output is discarded, there is never input.
class NullCharBackend : public CharBackend {
 public:
  size_t write(std::span<const uint8_t> bytes) override { return bytes.size(); }
  void attach(CharFrontend*) override {}
  void frontend_ready() override {}
};

/// -serial file:PATH: output appended to a file created/truncated at start.
class FileCharBackend : public FdCharBackend {
 public:
  static Expected<std::unique_ptr<FileCharBackend>> open(io::Loop& loop, const std::string& path);
  ~FileCharBackend() override;

 private:
  FileCharBackend(io::Loop& loop, int fd);
  int fd_;
};

/// -serial pty: a pseudo-terminal in raw mode. The slave side stays open
/// inside the emulator, so clients may come and go (minicom, screen).
class PtyCharBackend : public FdCharBackend {
 public:
  /// Opens the pty and prints "char device redirected to /dev/pts/N (label LABEL)"
  /// on stderr, as QEMU does.
  static Expected<std::unique_ptr<PtyCharBackend>> open(io::Loop& loop, const std::string& label);
  ~PtyCharBackend() override;
  /// The slave device path (/dev/pts/N).
  const std::string& slave_path() const { return slave_path_; }

 private:
  PtyCharBackend(io::Loop& loop, int master, int slave, std::string slave_path);
  int master_;
  int slave_;
  std::string slave_path_;
};

/// Sets O_NONBLOCK on fd; returns false on failure.
bool set_nonblocking(int fd, bool enabled);

}  // namespace cr16::system
