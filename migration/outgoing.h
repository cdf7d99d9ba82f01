// The source of a live migration: opens the channels (setup), sends RAM in
// precopy passes over the dirty log while the guest runs (active), decides
// after each pass whether the pages still dirty fit in the downtime limit,
// then stops the VM and sends the rest with the clock, CPU and device state
// (device), and ends the stream (completed). A failure or a cancel at any
// point leaves the VM as it was: running again if it ran, its state
// untouched (the source never changes guest state while migrating).
//
// Runs on the machine thread; the page data leaves on PageSender's threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hw/address_space.h"
#include "io/loop.h"
#include "migration/migration_types.h"
#include "migration/page_sender.h"
#include "migration/precopy_policy.h"
#include "migration/ram_blocks.h"
#include "migration/transport.h"
#include "util/error.h"
#include "util/state.h"

namespace cr16::migration {

/// What a migration needs from the machine (system/ implements it).
/// Machine thread only.
class MigrationHost {
 public:
  virtual ~MigrationHost() = default;
  virtual io::Loop& loop() = 0;
  /// The guest address space: RAM blocks and the dirty log.
  virtual AddressSpace& memory() = 0;
  /// Every state section, the virtual clock's first.
  virtual std::vector<StateSection> state_sections() = 0;
  /// The board type's name and the CPU model's name (the destination must match).
  virtual std::string board_name() const = 0;
  virtual std::string cpu_name() const = 0;
  /// Stops the VM for the last pass (run state finish-migrate), remembering
  /// how it was. Virtual time stands still from here.
  virtual Error stop_vm() = 0;
  /// Undoes stop_vm() after a failure or cancel: running again if it ran.
  virtual void resume_vm() = 0;
  /// The migration completed: run state postmigrate.
  virtual void vm_migrated() = 0;
  /// Throttles the guest CPU (auto-converge): the machine sleeps this
  /// percentage of the time. 0 ends it.
  virtual void set_cpu_throttle(unsigned percent) = 0;
};

class OutgoingMigration {
 public:
  struct Listeners {
    std::function<void(MigrationStatus status)> status;  // every change
    std::function<void(uint32_t pass)> pass;             // a pass begins (1, 2, ...)
  };

  OutgoingMigration(MigrationHost& host, MigrationUri uri, MigrationParameters parameters,
                    MigrationCapabilities capabilities, TlsSettings tls, FdLookup fd_lookup,
                    Listeners listeners);
  /// Cancels a migration still running (the VM resumes) and joins threads.
  ~OutgoingMigration();
  OutgoingMigration(const OutgoingMigration&) = delete;
  OutgoingMigration& operator=(const OutgoingMigration&) = delete;

  /// Starts (status setup). Everything else happens on the loop.
  void start();
  /// Cancels: status cancelling, then cancelled once the threads let go;
  /// the VM runs again if it ran. Nothing happens after the end.
  void cancel();
  /// New max-bandwidth and downtime-limit take effect at once.
  void set_parameters(const MigrationParameters& parameters);

  MigrationStatus status() const { return status_; }
  /// The statistics as of now.
  MigrationStats stats() const;

 private:
  void set_status(MigrationStatus status);
  void channels_ready(Expected<std::vector<SenderChannel>> channels);
  void start_pass(std::vector<PageRef> pages, bool final, std::vector<uint8_t> epilogue);
  void pass_done(PassResult result);
  void begin_completion(std::vector<PageRef> pending);
  void complete();
  void end_with(Error error);
  void clean_up();
  std::vector<PageRef> dirty_pages();
  std::vector<PageRef> all_pages() const;
  int64_t now_us() const;

  MigrationHost& host_;
  MigrationUri uri_;
  MigrationParameters parameters_;
  MigrationCapabilities capabilities_;
  TlsSettings tls_;
  FdLookup fd_lookup_;
  Listeners listeners_;
  PrecopyPolicy policy_;

  MigrationStatus status_ = MigrationStatus::kNone;
  std::unique_ptr<OutgoingConnector> connector_;
  std::unique_ptr<PageSender> sender_;
  std::vector<RamBlock> blocks_;
  bool dirty_log_started_ = false;
  bool vm_stopped_ = false;
  bool cancel_requested_ = false;
  uint32_t pass_ = 0;
  size_t pass_pages_ = 0;  // pages of the pass being sent
  std::string error_;

  // Statistics.
  int64_t start_us_ = 0;
  int64_t setup_us_ = 0;
  int64_t end_us_ = 0;
  int64_t stop_us_ = 0;
  int64_t downtime_us_ = 0;
  int64_t expected_downtime_us_ = 0;
  uint64_t bytes_before_stop_ = 0;
  uint64_t last_remaining_ = 0;
  uint64_t dirty_pages_rate_ = 0;
  double mbps_ = 0;
  SendProgress final_progress_;
  ZeroCopyCounters final_zero_copy_;
  unsigned throttle_ = 0;
};

}  // namespace cr16::migration
