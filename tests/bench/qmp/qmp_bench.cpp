// QMP figures for docs/performance.md, cr16-system beside QEMU 7.2 in the
// same run (when qemu-system-arm is installed):
//  - start to QMP greeting: from spawning the process to the greeting's
//    last byte on a UNIX socket (-S, -qmp unix:...,server=on,wait=off); the
//    client retries connect() every 20 us until the socket is there;
//  - round trip of query-status on a negotiated connection (send, read the
//    reply), paused (-S), and for cr16-system also with the guest running:
//    the idle default firmware and a busy loop.
// Usage: bench-qmp CR16_SYSTEM [QEMU_SYSTEM_ARM|none]. Not a test: a wrong
// reply fails the run, a slow one does not.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kStartRuns = 20;
constexpr int kRoundTrips = 5000;

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "bench-qmp: %s\n", why.c_str());
  std::exit(1);
}

double micros(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

struct Stats {
  double min = 0, median = 0, p99 = 0, mean = 0;
};

Stats stats(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  Stats s;
  s.min = samples.front();
  s.median = samples[samples.size() / 2];
  s.p99 = samples[std::min(samples.size() - 1, samples.size() * 99 / 100)];
  double sum = 0;
  for (double v : samples) sum += v;
  s.mean = sum / static_cast<double>(samples.size());
  return s;
}

class Process {
 public:
  explicit Process(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
      fail("cannot start " + args[0]);
    }
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Process() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  int wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
};

class Connection {
 public:
  // Retries every 20 us until the server listens (at most 10 s).
  explicit Connection(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof address.sun_path - 1);
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (true) {
      fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) return;
      close(fd_);
      if (Clock::now() > deadline) fail("no QMP socket at " + path);
      usleep(20);
    }
  }
  ~Connection() { close(fd_); }
  void send(std::string_view text) {
    if (::send(fd_, text.data(), text.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(text.size())) {
      fail("send failed");
    }
  }
  // One CR LF terminated message.
  std::string line() {
    while (true) {
      const size_t end = buffer_.find("\r\n");
      if (end != std::string::npos) {
        std::string message = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return message;
      }
      char chunk[4096];
      const ssize_t got = recv(fd_, chunk, sizeof chunk, 0);
      if (got <= 0) fail("the connection closed");
      buffer_.append(chunk, static_cast<size_t>(got));
    }
  }
  // The next reply, skipping events.
  std::string reply() {
    while (true) {
      std::string message = line();
      if (message.find("\"event\"") == std::string::npos) return message;
    }
  }

 private:
  int fd_ = -1;
  std::string buffer_;
};

struct Emulator {
  std::string name;
  std::vector<std::string> args;  // without the -qmp option
};

std::vector<std::string> with_qmp(const Emulator& emulator, const std::string& socket) {
  std::vector<std::string> args = emulator.args;
  args.push_back("-qmp");
  args.push_back("unix:" + socket + ",server=on,wait=off");
  return args;
}

Stats start_to_greeting(const Emulator& emulator, const std::string& dir) {
  std::vector<double> samples;
  for (int run = 0; run < kStartRuns; ++run) {
    const std::string socket = dir + "/start" + std::to_string(run) + ".sock";
    const auto start = Clock::now();
    Process process(with_qmp(emulator, socket));
    Connection connection(socket);
    const std::string greeting = connection.line();
    samples.push_back(micros(Clock::now() - start));
    if (!greeting.starts_with("{\"QMP\": {")) fail(emulator.name + ": not a greeting: " + greeting);
    connection.send(R"({"execute": "qmp_capabilities"}{"execute": "quit"})");
    connection.reply();
    connection.reply();
    process.wait();
  }
  return stats(samples);
}

Stats round_trips(const Emulator& emulator, const std::string& dir, const char* expected_status) {
  const std::string socket = dir + "/rt.sock";
  Process process(with_qmp(emulator, socket));
  Connection connection(socket);
  connection.line();
  connection.send(R"({"execute": "qmp_capabilities"})");
  connection.reply();
  std::vector<double> samples;
  samples.reserve(kRoundTrips);
  for (int i = 0; i < kRoundTrips; ++i) {
    const auto start = Clock::now();
    connection.send(R"({"execute": "query-status"})");
    const std::string reply = connection.reply();
    samples.push_back(micros(Clock::now() - start));
    if (reply.find(expected_status) == std::string::npos) {
      fail(emulator.name + ": unexpected reply: " + reply);
    }
  }
  connection.send(R"({"execute": "quit"})");
  connection.reply();
  process.wait();
  std::filesystem::remove(socket);
  return stats(samples);
}

void print(const char* what, const std::string& who, const Stats& s) {
  std::printf("%-38s %-34s %9.1f %9.1f %9.1f %9.1f\n", what, who.c_str(), s.min, s.median, s.p99,
              s.mean);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) fail("usage: bench-qmp CR16_SYSTEM [QEMU_SYSTEM_ARM|none]");
  std::string qemu = argc > 2 ? argv[2] : "qemu-system-arm";
  if (qemu != "none" && qemu.find('/') == std::string::npos) {
    // Look it up in PATH.
    std::string found;
    const char* path = std::getenv("PATH");
    std::string paths = path ? path : "";
    size_t start = 0;
    while (start <= paths.size() && found.empty()) {
      const size_t end = paths.find(':', start);
      const std::string candidate =
          paths.substr(start, end == std::string::npos ? std::string::npos : end - start) + "/" +
          qemu;
      if (access(candidate.c_str(), X_OK) == 0) found = candidate;
      if (end == std::string::npos) break;
      start = end + 1;
    }
    qemu = found.empty() ? "none" : found;
  }
  char pattern[] = "/tmp/cr16-bench-qmp-XXXXXX";
  if (mkdtemp(pattern) == nullptr) fail("mkdtemp failed");
  const std::string dir = pattern;
  // The busy guest: movw $0, r4 / loop: addw $1, r4 / br loop.
  const std::string busy = dir + "/busy.bin";
  {
    const unsigned char program[] = {0x04, 0x5a, 0x14, 0x32, 0xef, 0x1f};
    FILE* f = std::fopen(busy.c_str(), "wb");
    if (f == nullptr || std::fwrite(program, 1, sizeof program, f) != sizeof program) {
      fail("cannot write " + busy);
    }
    std::fclose(f);
  }
  const std::string cr16 = argv[1];
  const Emulator paused{"cr16-system -S", {cr16, "-S", "-serial", "null", "-monitor", "none"}};
  const Emulator idle{"cr16-system (idle firmware)", {cr16, "-serial", "null", "-monitor", "none"}};
  const Emulator running{"cr16-system (busy guest)",
                         {cr16, "-kernel", busy, "-serial", "null", "-monitor", "none"}};
  // -nic none: Debian's QEMU lacks efi-virtio.rom for virt's default NIC.
  const Emulator reference{"qemu-system-arm 7.2 -M virt -S",
                           {qemu, "-M", "virt", "-S", "-display", "none", "-nic", "none"}};

  std::printf("QMP benchmark (%d starts, %d round trips each), microseconds\n", kStartRuns,
              kRoundTrips);
  std::printf("%-38s %-34s %9s %9s %9s %9s\n", "what", "emulator", "min", "median", "p99", "mean");
  print("start to QMP greeting", paused.name, start_to_greeting(paused, dir));
  if (qemu != "none")
    print("start to QMP greeting", reference.name, start_to_greeting(reference, dir));
  print("query-status round trip", paused.name, round_trips(paused, dir, "\"prelaunch\""));
  print("query-status round trip", idle.name, round_trips(idle, dir, "\"running\""));
  print("query-status round trip", running.name, round_trips(running, dir, "\"running\""));
  if (qemu != "none") {
    print("query-status round trip", reference.name, round_trips(reference, dir, "\"prelaunch\""));
  } else {
    std::printf("(qemu-system-arm not found: scripts/install-bench-deps.sh installs it)\n");
  }
  std::filesystem::remove_all(dir);
  return 0;
}
