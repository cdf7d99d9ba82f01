// docs/qmp.md documents every command QMP serves and every event, and
// nothing else: each has a "### `NAME`" heading, and each such heading
// names a command of the table or an event.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "system/monitor/commands.h"
#include "system/monitor/events.h"

namespace cr16::system::monitor {
namespace {

std::set<std::string> documented_names() {
  std::ifstream in(std::string(CR16_SOURCE_DIR) + "/docs/qmp.md");
  EXPECT_TRUE(in.good()) << "docs/qmp.md is missing";
  std::set<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("### `")) continue;
    const size_t end = line.find('`', 5);
    if (end != std::string::npos) names.insert(line.substr(5, end - 5));
  }
  return names;
}

TEST(QmpDocs, EveryCommandAndEventIsDocumented) {
  const std::set<std::string> documented = documented_names();
  std::set<std::string> served;
  for (const Command& command : commands()) {
    if (!command.qmp) continue;
    served.insert(command.name);
    EXPECT_TRUE(documented.count(command.name))
        << "docs/qmp.md has no \"### `" << command.name << "`\" section";
  }
  for (const std::string& event : known_events()) {
    served.insert(event);
    EXPECT_TRUE(documented.count(event)) << "docs/qmp.md has no \"### `" << event << "`\" section";
  }
  for (const std::string& name : documented) {
    EXPECT_TRUE(served.count(name))
        << "docs/qmp.md documents `" << name << "`, which is neither a QMP command nor an event";
  }
}

}  // namespace
}  // namespace cr16::system::monitor
