#include "migration/transport.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>

#include "io/channel_command.h"
#include "io/channel_file.h"
#include "io/channel_socket.h"
#include "io/channel_tls.h"

namespace cr16::migration {
namespace {

constexpr const char* kKnownTransports = "tcp:HOST:PORT, unix:PATH, exec:CMD, file:PATH, fd:NAME";

Expected<uint64_t> parse_offset(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return Error("bad offset '" + std::string(text) + "'");
  }
  return value;
}

/// How long an exec: command may take to exit after its input ended.
constexpr std::chrono::milliseconds kCommandExitGrace{30'000};

}  // namespace

Expected<MigrationUri> parse_migration_uri(std::string_view text) {
  MigrationUri uri;
  uri.text = text;
  const std::string bad = "migration URI '" + std::string(text) + "'";
  if (text.starts_with("tcp:") || text.starts_with("unix:")) {
    Expected<io::SocketAddress> address = io::SocketAddress::parse(text);
    if (!address) return Error(bad + ": " + address.error().message());
    uri.kind = text.starts_with("tcp:") ? MigrationUri::Kind::kTcp : MigrationUri::Kind::kUnix;
    uri.address = std::move(*address);
    return uri;
  }
  if (text.starts_with("exec:")) {
    uri.kind = MigrationUri::Kind::kExec;
    uri.command = text.substr(5);
    if (uri.command.empty()) return Error(bad + ": exec: needs a command");
    return uri;
  }
  if (text.starts_with("file:")) {
    uri.kind = MigrationUri::Kind::kFile;
    std::string_view rest = text.substr(5);
    // file:PATH[,offset=N]: the last ",offset=" belongs to the URI.
    if (size_t comma = rest.rfind(",offset="); comma != std::string_view::npos) {
      Expected<uint64_t> offset = parse_offset(rest.substr(comma + 8));
      if (!offset) return Error(bad + ": " + offset.error().message());
      uri.offset = *offset;
      rest = rest.substr(0, comma);
    }
    uri.path = rest;
    if (uri.path.empty()) return Error(bad + ": file: needs a path");
    return uri;
  }
  if (text.starts_with("fd:")) {
    uri.kind = MigrationUri::Kind::kFd;
    uri.fd_name = text.substr(3);
    if (uri.fd_name.empty()) return Error(bad + ": fd: needs a name");
    return uri;
  }
  return Error(bad + ": unknown transport (" + kKnownTransports + ")");
}

Expected<std::unique_ptr<io::Channel>> open_stream_file(const MigrationUri& uri, int flags) {
  const std::string what = "file:" + uri.path;
  const auto not_regular = [&] {
    return Error(what + ": not a regular file (use exec: or fd: for pipes and devices)");
  };
  struct stat info {};
  if (::stat(uri.path.c_str(), &info) == 0 && !S_ISREG(info.st_mode)) return not_regular();
  Expected<std::unique_ptr<io::FileChannel>> file =
      io::FileChannel::open(uri.path, flags | O_NONBLOCK | O_NOCTTY, 0600);
  if (!file) return file.error().with_context(what);
  // Checked again on what was opened: the path may have changed meanwhile.
  if (::fstat((*file)->fd(), &info) != 0 || !S_ISREG(info.st_mode)) return not_regular();
  if (Error error = (*file)->set_blocking(true); !error.ok()) return error.with_context(what);
  if (Expected<uint64_t> at = (*file)->seek(static_cast<int64_t>(uri.offset), SEEK_SET); !at) {
    return at.error().with_context(what);
  }
  return std::unique_ptr<io::Channel>(std::move(*file));
}

Expected<int> inherited_fd(const std::string& name) {
  int number = -1;
  auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), number);
  if (name.empty() || error != std::errc() || end != name.data() + name.size() || number < 0) {
    return Error("fd:" + name +
                 ": no file descriptor of that name (give a number, or pass one "
                 "to the monitor with getfd)");
  }
  if (fcntl(number, F_GETFD) < 0) return Error::from_errno("fd:" + name, errno);
  int copy = fcntl(number, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return Error::from_errno("fd:" + name, errno);
  return copy;
}

namespace {

// Ends a channel after its end record, by what it is.
Error finish_any_channel(io::Channel& channel) {
  if (auto* tls = dynamic_cast<io::TlsChannel*>(&channel)) {
    // close_notify: the destination can tell a complete stream from a cut one.
    return tls->bye(nullptr);
  }
  if (auto* socket = dynamic_cast<io::SocketChannel*>(&channel)) {
    return socket->shutdown(io::ShutdownDirection::kWrite);
  }
  if (auto* command = dynamic_cast<io::CommandChannel*>(&channel)) {
    (void)command->shutdown(io::ShutdownDirection::kWrite);
    if (Error error = command->close_with_grace(kCommandExitGrace); !error.ok()) return error;
    if (std::optional<int> code = command->exit_code(); code && *code != 0) {
      return Error("the exec: command exited with status " + std::to_string(*code));
    }
    if (std::optional<int> signal = command->exit_signal()) {
      return Error("the exec: command was killed by signal " + std::to_string(*signal));
    }
    return Error();
  }
  if (auto* file = dynamic_cast<io::FileChannel*>(&channel)) {
    struct stat info;
    if (fstat(file->fd(), &info) != 0 || !S_ISREG(info.st_mode)) return Error();
    Expected<uint64_t> end = file->seek(0, SEEK_CUR);
    if (!end) return end.error();
    // Nothing of an older, longer stream may stay behind the new one.
    if (ftruncate(file->fd(), static_cast<off_t>(*end)) != 0) {
      return Error::from_errno("truncating the migration file", errno);
    }
    if (fdatasync(file->fd()) != 0) return Error::from_errno("syncing the migration file", errno);
  }
  return Error();
}

}  // namespace

ChannelFinisher channel_finisher(MigrationUri::Kind, bool) {
  return finish_any_channel;
}

bool is_socket_channel(io::Channel& channel) {
  if (auto* tls = dynamic_cast<io::TlsChannel*>(&channel)) return is_socket_channel(tls->master());
  return dynamic_cast<io::SocketChannel*>(&channel) != nullptr;
}

// ---- OutgoingConnector

OutgoingConnector::OutgoingConnector(io::Loop& loop, MigrationUri uri, TlsSettings tls,
                                     unsigned multifd, bool zero_copy, FdLookup fd_lookup)
    : loop_(loop),
      uri_(std::move(uri)),
      tls_(std::move(tls)),
      multifd_(multifd),
      zero_copy_(zero_copy),
      fd_lookup_(fd_lookup ? std::move(fd_lookup) : FdLookup(inherited_fd)) {}

OutgoingConnector::~OutgoingConnector() {
  cancel();
}

void OutgoingConnector::cancel() {
  finished_ = true;
  *alive_ = false;
  task_.cancel();
  handshaking_.reset();  // cancels a running handshake
  channels_.clear();
  connected_sockets_.clear();
}

void OutgoingConnector::start(Done done) {
  done_ = std::move(done);
  std::weak_ptr<bool> alive = alive_;
  loop_.schedule([this, alive] {
    if (auto held = alive.lock(); held && *held) connect_next();
  });
}

void OutgoingConnector::finish(Expected<std::vector<SenderChannel>> result) {
  if (finished_) return;
  finished_ = true;
  Done done = std::move(done_);
  done(std::move(result));
}

void OutgoingConnector::connect_next() {
  if (finished_) return;
  if (channels_.size() == size_t{multifd_} + 1) {
    finish(std::move(channels_));
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  auto deliver = [this, alive](Expected<std::unique_ptr<io::Channel>> channel) {
    if (auto held = alive.lock(); held && *held) connected(std::move(channel));
  };
  switch (uri_.kind) {
    case MigrationUri::Kind::kTcp:
    case MigrationUri::Kind::kUnix: {
      if (!connected_sockets_.empty()) {
        std::unique_ptr<io::Channel> next = std::move(connected_sockets_.front());
        connected_sockets_.pop_front();
        return connected(std::move(next));
      }
      // Every channel in one trip to a worker thread (connect may block).
      using Sockets = std::vector<std::unique_ptr<io::SocketChannel>>;
      const io::SocketAddress address = uri_.address;
      const size_t count = size_t{multifd_} + 1;
      task_ = io::run_task<Sockets>(
          loop_,
          [address, count](const io::CancelToken& token) -> Expected<Sockets> {
            Sockets sockets;
            for (size_t i = 0; i < count && !token.cancelled(); ++i) {
              Expected<std::unique_ptr<io::SocketChannel>> socket =
                  io::SocketChannel::connect(address);
              if (!socket) {
                return i == 0 ? socket.error()
                              : socket.error().with_context("multifd channel " +
                                                            std::to_string(i - 1));
              }
              sockets.push_back(std::move(*socket));
            }
            return sockets;
          },
          [this, alive, deliver](Expected<Sockets> sockets) mutable {
            if (auto held = alive.lock(); !held || !*held) return;
            if (!sockets) return deliver(sockets.error());
            for (auto& socket : *sockets) connected_sockets_.push_back(std::move(socket));
            connect_next();
          });
      return;
    }
    case MigrationUri::Kind::kExec: {
      Expected<std::unique_ptr<io::CommandChannel>> command =
          io::CommandChannel::spawn({"/bin/sh", "-c", uri_.command});
      if (!command) return connected(command.error().with_context("exec:" + uri_.command));
      return connected(std::unique_ptr<io::Channel>(std::move(*command)));
    }
    case MigrationUri::Kind::kFile:
      return connected(open_stream_file(uri_, O_WRONLY | O_CREAT));
    case MigrationUri::Kind::kFd: {
      Expected<int> fd = fd_lookup_(uri_.fd_name);
      if (!fd) return connected(fd.error());
      struct stat info;
      if (fstat(*fd, &info) == 0 && S_ISSOCK(info.st_mode)) {
        Expected<std::unique_ptr<io::SocketChannel>> socket = io::SocketChannel::from_fd(*fd);
        if (!socket) return connected(socket.error().with_context("fd:" + uri_.fd_name));
        return connected(std::unique_ptr<io::Channel>(std::move(*socket)));
      }
      Expected<std::unique_ptr<io::FileChannel>> file = io::FileChannel::from_fd(*fd);
      if (!file) return connected(file.error().with_context("fd:" + uri_.fd_name));
      return connected(std::unique_ptr<io::Channel>(std::move(*file)));
    }
  }
}

void OutgoingConnector::connected(Expected<std::unique_ptr<io::Channel>> channel) {
  if (finished_) return;
  const bool page_channel = !channels_.empty();
  const std::string which =
      page_channel ? "multifd channel " + std::to_string(channels_.size() - 1) : "";
  if (!channel) {
    return finish(which.empty() ? channel.error() : channel.error().with_context(which));
  }
  (*channel)->set_name("migration" + (which.empty() ? "" : " " + which));
  // Small records (end of pass, the device state) and the destination's
  // answers must not wait for Nagle's algorithm.
  (void)(*channel)->set_delay(false);
  if (page_channel && zero_copy_ && !(*channel)->has_feature(io::kFeatureWriteZeroCopy)) {
    return finish(Error("zero-copy-send: the kernel refused SO_ZEROCOPY on " + which +
                            " (needs Linux 4.14+ and a TCP connection)",
                        ENOTSUP));
  }
  if (!tls_.credentials) {
    channels_.push_back({std::move(*channel), channel_finisher(uri_.kind, false)});
    return connect_next();
  }
  std::string hostname = tls_.hostname;
  if (hostname.empty() && uri_.kind == MigrationUri::Kind::kTcp) hostname = uri_.address.host;
  Expected<std::unique_ptr<io::TlsChannel>> tls =
      io::TlsChannel::create_client(std::move(*channel), tls_.credentials, hostname);
  if (!tls) return finish(tls.error().with_context("TLS"));
  io::TlsChannel* raw = tls->get();
  handshaking_ = std::move(*tls);
  std::weak_ptr<bool> alive = alive_;
  raw->start_handshake(loop_, [this, alive, which](Error error) {
    if (auto held = alive.lock(); !held || !*held) return;
    if (!error.ok()) {
      handshaking_.reset();
      Error failure = error.with_context("TLS handshake");
      return finish(which.empty() ? failure : failure.with_context(which));
    }
    channels_.push_back({std::move(handshaking_), channel_finisher(uri_.kind, true)});
    connect_next();
  });
}

}  // namespace cr16::migration
