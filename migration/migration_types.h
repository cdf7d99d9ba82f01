// The vocabulary of live migration shared by the source and destination
// drivers and the monitor: status (QEMU's names), parameters and
// capabilities (QEMU's names and defaults), and the statistics
// query-migrate reports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cr16::migration {

/// QEMU's MigrationStatus values that this emulator uses.
enum class MigrationStatus : uint8_t {
  kNone,        // "none": no migration yet
  kSetup,       // "setup": opening the channels
  kActive,      // "active": precopy passes while the guest runs
  kDevice,      // "device": the VM is stopped, the rest and the device state go
  kCompleted,   // "completed"
  kFailed,      // "failed"
  kCancelling,  // "cancelling"
  kCancelled,   // "cancelled"
};

/// The QEMU name of a status.
const char* migration_status_name(MigrationStatus status);
/// True while a migration runs (setup, active, device, cancelling).
bool migration_status_is_active(MigrationStatus status);

/// Tunables (migrate-set-parameters), with QEMU's defaults.
struct MigrationParameters {
  uint64_t max_bandwidth = uint64_t{128} << 20;  // "max-bandwidth", bytes/s (0: no limit)
  uint64_t downtime_limit_ms = 300;              // "downtime-limit", ms
  uint32_t multifd_channels = 2;                 // "multifd-channels"
  std::string tls_creds;                         // "tls-creds": id of a tls-creds-x509 object
  std::string tls_hostname;                      // "tls-hostname"
  uint32_t throttle_initial = 20;                // "cpu-throttle-initial", percent
  uint32_t throttle_increment = 10;              // "cpu-throttle-increment", percent
  uint32_t max_cpu_throttle = 99;                // "max-cpu-throttle", percent
};

/// Limits the parameters must respect (checked by set_parameters).
inline constexpr uint64_t kMaxDowntimeLimitMs = 2'000'000;  // as QEMU
inline constexpr uint32_t kMaxMultifdChannelsParameter = 16;

/// Capabilities (migrate-set-capabilities), all off by default.
struct MigrationCapabilities {
  bool auto_converge = false;   // "auto-converge"
  bool events = false;          // "events" (MIGRATION events are always emitted here)
  bool multifd = false;         // "multifd"
  bool zero_copy_send = false;  // "zero-copy-send"
};

/// The capability names, in the order query-migrate-capabilities lists them.
inline constexpr std::string_view kCapabilityNames[] = {"auto-converge", "events", "multifd",
                                                        "zero-copy-send"};
/// The capability `name` of `capabilities`, or nullptr for an unknown name.
bool* find_capability(MigrationCapabilities& capabilities, std::string_view name);
bool capability_value(const MigrationCapabilities& capabilities, std::string_view name);

/// What query-migrate reports. Times are microseconds here; the monitor
/// gives QEMU's milliseconds beside them.
struct MigrationStats {
  MigrationStatus status = MigrationStatus::kNone;
  bool incoming = false;    // this is the destination
  std::string error;        // why it failed
  int64_t setup_us = 0;     // channels opened and the first bytes out
  int64_t total_us = 0;     // from the command to the end (or now)
  int64_t downtime_us = 0;  // VM stopped until everything was sent
  int64_t expected_downtime_us = 0;
  uint64_t ram_total = 0;         // bytes of every RAM block
  uint64_t ram_transferred = 0;   // stream bytes so far
  uint64_t ram_remaining = 0;     // dirty bytes not sent yet
  uint64_t normal_pages = 0;      // pages sent with data
  uint64_t zero_pages = 0;        // pages sent as zero records
  uint64_t dirty_pages_rate = 0;  // pages per second the guest dirtied in the last pass
  uint32_t passes = 0;            // passes done (QEMU's dirty-sync-count)
  double mbps = 0;                // throughput of the last pass, megabits per second
  uint64_t multifd_bytes = 0;     // of the transferred bytes, on multifd channels
  uint64_t downtime_bytes = 0;    // sent while the VM was stopped
  uint32_t cpu_throttle_percent = 0;
  // Zero-copy (multifd + zero-copy-send).
  uint64_t zero_copy_sends = 0;
  uint64_t zero_copy_completed = 0;
  uint64_t zero_copy_copied_syncs = 0;  // QEMU's dirty-sync-missed-zero-copy
  uint64_t zero_copy_enobufs = 0;
  uint64_t zero_copy_enobufs_recovered = 0;
  std::string socket_address;  // destination: where it listens
};

}  // namespace cr16::migration
