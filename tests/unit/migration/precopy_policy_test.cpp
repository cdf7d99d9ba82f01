// The decisions of precopy: when the rest fits in the downtime limit at the
// measured bandwidth, and how auto-converge throttles a guest that dirties
// memory faster than the link sends it.
#include "migration/precopy_policy.h"

#include <gtest/gtest.h>

namespace cr16::migration {
namespace {

constexpr int64_t kMs = 1'000'000;

PassMeasurement pass(uint64_t sent, int64_t transfer_ms, uint64_t dirty) {
  PassMeasurement measurement;
  measurement.bytes_sent = sent;
  measurement.transfer_ns = transfer_ms * kMs;
  measurement.duration_ns = transfer_ms * kMs;
  measurement.dirty_bytes = dirty;
  return measurement;
}

PrecopyLimits limits(uint64_t downtime_ms, uint64_t bandwidth = 0, bool auto_converge = false) {
  PrecopyLimits limits;
  limits.downtime_limit_ms = downtime_ms;
  limits.max_bandwidth = bandwidth;
  limits.auto_converge = auto_converge;
  return limits;
}

TEST(PrecopyPolicy, CompletesWhenTheDirtyRestFitsTheDowntimeLimit) {
  PrecopyPolicy policy(limits(10));
  // 100 MB in 100 ms: 1 MB/ms. 10 MB dirty = 10 ms: fits a 10 ms limit.
  PrecopyDecision decision = policy.after_pass(pass(100'000'000, 100, 10'000'000));
  EXPECT_DOUBLE_EQ(decision.bandwidth_bytes_per_ms, 1'000'000.0);
  EXPECT_DOUBLE_EQ(decision.expected_downtime_ms, 10.0);
  EXPECT_TRUE(decision.complete);
}

TEST(PrecopyPolicy, IteratesWhileTheDirtyRestWouldTakeLonger) {
  PrecopyPolicy policy(limits(10));
  PrecopyDecision decision = policy.after_pass(pass(100'000'000, 100, 10'000'001));
  EXPECT_FALSE(decision.complete);
  EXPECT_GT(decision.expected_downtime_ms, 10.0);
}

TEST(PrecopyPolicy, ZeroDowntimeLimitWaitsForACleanPass) {
  PrecopyPolicy policy(limits(0));
  EXPECT_FALSE(policy.after_pass(pass(100'000'000, 100, 4096)).complete);
  EXPECT_TRUE(policy.after_pass(pass(4096, 1, 0)).complete);
}

TEST(PrecopyPolicy, BandwidthIsCappedByMaxBandwidth) {
  // Measured 1 MB/ms, but max-bandwidth is 100 MB/s = 100 kB/ms.
  PrecopyPolicy policy(limits(10, 100'000'000));
  PrecopyDecision decision = policy.after_pass(pass(100'000'000, 100, 2'000'000));
  EXPECT_DOUBLE_EQ(decision.bandwidth_bytes_per_ms, 100'000.0);
  EXPECT_DOUBLE_EQ(decision.expected_downtime_ms, 20.0);
  EXPECT_FALSE(decision.complete);
}

TEST(PrecopyPolicy, APassOfZeroPagesKeepsThePreviousEstimate) {
  PrecopyPolicy policy(limits(10));
  EXPECT_DOUBLE_EQ(policy.bandwidth_bytes_per_ms(), PrecopyPolicy::kDefaultBytesPerMs);
  policy.after_pass(pass(50'000'000, 100, 0));                     // 500 kB/ms
  PrecopyDecision decision = policy.after_pass(pass(1000, 1, 0));  // too little to measure
  EXPECT_DOUBLE_EQ(decision.bandwidth_bytes_per_ms, 500'000.0);
}

TEST(PrecopyPolicy, AutoConvergeThrottlesAfterTwoPassesDirtyingTooMuch) {
  PrecopyLimits settings = limits(1, 0, true);
  settings.throttle_initial = 20;
  settings.throttle_increment = 10;
  settings.throttle_max = 45;
  PrecopyPolicy policy(settings);
  // Each pass: 10 MB sent in 100 ms, 8 MB dirtied (> half of what was sent).
  EXPECT_EQ(policy.after_pass(pass(10'000'000, 100, 8'000'000)).throttle_percent, 0u);
  EXPECT_EQ(policy.after_pass(pass(10'000'000, 100, 8'000'000)).throttle_percent, 20u);
  EXPECT_EQ(policy.after_pass(pass(10'000'000, 100, 8'000'000)).throttle_percent, 20u);
  EXPECT_EQ(policy.after_pass(pass(10'000'000, 100, 8'000'000)).throttle_percent, 30u);
  policy.after_pass(pass(10'000'000, 100, 8'000'000));
  EXPECT_EQ(policy.after_pass(pass(10'000'000, 100, 8'000'000)).throttle_percent, 40u);
  policy.after_pass(pass(10'000'000, 100, 8'000'000));
  EXPECT_EQ(policy.after_pass(pass(10'000'000, 100, 8'000'000)).throttle_percent, 45u)
      << "capped at max-cpu-throttle";
}

TEST(PrecopyPolicy, NoThrottleForAGuestThatDirtiesLittleOrWithoutAutoConverge) {
  PrecopyPolicy calm(limits(1, 0, true));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(calm.after_pass(pass(10'000'000, 100, 4'000'000)).throttle_percent, 0u);
  }
  PrecopyPolicy off(limits(1, 0, false));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(off.after_pass(pass(10'000'000, 100, 9'000'000)).throttle_percent, 0u);
  }
}

TEST(PrecopyPolicy, ReportsTheDirtyRate) {
  PrecopyPolicy policy(limits(1));
  PrecopyDecision decision = policy.after_pass(pass(10'000'000, 500, 4'096'000));
  EXPECT_DOUBLE_EQ(decision.dirty_bytes_per_second, 8'192'000.0);
}

}  // namespace
}  // namespace cr16::migration
