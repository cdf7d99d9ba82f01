#include "system/jobs.h"

#include <algorithm>

namespace cr16::system {

namespace {

constexpr const char* kStatusNames[] = {
    "undefined", "created", "running",  "paused",    "ready", "standby",
    "waiting",   "pending", "aborting", "concluded", "null",
};

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

}  // namespace

const char* job_status_name(JobStatus status) {
  const auto index = static_cast<size_t>(status);
  return index < std::size(kStatusNames) ? kStatusNames[index] : "undefined";
}

bool valid_job_id(std::string_view id) {
  if (id.empty() || !is_letter(id[0])) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return is_letter(c) || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
  });
}

std::pair<uint64_t, uint64_t> Job::progress() const {
  if (status_ == JobStatus::kConcluded || status_ == JobStatus::kNull || !source_) {
    return final_progress_;
  }
  return source_();
}

Expected<Job*> JobRegistry::create(const std::string& id, const std::string& type,
                                   Job::ProgressSource progress) {
  if (!valid_job_id(id)) return Error("Invalid job ID '" + id + "'");
  if (find(id) != nullptr) return Error("Job ID '" + id + "' already in use");
  auto job = std::make_unique<Job>();
  job->id_ = id;
  job->type_ = type;
  job->source_ = std::move(progress);
  Job* created = job.get();
  jobs_.push_back(std::move(job));
  set_status(*created, JobStatus::kCreated);
  return created;
}

void JobRegistry::start(Job& job) {
  set_status(job, JobStatus::kRunning);
}

void JobRegistry::finish(Job& job, Error result) {
  // The last reading stays what query-jobs reports; a finished job is whole.
  job.final_progress_ = job.source_ ? job.source_() : std::pair<uint64_t, uint64_t>{1, 1};
  if (result.ok()) {
    if (job.final_progress_.second == 0) job.final_progress_ = {1, 1};
    job.final_progress_.first = job.final_progress_.second;
    set_status(job, JobStatus::kWaiting);
    set_status(job, JobStatus::kPending);
  } else {
    job.error_ = std::move(result);
    set_status(job, JobStatus::kAborting);
  }
  job.source_ = nullptr;
  set_status(job, JobStatus::kConcluded);
}

Error JobRegistry::dismiss(const std::string& id) {
  Job* job = find(id);
  if (job == nullptr) return Error("Job not found");
  if (job->status_ != JobStatus::kConcluded) {
    return Error("Job '" + id + "' in state '" + job_status_name(job->status_) +
                 "' cannot accept command verb 'dismiss'");
  }
  set_status(*job, JobStatus::kNull);
  std::erase_if(jobs_, [job](const std::unique_ptr<Job>& entry) { return entry.get() == job; });
  return Error();
}

Job* JobRegistry::find(const std::string& id) {
  for (const auto& job : jobs_) {
    if (job->id_ == id) return job.get();
  }
  return nullptr;
}

monitor::Value JobRegistry::query() const {
  monitor::Value list = monitor::Value::list();
  for (const auto& job : jobs_) {
    const auto [current, total] = job->progress();
    monitor::Value entry =
        monitor::Value::dict()
            .set("id", monitor::Value::string(job->id_))
            .set("type", monitor::Value::string(job->type_))
            .set("status", monitor::Value::string(job_status_name(job->status_)))
            .set("current-progress", monitor::Value::integer(static_cast<int64_t>(current)))
            .set("total-progress", monitor::Value::integer(static_cast<int64_t>(total)));
    if (!job->error_.ok()) entry.set("error", monitor::Value::string(job->error_.message()));
    list.push(std::move(entry));
  }
  return list;
}

void JobRegistry::set_status(Job& job, JobStatus status) {
  job.status_ = status;
  events_.emit("JOB_STATUS_CHANGE",
               monitor::Value::dict()
                   .set("id", monitor::Value::string(job.id_))
                   .set("status", monitor::Value::string(job_status_name(status))));
}

}  // namespace cr16::system
