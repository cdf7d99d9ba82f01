// -d in_asm,exec,int,cpu output of the interpreter.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cpu_fixture.h"
#include "util/log.h"

namespace cr16::test {
namespace {

using Trace = CpuFixture;

TEST_F(Trace, LogsTranslationExecutionExceptionsAndRegisters) {
  char path[] = "/tmp/cr16-trace-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(set_log_file(path).ok());
  set_log_mask(static_cast<uint32_t>(LogCategory::kInAsm) |
               static_cast<uint32_t>(LogCategory::kExec) |
               static_cast<uint32_t>(LogCategory::kInt) | static_cast<uint32_t>(LogCategory::kCpu));
  exec({0x3211, 0x00C8}, 2);  // addw $1, r1 ; excp bpt
  set_log_mask(0);
  ASSERT_TRUE(set_log_file("").ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::remove(path);
  const std::string log = text.str();
  EXPECT_NE(log.find("addw\t$0x1:s,r1"), std::string::npos) << log;  // in_asm, objdump text
  EXPECT_NE(log.find("excp\tbpt"), std::string::npos) << log;
  EXPECT_NE(log.find("exec: block 0x001000"), std::string::npos) << log;
  EXPECT_NE(log.find("exception BPT"), std::string::npos) << log;
  EXPECT_NE(log.find("psr=0200"), std::string::npos) << log;
  EXPECT_EQ(r(1), 1u);
}

}  // namespace
}  // namespace cr16::test
