// The destination of a live migration (-incoming URI, migrate-incoming):
// listens on tcp:/unix: (accepting the main channel and, with multifd, the
// page channels; TLS when asked), or reads file:, exec: or fd:, and feeds
// every connection to an IncomingLoader from the loop (non-blocking reads,
// a bounded amount per turn so the monitor stays responsive). When the
// stream is complete and every connection reached its end of file (with
// close_notify over TLS), the state is committed and `finished` is told;
// any error ends it with `finished(error)`.
//
// Machine thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/channel.h"
#include "io/loop.h"
#include "io/net_listener.h"
#include "migration/incoming_loader.h"
#include "migration/migration_types.h"
#include "migration/transport.h"
#include "util/error.h"

namespace cr16::migration {

class IncomingMigration {
 public:
  struct Listeners {
    std::function<void(MigrationStatus status)> status;  // setup, active, completed, failed
    /// Once: ok when the stream loaded and the state was committed.
    std::function<void(Error error)> finished;
  };

  /// Asked for the TLS settings when a connection arrives (so that
  /// tls-creds may be set after -incoming, before the source connects).
  using TlsProvider = std::function<Expected<TlsSettings>()>;

  IncomingMigration(io::Loop& loop, LoadTarget target, MigrationUri uri, TlsProvider tls,
                    FdLookup fd_lookup, Listeners listeners);
  /// Stops listening and reading; closes every connection.
  ~IncomingMigration();
  IncomingMigration(const IncomingMigration&) = delete;
  IncomingMigration& operator=(const IncomingMigration&) = delete;

  /// Listens or opens the source (errors at once: an address in use, a
  /// missing file, a command that cannot start). Status setup.
  Error start();

  MigrationStatus status() const { return status_; }
  MigrationStats stats() const;
  /// Where it listens (tcp:HOST:PORT with the real port, unix:PATH), or "".
  std::string listen_address() const;
  /// The loader (touched pages after completion, for the flash file).
  const IncomingLoader& loader() const { return *loader_; }

 private:
  struct Connection;
  void add_channel(std::unique_ptr<io::Channel> channel);
  void accepted(std::unique_ptr<io::Channel> channel);
  bool read_some(Connection& connection);
  void update_watches();
  void check_complete();
  /// Writes one return-path byte to the source when it asked for answers.
  Error answer(uint8_t byte);
  void fail(Error error);
  void set_status(MigrationStatus status);
  int64_t now_us() const;

  io::Loop& loop_;
  uint64_t ram_total_;  // bytes of RAM and flash the stream fills (query-migrate's ram.total)
  std::unique_ptr<IncomingLoader> loader_;
  MigrationUri uri_;
  TlsProvider tls_;
  FdLookup fd_lookup_;
  Listeners listeners_;
  std::unique_ptr<io::NetListener> listener_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<std::unique_ptr<io::Channel>> handshaking_;
  MigrationStatus status_ = MigrationStatus::kNone;
  std::string error_;
  int64_t start_us_ = 0;
  int64_t end_us_ = 0;
  size_t accepted_ = 0;
  bool done_ = false;
  bool acknowledged_ = false;
  uint32_t answered_passes_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

/// Writes the flash pages a load touched into the flash's backing file
/// (-pflash), so the loaded contents become the file's too: for each
/// section whose object is a FlashDevice with a backing file, the touched
/// pages of the RAM block at the flash's base. `touched` is
/// IncomingLoader::touched_pages() over `blocks`.
void write_back_loaded_flash(std::span<const StateSection> sections,
                             std::span<const RamBlock> blocks,
                             const std::vector<std::vector<bool>>& touched);

}  // namespace cr16::migration
