// One described object through the engine: every field kind round-trips
// little-endian, per-field and section versions are honoured, masks and
// post_load refuse bad values, subsections come only when needed, and a
// refused load leaves the object exactly as it was.
#include "migration/state_codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace cr16::migration {
namespace {

struct Channel {
  uint32_t load;
  uint16_t mode;
  uint16_t flags;
};
static_assert(std::has_unique_object_representations_v<Channel>);

struct Everything {
  int64_t time_ns;
  uint64_t counter;
  uint32_t words[3];
  uint16_t half;
  uint8_t small;
  uint8_t bytes[5];
  uint32_t added_v2;  // since version 2
  Channel channel[2];
  StateBuffer buffer;
  uint32_t extra;  // subsection "extras"
  uint32_t extra2;
};
static_assert(std::has_unique_object_representations_v<Everything>);

int g_post_loads = 0;

Error validate_channel(void* object) {
  ++g_post_loads;
  if (static_cast<Channel*>(object)->mode > 5) return Error("mode above 5");
  return Error();
}

Error validate_everything(void* object) {
  ++g_post_loads;
  const auto* state = static_cast<Everything*>(object);
  if (state->time_ns < 0) return Error("time_ns negative");
  return Error();
}

Error validate_extras(void* object) {
  ++g_post_loads;
  if (static_cast<Everything*>(object)->extra == 0xDEAD) return Error("extra is dead");
  return Error();
}

constexpr StateField kChannelFields[] = {
    CR16_STATE_FIELD(Channel, load),
    CR16_STATE_FIELD(Channel, mode),
    CR16_STATE_FIELD(Channel, flags).mask(0x3),
};
const StateDescription kChannel = {"channel",       1, 1, sizeof(Channel), kChannelFields, {},
                                   validate_channel};
const StateDescription kChannelV2 = {"channel",       2, 2, sizeof(Channel), kChannelFields, {},
                                     validate_channel};

constexpr StateField kExtrasFields[] = {
    CR16_STATE_FIELD(Everything, extra),
    CR16_STATE_FIELD(Everything, extra2),
};
const StateDescription kExtras = {"extras",       1, 1, sizeof(Everything), kExtrasFields, {},
                                  validate_extras};
bool extras_needed(const void* object) {
  const auto* state = static_cast<const Everything*>(object);
  return state->extra != 0 || state->extra2 != 0;
}
const StateSubsection kSubsections[] = {{&kExtras, extras_needed}};

#define EVERYTHING_V1_FIELDS                                                    \
  CR16_STATE_FIELD(Everything, time_ns), CR16_STATE_FIELD(Everything, counter), \
      CR16_STATE_FIELD(Everything, words), CR16_STATE_FIELD(Everything, half),  \
      CR16_STATE_FIELD(Everything, small).mask(0x7F), CR16_STATE_FIELD(Everything, bytes)

constexpr StateField kEverythingFields[] = {
    EVERYTHING_V1_FIELDS,
    CR16_STATE_FIELD(Everything, added_v2).since(2),
    CR16_STATE_STRUCT(Everything, channel, kChannel),
    CR16_STATE_FIELD(Everything, buffer),
};
const StateDescription kEverything = {
    "everything", 2, 1, sizeof(Everything), kEverythingFields, kSubsections, validate_everything};

// The same object as version 1 wrote it (before added_v2), and a future
// version 3 that only a newer build could load.
constexpr StateField kEverythingV1Fields[] = {
    EVERYTHING_V1_FIELDS,
    CR16_STATE_STRUCT(Everything, channel, kChannel),
    CR16_STATE_FIELD(Everything, buffer),
};
const StateDescription kEverythingV1 = {
    "everything", 1, 1, sizeof(Everything), kEverythingV1Fields, kSubsections, validate_everything};
const StateDescription kEverythingV3 = {
    "everything", 3, 1, sizeof(Everything), kEverythingFields, kSubsections, validate_everything};
// Version 2 with a channel description that is only loadable from 2 on.
constexpr StateField kEverythingNewChannelFields[] = {
    EVERYTHING_V1_FIELDS,
    CR16_STATE_FIELD(Everything, added_v2).since(2),
    CR16_STATE_STRUCT(Everything, channel, kChannelV2),
    CR16_STATE_FIELD(Everything, buffer),
};
const StateDescription kEverythingNewChannel = {
    "everything",       2, 1, sizeof(Everything), kEverythingNewChannelFields, kSubsections,
    validate_everything};

/// An Everything with its own buffer storage.
struct Holder {
  explicit Holder(size_t buffer_size = 6) : storage(buffer_size, 0) {
    state = Everything{};
    state.buffer = {storage.data(), storage.size()};
  }
  /// Struct bytes (without the buffer pointer) plus the buffer contents.
  std::vector<uint8_t> image() const {
    Everything copy = state;
    copy.buffer.data = nullptr;
    std::vector<uint8_t> bytes(reinterpret_cast<const uint8_t*>(&copy),
                               reinterpret_cast<const uint8_t*>(&copy) + sizeof copy);
    bytes.insert(bytes.end(), storage.begin(), storage.end());
    return bytes;
  }
  Everything state;
  std::vector<uint8_t> storage;
};

void fill(Holder& holder) {
  Everything& s = holder.state;
  s.time_ns = 0x0102030405060708;
  s.counter = 0xF0E0D0C0B0A09080;
  s.words[0] = 1;
  s.words[1] = 0xFFFFFFFF;
  s.words[2] = 0x12345678;
  s.half = 0xBEEF;
  s.small = 0x7E;
  std::memcpy(s.bytes, "fifo!", 5);
  s.added_v2 = 42;
  s.channel[0] = {100, 1, 0x1};
  s.channel[1] = {200, 5, 0x3};
  for (size_t i = 0; i < holder.storage.size(); ++i) holder.storage[i] = uint8_t(0xA0 + i);
}

std::vector<uint8_t> save(const StateDescription& description, const Holder& holder) {
  auto bytes = save_state_object(description, &holder.state);
  EXPECT_TRUE(bytes.ok()) << bytes.error().message();
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

TEST(StateCodec, EveryFieldKindRoundTrips) {
  Holder source;
  fill(source);
  source.state.extra = 9;
  Holder target;
  const Error error = load_state_object(kEverything, &target.state, save(kEverything, source));
  ASSERT_TRUE(error.ok()) << error.message();
  EXPECT_EQ(target.image(), source.image());
  EXPECT_EQ(target.state.buffer.data, target.storage.data());  // the live pointer stays
}

TEST(StateCodec, ScalarsAreLittleEndianAtTheirWidth) {
  struct Small {
    uint16_t half;
    uint8_t byte;
    uint8_t pad_byte;
    uint32_t word;
    int64_t time;
  };
  static constexpr StateField kFields[] = {
      CR16_STATE_FIELD(Small, half),     CR16_STATE_FIELD(Small, byte),
      CR16_STATE_FIELD(Small, pad_byte), CR16_STATE_FIELD(Small, word),
      CR16_STATE_FIELD(Small, time),
  };
  static const StateDescription kSmall = {
      "small", 3, 1, sizeof(Small), kFields, {}, [](void*) { return Error(); }};
  const Small small = {0x1234, 0x56, 0x78, 0x9ABCDEF0, -2};
  auto bytes = save_state_object(kSmall, &small);
  ASSERT_TRUE(bytes.ok());
  const std::vector<uint8_t> expected = {
      0x03, 0x00,                                      // version 3
      0x34, 0x12, 0x56, 0x78, 0xF0, 0xDE, 0xBC, 0x9A,  // half, byte, pad_byte, word
      0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // time = -2
      0x00};                                           // no subsections
  EXPECT_EQ(*bytes, expected);
}

TEST(StateCodec, OlderVersionKeepsFieldsItDidNotHave) {
  Holder source;
  fill(source);
  Holder target;
  target.state.added_v2 = 77;  // the destination's current (reset) value
  const std::vector<uint8_t> old_bytes = save(kEverythingV1, source);
  ASSERT_EQ(old_bytes[0], 1);  // written as version 1
  const Error error = load_state_object(kEverything, &target.state, old_bytes);
  ASSERT_TRUE(error.ok()) << error.message();
  EXPECT_EQ(target.state.added_v2, 77u);
  EXPECT_EQ(target.state.counter, source.state.counter);
  EXPECT_EQ(target.state.channel[1].load, 200u);
  EXPECT_EQ(target.storage, source.storage);
}

TEST(StateCodec, NewerVersionIsRefusedNamingIt) {
  Holder source;
  fill(source);
  Holder target;
  const auto before = target.image();
  const Error error = load_state_object(kEverything, &target.state, save(kEverythingV3, source));
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("everything"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("version 3 is newer"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("(2)"), std::string::npos) << error.message();
  EXPECT_EQ(target.image(), before);
}

TEST(StateCodec, VersionBelowMinimumIsRefused) {
  Holder source;
  fill(source);
  Holder target;
  const auto before = target.image();
  // kEverythingNewChannel's channel description loads only version 2.
  const Error error =
      load_state_object(kEverythingNewChannel, &target.state, save(kEverything, source));
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("channel: version 1 is older than the oldest"), std::string::npos)
      << error.message();
  EXPECT_EQ(target.image(), before);
}

TEST(StateCodec, ValuesOutsideTheMaskAreRefusedNamingTheField) {
  Holder source;
  fill(source);
  source.state.channel[1].flags = 0x4;  // saving does not validate
  Holder target;
  const auto before = target.image();
  const Error error = load_state_object(kEverything, &target.state, save(kEverything, source));
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("channel[1].flags"), std::string::npos) << error.message();
  EXPECT_EQ(target.image(), before);
}

TEST(StateCodec, PostLoadRunsOnTheCandidateAndCanRefuse) {
  Holder source;
  fill(source);
  Holder target;
  const auto before = target.image();
  g_post_loads = 0;
  ASSERT_TRUE(load_state_object(kEverything, &target.state, save(kEverything, source)).ok());
  EXPECT_EQ(g_post_loads, 4);  // two channels, the subsection's, the object's

  source.state.time_ns = -1;  // refused by the object's post_load
  Holder untouched;
  EXPECT_FALSE(load_state_object(kEverything, &untouched.state, save(kEverything, source)).ok());
  EXPECT_EQ(untouched.image(), before);

  source.state.time_ns = 5;
  source.state.channel[0].mode = 6;  // refused by the nested post_load
  const Error error = load_state_object(kEverything, &untouched.state, save(kEverything, source));
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("channel[0]: mode above 5"), std::string::npos) << error.message();
  EXPECT_EQ(untouched.image(), before);
}

TEST(StateCodec, EveryTruncationIsRefusedAndChangesNothing) {
  Holder source;
  fill(source);
  source.state.extra2 = 3;  // with the subsection
  const std::vector<uint8_t> bytes = save(kEverything, source);
  Holder target;
  const auto before = target.image();
  for (size_t length = 0; length < bytes.size(); ++length) {
    const Error error = load_state_object(kEverything, &target.state,
                                          std::span<const uint8_t>(bytes.data(), length));
    EXPECT_FALSE(error.ok()) << "prefix of " << length << " bytes loaded";
    EXPECT_EQ(target.image(), before) << "prefix of " << length << " bytes";
  }
  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  const Error error = load_state_object(kEverything, &target.state, longer);
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(target.image(), before);
  ASSERT_TRUE(load_state_object(kEverything, &target.state, bytes).ok());
  EXPECT_EQ(target.image(), source.image());
}

TEST(StateCodec, BufferOfAnotherSizeIsRefused) {
  Holder source(8);
  fill(source);
  Holder target(6);
  const auto before = target.image();
  const Error error = load_state_object(kEverything, &target.state, save(kEverything, source));
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("buffer: buffer of 8 bytes in the stream, 6 here"),
            std::string::npos)
      << error.message();
  EXPECT_EQ(target.image(), before);
}

TEST(StateCodec, SubsectionIsWrittenOnlyWhenNeeded) {
  Holder plain;
  fill(plain);
  Holder with_extras = plain;
  with_extras.state.buffer.data = with_extras.storage.data();
  with_extras.state.extra = 5;
  const std::vector<uint8_t> without = save(kEverything, plain);
  const std::vector<uint8_t> with = save(kEverything, with_extras);
  // marker, name length, "extras", version, length, two u32 fields
  EXPECT_EQ(with.size(), without.size() + 1 + 1 + 6 + 2 + 4 + 8);
  EXPECT_EQ(without.back(), 0);

  // Absent: the destination keeps its own values; present: they load.
  Holder target;
  target.state.extra = 11;
  target.state.extra2 = 12;
  ASSERT_TRUE(load_state_object(kEverything, &target.state, without).ok());
  EXPECT_EQ(target.state.extra, 11u);
  EXPECT_EQ(target.state.extra2, 12u);
  ASSERT_TRUE(load_state_object(kEverything, &target.state, with).ok());
  EXPECT_EQ(target.state.extra, 5u);
  EXPECT_EQ(target.state.extra2, 0u);
}

// Offset of the subsection marker in a body saved from `holder` (the fields
// come first, and their size does not depend on the values).
size_t subsection_offset(const Holder& holder) {
  Holder plain = holder;
  plain.state.buffer.data = plain.storage.data();
  plain.state.extra = plain.state.extra2 = 0;
  return save(kEverything, plain).size() - 1;
}

TEST(StateCodec, BadSubsectionsAreRefused) {
  Holder source;
  fill(source);
  source.state.extra = 1;
  const std::vector<uint8_t> good = save(kEverything, source);
  const size_t at = subsection_offset(source);
  ASSERT_EQ(good[at], 1);
  Holder target;
  const auto before = target.image();

  auto expect_refused = [&](const std::vector<uint8_t>& bytes, const std::string& words) {
    const Error error = load_state_object(kEverything, &target.state, bytes);
    ASSERT_FALSE(error.ok()) << words;
    EXPECT_NE(error.message().find(words), std::string::npos) << error.message();
    EXPECT_EQ(target.image(), before);
  };
  std::vector<uint8_t> unknown = good;
  unknown[at + 2] = 'X';  // "Xxtras"
  expect_refused(unknown, "unknown subsection 'Xxtras'");

  // A repeated subsection makes the body longer than the description can
  // hold, which load_state_object refuses before decoding; the decoder
  // (StagedState, as a section loader uses it) refuses it on its own too.
  std::vector<uint8_t> twice(good.begin(), good.end() - 1);  // without the final 0
  twice.insert(twice.end(), good.begin() + at, good.end());  // the subsection again, then 0
  expect_refused(twice, "more than its description can hold");
  {
    StagedState staged(kEverything, &target.state);
    StreamReader reader(std::span<const uint8_t>(twice).subspan(2));
    const Error error = staged.load(2, reader, "everything");
    EXPECT_NE(error.message().find("subsection 'extras' appears twice"), std::string::npos)
        << error.message();
    std::vector<uint8_t> padded = good;
    padded.push_back(0);
    StreamReader padded_reader(std::span<const uint8_t>(padded).subspan(2));
    EXPECT_NE(staged.load(2, padded_reader, "everything").message().find("1 bytes left over"),
              std::string::npos);
  }

  std::vector<uint8_t> newer = good;
  newer[at + 2 + 6] = 2;  // version 2 of a version-1 subsection
  expect_refused(newer, "everything/extras: version 2 is newer");

  std::vector<uint8_t> bad_marker = good;
  bad_marker[at] = 7;
  expect_refused(bad_marker, "bad subsection marker 7");

  std::vector<uint8_t> short_body = good;
  short_body[at + 2 + 6 + 2] = 4;  // claims 4 bytes of 8: the rest is read as the next marker
  expect_refused(short_body, "");

  std::vector<uint8_t> long_body = good;
  long_body[at + 2 + 6 + 2] = 200;
  expect_refused(long_body, "truncated");

  source.state.extra = 0xDEAD;  // refused by the subsection's post_load
  expect_refused(save(kEverything, source), "extra is dead");
}

// ---- Descriptions the engine refuses to trust.

Error accept(void*) {
  return Error();
}

TEST(StateCodec, DescriptionChecksFindMistakes) {
  EXPECT_TRUE(check_state_description(kEverything).ok())
      << check_state_description(kEverything).message();

  constexpr StateField kForgetful[] = {
      CR16_STATE_FIELD(Channel, load),
      CR16_STATE_FIELD(Channel, mode),
  };
  const StateDescription forgetful = {"forgetful", 1, 1, sizeof(Channel), kForgetful, {}, accept};
  EXPECT_NE(check_state_description(forgetful).message().find("byte 6"), std::string::npos)
      << check_state_description(forgetful).message();

  const StateDescription no_post_load = {"lazy",         1,  1,      sizeof(Channel),
                                         kChannelFields, {}, nullptr};
  EXPECT_NE(check_state_description(no_post_load).message().find("no post_load"),
            std::string::npos);

  constexpr StateField kTooNew[] = {
      CR16_STATE_FIELD(Channel, load),
      CR16_STATE_FIELD(Channel, mode).since(3),
      CR16_STATE_FIELD(Channel, flags),
  };
  const StateDescription too_new = {"too-new", 2, 1, sizeof(Channel), kTooNew, {}, accept};
  EXPECT_NE(check_state_description(too_new).message().find("added in version 3"),
            std::string::npos);

  const StateDescription inverted = {"inverted", 1, 2, sizeof(Channel), kChannelFields, {}, accept};
  EXPECT_FALSE(check_state_description(inverted).ok());

  constexpr StateField kTwice[] = {
      CR16_STATE_FIELD(Channel, load),
      CR16_STATE_FIELD(Channel, mode),
      StateField(CR16_STATE_FIELD(Channel, flags)),
  };
  StateField renamed[3] = {kTwice[0], kTwice[1], kTwice[2]};
  renamed[2].name = "mode";
  const StateDescription twice = {"twice", 1, 1, sizeof(Channel), renamed, {}, accept};
  EXPECT_NE(check_state_description(twice).message().find("name used twice"), std::string::npos);

  struct Outer {
    Everything inner;
  };
  static constexpr StateField kOuterFields[] = {CR16_STATE_STRUCT(Outer, inner, kEverything)};
  const StateDescription outer = {"outer", 1, 1, sizeof(Outer), kOuterFields, {}, accept};
  EXPECT_NE(check_state_description(outer).message().find("cannot have subsections"),
            std::string::npos);
}

}  // namespace
}  // namespace cr16::migration
