#include "util/error.h"

#include <gtest/gtest.h>

#include <type_traits>

namespace cr16 {
namespace {

TEST(Error, DefaultIsOk) {
  Error error;
  EXPECT_TRUE(error.ok());
  // One convention: ok() is true on success for Error and Expected alike,
  // and Error has no bool conversion that could read the other way.
  static_assert(!std::is_constructible_v<bool, Error>);
  Expected<int> value = 1;
  EXPECT_TRUE(value.ok());
}

TEST(Error, FromErrnoNamesContextAndReason) {
  Error error = Error::from_errno("open foo.elf", ENOENT);
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(error.errno_value(), ENOENT);
  EXPECT_EQ(error.message(), "open foo.elf: No such file or directory");
}

TEST(Error, WithContextPrepends) {
  Error error = Error("bad magic").with_context("snapshot.bin");
  EXPECT_EQ(error.message(), "snapshot.bin: bad magic");
  EXPECT_TRUE(Error().with_context("x").ok());
}

Expected<int> parse_positive(int value) {
  if (value <= 0) return Error("not positive");
  return value;
}

TEST(Expected, HoldsValueOrError) {
  auto good = parse_positive(3);
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(*good, 3);
  EXPECT_TRUE(good.take_error().ok());
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "not positive");
}

}  // namespace
}  // namespace cr16
