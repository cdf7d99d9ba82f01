// Where a migration stream goes or comes from: the URIs QEMU users know
// (tcp:HOST:PORT, unix:PATH, exec:CMD, file:PATH[,offset=N], fd:NAME), and
// opening their channels — connecting (on a worker thread), TLS on top
// (handshake driven by the loop), the multifd page channels, zero-copy.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/channel.h"
#include "io/loop.h"
#include "io/socket_address.h"
#include "io/task.h"
#include "io/tls_credentials.h"
#include "migration/page_sender.h"
#include "util/error.h"

namespace cr16::migration {

/// A parsed migration URI.
struct MigrationUri {
  enum class Kind : uint8_t { kTcp, kUnix, kExec, kFile, kFd };
  Kind kind = Kind::kTcp;
  io::SocketAddress address;  // kTcp, kUnix
  std::string command;        // kExec: run by /bin/sh -c
  std::string path;           // kFile
  uint64_t offset = 0;        // kFile: where the stream starts in the file
  std::string fd_name;        // kFd: a name given to the monitor, or a number
  std::string text;           // as written

  /// True for tcp: and unix: (what multifd needs).
  bool is_socket() const { return kind == Kind::kTcp || kind == Kind::kUnix; }
};

/// Parses a URI. Errors name what was wrong ("migration URI 'ftp:x':
/// unknown transport (tcp:, unix:, exec:, file:, fd:)").
Expected<MigrationUri> parse_migration_uri(std::string_view text);

/// Turns an fd:NAME into an open file descriptor the caller then owns:
/// the monitor's named fds, or a number inherited from the parent.
using FdLookup = std::function<Expected<int>(const std::string& name)>;

/// The default FdLookup: NAME must be a decimal fd number that is open;
/// it is duplicated.
Expected<int> inherited_fd(const std::string& name);

/// Opens the file of a file: URI (`flags`: O_RDONLY for the destination,
/// O_WRONLY | O_CREAT for the source) positioned at its offset. Only a
/// regular file is accepted, and open() never waits: a FIFO would block the
/// machine thread until a peer appeared, and a device is no place for a
/// stream (exec: and fd: take pipes).
Expected<std::unique_ptr<io::Channel>> open_stream_file(const MigrationUri& uri, int flags);

/// TLS for a migration: credentials and, for a client, the name the
/// server's certificate must carry.
struct TlsSettings {
  std::shared_ptr<const io::TlsCredentials> credentials;  // nullptr: no TLS
  std::string hostname;
};

/// Opens the channels of an outgoing migration: one main channel and
/// `multifd` page channels (socket URIs only). Everything that can wait
/// (connect, TLS handshakes) runs without blocking the loop; `done` runs on
/// the loop with the channels, each with its finisher (close_notify,
/// shutdown, truncation of a file, the exec command's exit status), or an
/// Error. cancel() (or destroying the connector) ends it: `done` is then
/// not called. Loop thread only.
class OutgoingConnector {
 public:
  using Done = std::function<void(Expected<std::vector<SenderChannel>> channels)>;

  OutgoingConnector(io::Loop& loop, MigrationUri uri, TlsSettings tls, unsigned multifd,
                    bool zero_copy, FdLookup fd_lookup);
  ~OutgoingConnector();
  OutgoingConnector(const OutgoingConnector&) = delete;
  OutgoingConnector& operator=(const OutgoingConnector&) = delete;

  /// Starts; `done` is called once, later (never from inside start()).
  void start(Done done);
  void cancel();

 private:
  void connect_next();
  void connected(Expected<std::unique_ptr<io::Channel>> channel);
  void finish(Expected<std::vector<SenderChannel>> result);

  io::Loop& loop_;
  MigrationUri uri_;
  TlsSettings tls_;
  unsigned multifd_;
  bool zero_copy_;
  FdLookup fd_lookup_;
  Done done_;
  std::vector<SenderChannel> channels_;
  std::deque<std::unique_ptr<io::Channel>> connected_sockets_;  // not set up yet
  io::TaskHandle task_;
  std::unique_ptr<io::Channel> handshaking_;  // a TLS channel whose handshake runs
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool finished_ = false;
};

/// The finisher of a channel that was opened for URI kind `kind`.
ChannelFinisher channel_finisher(MigrationUri::Kind kind, bool tls);

/// True for a socket, or TLS over one: a channel the destination can
/// answer on.
bool is_socket_channel(io::Channel& channel);

}  // namespace cr16::migration
