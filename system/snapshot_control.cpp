#include "system/snapshot_control.h"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "io/task.h"
#include "migration/snapshot_hash.h"
#include "migration/snapshot_machine.h"

namespace cr16::system {

namespace {

using migration::SnapshotImage;
using migration::SnapshotProgress;
using migration::SnapshotStore;

// Hashing threads per operation: the two cores this emulator usually gets
// (the main loop stays responsive: it only waits for io).
unsigned hashing_threads() {
  return std::max(2u, std::min(4u, std::thread::hardware_concurrency()));
}

// Opens an existing store for reading or deleting: a store that was never
// created holds no snapshot.
Expected<SnapshotStore> open_existing(const std::string& path, const std::string& tag) {
  Expected<SnapshotStore> store = SnapshotStore::open(path, false, hashing_threads());
  if (!store && store.error().errno_value() == ENOENT) {
    return Error("snapshot '" + tag + "' not found (no snapshot was saved in '" + path + "' yet)",
                 ENOENT);
  }
  return store;
}

}  // namespace

std::string snapshot_store_path(const std::string& snapshot_dir, const std::string& flash_path) {
  if (!snapshot_dir.empty()) return snapshot_dir;
  if (!flash_path.empty()) return flash_path + ".snapshots";
  return "";
}

struct SnapshotControl::Operation {
  Kind kind = Kind::kSave;
  std::string tag;
  Job* job = nullptr;
  bool replace = true;  // false for QMP's snapshot-save: an existing tag is an error
  bool was_running = false;
  std::shared_ptr<SnapshotProgress> progress;
  std::function<void(Error)> done;
};

// While a save reads guest memory from a worker, the machine must not go
// away: the destructor waits for `reading` to drop, and `cancelled` tells
// the worker not to wait for an answer that will never come.
struct SnapshotControl::MemoryLease {
  std::mutex mutex;
  std::condition_variable changed;
  bool reading = true;
  bool cancelled = false;
  bool answered = false;
  Error answer;

  void done_reading() {
    std::lock_guard lock(mutex);
    reading = false;
    changed.notify_all();
  }
};

SnapshotControl::SnapshotControl(SnapshotMachine machine, std::string store_path,
                                 std::vector<std::string> node_names)
    : machine_(std::move(machine)),
      store_path_(std::move(store_path)),
      node_names_(std::move(node_names)),
      jobs_(machine_.control->events()) {
  // OpenSSL initialises itself, with per-thread state, in the first thread
  // that uses it; that must be this one, not a worker of the pool, which
  // outlives OpenSSL's clean-up at exit.
  (void)migration::sha256({});
}

SnapshotControl::~SnapshotControl() {
  // Completions still in flight find the service gone and do nothing; a
  // save reading guest memory is waited for (the memory is about to go)
  // and then abandoned.
  *alive_ = false;
  if (lease_) {
    std::unique_lock lock(lease_->mutex);
    lease_->cancelled = true;
    lease_->changed.notify_all();
    lease_->changed.wait(lock, [this] { return !lease_->reading; });
  }
}

migration::SnapshotArena SnapshotControl::arena() {
  // A buffer still held by a finished operation's leftovers is not reused.
  if (!arena_ || arena_.use_count() > 1) arena_ = std::make_shared<migration::ArenaBytes>();
  return arena_;
}

Error SnapshotControl::no_store() const {
  return Error(
      "no place for snapshots: give the machine a flash image (-pflash FILE) or a snapshot "
      "directory (-snapshot-dir DIR)");
}

Error SnapshotControl::check_nodes(const std::string& vmstate,
                                   const std::vector<std::string>& devices) const {
  auto known = [this](const std::string& name) {
    return std::find(node_names_.begin(), node_names_.end(), name) != node_names_.end();
  };
  std::string names;
  for (const std::string& name : node_names_) names += (names.empty() ? "" : ", ") + name;
  if (names.empty()) names = "none: there is no snapshot store";
  if (!vmstate.empty() && !known(vmstate)) {
    return Error("Cannot find device='" + vmstate + "' nor node-name='" + vmstate +
                 "' (known: " + names + ")");
  }
  for (const std::string& device : devices) {
    if (!known(device)) {
      return Error("Cannot find device='" + device + "' nor node-name='" + device +
                   "' (known: " + names + ")");
    }
  }
  return Error();
}

template <typename T>
Expected<T> SnapshotControl::run_on_worker(std::function<Expected<T>()> work) {
  bool finished = false;
  Expected<T> result = Error("not run");
  io::run_task<T>(
      *machine_.loop, [work = std::move(work)](const io::CancelToken&) { return work(); },
      [&finished, &result](Expected<T> value) {
        result = std::move(value);
        finished = true;
      });
  while (!finished) machine_.loop->run_once(-1);
  return result;
}

const char* SnapshotControl::job_type(Kind kind) {
  switch (kind) {
    case Kind::kSave:
      return "snapshot-save";
    case Kind::kLoad:
      return "snapshot-load";
    case Kind::kDelete:
      return "snapshot-delete";
  }
  return "snapshot";
}

Error SnapshotControl::begin(Kind kind, const std::string& tag, Job* job,
                             std::function<void(Error)> done,
                             std::shared_ptr<SnapshotProgress> progress_in, bool replace) {
  if (store_path_.empty()) return no_store();
  if (operation_) {
    return Error(std::string("a snapshot operation is already running") +
                 (operation_->job ? " (job '" + operation_->job->id() + "')" : ""));
  }
  if (!migration::valid_snapshot_name(tag)) return migration::invalid_snapshot_name(tag);
  const RunState state = machine_.control->run_state();
  if (kind != Kind::kDelete &&
      (state == RunState::kInMigrate || state == RunState::kFinishMigrate ||
       machine_.memory->dirty_log_active(DirtyLogClient::kMigration))) {
    return Error("a migration is in progress: snapshots wait until it ends");
  }
  auto operation = std::make_unique<Operation>();
  operation->kind = kind;
  operation->tag = tag;
  operation->job = job;
  operation->replace = replace;
  operation->done = std::move(done);
  operation->progress = progress_in ? std::move(progress_in) : std::make_shared<SnapshotProgress>();
  operation->was_running = machine_.control->running();
  operation_ = std::move(operation);
  if (job != nullptr) jobs_.start(*job);

  const std::string path = store_path_;
  const std::shared_ptr<SnapshotProgress> progress = operation_->progress;
  const std::weak_ptr<bool> alive = alive_;
  switch (kind) {
    case Kind::kSave:
      (void)machine_.control->vm_stop(RunState::kSaveVm);
      submit_save(false);
      return Error();
    case Kind::kLoad:
      (void)machine_.control->vm_stop(RunState::kRestoreVm);
      refresh_known();
      submit_load(true);
      return Error();
    case Kind::kDelete:
      io::run_task(
          *machine_.loop,
          [path, tag](const io::CancelToken&) -> Error {
            Expected<SnapshotStore> store = open_existing(path, tag);
            if (!store) return store.error();
            return store->remove(tag);
          },
          [this, alive](Error result) {
            if (alive.lock()) finish(std::move(result));
          });
      return Error();
  }
  return Error();
}

void SnapshotControl::submit_save(bool copy) {
  const std::string path = store_path_;
  const std::string tag = operation_->tag;
  const bool replace = operation_->replace;
  const std::shared_ptr<SnapshotProgress> progress = operation_->progress;
  const std::weak_ptr<bool> alive = alive_;
  // The snapshot is the machine at this instant, with the VM stopped.
  // Pages unchanged since the last save or load keep their digests.
  (void)refresh_known();
  Expected<SnapshotImage> captured = migration::capture_machine(
      machine_.sections(), *machine_.memory,
      copy ? migration::CaptureMemory::kCopy : migration::CaptureMemory::kReference,
      copy ? arena() : nullptr);
  if (!captured) {
    finish(captured.error().with_context("saving snapshot '" + tag + "'"));
    return;
  }
  auto image = std::make_shared<SnapshotImage>(std::move(*captured));
  for (migration::SnapshotBlock& block : image->blocks) {
    auto known = known_.find(block.name);
    if (known != known_.end()) block.digests = known->second;
  }
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  image->name = tag;
  image->date_seconds = now.tv_sec;
  image->date_nanoseconds = static_cast<uint32_t>(now.tv_nsec);
  image->vm_clock_ns = machine_.vm_clock_ns();
  image->machine = machine_.machine_type;
  std::shared_ptr<MemoryLease> lease;
  if (!copy) {
    lease = std::make_shared<MemoryLease>();
    lease_ = lease;
  }
  auto queue = machine_.loop->post_queue();
  io::run_task(
      *machine_.loop,
      [this, path, image, progress, lease, queue, alive, replace](const io::CancelToken&) -> Error {
        // Whatever happens, the worker stops reading guest memory here.
        struct Release {
          MemoryLease* lease;
          ~Release() {
            if (lease) lease->done_reading();
          }
        } release{lease.get()};
        Expected<SnapshotStore> store = SnapshotStore::open(path, true, hashing_threads());
        if (!store) return store.error().with_context("snapshot store");
        if (!lease) return store->save(*image, progress.get(), {}, replace);
        return store->save(
            *image, progress.get(),
            [&]() -> Error {
              // The pages are read: ask the machine thread whether anything
              // wrote to them since the capture (a `cont`, a debugger).
              lease->done_reading();
              io::detail::post_to_queue(queue, [this, lease, alive] {
                Error answer = Error("the machine went away", ECANCELED);
                if (alive.lock() && memory_changed()) {
                  answer = Error("the guest's memory changed while it was being saved", EAGAIN);
                } else if (alive.lock()) {
                  answer = Error();
                }
                std::lock_guard lock(lease->mutex);
                lease->answer = answer;
                lease->answered = true;
                lease->changed.notify_all();
              });
              std::unique_lock lock(lease->mutex);
              lease->changed.wait(lock, [&] { return lease->answered || lease->cancelled; });
              return lease->answered ? lease->answer : Error("cancelled", ECANCELED);
            },
            replace);
      },
      [this, alive, image, copy](Error result) {
        if (!alive.lock()) return;
        lease_.reset();
        if (!copy && result.errno_value() == EAGAIN) {
          // Written to while read: save again, from a copy taken now.
          ++restarted_saves_;
          operation_->was_running = operation_->was_running || machine_.control->running();
          (void)machine_.control->vm_stop(RunState::kSaveVm);
          submit_save(true);
          return;
        }
        if (result.ok()) {
          // Memory as captured has these digests; pages written since the
          // capture are in the dirty log and drop out next time.
          for (migration::SnapshotBlock& block : image->blocks) {
            known_[block.name] = std::move(block.digests);
          }
        }
        finish(std::move(result));
      });
}

bool SnapshotControl::memory_changed() {
  const std::vector<uint64_t> dirty = refresh_known();
  for (uint64_t word : dirty) {
    if (word != 0) return true;
  }
  return false;
}

void SnapshotControl::submit_load(bool use_known) {
  const std::string path = store_path_;
  const std::string tag = operation_->tag;
  const std::shared_ptr<SnapshotProgress> progress = operation_->progress;
  const std::weak_ptr<bool> alive = alive_;
  migration::SnapshotArena buffer = arena();
  auto known = use_known ? std::make_shared<const migration::PageDigestMap>(known_) : nullptr;
  io::run_task<SnapshotImage>(
      *machine_.loop,
      [path, tag, progress, buffer, known](const io::CancelToken&) -> Expected<SnapshotImage> {
        Expected<SnapshotStore> store = open_existing(path, tag);
        if (!store) return store.error();
        return store->load(tag, progress.get(), buffer, known.get());
      },
      [this, alive](Expected<SnapshotImage> image) {
        if (alive.lock()) apply_loaded(std::move(image));
      });
}

std::vector<uint64_t> SnapshotControl::refresh_known() {
  AddressSpace& memory = *machine_.memory;
  if (!tracking_ || !memory.dirty_log_active(DirtyLogClient::kSnapshot)) {
    memory.start_dirty_log(DirtyLogClient::kSnapshot);
    tracking_ = true;
    known_.clear();
    return {};
  }
  std::vector<uint64_t> dirty = memory.sync_dirty_log(DirtyLogClient::kSnapshot);
  auto is_dirty = [&dirty](uint32_t page) {
    return page / 64 < dirty.size() && (dirty[page / 64] >> (page % 64) & 1) != 0;
  };
  for (const migration::RamBlock& block : migration::ram_blocks(memory)) {
    auto known = known_.find(block.name);
    if (known == known_.end()) continue;
    migration::PageDigests& digests = known->second;
    if (digests.state.size() != block.page_count()) {
      known_.erase(known);
      continue;
    }
    const uint32_t first = block.base / kPageSize;
    for (uint32_t page = 0; page < block.page_count(); ++page) {
      if (is_dirty(first + page)) digests.state[page] = migration::PageDigests::kUnknown;
    }
  }
  return dirty;
}

void SnapshotControl::apply_loaded(Expected<SnapshotImage> image) {
  const std::string what = "snapshot '" + operation_->tag + "'";
  if (!image) return finish(image.error());
  // Pages the load did not read because the machine held them already must
  // still hold them: anything written meanwhile (a `cont`, a debugger)
  // means reading the whole snapshot after all.
  const std::vector<uint64_t> dirty = refresh_known();
  const std::vector<migration::RamBlock> machine_blocks = migration::ram_blocks(*machine_.memory);
  for (const migration::SnapshotBlock& block : image->blocks) {
    const migration::RamBlock* mine = migration::find_ram_block(machine_blocks, block.name);
    if (mine == nullptr) continue;  // prepare() refuses it below
    const uint32_t first = mine->base / kPageSize;
    for (uint32_t page = 0; page < block.current.size(); ++page) {
      const uint32_t index = first + page;
      if (block.current[page] && index / 64 < dirty.size() &&
          (dirty[index / 64] >> (index % 64) & 1) != 0) {
        submit_load(false);
        return;
      }
    }
  }
  if (image->machine != machine_.machine_type) {
    return finish(Error(what + " was taken on a '" + image->machine + "' machine, this is '" +
                        machine_.machine_type + "'"));
  }
  // Everything is checked before anything changes.
  Expected<std::unique_ptr<migration::SnapshotRestore>> restore =
      migration::SnapshotRestore::prepare(machine_.sections(), *machine_.memory, std::move(*image),
                                          what);
  if (!restore) return finish(restore.error());
  (*restore)->commit(machine_.memory_loaded);
  // Memory now is the snapshot: its digests are the known ones (the dirty
  // bits the load itself set are dropped).
  (void)machine_.memory->sync_dirty_log(DirtyLogClient::kSnapshot);
  known_.clear();
  for (const migration::SnapshotBlock& block : (*restore)->image().blocks) {
    known_[block.name] = block.digests;
  }
  if (machine_.state_loaded) machine_.state_loaded();
  finish(Error());
}

void SnapshotControl::finish(Error result) {
  std::unique_ptr<Operation> operation = std::move(operation_);
  if (operation->kind != Kind::kDelete && operation->was_running) {
    const RunState stopped =
        operation->kind == Kind::kSave ? RunState::kSaveVm : RunState::kRestoreVm;
    if (machine_.control->run_state() == stopped) (void)machine_.control->vm_start();
  }
  if (operation->job != nullptr) jobs_.finish(*operation->job, result);
  if (operation->done) operation->done(std::move(result));
}

Error SnapshotControl::run_to_completion(Kind kind, const std::string& tag) {
  bool finished = false;
  Error result;
  Error started = begin(kind, tag, nullptr, [&finished, &result](Error error) {
    result = std::move(error);
    finished = true;
  });
  if (!started.ok()) return started;
  while (!finished) machine_.loop->run_once(-1);
  return result;
}

Error SnapshotControl::start_job(Kind kind, const std::string& job_id, const std::string& tag) {
  // Refusals that need no job come first; the rest end the job in error.
  if (!valid_job_id(job_id)) return Error("Invalid job ID '" + job_id + "'");
  if (jobs_.find(job_id) != nullptr) return Error("Job ID '" + job_id + "' already in use");
  if (store_path_.empty()) return no_store();
  if (operation_) {
    return Error(std::string("a snapshot operation is already running") +
                 (operation_->job ? " (job '" + operation_->job->id() + "')" : ""));
  }
  auto progress = std::make_shared<SnapshotProgress>();
  Expected<Job*> job = jobs_.create(job_id, job_type(kind), [progress] {
    const uint64_t total = progress->total.load();
    return std::pair<uint64_t, uint64_t>{progress->done.load(), total == 0 ? 1 : total};
  });
  if (!job) return job.error();
  Job* created = *job;
  if (Error error = begin(kind, tag, created, nullptr, progress, false); !error.ok()) {
    // Refused before it started (a bad name, a migration): the job fails.
    jobs_.start(*created);
    jobs_.finish(*created, error);
  }
  return Error();
}

Error SnapshotControl::start_save_job(const std::string& job_id, const std::string& tag) {
  return start_job(Kind::kSave, job_id, tag);
}

Error SnapshotControl::start_load_job(const std::string& job_id, const std::string& tag) {
  return start_job(Kind::kLoad, job_id, tag);
}

Error SnapshotControl::start_delete_job(const std::string& job_id, const std::string& tag) {
  return start_job(Kind::kDelete, job_id, tag);
}

Expected<std::string> SnapshotControl::save(const std::string& tag) {
  std::string name = tag;
  if (name.empty()) {
    // QEMU's default: the date and time.
    time_t now = time(nullptr);
    tm local{};
    localtime_r(&now, &local);
    char text[32];
    strftime(text, sizeof text, "vm-%Y%m%d%H%M%S", &local);
    name = text;
  }
  if (Error error = run_to_completion(Kind::kSave, name); !error.ok()) return error;
  return name;
}

Error SnapshotControl::load(const std::string& tag) {
  return run_to_completion(Kind::kLoad, tag);
}

Error SnapshotControl::remove(const std::string& tag) {
  return run_to_completion(Kind::kDelete, tag);
}

Error SnapshotControl::load_at_startup(const std::string& tag) {
  return run_to_completion(Kind::kLoad, tag);
}

Expected<std::vector<migration::SnapshotSummary>> SnapshotControl::list() {
  if (store_path_.empty()) return no_store();
  const std::string path = store_path_;
  return run_on_worker<std::vector<migration::SnapshotSummary>>(
      [path]() -> Expected<std::vector<migration::SnapshotSummary>> {
        Expected<SnapshotStore> store = SnapshotStore::open(path, false, 1);
        if (!store && store.error().errno_value() == ENOENT) {
          return std::vector<migration::SnapshotSummary>{};
        }
        if (!store) return store.error();
        return store->list();
      });
}

Expected<migration::StoreUsage> SnapshotControl::usage() {
  if (store_path_.empty()) return no_store();
  const std::string path = store_path_;
  return run_on_worker<migration::StoreUsage>([path]() -> Expected<migration::StoreUsage> {
    Expected<SnapshotStore> store = SnapshotStore::open(path, false, 1);
    if (!store && store.error().errno_value() == ENOENT) return migration::StoreUsage{};
    if (!store) return store.error();
    return store->usage();
  });
}

}  // namespace cr16::system
