// The state-description types: fields built from member types, scalar
// accessors with masks, and the coverage check that catches a struct member
// missing from its table.
#include "util/state.h"

#include <gtest/gtest.h>

#include <map>

namespace cr16 {
namespace {

struct Inner {
  uint32_t load;
  uint32_t count;
};
static_assert(std::has_unique_object_representations_v<Inner>);

struct Outer {
  int64_t epoch_ns;
  uint8_t fifo[8];
  uint16_t flags;
  uint16_t head;
  uint32_t spare;
  Inner channel[2];
};
static_assert(std::has_unique_object_representations_v<Outer>);

Error accept(void*) { return Error(); }

constexpr StateField kInnerFields[] = {
    CR16_STATE_FIELD(Inner, load),
    CR16_STATE_FIELD(Inner, count),
};
const StateDescription kInner = {"inner", 1, 1, sizeof(Inner), kInnerFields, {}, accept};

constexpr StateField kOuterFields[] = {
    CR16_STATE_FIELD(Outer, epoch_ns),
    CR16_STATE_FIELD(Outer, fifo),
    CR16_STATE_FIELD(Outer, flags).mask(0x0F),
    CR16_STATE_FIELD(Outer, head).since(2),
    CR16_STATE_FIELD(Outer, spare),
    CR16_STATE_STRUCT(Outer, channel, kInner),
};
const StateDescription kOuter = {"outer", 2, 1, sizeof(Outer), kOuterFields, {}, accept};

// The same struct with `spare` forgotten.
constexpr StateField kForgetfulFields[] = {
    CR16_STATE_FIELD(Outer, epoch_ns), CR16_STATE_FIELD(Outer, fifo),
    CR16_STATE_FIELD(Outer, flags),    CR16_STATE_FIELD(Outer, head),
    CR16_STATE_STRUCT(Outer, channel, kInner),
};
const StateDescription kForgetful = {"forgetful", 1, 1, sizeof(Outer), kForgetfulFields, {},
                                     accept};

TEST(StateDescription, FieldsTakeKindAndCountFromTheMemberType) {
  EXPECT_EQ(kOuterFields[0].kind, FieldKind::kI64);
  EXPECT_EQ(kOuterFields[1].kind, FieldKind::kBytes);
  EXPECT_EQ(kOuterFields[1].count, 8u);
  EXPECT_EQ(kOuterFields[2].kind, FieldKind::kU16);
  EXPECT_EQ(kOuterFields[3].version_added, 2);
  EXPECT_EQ(kOuterFields[5].kind, FieldKind::kStruct);
  EXPECT_EQ(kOuterFields[5].count, 2u);
  EXPECT_EQ(kOuterFields[5].element_size, sizeof(Inner));
}

TEST(StateDescription, CoverageFindsAForgottenMember) {
  EXPECT_TRUE(state_check_coverage(kOuter).ok()) << state_check_coverage(kOuter).message();
  Error error = state_check_coverage(kForgetful);
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("not described"), std::string::npos) << error.message();
}

TEST(StateDescription, SetRefusesValuesOutsideMaskOrWidth) {
  Outer outer{};
  const StateField* flags = state_field_find(kOuter, "flags");
  ASSERT_NE(flags, nullptr);
  EXPECT_TRUE(state_field_set(*flags, &outer, 0x0A).ok());
  EXPECT_EQ(outer.flags, 0x0A);
  EXPECT_FALSE(state_field_set(*flags, &outer, 0x10).ok());
  EXPECT_EQ(outer.flags, 0x0A);
  const StateField* spare = state_field_find(kOuter, "spare");
  EXPECT_FALSE(state_field_set(*spare, &outer, uint64_t{1} << 32).ok());
}

TEST(StateDescription, ForEachScalarWalksNestedArrays) {
  Outer outer{};
  outer.channel[1].count = 7;
  outer.epoch_ns = -5;
  std::map<std::string, uint64_t> seen;
  state_for_each_scalar(kOuter, &outer,
                        [&](const std::string& path, const StateField& field, const void* base,
                            uint32_t index) { seen[path] = state_field_get(field, base, index); });
  EXPECT_EQ(seen.at("channel[1].count"), 7u);
  EXPECT_EQ(static_cast<int64_t>(seen.at("epoch_ns")), -5);
  EXPECT_EQ(seen.count("fifo"), 0u);  // byte arrays are not scalars
  EXPECT_EQ(seen.size(), 8u);         // epoch, flags, head, spare, 2 x (load, count)
}

}  // namespace
}  // namespace cr16
