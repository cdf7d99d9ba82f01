#include "system/migration_control.h"

#include <unistd.h>

#include "io/tls_credentials.h"
#include "migration/ram_blocks.h"
#include "migration/state_sections.h"
#include "system/monitor/events.h"
#include "system/snapshot_control.h"

namespace cr16::system {

using migration::MigrationStatus;

MigrationControl::MigrationControl(MachineControl& control, MigrationMachine& machine,
                                   std::vector<TlsCredsSpec> tls_objects)
    : control_(control), machine_(machine), tls_objects_(std::move(tls_objects)) {}

MigrationControl::~MigrationControl() {
  outgoing_.reset();  // cancels and joins its threads
  incoming_.reset();
  for (const auto& [name, fd] : fds_) ::close(fd);
}

void MigrationControl::emit_status(MigrationStatus status) {
  control_.events().emit(
      "MIGRATION",
      monitor::Value::dict().set("status", monitor::Value::string(migration_status_name(status))));
}

void MigrationControl::add_fd(const std::string& name, int fd) {
  if (auto it = fds_.find(name); it != fds_.end()) ::close(it->second);
  fds_[name] = fd;
}

bool MigrationControl::remove_fd(const std::string& name) {
  auto it = fds_.find(name);
  if (it == fds_.end()) return false;
  ::close(it->second);
  fds_.erase(it);
  return true;
}

Expected<int> MigrationControl::lookup_fd(const std::string& name) {
  if (auto it = fds_.find(name); it != fds_.end()) {
    // The transport owns what it gets; the name is used up, as in QEMU.
    const int fd = it->second;
    fds_.erase(it);
    return fd;
  }
  return migration::inherited_fd(name);
}

Expected<migration::TlsSettings> MigrationControl::tls_settings(bool server) {
  migration::TlsSettings settings;
  if (parameters_.tls_creds.empty()) return settings;
  const TlsCredsSpec* spec = nullptr;
  for (const TlsCredsSpec& object : tls_objects_) {
    if (object.id == parameters_.tls_creds) spec = &object;
  }
  if (spec == nullptr) {
    return Error("tls-creds '" + parameters_.tls_creds + "': no tls-creds-x509 object of that id");
  }
  if (spec->server != server) {
    return Error("tls-creds '" + spec->id +
                 "' has endpoint=" + (spec->server ? "server" : "client") +
                 "; this side needs endpoint=" + (server ? "server" : "client"));
  }
  Expected<std::shared_ptr<const io::TlsCredentials>> credentials = io::TlsCredentials::load_x509(
      spec->dir, server ? io::TlsEndpoint::kServer : io::TlsEndpoint::kClient, spec->verify_peer);
  if (!credentials) return credentials.error().with_context("tls-creds '" + spec->id + "'");
  settings.credentials = std::move(*credentials);
  settings.hostname = parameters_.tls_hostname;
  return settings;
}

// ---- The source

Error MigrationControl::migrate(std::string_view text) {
  if (outgoing_ && migration_status_is_active(outgoing_->status())) {
    return Error("There's a migration process in progress");
  }
  if (incoming_ || incoming_deferred_ || control_.run_state() == RunState::kInMigrate) {
    return Error("this VM waits for an incoming migration; it cannot migrate out");
  }
  if (SnapshotControl* snapshots = control_.snapshots();
      snapshots != nullptr && snapshots->busy()) {
    return Error("a snapshot operation is running: migrate when it ends");
  }
  Expected<migration::MigrationUri> uri = migration::parse_migration_uri(text);
  if (!uri) return uri.error();
  if (capabilities_.multifd && !uri->is_socket()) {
    return Error("multifd needs a tcp: or unix: URI (not '" + uri->text + "')");
  }
  if (capabilities_.zero_copy_send) {
    if (!capabilities_.multifd) return Error("zero-copy-send requires the multifd capability");
    if (uri->kind != migration::MigrationUri::Kind::kTcp) {
      return Error("zero-copy-send needs a tcp: URI (MSG_ZEROCOPY is a TCP feature)");
    }
    if (!parameters_.tls_creds.empty()) {
      return Error("zero-copy-send cannot be used with TLS (tls-creds is set)");
    }
  }
  if (!parameters_.tls_creds.empty() && uri->kind == migration::MigrationUri::Kind::kFile) {
    return Error("TLS is not available for file: migration");
  }
  if (Error error = migration::check_state_sections(machine_.state_sections()); !error.ok()) {
    return Error(error.message() + ": it blocks migration");
  }
  Expected<migration::TlsSettings> tls = tls_settings(false);
  if (!tls) return tls.error();
  migration::OutgoingMigration::Listeners listeners;
  listeners.status = [this](MigrationStatus status) { emit_status(status); };
  listeners.pass = [this](uint32_t pass) {
    control_.events().emit("MIGRATION_PASS",
                           monitor::Value::dict().set("pass", monitor::Value::integer(pass)));
  };
  outgoing_.reset();
  outgoing_ = std::make_unique<migration::OutgoingMigration>(
      machine_, std::move(*uri), parameters_, capabilities_, std::move(*tls),
      [this](const std::string& name) { return lookup_fd(name); }, std::move(listeners));
  outgoing_->start();
  return Error();
}

Error MigrationControl::cancel() {
  if (outgoing_) outgoing_->cancel();
  return Error();
}

// ---- The destination

Error MigrationControl::start_incoming(std::string_view uri) {
  if (Error error = machine_.enter_incoming(); !error.ok()) return error;
  if (uri == "defer") {
    incoming_deferred_ = true;
    return Error();
  }
  return begin_incoming(uri);
}

Error MigrationControl::migrate_incoming(std::string_view uri) {
  if (!incoming_deferred_) {
    return Error(incoming_ ? "an incoming migration was already started"
                           : "migrate-incoming needs the VM started with -incoming defer");
  }
  if (uri == "defer") return Error("migrate-incoming needs a URI, not 'defer'");
  if (Error error = begin_incoming(uri); !error.ok()) return error;
  incoming_deferred_ = false;
  return Error();
}

Error MigrationControl::begin_incoming(std::string_view text) {
  Expected<migration::MigrationUri> uri = migration::parse_migration_uri(text);
  if (!uri) return uri.error().with_context("-incoming");
  migration::LoadTarget target;
  target.memory = &machine_.memory();
  target.blocks = migration::ram_blocks(machine_.memory());
  target.sections = machine_.state_sections();
  target.board = machine_.board_name();
  target.cpu = machine_.cpu_name();
  migration::IncomingMigration::Listeners listeners;
  listeners.status = [this](MigrationStatus status) { emit_status(status); };
  listeners.finished = [this](Error error) { incoming_finished(std::move(error)); };
  auto incoming = std::make_unique<migration::IncomingMigration>(
      machine_.loop(), std::move(target), std::move(*uri), [this] { return tls_settings(true); },
      [this](const std::string& name) { return lookup_fd(name); }, std::move(listeners));
  incoming_ = std::move(incoming);
  if (Error error = incoming_->start(); !error.ok()) {
    incoming_.reset();
    return error;
  }
  return Error();
}

void MigrationControl::incoming_finished(Error error) {
  if (!error.ok()) {
    machine_.incoming_failed(error.message());
    return;
  }
  // The loaded flash array is the new truth: a -pflash file gets it too.
  migration::write_back_loaded_flash(machine_.state_sections(),
                                     migration::ram_blocks(machine_.memory()),
                                     incoming_->loader().touched_pages());
  machine_.incoming_completed();
}

migration::MigrationStats MigrationControl::query() const {
  if (incoming_) return incoming_->stats();
  if (outgoing_) return outgoing_->stats();
  migration::MigrationStats stats;
  stats.incoming = incoming_deferred_;
  if (incoming_deferred_) stats.status = MigrationStatus::kSetup;
  return stats;
}

// ---- Parameters and capabilities

Error MigrationControl::set_parameters(const MigrationParameterChanges& changes) {
  const bool active = outgoing_ && migration_status_is_active(outgoing_->status());
  migration::MigrationParameters next = parameters_;
  auto percent = [](const char* name, uint64_t value, uint64_t low, uint64_t high) -> Error {
    if (value < low || value > high) {
      return Error(std::string("Parameter '") + name + "' expects a value between " +
                   std::to_string(low) + " and " + std::to_string(high));
    }
    return Error();
  };
  if (changes.max_bandwidth) {
    if (*changes.max_bandwidth > (uint64_t{1} << 50)) {
      return Error("Parameter 'max-bandwidth' expects at most 1 PiB/s");
    }
    next.max_bandwidth = *changes.max_bandwidth;
  }
  if (changes.downtime_limit_ms) {
    if (Error error = percent("downtime-limit", *changes.downtime_limit_ms, 0,
                              migration::kMaxDowntimeLimitMs);
        !error.ok()) {
      return Error(error.message() + " ms");
    }
    next.downtime_limit_ms = *changes.downtime_limit_ms;
  }
  if (changes.multifd_channels) {
    if (Error error = percent("multifd-channels", *changes.multifd_channels, 1,
                              migration::kMaxMultifdChannelsParameter);
        !error.ok()) {
      return error;
    }
    next.multifd_channels = static_cast<uint32_t>(*changes.multifd_channels);
  }
  if (changes.throttle_initial) {
    if (Error error = percent("cpu-throttle-initial", *changes.throttle_initial, 1, 99);
        !error.ok()) {
      return error;
    }
    next.throttle_initial = static_cast<uint32_t>(*changes.throttle_initial);
  }
  if (changes.throttle_increment) {
    if (Error error = percent("cpu-throttle-increment", *changes.throttle_increment, 1, 100);
        !error.ok()) {
      return error;
    }
    next.throttle_increment = static_cast<uint32_t>(*changes.throttle_increment);
  }
  if (changes.max_cpu_throttle) {
    if (Error error = percent("max-cpu-throttle", *changes.max_cpu_throttle, 1, 99); !error.ok()) {
      return error;
    }
    next.max_cpu_throttle = static_cast<uint32_t>(*changes.max_cpu_throttle);
  }
  if (changes.tls_creds) {
    if (!changes.tls_creds->empty()) {
      bool known = false;
      for (const TlsCredsSpec& object : tls_objects_)
        known = known || object.id == *changes.tls_creds;
      if (!known) {
        return Error("Parameter 'tls-creds': no tls-creds-x509 object with id '" +
                     *changes.tls_creds + "'");
      }
    }
    next.tls_creds = *changes.tls_creds;
  }
  if (changes.tls_hostname) next.tls_hostname = *changes.tls_hostname;
  if (active &&
      (next.multifd_channels != parameters_.multifd_channels ||
       next.tls_creds != parameters_.tls_creds || next.tls_hostname != parameters_.tls_hostname)) {
    return Error("multifd-channels, tls-creds and tls-hostname cannot change during a migration");
  }
  parameters_ = std::move(next);
  if (active) outgoing_->set_parameters(parameters_);
  return Error();
}

Error MigrationControl::set_capabilities(std::span<const std::pair<std::string, bool>> changes) {
  if ((outgoing_ && migration_status_is_active(outgoing_->status())) ||
      (incoming_ && migration_status_is_active(incoming_->status()))) {
    return Error("There's a migration process in progress");
  }
  migration::MigrationCapabilities next = capabilities_;
  for (const auto& [name, value] : changes) {
    bool* capability = migration::find_capability(next, name);
    if (capability == nullptr) {
      std::string known;
      for (std::string_view known_name : migration::kCapabilityNames) {
        known += (known.empty() ? "" : ", ") + std::string(known_name);
      }
      return Error("unknown capability '" + name + "' (" + known + ")");
    }
    *capability = value;
  }
  if (next.zero_copy_send && !next.multifd) {
    return Error("zero-copy-send requires the multifd capability");
  }
  capabilities_ = next;
  return Error();
}

}  // namespace cr16::system
