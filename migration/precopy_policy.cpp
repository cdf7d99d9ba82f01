#include "migration/precopy_policy.h"

#include <algorithm>

namespace cr16::migration {

double PrecopyPolicy::bandwidth_bytes_per_ms() const {
  const double limit =
      limits_.max_bandwidth > 0 ? static_cast<double>(limits_.max_bandwidth) / 1000.0 : 0.0;
  if (measured_bytes_per_ms_ > 0) {
    return limit > 0 ? std::min(limit, measured_bytes_per_ms_) : measured_bytes_per_ms_;
  }
  return limit > 0 ? limit : kDefaultBytesPerMs;
}

PrecopyDecision PrecopyPolicy::after_pass(const PassMeasurement& pass) {
  if (pass.bytes_sent >= kMinimumMeasuredBytes && pass.transfer_ns > 0) {
    measured_bytes_per_ms_ =
        static_cast<double>(pass.bytes_sent) / (static_cast<double>(pass.transfer_ns) / 1e6);
  }
  PrecopyDecision decision;
  decision.bandwidth_bytes_per_ms = bandwidth_bytes_per_ms();
  decision.expected_downtime_ms =
      static_cast<double>(pass.dirty_bytes) / decision.bandwidth_bytes_per_ms;
  if (pass.duration_ns > 0) {
    decision.dirty_bytes_per_second =
        static_cast<double>(pass.dirty_bytes) / (static_cast<double>(pass.duration_ns) / 1e9);
  }
  decision.complete =
      decision.expected_downtime_ms <= static_cast<double>(limits_.downtime_limit_ms);
  // Auto-converge: a guest that dirtied more than half of what the pass
  // sent, twice, is throttled; each further time a step more.
  if (limits_.auto_converge && !decision.complete) {
    if (pass.dirty_bytes * 2 > pass.bytes_sent) {
      if (++dirty_high_count_ >= 2) {
        dirty_high_count_ = 0;
        throttle_ = throttle_ == 0
                        ? limits_.throttle_initial
                        : std::min(throttle_ + limits_.throttle_increment, limits_.throttle_max);
        throttle_ = std::min(throttle_, limits_.throttle_max);
      }
    }
  }
  if (!limits_.auto_converge) throttle_ = 0;
  decision.throttle_percent = throttle_;
  return decision;
}

}  // namespace cr16::migration
