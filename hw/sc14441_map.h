// The SC14441 board's memory map, SFR addresses and bit fields as the device
// models use them (docs/boards/sc14441-registers.md; facts from
// docs/boards/sc14441-registers.md). All SFR addresses are absolute.
#pragma once

#include <cstdint>

namespace cr16::sc14441 {

// ---- Memory map.
inline constexpr uint32_t kRam0Base = 0x000000;
inline constexpr uint32_t kRam0Size = 0x4000;  // 16 KiB
inline constexpr uint32_t kRamAdmBase = 0x009000;
inline constexpr uint32_t kRamAdmSize = 0x1000;  // 4 KiB
inline constexpr uint32_t kSharedRamBase = 0x010000;
inline constexpr uint32_t kSharedRamSize = 0x8000;                               // 32 KiB
inline constexpr uint32_t kRamTotal = kRam0Size + kRamAdmSize + kSharedRamSize;  // 52 KiB
inline constexpr uint32_t kXipBase = 0x0F0000;
inline constexpr uint32_t kBootRomBase = 0xFEF000;
inline constexpr uint32_t kBootRomSize = 0x800;     // the image limit
inline constexpr uint32_t kBootRomMapped = 0x1000;  // one page; the upper half reads 0xFF
inline constexpr uint32_t kXipMaxSize = kBootRomBase - kXipBase;
inline constexpr uint32_t kSfrBase = 0xFF0000;
inline constexpr uint32_t kSfrSize = 0x10000;
/// An SPI flash without -drive if=mtd: erased, in memory.
inline constexpr uint32_t kDefaultFlashSize = 2u << 20;

// ---- QSPI controller (0xFF0C00).
inline constexpr uint32_t kQspiBase = 0xFF0C00;
inline constexpr uint32_t kQspiSize = 0x40;
inline constexpr uint32_t kQspiCtrlBus = 0x00;
inline constexpr uint32_t kQspiCtrlMode = 0x04;
inline constexpr uint32_t kQspiRecvData = 0x08;
inline constexpr uint32_t kQspiStatus = 0x14;
inline constexpr uint32_t kQspiWriteData = 0x18;
inline constexpr uint32_t kQspiReadData = 0x1C;
inline constexpr uint32_t kQspiBusSetSingle = 1u << 0;
inline constexpr uint32_t kQspiBusSetDual = 1u << 1;
inline constexpr uint32_t kQspiBusSetQuad = 1u << 2;
inline constexpr uint32_t kQspiBusEnCs = 1u << 3;
inline constexpr uint32_t kQspiBusDisCs = 1u << 4;
inline constexpr uint32_t kQspiModeAuto = 1u << 0;
inline constexpr uint32_t kQspiModeReset = kQspiModeAuto;

// ---- Clocks (plain storage).
inline constexpr uint32_t kClkBase = 0xFF4000;
inline constexpr uint32_t kClkSize = 0x30;
inline constexpr uint32_t kClkAmbaReg = 0xFF4000;
inline constexpr uint32_t kClkPer10DivReg = 0xFF400E;
inline constexpr uint32_t kClkPllCtrlReg = 0xFF4010;

// ---- DMA (0xFF4400, 4 channels x 0x10).
inline constexpr uint32_t kDmaBase = 0xFF4400;
inline constexpr uint32_t kDmaChannels = 4;
inline constexpr uint32_t kDmaChannelStride = 0x10;
inline constexpr uint32_t kDmaSize = kDmaChannels * kDmaChannelStride;
inline constexpr uint32_t kDmaAStartL = 0x0;
inline constexpr uint32_t kDmaAStartH = 0x2;
inline constexpr uint32_t kDmaBStartL = 0x4;
inline constexpr uint32_t kDmaBStartH = 0x6;
inline constexpr uint32_t kDmaIntReg = 0x8;
inline constexpr uint32_t kDmaLenReg = 0xA;
inline constexpr uint32_t kDmaCtrlReg = 0xC;
inline constexpr uint32_t kDmaIdxReg = 0xE;
inline constexpr uint32_t kDmaOn = 1u << 0;
inline constexpr uint32_t kDmaBwShift = 1;  // bits 2:1: 0 byte, 1 halfword, 2 word
inline constexpr uint32_t kDmaBwMask = 3u << 1;
inline constexpr uint32_t kDmaDintMode = 1u << 3;
inline constexpr uint32_t kDmaDreqMode = 1u << 4;
inline constexpr uint32_t kDmaBinc = 1u << 5;
inline constexpr uint32_t kDmaAinc = 1u << 6;
inline constexpr uint32_t kDmaCircular = 1u << 7;
inline constexpr uint32_t kDmaCtrlMask = 0x0FFF;  // bits 11:0 stored
inline constexpr unsigned kDmaUartRxChannel = 2;
inline constexpr unsigned kDmaUartTxChannel = 3;

// ---- Power, test environment, GPIO (plain storage; GPIO SET/RESET act on DATA).
inline constexpr uint32_t kTestEnvReg = 0xFF4800;
inline constexpr uint32_t kBatCtrl2Reg = 0xFF4814;
inline constexpr uint32_t kBatStatusReg = 0xFF4816;
inline constexpr uint32_t kCpCtrlReg = 0xFF481C;
inline constexpr uint32_t kBatStatusReset = 0x0008;  // bit 3 reads 1 (charge pump ready)
inline constexpr uint32_t kPowerBase = 0xFF4800;
inline constexpr uint32_t kPowerSize = 0x20;
inline constexpr uint32_t kGpioBase = 0xFF4830;  // Pn at + 0x10 * n, n = 0..3
inline constexpr uint32_t kGpioPorts = 4;
inline constexpr uint32_t kGpioSize = kGpioPorts * 0x10;
inline constexpr uint32_t kGpioData = 0x0;
inline constexpr uint32_t kGpioSetData = 0x2;
inline constexpr uint32_t kGpioResetData = 0x4;
inline constexpr uint32_t kGpioDir = 0x6;
inline constexpr uint32_t kGpioMode = 0x8;

// ---- UARTs.
inline constexpr uint32_t kUartBase = 0xFF4900;
inline constexpr uint32_t kUart2Base = 0xFF4910;
inline constexpr uint32_t kUartSize = 0x0A;
inline constexpr uint32_t kUartCtrl = 0x0;
inline constexpr uint32_t kUartRxTx = 0x2;
inline constexpr uint32_t kUartClearTxInt = 0x4;
inline constexpr uint32_t kUartClearRxInt = 0x6;
inline constexpr uint32_t kUartError = 0x8;
inline constexpr uint32_t kUartRen = 1u << 0;
inline constexpr uint32_t kUartTen = 1u << 1;
inline constexpr uint32_t kUartBaudMask = 7u << 2;
inline constexpr uint32_t kUartTi = 1u << 5;
inline constexpr uint32_t kUartRi = 1u << 6;
/// CTRL bits the guest can write (TI and RI are status).
inline constexpr uint32_t kUartCtrlWritable = 0x079F;
inline constexpr uint32_t kUartErrorMask = 0x0003;
/// The host-side input buffer behind the holding register (guest-invisible).
inline constexpr uint32_t kUartInputBufferSize = 4096;

// ---- Timers (plain storage).
inline constexpr uint32_t kTimerBase = 0xFF4970;
inline constexpr uint32_t kTimerSize = 0x10;
inline constexpr uint32_t kTimerCtrlReg = 0xFF4970;

// ---- Watchdog.
inline constexpr uint32_t kWatchdogReg = 0xFF4C00;
inline constexpr uint32_t kWatchdogSize = 2;
inline constexpr int64_t kWatchdogTickNs = 10'000'000;  // 10 ms per count
inline constexpr uint32_t kWatchdogReset = 0xFF;

// ---- Freeze, debug (SW reset).
inline constexpr uint32_t kSetFreezeReg = 0xFF5000;
inline constexpr uint32_t kResetFreezeReg = 0xFF5002;
inline constexpr uint32_t kDebugReg = 0xFF5004;
inline constexpr uint32_t kSysCtlBase = 0xFF5000;
inline constexpr uint32_t kSysCtlSize = 6;
inline constexpr uint32_t kFreezeWatchdog = 1u << 3;
inline constexpr uint32_t kFreezeMask = 0x03FF;
inline constexpr uint32_t kDebugSwReset = 1u << 7;
inline constexpr uint32_t kDebugMask = 0x3FFF & ~kDebugSwReset;

// ---- ICU.
inline constexpr uint32_t kIcuBase = 0xFF5400;
inline constexpr uint32_t kIcuSize = 0x0E;
inline constexpr uint32_t kSetIntPendingReg = 0xFF5400;
inline constexpr uint32_t kResetIntPendingReg = 0xFF5402;
inline constexpr uint32_t kInt0PriorityReg = 0xFF5404;  // INT0..INT3 at +2 each
inline constexpr uint32_t kPcStartReg = 0xFF540C;
inline constexpr uint32_t kIcuSources = 15;
inline constexpr uint32_t kIcuSourceMask = (1u << kIcuSources) - 1;
inline constexpr uint32_t kVectorBase = 16;
/// The CPU's acknowledge cycles (ISE 0xFFFC00, maskable 0xFFFE00, NMI 0xFFFF00).
inline constexpr uint32_t kAckBase = 0xFFFC00;
inline constexpr uint32_t kAckSize = 0x400;
inline constexpr uint32_t kIntaAddress = 0xFFFE00;

/// Interrupt sources (bit index in the pending registers; vector 16 + n).
inline constexpr unsigned kIrqAccess = 0;
inline constexpr unsigned kIrqKeyb = 1;
inline constexpr unsigned kIrqUart2 = 2;
inline constexpr unsigned kIrqCtClassd = 3;
inline constexpr unsigned kIrqUartRi = 4;
inline constexpr unsigned kIrqUartTi = 5;
inline constexpr unsigned kIrqSpi = 6;
inline constexpr unsigned kIrqTim0 = 7;
inline constexpr unsigned kIrqTim1 = 8;

// ---- Chip ID and test/config bytes.
inline constexpr uint32_t kChipIdBase = 0xFFFBF4;
inline constexpr uint32_t kChipIdSize = 0x0C;                          // 0xFFFBF4..0xFFFBFF
inline constexpr uint8_t kChipId[5] = {0x34, 0x34, 0x31, 0x00, 0x00};  // at 0xFFFBF8
inline constexpr uint32_t kChipId1Reg = 0xFFFBF8;

}  // namespace cr16::sc14441
