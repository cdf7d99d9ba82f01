#include "hw/sc14441_board.h"

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "hw/board_requests.h"
#include "hw/sc14441_dma.h"
#include "hw/sc14441_icu.h"
#include "hw/sc14441_map.h"
#include "hw/sc14441_qspi.h"
#include "hw/sc14441_sfr.h"
#include "hw/sc14441_sysregs.h"
#include "hw/sc14441_uart.h"
#include "hw/spi_nor_flash.h"

namespace cr16 {
namespace {

using namespace sc14441;

Expected<std::unique_ptr<Board>> create_sc14441(const BoardConfig& config, DeviceClock& clock) {
  Expected<std::unique_ptr<Sc14441Board>> board = Sc14441Board::create(config, clock);
  if (!board) return board.error();
  return std::unique_ptr<Board>(std::move(*board));
}

constexpr BoardType kSc14441Type = {
    .name = "sc14441",
    .description = "Dialog SC14441 DECT SoC: CR16C, 52 KiB RAM, UART boot ROM, QSPI SPI NOR flash",
    .is_default = false,
    .limits =
        {
            .ram_min = kRamTotal,
            .ram_max = kRamTotal,
            .ram_default = kRamTotal,
            .ram_granule = kPageSize,
            .flash_base = kBootRomBase,
            .flash_size = kBootRomSize,
            .serial_ports = 2,
            .default_cpu = CpuModel::kCr16c,
            .default_firmware = "sc14441-bootrom.bin",
            .firmware_is_boot_rom = true,
            .default_icount_shift = 8,
            .semihosting = false,
            .mtd_flash = true,
        },
    .properties = {},
    .create = create_sc14441,
};

}  // namespace

const BoardType& sc14441_board_type() {
  return kSc14441Type;
}

struct Sc14441Board::Parts {
  explicit Parts(DeviceClock& device_clock)
      : clock(device_clock), sfr([this] { return cpu ? cpu->access_pc() : 0; }) {}

  DeviceClock& clock;
  BoardConfig config;
  AddressSpace memory;  // before the CPU and devices: they refer to it
  std::unique_ptr<Cpu> cpu;
  Sc14441SfrWindow sfr;
  Sc14441Icu icu;
  std::unique_ptr<SpiNorFlash> flash;
  std::unique_ptr<Sc14441Uart> uart[2];
  std::unique_ptr<Sc14441Dma> dma;
  std::unique_ptr<Sc14441Qspi> qspi;
  std::unique_ptr<Sc14441Sysregs> sysregs;
  uint32_t reset_pc = kBootRomBase;
  std::optional<BoardRequests> requests;  // made once the board exists (it resets it)
};

Sc14441Board::Sc14441Board() = default;
Sc14441Board::~Sc14441Board() = default;

Expected<std::unique_ptr<Sc14441Board>> Sc14441Board::create(const BoardConfig& requested,
                                                             DeviceClock& clock) {
  BoardConfig config = requested;
  if (config.ram_bytes == 0) config.ram_bytes = kRamTotal;
  if (Error error = check_ram_size(kSc14441Type, config.ram_bytes); !error.ok()) {
    return error.with_context("sc14441: RAM size " + format_size(config.ram_bytes));
  }
  if (config.serial.size() > kSc14441Type.limits.serial_ports) {
    return Error("sc14441: " + std::to_string(config.serial.size()) +
                 " serial backends for 2 serial ports");
  }
  config.serial.resize(kSc14441Type.limits.serial_ports, nullptr);
  for (const auto& [name, value] : config.properties) {
    if (Error error = check_board_property(kSc14441Type, name, value); !error.ok()) {
      return error.with_context("sc14441");
    }
  }
  if (config.bios_image.size() > kBootRomSize) {
    return Error("sc14441: boot ROM image is " + std::to_string(config.bios_image.size()) +
                 " bytes, larger than the 2 KiB mask ROM");
  }
  if (!config.pflash_path.empty()) {
    return Error("sc14441: the board has no parallel flash (use -drive if=mtd for its SPI flash)");
  }

  std::unique_ptr<Sc14441Board> board(new Sc14441Board());
  board->parts_ = std::make_unique<Parts>(clock);
  Parts& p = *board->parts_;
  p.config = config;

  SpiNorOptions flash_options;
  flash_options.mode =
      config.mtd_overlay ? FlashBackingMode::kOverlay : FlashBackingMode::kWriteBack;
  auto flash = config.mtd_path.empty()
                   ? SpiNorFlash::create_erased(clock, kDefaultFlashSize, flash_options)
                   : SpiNorFlash::open(clock, config.mtd_path, flash_options);
  if (!flash) return flash.error().with_context("sc14441");
  p.flash = std::move(*flash);

  struct Ram {
    const char* name;
    uint32_t base, size;
  };
  for (const Ram& ram : {Ram{"ram", kRam0Base, kRam0Size}, Ram{"ram-adm", kRamAdmBase, kRamAdmSize},
                         Ram{"shared-ram", kSharedRamBase, kSharedRamSize}}) {
    auto mapped = p.memory.add_ram(ram.name, ram.base, ram.size);
    if (!mapped) return mapped.error();
  }
  auto rom = p.memory.add_rom("boot-rom", kBootRomBase, kBootRomMapped);
  if (!rom) return rom.error();
  if (Error error = p.memory.write_bytes(kBootRomBase, config.bios_image, LoaderWrite::kBypassRom);
      !error.ok()) {
    return error;
  }

  p.cpu = std::make_unique<Cpu>(p.memory, config.cpu_model);
  p.icu.set_irq_output([cpu = p.cpu.get()](bool level) { cpu->set_irq_line(level); });
  p.uart[0] = std::make_unique<Sc14441Uart>("uart", kUartBase, config.serial[0], &p.icu, kIrqUartRi,
                                            kIrqUartTi);
  p.uart[1] = std::make_unique<Sc14441Uart>("uart2", kUart2Base, config.serial[1], &p.icu,
                                            kIrqUart2, kIrqUart2);
  p.dma = std::make_unique<Sc14441Dma>(p.memory, *p.uart[0], p.icu);
  Cpu* cpu = p.cpu.get();
  p.dma->set_long_transfer_handler([cpu] { cpu->request_exit(); });
  p.qspi = std::make_unique<Sc14441Qspi>(*p.flash);
  p.sysregs = std::make_unique<Sc14441Sysregs>(clock);
  Sc14441Dma* dma = p.dma.get();
  p.uart[0]->set_dma_hooks([dma](bool rx) { return dma->uart_rerouted(rx); },
                           [dma] { dma->uart_rx_request(); }, [dma] { dma->uart_tx_request(); });

  p.sfr.add(kQspiBase, kQspiSize, p.qspi.get());
  p.sfr.add(kDmaBase, kDmaSize, p.dma.get());
  p.sfr.add(kUartBase, kUartSize, p.uart[0].get());
  p.sfr.add(kUart2Base, kUartSize, p.uart[1].get());
  p.sfr.add(kIcuBase, kIcuSize, &p.icu);
  p.sfr.add(kAckBase, kAckSize, &p.icu.acknowledge_block());
  p.sysregs->map(p.sfr);
  if (Error error = p.memory.add_mmio("sfr", kSfrBase, kSfrSize, &p.sfr); !error.ok()) {
    return error;
  }
  if (Error error = p.memory.add_mmio("qspi-xip", kXipBase, p.qspi->xip_size(), &p.qspi->xip());
      !error.ok()) {
    return error;
  }

  Sc14441Board* self = board.get();
  p.requests.emplace([self] { self->reset(); });
  p.sysregs->set_reset_handler([self] { self->parts_->requests->request_reset(); });
  p.cpu->reset(kBootRomBase);
  return board;
}

const BoardType& Sc14441Board::type() const {
  return kSc14441Type;
}
AddressSpace& Sc14441Board::memory() {
  return parts_->memory;
}
Cpu& Sc14441Board::cpu() {
  return *parts_->cpu;
}
uint32_t Sc14441Board::ram_bytes() const {
  return kRamTotal;
}
void Sc14441Board::set_reset_pc(uint32_t pc) {
  parts_->reset_pc = pc;
}
uint32_t Sc14441Board::reset_pc() const {
  return parts_->reset_pc;
}

void Sc14441Board::reset() {
  Parts& p = *parts_;
  p.icu.reset();
  for (auto& uart : p.uart) uart->reset();
  p.dma->reset();
  p.qspi->reset();
  p.sysregs->reset();
  p.flash->reset();
  p.requests->clear_pending_reset();
  p.cpu->reset(p.reset_pc);
}

void Sc14441Board::set_poweroff_handler(std::function<void(int)> handler) {
  parts_->requests->set_poweroff_handler(std::move(handler));
}
void Sc14441Board::set_reset_request_handler(std::function<void()> handler) {
  parts_->requests->set_reset_request_handler(std::move(handler));
}
void Sc14441Board::set_panic_handler(std::function<void(const std::string&)> handler) {
  parts_->requests->set_panic_handler(std::move(handler));
}

StopReason Sc14441Board::run_slice(uint64_t budget) {
  return parts_->requests->run_slice(*parts_->cpu, budget);
}

std::vector<BoardDevice> Sc14441Board::devices() const {
  const Parts& p = *parts_;
  return {
      {"ram", "ram", kRam0Base, kRam0Size},
      {"ram-adm", "ram", kRamAdmBase, kRamAdmSize},
      {"shared-ram", "ram", kSharedRamBase, kSharedRamSize},
      {"qspi-xip", "spi-nor-xip", kXipBase, p.qspi->xip_size()},
      {"boot-rom", "rom", kBootRomBase, kBootRomSize},
      {"qspi", "sc14441-qspi", kQspiBase, kQspiSize},
      {"clocks", "sc14441-sysregs", kClkBase, kClkSize},
      {"dma", "sc14441-dma", kDmaBase, kDmaSize},
      {"power", "sc14441-sysregs", kPowerBase, kPowerSize},
      {"gpio", "sc14441-sysregs", kGpioBase, kGpioSize},
      {"uart", "sc14441-uart", kUartBase, kUartSize},
      {"uart2", "sc14441-uart", kUart2Base, kUartSize},
      {"timers", "sc14441-sysregs", kTimerBase, kTimerSize},
      {"watchdog", "sc14441-sysregs", kWatchdogReg, kWatchdogSize},
      {"sysctl", "sc14441-sysregs", kSysCtlBase, kSysCtlSize},
      {"icu", "sc14441-icu", kIcuBase, kIcuSize},
      {"chip-id", "sc14441-sysregs", kChipIdBase, kChipIdSize},
      {"interrupt-acknowledge", "sc14441-icu", kAckBase, kAckSize},
  };
}

std::vector<StateSection> Sc14441Board::state_sections() {
  Parts& p = *parts_;
  return {
      {"cpu", 0, p.cpu.get()},
      {"sc14441-icu", 0, &p.icu},
      {"sc14441-uart", 0, p.uart[0].get()},
      {"sc14441-uart", 1, p.uart[1].get()},
      {"sc14441-dma", 0, p.dma.get()},
      {"sc14441-qspi", 0, p.qspi.get()},
      {"sc14441-sysregs", 0, p.sysregs.get()},
      {"spi-nor", 0, p.flash.get()},
      {"spi-nor-contents", 0, &p.flash->contents_state()},
  };
}

Sc14441Icu& Sc14441Board::icu() {
  return parts_->icu;
}
Sc14441Uart& Sc14441Board::uart(unsigned index) {
  if (index >= 2) {  // a programming error, never guest-reachable
    std::fprintf(stderr, "cr16-system: internal error: sc14441 has UARTs 0 and 1, not %u\n", index);
    std::abort();
  }
  return *parts_->uart[index];
}
Sc14441Dma& Sc14441Board::dma() {
  return *parts_->dma;
}
Sc14441Qspi& Sc14441Board::qspi() {
  return *parts_->qspi;
}
Sc14441Sysregs& Sc14441Board::sysregs() {
  return *parts_->sysregs;
}
SpiNorFlash& Sc14441Board::flash() {
  return *parts_->flash;
}

}  // namespace cr16
