// cr16-system: the program. Parses the options, handles the informational
// ones (-h, -version, -M help, -cpu help, -d help), then builds and runs the
// machine. Any error is one line on stderr and exit status 1.
#include <signal.h>
#include <sys/prctl.h>

#include <cstdio>

#include "system/machine.h"
#include "system/options.h"
#include "util/log.h"

namespace {

int fail(const cr16::Error& error) {
  std::fprintf(stderr, "cr16-system: %s\n", error.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cr16::system;
  cr16::Expected<Options> options = parse_options(argc, argv);
  if (!options) return fail(options.error());
  switch (options->action) {
    case Action::kHelp:
      std::fputs(usage_text().c_str(), stdout);
      return 0;
    case Action::kVersion:
      std::fputs(version_text().c_str(), stdout);
      return 0;
    case Action::kMachineHelp:
    case Action::kMachinePropertyHelp:
      std::fputs(machine_help_text(*options).c_str(), stdout);
      return 0;
    case Action::kCpuHelp:
      std::fputs(cpu_help_text().c_str(), stdout);
      return 0;
    case Action::kAccelHelp:
      std::fputs(cr16::engine_help_text().c_str(), stdout);
      return 0;
    case Action::kLogHelp:
      std::fputs(cr16::log_category_help().c_str(), stdout);
      return 0;
    case Action::kRun:
      break;
  }
  cr16::set_log_mask(options->log_mask);
  if (!options->log_file.empty()) {
    if (cr16::Error error = cr16::set_log_file(options->log_file); !error.ok())
      return fail(error.with_context("-D"));
  }
  signal(SIGPIPE, SIG_IGN);  // a peer that leaves is an io error, not a death
  if (!options->process_name.empty()) {
    prctl(PR_SET_NAME, options->process_name.c_str());  // -name ...,process=: what ps shows
  }
  cr16::Expected<std::unique_ptr<Machine>> machine = Machine::create(*options);
  if (!machine) return fail(machine.error());
  int status = (*machine)->run();
  machine->reset();
  return status;
}
