// QEMU's job model for the snapshot commands: ids, the status sequence on
// success and on failure with a JOB_STATUS_CHANGE event for each step,
// query-jobs and job-dismiss.
#include "system/jobs.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cr16::system {
namespace {

class JobsTest : public ::testing::Test {
 protected:
  JobsTest() {
    events.add([this](const monitor::Event& event) {
      ASSERT_EQ(event.name, "JOB_STATUS_CHANGE");
      seen.push_back(event.data.string_or("id", "?") + ":" + event.data.string_or("status", "?"));
    });
  }
  monitor::EventBus events;
  JobRegistry jobs{events};
  std::vector<std::string> seen;
};

TEST_F(JobsTest, ASuccessfulJobGoesThroughQemusStatusesAndWaitsToBeDismissed) {
  uint64_t done = 0;
  Expected<Job*> job = jobs.create("save0", "snapshot-save", [&done] {
    return std::pair<uint64_t, uint64_t>{done, 100};
  });
  ASSERT_TRUE(job.ok());
  jobs.start(**job);
  done = 40;
  monitor::Value running = jobs.query();
  ASSERT_EQ(running.as_list().size(), 1u);
  const monitor::Value& entry = running.as_list()[0];
  EXPECT_EQ(entry.string_or("id", ""), "save0");
  EXPECT_EQ(entry.string_or("type", ""), "snapshot-save");
  EXPECT_EQ(entry.string_or("status", ""), "running");
  EXPECT_EQ(entry.int_or("current-progress", -1), 40);
  EXPECT_EQ(entry.int_or("total-progress", -1), 100);
  EXPECT_EQ(entry.find("error"), nullptr);

  jobs.finish(**job, Error());
  monitor::Value concluded = jobs.query();
  EXPECT_EQ(concluded.as_list()[0].string_or("status", ""), "concluded");
  EXPECT_EQ(concluded.as_list()[0].int_or("current-progress", -1), 100);
  EXPECT_TRUE(jobs.dismiss("save0").ok());
  EXPECT_EQ(jobs.query().as_list().size(), 0u);
  EXPECT_EQ(seen, (std::vector<std::string>{"save0:created", "save0:running", "save0:waiting",
                                            "save0:pending", "save0:concluded", "save0:null"}));
}

TEST_F(JobsTest, AFailedJobAbortsAndKeepsItsError) {
  Expected<Job*> job = jobs.create("load0", "snapshot-load");
  ASSERT_TRUE(job.ok());
  jobs.start(**job);
  jobs.finish(**job, Error("snapshot 'x' not found"));
  const monitor::Value list = jobs.query();
  const monitor::Value& entry = list.as_list()[0];
  EXPECT_EQ(entry.string_or("status", ""), "concluded");
  EXPECT_EQ(entry.string_or("error", ""), "snapshot 'x' not found");
  EXPECT_EQ(seen, (std::vector<std::string>{"load0:created", "load0:running", "load0:aborting",
                                            "load0:concluded"}));
}

TEST_F(JobsTest, IdsAreCheckedAndVerbsRespectTheStatus) {
  EXPECT_EQ(jobs.create("", "t").error().message(), "Invalid job ID ''");
  EXPECT_EQ(jobs.create("1abc", "t").error().message(), "Invalid job ID '1abc'");
  EXPECT_EQ(jobs.create("a b", "t").error().message(), "Invalid job ID 'a b'");
  Expected<Job*> job = jobs.create("a-1.b_2", "t");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(jobs.create("a-1.b_2", "t").error().message(), "Job ID 'a-1.b_2' already in use");
  jobs.start(**job);
  EXPECT_EQ(jobs.dismiss("a-1.b_2").message(),
            "Job 'a-1.b_2' in state 'running' cannot accept command verb 'dismiss'");
  EXPECT_EQ(jobs.dismiss("nobody").message(), "Job not found");
  EXPECT_STREQ(job_status_name(JobStatus::kStandby), "standby");
}

}  // namespace
}  // namespace cr16::system
