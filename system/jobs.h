// Jobs as QEMU's QMP knows them: long operations (snapshot-save,
// snapshot-load, snapshot-delete) that a command starts and that report
// their status and progress through query-jobs and JOB_STATUS_CHANGE
// events until a client dismisses them (job-dismiss).
//
// Life of a job here: created -> running, then on success waiting ->
// pending -> concluded, on failure aborting -> concluded (with the error);
// job-dismiss takes a concluded job to null and forgets it. Every change
// is a JOB_STATUS_CHANGE event {"id", "status"} on the machine's EventBus.
// Machine thread only (progress may be updated from any thread).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "system/monitor/events.h"
#include "system/monitor/value.h"
#include "util/error.h"

namespace cr16::system {

/// QEMU's JobStatus.
enum class JobStatus : uint8_t {
  kUndefined,
  kCreated,
  kRunning,
  kPaused,
  kReady,
  kStandby,
  kWaiting,
  kPending,
  kAborting,
  kConcluded,
  kNull,
};

/// "created", "running", "concluded", "null", ...
const char* job_status_name(JobStatus status);

/// True when `id` may name a job (QEMU's rule: a letter, then letters,
/// digits, '-', '.' and '_').
bool valid_job_id(std::string_view id);

/// One job.
class Job {
 public:
  /// Current and total progress in the job's own units (bytes here).
  using ProgressSource = std::function<std::pair<uint64_t, uint64_t>()>;

  const std::string& id() const { return id_; }
  /// "snapshot-save", "snapshot-load", "snapshot-delete".
  const std::string& type() const { return type_; }
  JobStatus status() const { return status_; }
  /// The failure of a concluded job (ok when it succeeded or still runs).
  const Error& error() const { return error_; }
  /// (current, total); a finished job reports its last reading.
  std::pair<uint64_t, uint64_t> progress() const;

 private:
  friend class JobRegistry;
  std::string id_;
  std::string type_;
  JobStatus status_ = JobStatus::kUndefined;
  Error error_;
  ProgressSource source_;
  std::pair<uint64_t, uint64_t> final_progress_{0, 0};
};

class JobRegistry {
 public:
  /// Events go to `events` (the machine's bus; must outlive the registry).
  explicit JobRegistry(monitor::EventBus& events) : events_(events) {}

  /// Registers a new job in status created (and says so). Errors, as QEMU
  /// words them: "Invalid job ID 'x'", "Job ID 'x' already in use".
  Expected<Job*> create(const std::string& id, const std::string& type,
                        Job::ProgressSource progress = {});
  /// created -> running.
  void start(Job& job);
  /// The work ended: ok -> waiting, pending, concluded; an error ->
  /// aborting, concluded (error() keeps it).
  void finish(Job& job, Error result);
  /// job-dismiss: a concluded job goes to null and is forgotten. Errors:
  /// "Job not found", "Job 'x' in state 'running' cannot accept command
  /// verb 'dismiss'".
  Error dismiss(const std::string& id);

  /// The job named `id`, or nullptr.
  Job* find(const std::string& id);
  /// query-jobs: a list of {"id", "type", "status", "current-progress",
  /// "total-progress"[, "error"]} in creation order.
  monitor::Value query() const;
  size_t size() const { return jobs_.size(); }

 private:
  void set_status(Job& job, JobStatus status);

  monitor::EventBus& events_;
  std::vector<std::unique_ptr<Job>> jobs_;
};

}  // namespace cr16::system
