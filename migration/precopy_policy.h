// The decisions of RAM precopy, apart from any I/O so that they can be
// tested on their own: after each pass, how fast the link is, how long the
// pages still dirty would take, whether that fits in the downtime limit
// (then the VM stops and the rest goes), and — with auto-converge — how
// much to throttle a guest that dirties memory faster than it can be sent.
#pragma once

#include <cstdint>

namespace cr16::migration {

/// The parameters the decisions use (QEMU's names in comments).
struct PrecopyLimits {
  uint64_t max_bandwidth = 0;        // max-bandwidth, bytes/s; 0: no limit
  uint64_t downtime_limit_ms = 300;  // downtime-limit
  bool auto_converge = false;        // capability auto-converge
  unsigned throttle_initial = 20;    // cpu-throttle-initial, percent
  unsigned throttle_increment = 10;  // cpu-throttle-increment, percent
  unsigned throttle_max = 99;        // max-cpu-throttle, percent
};

/// What one pass measured.
struct PassMeasurement {
  uint64_t bytes_sent = 0;   // written during the pass
  int64_t transfer_ns = 0;   // time spent writing (and waiting for the rate limit)
  int64_t duration_ns = 0;   // the whole pass
  uint64_t dirty_bytes = 0;  // dirty at the end of the pass (pages x page size)
};

/// What to do after a pass.
struct PrecopyDecision {
  bool complete = false;              // stop the VM and send the rest now
  double bandwidth_bytes_per_ms = 0;  // the estimate used
  double expected_downtime_ms = 0;    // dirty bytes at that bandwidth
  unsigned throttle_percent = 0;      // the guest CPU throttle from now on
  double dirty_bytes_per_second = 0;  // how fast the guest dirtied memory in the pass
};

class PrecopyPolicy {
 public:
  /// The bandwidth assumed before a pass measured one: the rate limit, or
  /// 1 GiB/s without one.
  static constexpr double kDefaultBytesPerMs = 1073741824.0 / 1000.0;
  /// A pass that sent less than this measures nothing useful (a guest of
  /// zero pages): the estimate stays.
  static constexpr uint64_t kMinimumMeasuredBytes = 256 * 1024;

  explicit PrecopyPolicy(PrecopyLimits limits) : limits_(limits) {}

  /// Updates the estimates with `pass` and decides.
  PrecopyDecision after_pass(const PassMeasurement& pass);
  /// Changes the limits (migrate-set-parameters during a migration).
  void set_limits(const PrecopyLimits& limits) { limits_ = limits; }

  /// The current bandwidth estimate (bytes per millisecond).
  double bandwidth_bytes_per_ms() const;
  unsigned throttle_percent() const { return throttle_; }

 private:
  PrecopyLimits limits_;
  double measured_bytes_per_ms_ = 0;  // 0: not measured yet
  unsigned throttle_ = 0;
  unsigned dirty_high_count_ = 0;
};

}  // namespace cr16::migration
