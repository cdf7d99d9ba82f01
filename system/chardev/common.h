// Character-device backends built on io channels: the shared machinery
// (buffered non-blocking output, input paced by the frontend's
// can_receive()) and the simple backends (null, file, pty).
// The stdio and socket backends live in stdio.h / socket.h, the multiplexer
// that shares one backend between frontends in mux.h.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hw/chardev.h"
#include "io/channel.h"
#include "io/channel_file.h"
#include "io/loop.h"
#include "util/error.h"

namespace cr16::system {

/// Upper bound on output a backend buffers while its host side is slow.
inline constexpr size_t kCharOutputLimit = 1u << 20;

/// A backend whose host side is an input and an output channel (either may
/// be null; both may be the same channel). Writes never block: what the
/// output channel does not take now waits in a buffer drained by a kOut
/// watch. Input is read only while the frontend can receive.
/// Machine thread only. The channels are not owned (subclasses own them).
class ChannelCharBackend : public CharBackend {
 public:
  explicit ChannelCharBackend(io::Loop& loop);
  ~ChannelCharBackend() override;

  size_t write(std::span<const uint8_t> bytes) override;
  void attach(CharFrontend* frontend) override;
  void frontend_ready() override;

  /// Bytes accepted by write() and not yet handed to the output channel.
  size_t pending_output() const { return output_.size() - output_start_; }
  /// Hands buffered output to the host, waiting at most `timeout_ms` for it
  /// to make room (used once at exit so the guest's last words are not lost).
  void drain(int timeout_ms);

 protected:
  /// Starts using new channels (nullptr = none); removes old watches first.
  /// The frontend hears kOpened/kClosed when the backend gains or loses them.
  void set_channels(io::Channel* input, io::Channel* output);
  /// For destructors: drops the channels without telling the frontend (which
  /// may already be gone).
  void close_channels();
  /// Called with bytes read from the input channel; default: pass to the frontend.
  virtual void on_input(std::span<const uint8_t> bytes);
  /// Called when the input reached end of file or failed; default: stop reading.
  virtual void on_input_closed();
  /// Called when writing failed for good (EPIPE, ECONNRESET, ENOSPC...);
  /// default: drop the output and stop writing.
  virtual void on_output_failed(const Error& error);
  /// Sends bytes straight to the frontend (subclasses that filter input).
  void deliver(std::span<const uint8_t> bytes);
  CharFrontend* frontend() const { return frontend_; }
  /// Sends `event` to the frontend, if one is attached.
  void notify(CharEvent event);
  io::Loop& loop() { return loop_; }
  /// Stops reading the input channel (e.g. after end of file).
  void stop_input();
  /// Drops output accepted but not yet handed to the output channel.
  void discard_output();

 private:
  void update_input_watch();
  void flush_output();
  bool on_readable();
  bool on_writable();

  io::Loop& loop_;
  CharFrontend* frontend_ = nullptr;
  io::Channel* input_ = nullptr;
  io::Channel* output_channel_ = nullptr;
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
/// When writing fails (a full disk, an I/O error) it says so once on stderr,
/// naming `label` and the file, and drops further output.
class FileCharBackend : public ChannelCharBackend {
 public:
  static Expected<std::unique_ptr<FileCharBackend>> open(io::Loop& loop, const std::string& path,
                                                         const std::string& label = "serial");
  ~FileCharBackend() override;
  /// True once a write failed (the output is being dropped).
  bool failed() const { return failed_; }

 protected:
  void on_output_failed(const Error& error) override;

 private:
  FileCharBackend(io::Loop& loop, std::unique_ptr<io::FileChannel> file, std::string path,
                  std::string label);
  std::unique_ptr<io::FileChannel> file_;
  std::string path_;
  std::string label_;
  bool failed_ = false;
};

/// -serial pty: a pseudo-terminal in raw mode. The slave side stays open
/// inside the emulator, so clients may come and go (minicom, screen, a
/// flashing tool that reopens the port for every step). Opens and closes of
/// the slave by others are watched (inotify): while nobody else holds it,
/// guest output is dropped, as on a serial line with nothing attached, so a
/// client that connects after an hour sees fresh output, not an hour of
/// stale bytes; the frontend hears kOpened/kClosed.
class PtyCharBackend : public ChannelCharBackend {
 public:
  /// Opens the pty and prints "char device redirected to /dev/pts/N (label LABEL)"
  /// on stderr, as QEMU does.
  static Expected<std::unique_ptr<PtyCharBackend>> open(io::Loop& loop, const std::string& label);
  ~PtyCharBackend() override;
  /// The slave device path (/dev/pts/N).
  const std::string& slave_path() const { return slave_path_; }
  /// Guest output goes to the pty only while someone else holds the slave.
  size_t write(std::span<const uint8_t> bytes) override;
  /// Whether another process holds the slave open now.
  bool connected() const { return external_opens_ > 0; }

 private:
  PtyCharBackend(io::Loop& loop, std::unique_ptr<io::FileChannel> master, io::UniqueFd slave,
                 std::string slave_path, io::UniqueFd opens);
  bool on_open_events(int fd);

  std::unique_ptr<io::FileChannel> master_;
  io::UniqueFd slave_;
  std::string slave_path_;
  io::UniqueFd opens_;  // inotify: IN_OPEN / IN_CLOSE of the slave
  io::Loop::WatchId opens_watch_ = 0;
  int external_opens_ = 0;
};

}  // namespace cr16::system
