#include "system/monitor/commands_snapshot.h"

#include <time.h>

#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "system/snapshot_control.h"

namespace cr16::system::monitor {

namespace {

Expected<SnapshotControl*> service(CommandContext& context) {
  SnapshotControl* snapshots = context.control.snapshots();
  if (snapshots == nullptr) return Error("this machine cannot take snapshots");
  return snapshots;
}

// QMP's "devices": a list of node names (strings).
Expected<std::vector<std::string>> string_list(const Value& arguments, const char* name) {
  std::vector<std::string> items;
  const Value* list = arguments.find(name);
  if (list == nullptr) return items;
  for (const Value& item : list->as_list()) {
    if (item.type() != Value::Type::kString) {
      return Error(std::string("Invalid parameter type for '") + name + "', expected: string");
    }
    items.push_back(item.as_string());
  }
  return items;
}

// ---- QMP jobs

enum class JobKind : uint8_t { kSave, kLoad, kDelete };

template <JobKind kind>
Expected<Value> do_snapshot_job(CommandContext& context, const Value& arguments) {
  Expected<SnapshotControl*> snapshots = service(context);
  if (!snapshots) return snapshots.error();
  Expected<std::vector<std::string>> devices = string_list(arguments, "devices");
  if (!devices) return devices.error();
  if (Error error = (*snapshots)->check_nodes(arguments.string_or("vmstate", ""), *devices);
      !error.ok()) {
    return error;
  }
  const std::string job_id = arguments.string_or("job-id", "");
  const std::string tag = arguments.string_or("tag", "");
  Error error;
  switch (kind) {
    case JobKind::kSave:
      error = (*snapshots)->start_save_job(job_id, tag);
      break;
    case JobKind::kLoad:
      error = (*snapshots)->start_load_job(job_id, tag);
      break;
    case JobKind::kDelete:
      error = (*snapshots)->start_delete_job(job_id, tag);
      break;
  }
  if (!error.ok()) return error;
  return Value::dict();
}

Expected<Value> do_query_jobs(CommandContext& context, const Value&) {
  SnapshotControl* snapshots = context.control.snapshots();
  if (snapshots == nullptr) return Value::list();
  return snapshots->jobs().query();
}

std::string format_jobs(const Value& result, const Value&) {
  if (result.as_list().empty()) return "No active jobs\n";
  std::string text;
  for (const Value& job : result.as_list()) {
    text += "Type " + job.string_or("type", "") + ", ID " + job.string_or("id", "") + ": " +
            job.string_or("status", "") + ", " + std::to_string(job.int_or("current-progress", 0)) +
            " of " + std::to_string(job.int_or("total-progress", 0));
    if (const Value* error = job.find("error")) text += " (error: " + error->as_string() + ")";
    text += "\n";
  }
  return text;
}

Expected<Value> do_job_dismiss(CommandContext& context, const Value& arguments) {
  SnapshotControl* snapshots = context.control.snapshots();
  if (snapshots == nullptr) return Error("Job not found");
  if (Error error = snapshots->jobs().dismiss(arguments.string_or("id", "")); !error.ok()) {
    return error;
  }
  return Value::dict();
}

// ---- HMP

Expected<Value> do_savevm(CommandContext& context, const Value& arguments) {
  Expected<SnapshotControl*> snapshots = service(context);
  if (!snapshots) return snapshots.error();
  Expected<std::string> name = (*snapshots)->save(arguments.string_or("tag", ""));
  if (!name) return name.error();
  return Value::dict().set("tag", Value::string(*name));
}

Expected<Value> do_loadvm(CommandContext& context, const Value& arguments) {
  Expected<SnapshotControl*> snapshots = service(context);
  if (!snapshots) return snapshots.error();
  if (Error error = (*snapshots)->load(arguments.string_or("tag", "")); !error.ok()) return error;
  return Value();
}

Expected<Value> do_delvm(CommandContext& context, const Value& arguments) {
  Expected<SnapshotControl*> snapshots = service(context);
  if (!snapshots) return snapshots.error();
  if (Error error = (*snapshots)->remove(arguments.string_or("tag", "")); !error.ok()) {
    return error;
  }
  return Value();
}

// QEMU's SnapshotInfo members, plus "error" for a snapshot that cannot be used.
Expected<Value> do_info_snapshots(CommandContext& context, const Value&) {
  Expected<SnapshotControl*> snapshots = service(context);
  if (!snapshots) return snapshots.error();
  Expected<std::vector<migration::SnapshotSummary>> list = (*snapshots)->list();
  if (!list) return list.error();
  Value entries = Value::list();
  for (const migration::SnapshotSummary& summary : *list) {
    Value entry = Value::dict()
                      .set("id", Value::string(summary.damage.ok() ? std::to_string(summary.id)
                                                                   : std::string("--")))
                      .set("name", Value::string(summary.name));
    if (!summary.damage.ok()) {
      entry.set("error", Value::string(summary.damage.message()));
    } else {
      entry.set("vm-state-size", Value::integer(static_cast<int64_t>(summary.vm_size)))
          .set("date-sec", Value::integer(summary.date_seconds))
          .set("date-nsec", Value::integer(summary.date_nanoseconds))
          .set("vm-clock-sec", Value::integer(summary.vm_clock_ns / 1'000'000'000))
          .set("vm-clock-nsec", Value::integer(summary.vm_clock_ns % 1'000'000'000));
    }
    entries.push(std::move(entry));
  }
  return Value::dict()
      .set("store", Value::string((*snapshots)->store_path()))
      .set("snapshots", std::move(entries));
}

// 15.4 MiB, as QEMU prints sizes.
std::string size_text(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%0.3g %s", value, kUnits[unit]);
  return text;
}

std::string format_snapshots(const Value& result, const Value&) {
  const Value* list = result.find("snapshots");
  if (list == nullptr || list->as_list().empty()) return "There is no snapshot available.\n";
  std::string text = "List of snapshots in " + result.string_or("store", "") + ":\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-9s %-17s %8s %19s %12s\n", "ID", "TAG", "VM SIZE", "DATE",
                "VM CLOCK");
  text += line;
  for (const Value& entry : list->as_list()) {
    const std::string id = entry.string_or("id", "--");
    const std::string name = entry.string_or("name", "");
    if (const Value* error = entry.find("error")) {
      std::snprintf(line, sizeof line, "%-9s %-17s (cannot be used: %s)\n", id.c_str(),
                    name.c_str(), error->as_string().c_str());
      text += line;
      continue;
    }
    time_t seconds = static_cast<time_t>(entry.int_or("date-sec", 0));
    tm local{};
    localtime_r(&seconds, &local);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &local);
    const int64_t clock_seconds = entry.int_or("vm-clock-sec", 0);
    char clock[96];
    std::snprintf(clock, sizeof clock, "%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%03" PRId64,
                  clock_seconds / 3600, clock_seconds / 60 % 60, clock_seconds % 60,
                  entry.int_or("vm-clock-nsec", 0) / 1'000'000);
    std::snprintf(line, sizeof line, "%-9s %-17s %8s %19s %12s\n", id.c_str(), name.c_str(),
                  size_text(static_cast<uint64_t>(entry.int_or("vm-state-size", 0))).c_str(), date,
                  clock);
    text += line;
  }
  return text;
}

constexpr Parameter kSaveLoadParameters[] = {
    {"job-id", ParameterType::kString, false},
    {"tag", ParameterType::kString, false},
    {"vmstate", ParameterType::kString, false},
    {"devices", ParameterType::kList, false},
};
constexpr Parameter kDeleteParameters[] = {
    {"job-id", ParameterType::kString, false},
    {"tag", ParameterType::kString, false},
    {"devices", ParameterType::kList, false},
};
constexpr Parameter kDismissParameters[] = {{"id", ParameterType::kString, false}};
constexpr Parameter kOptionalTag[] = {{"tag", ParameterType::kString, true}};
constexpr Parameter kTag[] = {{"tag", ParameterType::kString, false}};

constexpr Command kCommands[] = {
    {"snapshot-save", nullptr, true, kSaveLoadParameters, "",
     "save the VM as snapshot TAG, as a job (vmstate/devices: the snapshot store)",
     do_snapshot_job<JobKind::kSave>, nullptr},
    {"snapshot-load", nullptr, true, kSaveLoadParameters, "",
     "restore the VM from snapshot TAG, as a job", do_snapshot_job<JobKind::kLoad>, nullptr},
    {"snapshot-delete", nullptr, true, kDeleteParameters, "", "delete snapshot TAG, as a job",
     do_snapshot_job<JobKind::kDelete>, nullptr},
    {"query-jobs", "info jobs", true, {}, "", "show the snapshot jobs", do_query_jobs, format_jobs},
    {"job-dismiss", nullptr, true, kDismissParameters, "", "forget a concluded job", do_job_dismiss,
     nullptr},
    {"savevm", "savevm", false, kOptionalTag, "[tag]",
     "save the VM as snapshot TAG (default: vm-DATE); an existing TAG is replaced", do_savevm,
     nullptr},
    {"loadvm", "loadvm", false, kTag, "tag", "restore the VM from snapshot TAG (name or id)",
     do_loadvm, nullptr},
    {"delvm", "delvm", false, kTag, "tag", "delete snapshot TAG (name or id)", do_delvm, nullptr},
    {"info snapshots",
     "info snapshots",
     false,
     {},
     "",
     "show the snapshots",
     do_info_snapshots,
     format_snapshots},
};

}  // namespace

std::span<const Command> snapshot_commands() {
  return kCommands;
}

}  // namespace cr16::system::monitor
