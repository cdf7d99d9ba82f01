// MigrationControl: live migration as a service of the machine, reached by
// front ends through MachineControl::migration(). It keeps the parameters
// and capabilities (QEMU's names and defaults), the TLS credentials of
// -object tls-creds-x509, starts outgoing migrations (migrate) and incoming
// ones (-incoming, migrate-incoming), cancels, reports (query-migrate), and
// emits MIGRATION ({"status"}) and MIGRATION_PASS ({"pass"}) on the
// machine's event bus. The work itself is migration/'s (outgoing.h,
// incoming.h); see docs/migration.md.
//
// Machine thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "migration/incoming.h"
#include "migration/migration_types.h"
#include "migration/outgoing.h"
#include "system/machine_control.h"
#include "system/options.h"
#include "util/error.h"

namespace cr16::system {

/// What migration needs from the machine beyond MachineControl: the source
/// side (migration::MigrationHost) and the destination's run-state steps.
/// The machine implements it (system/migration_machine.cpp).
class MigrationMachine : public migration::MigrationHost {
 public:
  /// Enters inmigrate: the machine waits for an incoming migration.
  virtual Error enter_incoming() = 0;
  /// The incoming state was loaded: run, or stay paused under -S.
  virtual void incoming_completed() = 0;
  /// The incoming migration failed: one line on stderr naming `why`, and
  /// the process ends with status 1.
  virtual void incoming_failed(const std::string& why) = 0;
};

/// Changes asked for by migrate-set-parameters / migrate_set_parameter;
/// absent members stay as they are.
struct MigrationParameterChanges {
  std::optional<uint64_t> max_bandwidth;
  std::optional<uint64_t> downtime_limit_ms;
  std::optional<uint64_t> multifd_channels;
  std::optional<std::string> tls_creds;
  std::optional<std::string> tls_hostname;
  std::optional<uint64_t> throttle_initial;
  std::optional<uint64_t> throttle_increment;
  std::optional<uint64_t> max_cpu_throttle;
};

class MigrationControl {
 public:
  /// `control` and `machine` must outlive this. `tls_objects` are the
  /// -object tls-creds-x509 specifications (loaded when used).
  MigrationControl(MachineControl& control, MigrationMachine& machine,
                   std::vector<TlsCredsSpec> tls_objects);
  /// Cancels an outgoing migration (the VM resumes) and stops an incoming one.
  ~MigrationControl();
  MigrationControl(const MigrationControl&) = delete;
  MigrationControl& operator=(const MigrationControl&) = delete;

  // ---- The source
  /// Starts migrating to `uri` (status setup; the rest happens on the
  /// loop). Refused with a clear Error: a migration is running, the VM
  /// waits for an incoming one, a bad URI, multifd on a transport other
  /// than tcp:/unix:, zero-copy-send without multifd, over TLS or not on
  /// tcp:, unknown or server-side tls-creds, a device without a state
  /// description.
  Error migrate(std::string_view uri);
  /// migrate_cancel: cancels a running outgoing migration (the VM keeps,
  /// or goes back to, running). Without one, nothing happens.
  Error cancel();

  // ---- The destination
  /// -incoming at start-up: "defer" enters inmigrate and waits for
  /// migrate_incoming; a URI also starts listening (or reading).
  Error start_incoming(std::string_view uri_or_defer);
  /// migrate-incoming: only after -incoming defer, and once.
  Error migrate_incoming(std::string_view uri);

  // ---- Status
  /// query-migrate: the incoming migration's statistics on a destination,
  /// otherwise the last outgoing migration's (status none before any).
  migration::MigrationStats query() const;

  // ---- Parameters and capabilities
  const migration::MigrationParameters& parameters() const { return parameters_; }
  const migration::MigrationCapabilities& capabilities() const { return capabilities_; }
  /// Applies every change or none: ranges (downtime-limit up to 2000000
  /// ms, multifd-channels 1 to 16, throttle percentages), tls-creds must
  /// name a tls-creds-x509 object (or be "" to switch TLS off). During a
  /// migration only max-bandwidth, downtime-limit and the throttle
  /// parameters may change.
  Error set_parameters(const MigrationParameterChanges& changes);
  /// Sets capabilities by name, all or none: unknown names, changes
  /// during a migration, zero-copy-send without multifd are refused.
  Error set_capabilities(std::span<const std::pair<std::string, bool>> changes);

  /// Gives the migration an fd under `name` for fd:NAME (QMP's getfd);
  /// the control owns it. A second fd under one name replaces the first.
  void add_fd(const std::string& name, int fd);
  /// Closes and forgets a named fd; false when unknown.
  bool remove_fd(const std::string& name);

 private:
  Expected<migration::TlsSettings> tls_settings(bool server);
  Expected<int> lookup_fd(const std::string& name);
  void emit_status(migration::MigrationStatus status);
  void incoming_finished(Error error);
  Error begin_incoming(std::string_view uri);

  MachineControl& control_;
  MigrationMachine& machine_;
  std::vector<TlsCredsSpec> tls_objects_;
  migration::MigrationParameters parameters_;
  migration::MigrationCapabilities capabilities_;
  std::unique_ptr<migration::OutgoingMigration> outgoing_;
  std::unique_ptr<migration::IncomingMigration> incoming_;
  bool incoming_deferred_ = false;  // -incoming defer, migrate_incoming not yet given
  std::map<std::string, int> fds_;
};

}  // namespace cr16::system
