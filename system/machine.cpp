#include "system/machine.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>

#include "hw/loop_device_clock.h"
#include "hw/virt_board.h"
#include "io/loop.h"
#include "system/chardev_common.h"
#include "system/chardev_factory.h"
#include "system/chardev_socket.h"
#include "system/elf_loader.h"
#include "system/firmware_search.h"
#include "system/semihosting.h"
#include "util/log.h"

namespace cr16::system {

namespace {

constexpr uint32_t kFlashBase = 0xE00000;
constexpr uint32_t kFlashSize = 1u << 20;
constexpr uint64_t kMaxKernelFile = 64ull << 20;  // ELF files carry debug info
/// Instructions per slice when no virtual deadline is closer: about 1 ms of
/// guest time at interpreter speed, short enough for responsive io.
constexpr uint64_t kSliceInstructions = 20000;

// The CPU registers as semihosting sees them.
class CpuRegisters : public SemihostRegisters {
 public:
  explicit CpuRegisters(Cpu& cpu) : cpu_(cpu) {}
  uint16_t reg(unsigned index) const override {
    return static_cast<uint16_t>(cpu_.state().r[index]);
  }
  void set_reg(unsigned index, uint16_t value) override { cpu_.set_reg16(index, value); }
  uint32_t pc() const override { return cpu_.state().pc; }

 private:
  Cpu& cpu_;
};

// Guest memory for semihosting: plain RAM/ROM only; ROM refuses writes.
class BoardMemory : public SemihostMemory {
 public:
  explicit BoardMemory(AddressSpace& memory) : memory_(memory) {}
  bool read(uint32_t address, std::span<uint8_t> out) override {
    if (uint64_t{address} + out.size() > kAddressSpaceSize) return false;
    return memory_.read_bytes(address, out).ok();
  }
  bool write(uint32_t address, std::span<const uint8_t> in) override {
    if (uint64_t{address} + in.size() > kAddressSpaceSize) return false;
    return memory_.write_bytes(address, in).ok();
  }
  bool writable(uint32_t address, uint32_t length) override {
    return length == 0 || memory_.host_pointer(address, length) != nullptr;  // RAM only
  }

 private:
  AddressSpace& memory_;
};

// Flattens an ELF meant for the flash into a flash image starting at kFlashBase.
Expected<std::vector<uint8_t>> flatten_for_flash(const LoadImage& image) {
  Error fits = check_segments_fit(
      image,
      [](uint32_t address, uint32_t length) {
        return address >= kFlashBase && uint64_t{address} + length <= kFlashBase + kFlashSize;
      },
      "the flash at 0xe00000-0xefffff");
  if (!fits.ok()) return fits.with_context("-bios");
  uint64_t end = 0;
  for (const auto& segment : image.segments) end = std::max(end, segment.end());
  std::vector<uint8_t> flash(static_cast<size_t>(end - kFlashBase), 0xff);
  for (const auto& segment : image.segments) {
    size_t offset = segment.address - kFlashBase;
    std::copy(segment.bytes.begin(), segment.bytes.end(), flash.begin() + offset);
    std::fill_n(flash.begin() + offset + segment.bytes.size(), segment.zero_fill, 0);
  }
  return flash;
}

}  // namespace

struct Machine::Impl {
  Options options;
  std::unique_ptr<io::Loop> loop;
  std::unique_ptr<LoopDeviceClock> clock;
  std::vector<std::unique_ptr<CharBackend>> backends;
  std::vector<SocketCharBackend*> sockets;
  std::unique_ptr<VirtBoard> board;
  std::unique_ptr<Semihosting> semihosting;
  std::optional<LoadImage> kernel;
  uint32_t reset_pc = kFlashBase;
  bool semihosting_on = false;
  SemihostingAccess semihosting_access = SemihostingAccess::kConsole;
  // A semihosting call waiting for a host fd: the CPU stays off until the
  // watch sees the fd ready, then runs the same excp again.
  std::optional<uint32_t> semihost_retry_pc;
  io::Loop::WatchId semihost_watch = 0;

  bool quit = false;
  bool paused = false;  // after a power-off with -no-shutdown
  bool reset_pending = false;
  int exit_code = 0;
  int signal_fd = -1;
  io::Loop::WatchId signal_watch = 0;
  int64_t icount_warp_ns = 0;  // -icount: virtual time skipped while the CPU sleeps

  ~Impl() {
    for (auto& backend : backends) {
      if (auto* buffered = dynamic_cast<ChannelCharBackend*>(backend.get())) buffered->drain(500);
    }
    board.reset();  // devices detach from their backends first
    backends.clear();
    if (signal_watch) loop->remove_watch(signal_watch);
    if (semihost_watch) loop->remove_watch(semihost_watch);
    if (signal_fd >= 0) close(signal_fd);
  }

  Error create_backends();
  Error prepare_images(VirtConfig* config);
  Error load_kernel();
  Error install_handlers();
  void wait_for_host_fd(const SemihostWait& wait);
  void install_signals();
  void request_quit(int code) {
    exit_code = code;
    quit = true;
    if (board) board->cpu().request_exit();
    loop->wakeup();
  }
  bool waiting_for_clients() const {
    return std::any_of(sockets.begin(), sockets.end(),
                       [](SocketCharBackend* socket) { return socket->waiting_for_client(); });
  }
  int64_t virtual_now() { return loop->now(io::ClockType::kVirtual); }
  void run_guest_slice();
  int run();
};

Error Machine::Impl::create_backends() {
  for (unsigned i = 0; i < kSerialPortCount; ++i) {
    SerialSpec spec;
    if (i < options.serial.size()) {
      spec = options.serial[i];
    } else if (i == 0 && options.serial.empty() && !semihosting_on) {
      // The default console. Not with semihosting: the program's own
      // stdin/stdout are ours then, and a UART reading stdin would steal input.
      spec.kind = SerialSpec::Kind::kStdio;
      spec.text = "stdio";
    } else {
      spec.kind = SerialSpec::Kind::kNull;
      spec.text = "null";
    }
    Expected<std::unique_ptr<CharBackend>> backend =
        create_char_backend(spec, *loop, "serial" + std::to_string(i), [this] { request_quit(0); });
    if (!backend) return backend.error();
    if (spec.kind == SerialSpec::Kind::kTcp || spec.kind == SerialSpec::Kind::kUnix) {
      sockets.push_back(static_cast<SocketCharBackend*>(backend->get()));
    }
    backends.push_back(std::move(*backend));
  }
  return {};
}

Error Machine::Impl::prepare_images(VirtConfig* config) {
  std::string bios_path = options.bios_path;
  if (bios_path.empty() && options.kernel_path.empty()) {
    Expected<std::string> found = find_firmware(kDefaultFirmwareName, options.data_dirs);
    if (!found) return found.error();
    bios_path = *found;
  }
  if (!bios_path.empty()) {
    Expected<std::vector<uint8_t>> bytes = read_file(bios_path, kMaxKernelFile);
    if (!bytes) return bytes.error().with_context("-bios");
    if (looks_like_elf(*bytes)) {
      Expected<LoadImage> image = parse_elf(*bytes, bios_path);
      if (!image) return image.error().with_context("-bios");
      Expected<std::vector<uint8_t>> flash = flatten_for_flash(*image);
      if (!flash) return flash.error();
      config->bios_image = std::move(*flash);
      reset_pc = image->entry;
    } else {
      if (bytes->size() > kFlashSize) {
        return Error("-bios: " + bios_path + ": image too large for the 1 MiB flash (" +
                     std::to_string(bytes->size()) + " bytes)");
      }
      if (bytes->empty()) return Error("-bios: " + bios_path + ": empty image");
      config->bios_image = std::move(*bytes);
      reset_pc = kFlashBase;
    }
  }
  if (!options.kernel_path.empty()) {
    Expected<std::vector<uint8_t>> bytes = read_file(options.kernel_path, kMaxKernelFile);
    if (!bytes) return bytes.error().with_context("-kernel");
    Expected<LoadImage> image = looks_like_elf(*bytes) ? parse_elf(*bytes, options.kernel_path)
                                                       : parse_raw(*bytes, 0, options.kernel_path);
    if (!image) return image.error().with_context("-kernel");
    kernel = std::move(*image);
    reset_pc = kernel->entry;
  }
  // A simulator-BSP ELF gets console semihosting on its own; host files
  // need the user's -semihosting (anyone can forge the BSP's symbols).
  const bool simulator_bsp = kernel && uses_simulator_bsp(*kernel);
  semihosting_on = options.semihosting == SemihostingMode::kOn ||
                   (options.semihosting == SemihostingMode::kAuto && simulator_bsp);
  semihosting_access = options.semihosting == SemihostingMode::kOn ? SemihostingAccess::kFull
                                                                   : SemihostingAccess::kConsole;
  return {};
}

Error Machine::Impl::load_kernel() {
  if (!kernel) return {};
  AddressSpace& memory = board->memory();
  Error fits = check_segments_fit(*kernel, [&memory](uint32_t address, uint32_t length) {
    return memory.range_is_memory(address, length);
  });
  if (!fits.ok()) return fits.with_context("-kernel");
  for (const auto& segment : kernel->segments) {
    Error error = memory.write_bytes(segment.address, segment.bytes, LoaderWrite::kBypassRom);
    if (error.ok() && segment.zero_fill > 0) {
      std::vector<uint8_t> zeros(segment.zero_fill, 0);
      error = memory.write_bytes(segment.address + static_cast<uint32_t>(segment.bytes.size()),
                                 zeros, LoaderWrite::kBypassRom);
    }
    if (!error.ok()) return error.with_context("-kernel: " + kernel->name);
  }
  return {};
}

// The semihosting call could not finish without waiting: stop the CPU, and
// let the loop watch the fd; once it is ready the excp runs again.
void Machine::Impl::wait_for_host_fd(const SemihostWait& wait) {
  Cpu& cpu = board->cpu();
  semihost_retry_pc = cpu.state().pc;  // the excp (the hook sees its address)
  cpu.request_exit();
  uint32_t conditions = 0;
  if (wait.events & POLLIN) conditions |= io::kIn;
  if (wait.events & POLLOUT) conditions |= io::kOut;
  semihost_watch = loop->add_watch(wait.fd, conditions, [this](int, uint32_t) {
    semihost_watch = 0;
    return false;  // ready (or error/hangup): the retry finds out which
  });
}

Error Machine::Impl::install_handlers() {
  board->set_poweroff_handler([this](int code) {
    if (options.no_shutdown) {
      paused = true;
      exit_code = code;
      board->cpu().request_exit();  // run() stops guest time while paused
      std::fprintf(stderr, "cr16-system: guest powered off (code %d); paused (-no-shutdown)\n",
                   code);
    } else {
      request_quit(code);
    }
  });
  board->set_reset_request_handler([this] {
    if (options.no_reboot) {
      request_quit(0);
    } else {
      reset_pending = true;
      board->cpu().request_exit();
    }
  });
  if (semihosting_on) {
    SemihostingConfig config;
    config.access = semihosting_access;
    config.root = options.semihosting_root;
    Expected<std::unique_ptr<Semihosting>> created = Semihosting::create(config);
    if (!created) return created.error().with_context("-semihosting-config");
    semihosting = std::move(*created);
    board->cpu().set_svc_hook([this](Cpu& cpu) {
      CpuRegisters registers(cpu);
      BoardMemory memory(board->memory());
      SemihostOutcome outcome = semihosting->handle(registers, memory);
      if (outcome.exit_status) request_quit(*outcome.exit_status);
      if (outcome.wait) wait_for_host_fd(*outcome.wait);
      return outcome.handled;
    });
  }
  if (options.icount_shift) {
    unsigned shift = *options.icount_shift;
    loop->set_virtual_clock_source([this, shift] {
      return static_cast<int64_t>(board->cpu().instruction_count() << shift) + icount_warp_ns;
    });
  }
  return {};
}

void Machine::Impl::install_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd < 0) return;
  signal_watch = loop->add_watch(signal_fd, io::kIn, [this](int fd, uint32_t) {
    struct signalfd_siginfo info;
    if (read(fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      std::fprintf(stderr, "cr16-system: terminating on signal %u\n", info.ssi_signo);
      request_quit(0);
    }
    return true;
  });
}

void Machine::Impl::run_guest_slice() {
  Cpu& cpu = board->cpu();
  uint64_t budget = kSliceInstructions;
  if (options.icount_shift) {
    int64_t deadline = loop->next_deadline(io::ClockType::kVirtual);
    if (deadline != INT64_MAX) {
      int64_t delta = std::max<int64_t>(deadline - virtual_now(), 0);
      uint64_t instructions = (static_cast<uint64_t>(delta) >> *options.icount_shift) + 1;
      budget = std::min(budget, instructions);
    }
  }
  uint64_t before = cpu.instruction_count();
  StopReason reason = board->run_slice(budget);
  if (semihost_retry_pc) {
    board->cpu().state().pc = *semihost_retry_pc;  // run the waiting excp again later
    semihost_retry_pc.reset();
  }
  if (reset_pending) {
    reset_pending = false;
    if (semihost_watch) loop->remove_watch(semihost_watch);
    semihost_watch = 0;
    board->reset(reset_pc);
    loop->run_once(0);
    return;
  }
  bool made_progress = cpu.instruction_count() != before;
  if (reason == StopReason::kHalted && !made_progress && !quit && !paused) {
    // The guest sleeps: let time pass until a timer or io wakes it.
    if (options.icount_shift) {
      // Instruction-count time stands still while the CPU sleeps: wait in
      // real time for io or until the next deadline would be due, then move
      // virtual time forward by what passed (exactly to the deadline when it
      // was reached), as QEMU's -icount does with sleep=on.
      int64_t deadline = loop->next_deadline(io::ClockType::kVirtual);
      if (deadline != INT64_MAX) {
        int64_t delta = std::max<int64_t>(deadline - virtual_now(), 0);
        int64_t start = loop->now(io::ClockType::kRealtime);
        loop->run_once(delta);
        int64_t elapsed = loop->now(io::ClockType::kRealtime) - start;
        icount_warp_ns += std::min(elapsed, delta);
        loop->run_once(0);
        return;
      }
    }
    loop->run_once(-1);
    return;
  }
  loop->run_once(0);
}

int Machine::Impl::run() {
  while (!quit) {
    // Guest time passes only while the guest may run: not while paused or
    // while a wait=on server waits for its first client.
    const bool stopped = paused || waiting_for_clients();
    loop->set_virtual_clock_running(!stopped);
    if (stopped || semihost_watch) {  // a vCPU waiting for a host fd runs once it is ready
      loop->run_once(-1);
      continue;
    }
    run_guest_slice();
  }
  return exit_code;
}

Expected<std::unique_ptr<Machine>> Machine::create(const Options& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  Expected<std::unique_ptr<io::Loop>> loop = io::Loop::create(options.loop);
  if (!loop) return loop.error();
  impl->loop = std::move(*loop);
  // Guest time starts when run() does, not while devices are being built.
  impl->loop->set_virtual_clock_running(false);
  VirtConfig config;
  config.ram_bytes = options.ram_bytes;
  config.cpu_model = options.cpu == CpuChoice::kCr16c ? CpuModel::kCr16c : CpuModel::kCr16cPlus;
  config.pflash_path = options.pflash_path;
  config.pflash_create = options.pflash_create;
  if (Error error = impl->prepare_images(&config); !error.ok()) return error;
  if (Error error = impl->create_backends(); !error.ok()) return error;
  for (unsigned i = 0; i < kSerialPortCount; ++i) config.serial[i] = impl->backends[i].get();
  impl->clock = std::make_unique<LoopDeviceClock>(*impl->loop);
  Expected<std::unique_ptr<VirtBoard>> board = VirtBoard::create(config, *impl->clock);
  if (!board) return board.error();
  impl->board = std::move(*board);
  if (Error error = impl->load_kernel(); !error.ok()) return error;
  impl->install_signals();
  if (Error error = impl->install_handlers(); !error.ok()) return error;
  impl->board->reset(impl->reset_pc);
  return std::unique_ptr<Machine>(new Machine(std::move(impl)));
}

Machine::Machine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Machine::~Machine() = default;

int Machine::run() {
  return impl_->run();
}

uint64_t Machine::instruction_count() const {
  return impl_->board->cpu().instruction_count();
}

}  // namespace cr16::system
