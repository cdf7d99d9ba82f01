#include "migration/migration_types.h"

namespace cr16::migration {

const char* migration_status_name(MigrationStatus status) {
  switch (status) {
    case MigrationStatus::kNone:
      return "none";
    case MigrationStatus::kSetup:
      return "setup";
    case MigrationStatus::kActive:
      return "active";
    case MigrationStatus::kDevice:
      return "device";
    case MigrationStatus::kCompleted:
      return "completed";
    case MigrationStatus::kFailed:
      return "failed";
    case MigrationStatus::kCancelling:
      return "cancelling";
    case MigrationStatus::kCancelled:
      return "cancelled";
  }
  return "none";
}

bool migration_status_is_active(MigrationStatus status) {
  return status == MigrationStatus::kSetup || status == MigrationStatus::kActive ||
         status == MigrationStatus::kDevice || status == MigrationStatus::kCancelling;
}

bool* find_capability(MigrationCapabilities& capabilities, std::string_view name) {
  if (name == "auto-converge") return &capabilities.auto_converge;
  if (name == "events") return &capabilities.events;
  if (name == "multifd") return &capabilities.multifd;
  if (name == "zero-copy-send") return &capabilities.zero_copy_send;
  return nullptr;
}

bool capability_value(const MigrationCapabilities& capabilities, std::string_view name) {
  MigrationCapabilities copy = capabilities;
  bool* value = find_capability(copy, name);
  return value != nullptr && *value;
}

}  // namespace cr16::migration
