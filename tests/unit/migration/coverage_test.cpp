// Every state description in the tree is one the engine can trust: its
// fields cover every byte of its struct exactly once (a member forgotten in
// the table fails here), it has a post_load, and its versions, names and
// nested descriptions are consistent (migration::check_state_description).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cpu/state.h"
#include "hw/device_state.h"
#include "hw/virtual_clock.h"
#include "migration/state_codec.h"
#include "util/state.h"

namespace cr16 {
namespace {

/// Every description in the tree: the CPU's, the virtual clock's and every
/// device's. A new stateful object adds its description here.
std::vector<const StateDescription*> all_descriptions() {
  std::vector<const StateDescription*> list = {&cpu_state_description(),
                                               &virtual_clock_state_description()};
  for (const StateDescription* description : hw_state_descriptions()) list.push_back(description);
  return list;
}

TEST(StateCoverage, EveryDescriptionCoversItsStructAndValidates) {
  const std::vector<const StateDescription*> list = all_descriptions();
  ASSERT_GE(list.size(), 9u);
  for (const StateDescription* description : list) {
    const Error error = migration::check_state_description(*description);
    EXPECT_TRUE(error.ok()) << error.message();
    EXPECT_NE(description->post_load, nullptr) << description->name;
  }
}

TEST(StateCoverage, SectionNamesAreUnique) {
  std::vector<std::string> names;
  for (const StateDescription* description : all_descriptions()) {
    for (const std::string& seen : names) EXPECT_NE(seen, description->name);
    names.push_back(description->name);
  }
}

// The check itself: a table that forgets a member of its struct fails.
struct Forgetful {
  uint32_t kept;
  uint32_t forgotten;
};
Error accept(void*) {
  return Error();
}
constexpr StateField kForgetfulFields[] = {CR16_STATE_FIELD(Forgetful, kept)};
const StateDescription kForgetful = {"forgetful",      1,  1,     sizeof(Forgetful),
                                     kForgetfulFields, {}, accept};

TEST(StateCoverage, AForgottenMemberFails) {
  const Error error = migration::check_state_description(kForgetful);
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("forgetful: byte 4"), std::string::npos) << error.message();
}

}  // namespace
}  // namespace cr16
