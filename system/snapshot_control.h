// SnapshotControl: savevm, loadvm, delvm and "info snapshots" for a running
// machine, as QMP jobs (snapshot-save, snapshot-load, snapshot-delete) and
// as the human monitor's commands that wait for the result. Owned by the
// machine (Machine::Impl), reached through MachineControl::snapshots().
// See docs/snapshots.md.
//
// Where snapshots live: `-snapshot-dir DIR` when given, otherwise
// `IMAGE.snapshots/` beside the flash image (-pflash IMAGE / -drive
// if=pflash,file=IMAGE); with neither there is no store and every command
// says so.
//
// A save stops the VM (run state save-vm), encodes the devices' state on
// the machine thread, hashes and writes guest memory in place on worker
// threads while the main loop keeps serving io (the dirty log shows whether
// anything wrote to it meanwhile; then the save starts over from a copy),
// and lets the VM run again when the snapshot is on disk. A load stops the VM (restore-vm), reads
// and verifies the snapshot on worker threads, checks it against the machine, and only then changes
// anything (memory, every device, the clock; flash contents are written back to the pflash image):
// a snapshot that fails any check leaves the VM exactly as it was, running again if it ran before.
// One snapshot operation runs at a time. Machine thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hw/address_space.h"
#include "io/loop.h"
#include "migration/ram_blocks.h"
#include "migration/snapshot_store.h"
#include "system/jobs.h"
#include "system/machine_control.h"
#include "util/error.h"
#include "util/state.h"

namespace cr16::system {

/// What the service needs from its machine.
struct SnapshotMachine {
  MachineControl* control = nullptr;
  io::Loop* loop = nullptr;
  AddressSpace* memory = nullptr;
  /// The board type ("virt"); a snapshot of another type is refused.
  std::string machine_type;
  /// The state sections to save and load: the virtual clock's first, then
  /// the board's.
  std::function<std::vector<StateSection>()> sections;
  /// The guest's virtual time now (ns).
  std::function<int64_t()> vm_clock_ns;
  /// A load changed [offset, offset+length) of `block` (the flash writes
  /// it back to its image). May be empty.
  std::function<void(const migration::RamBlock& block, uint32_t offset, uint32_t length)>
      memory_loaded;
  /// A load was committed (the machine drops what no longer applies, such
  /// as a vCPU waiting on a host fd). May be empty.
  std::function<void()> state_loaded;
};

/// The snapshot store directory for these options: `snapshot_dir` if not
/// empty, else `flash_path` (the -pflash or -drive if=mtd image) +
/// ".snapshots", else "" (none).
std::string snapshot_store_path(const std::string& snapshot_dir, const std::string& flash_path);

class SnapshotControl {
 public:
  /// `store_path` may be empty (no store: every operation is refused with
  /// a message saying how to get one). `node_names` are the names QMP's
  /// "vmstate" and "devices" arguments may use for the store ("pflash0", "mtd0",
  /// "snapshot-dir").
  SnapshotControl(SnapshotMachine machine, std::string store_path,
                  std::vector<std::string> node_names);
  ~SnapshotControl();
  SnapshotControl(const SnapshotControl&) = delete;
  SnapshotControl& operator=(const SnapshotControl&) = delete;

  /// The store's directory ("" when there is none).
  const std::string& store_path() const { return store_path_; }
  /// The names the store answers to in QMP arguments.
  const std::vector<std::string>& node_names() const { return node_names_; }
  /// Checks QMP's "vmstate" (empty: not given) and "devices" against
  /// node_names(); the error names the unknown node.
  Error check_nodes(const std::string& vmstate, const std::vector<std::string>& devices) const;

  /// query-jobs, job-dismiss and the jobs below.
  JobRegistry& jobs() { return jobs_; }

  // ---- QMP: jobs, started at once; query-jobs follows them. Errors (the
  // job is not created then): a bad or used job id, no store, another
  // snapshot operation running. Failures of the job itself (an invalid or,
  // for a save, existing tag; a missing or damaged snapshot; a migration in
  // progress) end it in error, as in QEMU.
  Error start_save_job(const std::string& job_id, const std::string& tag);
  Error start_load_job(const std::string& job_id, const std::string& tag);
  Error start_delete_job(const std::string& job_id, const std::string& tag);

  // ---- HMP: the same operations, returning when they are done. The main
  // loop keeps running meanwhile (other monitors, QMP clients, events).
  /// savevm: an empty tag gets a name from the date ("vm-20260101123000").
  /// Returns the name used.
  Expected<std::string> save(const std::string& tag);
  Error load(const std::string& tag);
  Error remove(const std::string& tag);
  /// info snapshots: every snapshot (an empty list when the store holds
  /// none yet). Error when there is no store or it cannot be read.
  Expected<std::vector<migration::SnapshotSummary>> list();
  /// What the store occupies (tests, the benchmark).
  Expected<migration::StoreUsage> usage();

  /// -loadvm NAME before the machine runs: loads or fails; blocking.
  Error load_at_startup(const std::string& tag);

  /// True while a snapshot operation runs.
  bool busy() const { return static_cast<bool>(operation_); }
  /// Saves that started over from a copy because guest memory was written
  /// while they read it (tests, diagnostics).
  uint64_t restarted_saves() const { return restarted_saves_; }

 private:
  enum class Kind : uint8_t { kSave, kLoad, kDelete };
  struct Operation;

  static const char* job_type(Kind kind);
  Error begin(Kind kind, const std::string& tag, Job* job, std::function<void(Error)> done,
              std::shared_ptr<migration::SnapshotProgress> progress = nullptr, bool replace = true);
  Error run_to_completion(Kind kind, const std::string& tag);
  Error start_job(Kind kind, const std::string& job_id, const std::string& tag);
  void apply_loaded(Expected<migration::SnapshotImage> image);
  void finish(Error result);
  Error no_store() const;
  /// Runs `work` on a worker thread and waits for it with the loop running.
  template <typename T>
  Expected<T> run_on_worker(std::function<Expected<T>()> work);

  SnapshotMachine machine_;
  std::string store_path_;
  std::vector<std::string> node_names_;
  JobRegistry jobs_;
  std::unique_ptr<Operation> operation_;
  /// A save reading the guest's memory from a worker (see submit_save).
  struct MemoryLease;
  std::shared_ptr<MemoryLease> lease_;
  /// Starts writing the snapshot of the current operation: straight from
  /// guest memory (checked unchanged through the dirty log before it
  /// becomes visible) or, when `copy`, from a copy taken now.
  void submit_save(bool copy);
  /// On the machine thread: true when a page was written since the last
  /// refresh_known() (which this call is too).
  bool memory_changed();
  /// The buffer images are copied and loaded into, kept between operations.
  migration::SnapshotArena arena_;
  migration::SnapshotArena arena();

  /// The digests of guest memory as the last save or load left it, minus
  /// the pages the dirty log (client kSnapshot) saw change since: pages a
  /// later save need not hash again, and a later load need not read again.
  migration::PageDigestMap known_;
  bool tracking_ = false;
  uint64_t restarted_saves_ = 0;
  /// Forgets the known digests of pages written since the last call and
  /// returns the dirty bitmap, or an empty one when the log only starts now.
  std::vector<uint64_t> refresh_known();
  /// Starts reading snapshot `tag` on a worker (with the known digests,
  /// or without when `use_known` is false).
  void submit_load(bool use_known);
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cr16::system
