#include "system/chardev/common.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <termios.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

namespace cr16::system {

namespace {
constexpr size_t kReadChunk = 4096;
constexpr int kDrainPollMs = 10;
}  // namespace

ChannelCharBackend::ChannelCharBackend(io::Loop& loop) : loop_(loop) {}

ChannelCharBackend::~ChannelCharBackend() {
  close_channels();
}

void ChannelCharBackend::set_channels(io::Channel* input, io::Channel* output) {
  const bool was_open = input_ != nullptr || output_channel_ != nullptr;
  if (input_watch_) loop_.remove_watch(input_watch_);
  if (output_watch_) loop_.remove_watch(output_watch_);
  input_watch_ = output_watch_ = 0;
  input_ = input;
  output_channel_ = output;
  input_open_ = input != nullptr;
  output_.clear();
  output_start_ = 0;
  update_input_watch();
  const bool open = input != nullptr || output != nullptr;
  if (open != was_open) notify(open ? CharEvent::kOpened : CharEvent::kClosed);
}

void ChannelCharBackend::close_channels() {
  frontend_ = nullptr;
  set_channels(nullptr, nullptr);
}

void ChannelCharBackend::notify(CharEvent event) {
  if (frontend_) frontend_->char_event(event);
}

void ChannelCharBackend::discard_output() {
  output_.clear();
  output_start_ = 0;
  if (output_watch_) {
    loop_.remove_watch(output_watch_);
    output_watch_ = 0;
  }
}

size_t ChannelCharBackend::write(std::span<const uint8_t> bytes) {
  if (!output_channel_) return bytes.size();  // nobody listening: dropped, as QEMU does
  size_t room = kCharOutputLimit - std::min(kCharOutputLimit, pending_output());
  size_t accepted = std::min(room, bytes.size());
  output_.insert(output_.end(), bytes.begin(), bytes.begin() + accepted);
  flush_output();
  return accepted;
}

void ChannelCharBackend::flush_output() {
  while (output_channel_ && pending_output() > 0) {
    io::IoResult put = output_channel_->write(output_.data() + output_start_, pending_output());
    if (put.is_bytes() && put.count() > 0) {
      output_start_ += put.count();
      continue;
    }
    if (put.is_would_block()) {
      if (!output_watch_) {
        output_watch_ = output_channel_->create_watch(loop_, io::kOut,
                                                      [this](uint32_t) { return on_writable(); });
      }
      return;
    }
    on_output_failed(put.is_error() ? put.error() : Error("the output channel took nothing"));
    return;
  }
  output_.clear();
  output_start_ = 0;
  if (output_watch_) {
    loop_.remove_watch(output_watch_);
    output_watch_ = 0;
  }
}

bool ChannelCharBackend::on_writable() {
  io::Loop::WatchId self = output_watch_;
  flush_output();
  // flush_output removed the watch when done; keep it only if still registered.
  return output_watch_ == self && self != 0;
}

void ChannelCharBackend::on_output_failed(const Error& error) {
  output_.clear();
  output_start_ = 0;
  if (output_watch_) loop_.remove_watch(output_watch_);
  output_watch_ = 0;
  output_channel_ = nullptr;
}

void ChannelCharBackend::drain(int timeout_ms) {
  int waited_ms = 0;
  flush_output();
  while (output_channel_ && pending_output() > 0 && waited_ms < timeout_ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(kDrainPollMs));
    waited_ms += kDrainPollMs;
    flush_output();
  }
}

void ChannelCharBackend::attach(CharFrontend* frontend) {
  frontend_ = frontend;
  update_input_watch();
  if (input_ != nullptr || output_channel_ != nullptr) notify(CharEvent::kOpened);
}

void ChannelCharBackend::frontend_ready() {
  update_input_watch();
}

void ChannelCharBackend::stop_input() {
  input_open_ = false;
  update_input_watch();
}

void ChannelCharBackend::update_input_watch() {
  bool want = input_open_ && input_ && frontend_ && frontend_->can_receive() > 0;
  if (want && !input_watch_) {
    input_watch_ = input_->create_watch(loop_, io::kIn, [this](uint32_t) { return on_readable(); });
  } else if (!want && input_watch_) {
    loop_.remove_watch(input_watch_);
    input_watch_ = 0;
  }
}

bool ChannelCharBackend::on_readable() {
  io::Loop::WatchId self = input_watch_;
  size_t room = frontend_ ? std::min(frontend_->can_receive(), kReadChunk) : 0;
  // A blocking channel (stdin on a socket) is read only when poll() says so
  // now: the loop's report may be stale, and a blocking read would hang the
  // whole process (signals and quit included).
  if (room > 0 && input_->is_blocking() && !input_->ready_now(io::kIn)) room = 0;
  if (room > 0) {
    uint8_t buffer[kReadChunk];
    io::IoResult got = input_->read(buffer, room);
    if (got.is_bytes() && got.count() > 0) {
      on_input(std::span<const uint8_t>(buffer, got.count()));
    } else if (got.is_eof() || got.is_error()) {
      on_input_closed();
    }
  }
  update_input_watch();
  return input_watch_ == self && self != 0;
}

void ChannelCharBackend::on_input(std::span<const uint8_t> bytes) {
  deliver(bytes);
}

void ChannelCharBackend::deliver(std::span<const uint8_t> bytes) {
  if (frontend_ && !bytes.empty()) frontend_->receive(bytes);
}

void ChannelCharBackend::on_input_closed() {
  stop_input();
}

// ---------------------------------------------------------------------------

Expected<std::unique_ptr<FileCharBackend>> FileCharBackend::open(io::Loop& loop,
                                                                 const std::string& path,
                                                                 const std::string& label) {
  auto file = io::FileChannel::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK, 0666);
  if (!file) return Error::from_errno("-serial file:" + path, file.error().errno_value());
  return std::unique_ptr<FileCharBackend>(new FileCharBackend(loop, std::move(*file), path, label));
}

FileCharBackend::FileCharBackend(io::Loop& loop, std::unique_ptr<io::FileChannel> file,
                                 std::string path, std::string label)
    : ChannelCharBackend(loop),
      file_(std::move(file)),
      path_(std::move(path)),
      label_(std::move(label)) {
  file_->set_name("serial file");
  set_channels(nullptr, file_.get());
}

void FileCharBackend::on_output_failed(const Error& error) {
  ChannelCharBackend::on_output_failed(error);
  if (failed_) return;
  failed_ = true;
  // Said once: a console that silently stops is worse than a noisy one.
  std::string reason =
      error.errno_value() != 0 ? std::strerror(error.errno_value()) : error.message();
  std::fprintf(stderr, "cr16-system: %s: writing file:%s failed (%s); further output is dropped\n",
               label_.c_str(), path_.c_str(), reason.c_str());
}

FileCharBackend::~FileCharBackend() {
  close_channels();
}

// ---------------------------------------------------------------------------

Expected<std::unique_ptr<PtyCharBackend>> PtyCharBackend::open(io::Loop& loop,
                                                               const std::string& label) {
  io::UniqueFd master(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master.valid()) return Error::from_errno("-serial pty: posix_openpt", errno);
  char name[128];
  if (grantpt(master.get()) != 0 || unlockpt(master.get()) != 0 ||
      ptsname_r(master.get(), name, sizeof name) != 0) {
    return Error::from_errno("-serial pty", errno);
  }
  io::UniqueFd slave(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave.valid()) return Error::from_errno(std::string("-serial pty: ") + name, errno);
  struct termios mode {};
  if (tcgetattr(slave.get(), &mode) == 0) {
    cfmakeraw(&mode);
    tcsetattr(slave.get(), TCSANOW, &mode);
  }
  auto channel = io::FileChannel::from_fd(master.get());
  if (!channel) return channel.error().with_context("-serial pty");
  master.release();  // owned by the channel now
  if (Error error = (*channel)->set_blocking(false); !error.ok())
    return error.with_context("-serial pty");
  // Our own open of the slave happened above, so every event counts others.
  io::UniqueFd opens(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!opens.valid() || inotify_add_watch(opens.get(), name, IN_OPEN | IN_CLOSE) < 0) {
    return Error::from_errno(std::string("-serial pty: watching ") + name, errno);
  }
  std::fprintf(stderr, "char device redirected to %s (label %s)\n", name, label.c_str());
  return std::unique_ptr<PtyCharBackend>(
      new PtyCharBackend(loop, std::move(*channel), std::move(slave), name, std::move(opens)));
}

PtyCharBackend::PtyCharBackend(io::Loop& loop, std::unique_ptr<io::FileChannel> master,
                               io::UniqueFd slave, std::string slave_path, io::UniqueFd opens)
    : ChannelCharBackend(loop),
      master_(std::move(master)),
      slave_(std::move(slave)),
      slave_path_(std::move(slave_path)),
      opens_(std::move(opens)) {
  master_->set_name("pty " + slave_path_);
  set_channels(master_.get(), master_.get());
  opens_watch_ = loop.add_watch(opens_.get(), io::kIn,
                                [this](int fd, uint32_t) { return on_open_events(fd); });
}

PtyCharBackend::~PtyCharBackend() {
  if (opens_watch_) loop().remove_watch(opens_watch_);
  close_channels();
}

size_t PtyCharBackend::write(std::span<const uint8_t> bytes) {
  if (external_opens_ == 0) return bytes.size();  // nothing attached to the line
  return ChannelCharBackend::write(bytes);
}

bool PtyCharBackend::on_open_events(int fd) {
  alignas(inotify_event) char buffer[4096];
  const int before = external_opens_;
  for (;;) {
    const ssize_t got = read(fd, buffer, sizeof buffer);
    if (got <= 0) break;
    for (ssize_t at = 0; at + static_cast<ssize_t>(sizeof(inotify_event)) <= got;) {
      inotify_event event;
      std::memcpy(&event, buffer + at, sizeof event);
      if (event.mask & IN_OPEN) ++external_opens_;
      if (event.mask & IN_CLOSE) external_opens_ = std::max(external_opens_ - 1, 0);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event.len);
    }
  }
  if (before > 0 && external_opens_ == 0) {
    // The last client left: what it did not read is nobody's now.
    discard_output();
    tcflush(slave_.get(), TCIFLUSH);
    notify(CharEvent::kClosed);
  } else if (before == 0 && external_opens_ > 0) {
    notify(CharEvent::kOpened);
  }
  return true;
}

}  // namespace cr16::system
