// Hand-picked disassembly cases, named by what objdump prints (checked
// against cr16-elf-objdump 2.40), covering its notational quirks.
#include <gtest/gtest.h>

#include <vector>

#include "cpu/disas.h"

namespace cr16 {
namespace {

std::string text(std::vector<uint16_t> words, uint32_t address = 0) {
  std::vector<uint8_t> bytes;
  for (uint16_t w : words) {
    bytes.push_back(static_cast<uint8_t>(w));
    bytes.push_back(static_cast<uint8_t>(w >> 8));
  }
  return disassemble_bytes(bytes, address).text;
}

TEST(DisasCases, ImmediatesCarrySizeSuffixes) {
  EXPECT_EQ(text({0x30F1}), "addb\t$0xf:s,r1");
  EXPECT_EQ(text({0x30B2, 0x00FF}), "addb\t$0xff:m,r2");
  EXPECT_EQ(text({0x3291}), "addw\t$-1:s,r1");
  EXPECT_EQ(text({0x4091}), "ashub\t$-7:s,r1");
  EXPECT_EQ(text({0x0074, 0x1234, 0x5678}), "movd\t$0x12345678:l,(r5,r4)");
}

TEST(DisasCases, BranchTargetsAreAbsoluteWithDirection) {
  EXPECT_EQ(text({0x1101}), "beq\t*+0x22:s");
  EXPECT_EQ(text({0x1101}, 0x100), "beq\t*+0x122:s");
  EXPECT_EQ(text({0x1801}, 0x100), "beq\t*-0x2:s");
  EXPECT_EQ(text({0x11EF}, 0x100), "br\t*+0x13e:s");
  EXPECT_EQ(text({0x18E0, 0xFFFF}, 0x10), "br\t*-0xe:m");
  EXPECT_EQ(text({0x1FFF}, 0x10), "b???\t*-0xe:s");
  EXPECT_EQ(text({0xC000, 0x0022}, 8), "bal\t(ra),*+0x2a:m");
  EXPECT_EQ(text({0x0010, 0x2000, 0x0122}, 0x18), "bal\t(r1,r0),*+0x13a:l");
  // beq0/bne0 print the offset (bne0 with objdump's extra 32).
  EXPECT_EQ(text({0x0C31}), "beq0b\tr1,*+0x8:s");
  EXPECT_EQ(text({0x0D31}), "bne0b\tr1,*+0x28:s");
}

TEST(DisasCases, RegisterListsAndRa) {
  EXPECT_EQ(text({0x0187}), "push\t$0x1,r7,RA");
  EXPECT_EQ(text({0x0107}), "push\t$0x1,r7");
  EXPECT_EQ(text({0x011E}), "push\tRA");
  EXPECT_EQ(text({0x00A7}), "loadm\t$0x8,r0");
}

TEST(DisasCases, ProcessorRegistersAndTraps) {
  EXPECT_EQ(text({0x0014, 0x0091}), "lpr\tr1,psr");
  EXPECT_EQ(text({0x0014, 0x10A0}), "lprd\t(r1,r0),intbase");
  EXPECT_EQ(text({0x0014, 0x10B0}), "lprd\t(r1,r0),ILLEGAL REGISTER");
  EXPECT_EQ(text({0x00C5}), "excp\tsvc");
  EXPECT_EQ(text({0x00C0}), "excp\tillegal");
  EXPECT_EQ(text({0x000E}), "cinv    [d,i]");
  EXPECT_EQ(text({0x2C00}), "nop");
}

TEST(DisasCases, MemoryOperands) {
  EXPECT_EQ(text({0x9321}), "loadw\t0x6:s(r2,r1),r2");
  EXPECT_EQ(text({0x880A, 0xBCDE}), "loadb\t0xabcde:m,r0");
  EXPECT_EQ(text({0x881F, 0x0000}), "loadb\t0xf0000:m,r1");  // printed without remap
  EXPECT_EQ(text({0x0012, 0x7F10, 0xFFFF}), "loadb\t0xfffff:l,r1");
  EXPECT_EQ(text({0x8B50, 0x1234}), "loadb\t[r13]0x1234:m,r5");
  EXPECT_EQ(text({0x6AB6, 0x4A3A}), "cbitb\t$0x3,[r12]0xa7a:m(r4,r3)");
  EXPECT_EQ(text({0x0018, 0x4F21, 0xFFFF}), "loadb\t0xfffff:l(r1),r2");
}

TEST(DisasCases, UndefinedEncodings) {
  EXPECT_EQ(text({0x0000}), "illegal ");
  EXPECT_EQ(disassemble_bytes(std::vector<uint8_t>{0x01, 0x00}, 0).size_bytes, 2u);
  // The 3-word branch with ope != 0 is UND for the CPU, shown as objdump does.
  EXPECT_FALSE(isa::decode(0x0010, 0x1000, 0).valid());
  EXPECT_EQ(text({0x0010, 0x1000, 0x0010}), "beq\t*+0x10:l");
}

TEST(DisasCases, ShortBuffersReadMissingWordsAsZero) {
  // Like objdump at the end of a section: a word not entirely present is 0.
  EXPECT_EQ(disassemble_bytes({}, 0).text, "illegal ");
  EXPECT_EQ(disassemble_bytes(std::vector<uint8_t>{0xF1}, 0).text, "illegal ");
  const auto truncated = disassemble_bytes(std::vector<uint8_t>{0xB2, 0x30, 0xFF}, 0);
  EXPECT_EQ(truncated.text, "addb\t$0x0:m,r2");
  EXPECT_EQ(truncated.size_bytes, 4u);
}

TEST(DisasCases, EveryWord0GivesTextAndTheDecodedSize) {
  const uint16_t tails[] = {0x0000, 0x1234, 0xF00F, 0xFFFF};
  for (uint32_t w0 = 0; w0 < 65536; ++w0) {
    for (uint16_t w1 : tails) {
      const uint8_t bytes[6] = {static_cast<uint8_t>(w0),
                                static_cast<uint8_t>(w0 >> 8),
                                static_cast<uint8_t>(w1),
                                static_cast<uint8_t>(w1 >> 8),
                                0x5A,
                                0xA5};
      const Disassembly d = disassemble_bytes(bytes, 0x1000);
      ASSERT_FALSE(d.text.empty());
      const isa::Decoded decoded = isa::decode(static_cast<uint16_t>(w0), w1, 0xA55A);
      if (decoded.valid()) {
        ASSERT_EQ(d.size_bytes, 2u * decoded.size_words) << std::hex << w0;
        ASSERT_NE(d.text, "illegal ") << std::hex << w0;
      } else {
        // Only the 3-word branch with ope != 0 is shown although UND.
        ASSERT_TRUE(d.text == "illegal " || (w0 == 0x0010 && d.size_bytes == 6)) << std::hex << w0;
      }
    }
  }
}

}  // namespace
}  // namespace cr16
