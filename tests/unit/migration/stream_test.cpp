// The byte stream under every saved state: little-endian values, the first
// error kept and later operations made no-ops, hard bounds on lengths.
#include "migration/stream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cr16::migration {
namespace {

TEST(Stream, ValuesAreLittleEndianAndReadBack) {
  StreamWriter writer;
  writer.put_u8(0x01);
  writer.put_u16(0x0302);
  writer.put_u32(0x07060504);
  writer.put_u64(0x0F0E0D0C0B0A0908);
  writer.put_short_string("uart");
  const std::vector<uint8_t> expected = {1,  2,  3,  4,  5,  6, 7,   8,   9,   10,
                                         11, 12, 13, 14, 15, 4, 'u', 'a', 'r', 't'};
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ(std::vector<uint8_t>(writer.bytes().begin(), writer.bytes().end()), expected);

  StreamReader reader(expected);
  EXPECT_EQ(reader.get_u8(), 0x01);
  EXPECT_EQ(reader.get_u16(), 0x0302);
  EXPECT_EQ(reader.get_u32(), 0x07060504u);
  EXPECT_EQ(reader.get_u64(), 0x0F0E0D0C0B0A0908u);
  EXPECT_EQ(reader.get_short_string("name", 8), "uart");
  EXPECT_TRUE(reader.ok());
  EXPECT_TRUE(reader.at_end());
}

TEST(Stream, ReaderKeepsItsFirstErrorAndStops) {
  const uint8_t data[] = {0xAA, 0xBB, 0xCC};
  StreamReader reader(data);
  EXPECT_EQ(reader.get_u16(), 0xBBAA);
  EXPECT_EQ(reader.get_u32(), 0u);  // only one byte left
  ASSERT_FALSE(reader.ok());
  const std::string first = reader.error().message();
  EXPECT_NE(first.find("4 bytes needed at offset 2, 1 left"), std::string::npos) << first;
  EXPECT_EQ(reader.get_u8(), 0);  // the byte that was there is not handed out any more
  reader.fail("a later problem");
  EXPECT_EQ(reader.error().message(), first);
  EXPECT_EQ(reader.remaining(), 0u);
  uint8_t out[2] = {7, 7};
  reader.get_bytes(out);
  EXPECT_EQ(out[0], 0);
  EXPECT_TRUE(reader.get_span(1).empty());
}

TEST(Stream, LengthsAreBoundedByWhatIsLeft) {
  const uint8_t long_name[] = {200, 'x'};
  StreamReader names(long_name);
  EXPECT_EQ(names.get_short_string("section name", 63), "");
  EXPECT_NE(names.error().message().find("section name of 200 bytes"), std::string::npos);

  const uint8_t short_name[] = {5, 'a', 'b'};
  StreamReader cut(short_name);
  EXPECT_EQ(cut.get_short_string("section name", 63), "");
  EXPECT_FALSE(cut.ok());

  const uint8_t data[] = {1, 2, 3, 4};
  StreamReader parent(data);
  StreamReader too_long = parent.sub_reader(5);
  EXPECT_FALSE(parent.ok());
  EXPECT_FALSE(too_long.ok());

  StreamReader parent2(data);
  StreamReader body = parent2.sub_reader(2);
  EXPECT_EQ(body.get_u16(), 0x0201);
  EXPECT_EQ(body.get_u8(), 0);  // the sub-reader ends where its length says
  EXPECT_FALSE(body.ok());
  EXPECT_TRUE(parent2.ok());
  EXPECT_EQ(parent2.get_u16(), 0x0403);
}

TEST(Stream, WriterKeepsItsFirstErrorAndItsLimit) {
  StreamWriter writer(6);
  writer.put_u32(1);
  writer.put_u32(2);  // would pass 6 bytes
  ASSERT_FALSE(writer.ok());
  EXPECT_NE(writer.error().message().find("limit of 6 bytes"), std::string::npos);
  writer.put_u8(3);
  EXPECT_EQ(writer.size(), 4u);
  writer.fail(Error("later"));
  EXPECT_NE(writer.error().message().find("limit"), std::string::npos);

  StreamWriter names;
  names.put_short_string(std::string(64, 'n'), 63);
  EXPECT_FALSE(names.ok());
  EXPECT_EQ(names.size(), 0u);

  StreamWriter patch;
  patch.put_u32(0);
  patch.put_u8(9);
  patch.patch_u32(0, 0x11223344);
  const std::vector<uint8_t> expected = {0x44, 0x33, 0x22, 0x11, 9};
  EXPECT_EQ(std::vector<uint8_t>(patch.bytes().begin(), patch.bytes().end()), expected);
  patch.patch_u32(2, 0);  // would run past the end
  EXPECT_FALSE(patch.ok());
}

}  // namespace
}  // namespace cr16::migration
