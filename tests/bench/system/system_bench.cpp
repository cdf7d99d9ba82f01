// Whole-system speed on compiled C: runs tests/bench/system/crunch (a
// newlib program built with cr16-elf-gcc -O2, committed prebuilt) on the
// virt board through system::Machine with semihosting, exactly as
// `cr16-system -kernel crunch` would, and reports guest MIPS. When the
// GNU simulator is installed it runs the same ELF there too and prints both
// (cr16-elf-run takes about 10 s). Not a test: no assertion on speed, but a
// wrong checksum or exit status fails the run.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "system/machine.h"
#include "system/options.h"

namespace {

constexpr const char* kProgram = CR16_SOURCE_DIR "/tests/bench/system/crunch";
constexpr const char* kGnuSimulator = CR16_ELF_RUN;
constexpr const char* kExpectedLine = "crunch: 1000 rounds, checksum a16474fb\n";

double seconds(const timeval& t) {
  return t.tv_sec + t.tv_usec / 1e6;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Runs `argv` with stdout into a pipe; returns its output, exit status and
// the child's CPU time.
struct ChildRun {
  std::string output;
  int status = -1;
  double cpu = 0, wall = 0;
};

ChildRun run_child(const char* const* argv) {
  ChildRun run;
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return run;
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid < 0) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return run;  // status -1: reported as a failed run
  }
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    execv(argv[0], const_cast<char* const*>(argv));
    _exit(127);
  }
  close(pipe_fds[1]);
  char chunk[256];
  ssize_t got;
  while ((got = read(pipe_fds[0], chunk, sizeof chunk)) > 0) run.output.append(chunk, got);
  close(pipe_fds[0]);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  run.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

}  // namespace

int main() {
  using namespace cr16::system;
  // CR16_BENCH_ACCEL=interp|jit picks the engine (-accel); the default otherwise.
  const char* accel = std::getenv("CR16_BENCH_ACCEL");
  const std::string_view args[] = {
      "-kernel", kProgram, "-semihosting", "-accel",
      accel != nullptr ? accel : cr16::engine_kind_name(cr16::default_engine_kind())};
  cr16::Expected<Options> options = parse_options(args);
  if (!options) {
    std::fprintf(stderr, "bench-system: %s\n", options.error().message().c_str());
    return 1;
  }
  // The guest's stdout (semihosting writes fd 1) goes to a temporary file
  // so its line can be checked.
  std::fflush(stdout);
  FILE* guest_output = std::tmpfile();
  const int saved_stdout = dup(STDOUT_FILENO);
  if (guest_output == nullptr || saved_stdout < 0 ||
      dup2(fileno(guest_output), STDOUT_FILENO) < 0) {
    std::perror("bench-system: redirecting stdout");
    return 1;
  }
  const double cpu_start = cpu_seconds();
  const auto wall_start = std::chrono::steady_clock::now();
  cr16::Expected<std::unique_ptr<Machine>> machine = Machine::create(*options);
  if (!machine) {
    std::fprintf(stderr, "bench-system: %s\n", machine.error().message().c_str());
    return 1;
  }
  const int status = (*machine)->run();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const double cpu = cpu_seconds() - cpu_start;
  const uint64_t instructions = (*machine)->instruction_count();
  machine->reset();
  dup2(saved_stdout, STDOUT_FILENO);
  close(saved_stdout);
  std::string guest_line(256, '\0');
  std::rewind(guest_output);
  guest_line.resize(std::fread(guest_line.data(), 1, guest_line.size(), guest_output));
  std::fclose(guest_output);
  std::printf("bench-system: crunch on virt: %llu instructions, exit %d\n",
              static_cast<unsigned long long>(instructions), status);
  std::printf("bench-system: cr16-system wall %.3f s = %.1f MIPS; cpu %.3f s = %.1f MIPS\n", wall,
              instructions / wall / 1e6, cpu, instructions / cpu / 1e6);
  if (status != 0 || guest_line != kExpectedLine) {
    std::printf("bench-system: WRONG RESULT: guest printed '%s'\n", guest_line.c_str());
    return 1;
  }

  if (std::strlen(kGnuSimulator) == 0 || access(kGnuSimulator, X_OK) != 0) {
    std::printf("bench-system: cr16-elf-run not found; GNU simulator comparison skipped\n");
    return 0;
  }
  const char* const sim_argv[] = {kGnuSimulator, kProgram, nullptr};
  ChildRun sim = run_child(sim_argv);
  if (sim.status != 0 || sim.output != kExpectedLine) {
    std::printf("bench-system: cr16-elf-run failed (exit %d, output '%s')\n", sim.status,
                sim.output.c_str());
    return 1;
  }
  std::printf(
      "bench-system: cr16-elf-run wall %.3f s, cpu %.3f s = %.1f MIPS (at our instruction "
      "count); cr16-system is %.1fx faster in CPU time\n",
      sim.wall, sim.cpu, instructions / sim.cpu / 1e6, sim.cpu / cpu);
  return 0;
}
