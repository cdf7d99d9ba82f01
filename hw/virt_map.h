// The virt board's addresses, register offsets and bit fields as the device
// models use them (docs/virt.md). A unit test checks every value against the
// firmware's roms/include/virt.h so the two cannot drift apart.
#pragma once

#include <cstdint>

namespace cr16::virt {

// Memory map.
inline constexpr uint32_t kRamBase = 0x000000;
inline constexpr uint32_t kRamDefaultSize = 0x200000;
inline constexpr uint32_t kRamMinSize = 0x010000;
inline constexpr uint32_t kRamMaxSize = 0xE00000;
inline constexpr uint32_t kFlashBase = 0xE00000;
inline constexpr uint32_t kFlashSize = 0x100000;
inline constexpr uint32_t kFlashSectorSize = 0x1000;
inline constexpr uint32_t kDeviceWindow = 0x100;
inline constexpr uint32_t kSysctlBase = 0xFF0000;
inline constexpr uint32_t kUart0Base = 0xFF0100;
inline constexpr uint32_t kUart1Base = 0xFF0200;
inline constexpr uint32_t kTimerBase = 0xFF0300;
inline constexpr uint32_t kRtcBase = 0xFF0400;
inline constexpr uint32_t kWatchdogBase = 0xFF0500;
inline constexpr uint32_t kFlashControlBase = 0xFF0600;
inline constexpr uint32_t kKeyboardBase = 0xFF0700;
inline constexpr uint32_t kDisplayBase = 0xFF1000;
inline constexpr uint32_t kDisplaySize = 0x1000;
inline constexpr uint32_t kIcuBase = 0xFFFC00;
inline constexpr uint32_t kIcuSize = 0x400;

// Interrupt sources and vectors.
inline constexpr unsigned kIcuSourceCount = 32;
inline constexpr uint32_t kIrqVectorBase = 16;
inline constexpr uint32_t kSpuriousVector = 48;
inline constexpr unsigned kIrqTimer0 = 0;
inline constexpr unsigned kIrqTimer1 = 1;
inline constexpr unsigned kIrqUart0Rx = 2;
inline constexpr unsigned kIrqUart0Tx = 3;
inline constexpr unsigned kIrqUart1Rx = 4;
inline constexpr unsigned kIrqUart1Tx = 5;
inline constexpr unsigned kIrqRtc = 6;
inline constexpr unsigned kIrqFlash = 7;
inline constexpr unsigned kIrqDisplay = 8;
inline constexpr unsigned kIrqPowerButton = 9;
inline constexpr unsigned kIrqKeyboard = 10;
inline constexpr unsigned kIrqSoftFirst = 16;

// ICU registers (offsets from kIcuBase).
inline constexpr uint32_t kIcuIseAck = 0x000;
inline constexpr uint32_t kIcuPending = 0x010;
inline constexpr uint32_t kIcuEnable = 0x014;
inline constexpr uint32_t kIcuEnableSet = 0x018;
inline constexpr uint32_t kIcuEnableClr = 0x01C;
inline constexpr uint32_t kIcuSoftSet = 0x020;
inline constexpr uint32_t kIcuSoftClr = 0x024;
inline constexpr uint32_t kIcuRaw = 0x028;
inline constexpr uint32_t kIcuActive = 0x02C;
inline constexpr uint32_t kIcuPrio0 = 0x040;  // ICU_PRIO(k) = kIcuPrio0 + 4k, k = 0..3
inline constexpr uint32_t kIcuIvct = 0x200;
inline constexpr uint32_t kIcuIvctPeek = 0x204;
inline constexpr uint32_t kIcuNmiStatus = 0x208;
inline constexpr uint32_t kIcuNmiStatusSw = 0x1;
inline constexpr uint32_t kIcuNmiTrigger = 0x20C;
inline constexpr uint32_t kIcuNmiAck = 0x300;

// sysctl.
inline constexpr uint32_t kSysBoardId = 0x00;
inline constexpr uint32_t kSysBoardVersion = 0x04;
inline constexpr uint32_t kSysRamSize = 0x08;
inline constexpr uint32_t kSysFlashSize = 0x0C;
inline constexpr uint32_t kSysCpuModel = 0x10;
inline constexpr uint32_t kSysResetCause = 0x14;
inline constexpr uint32_t kSysPoweroff = 0x18;
inline constexpr uint32_t kSysReset = 0x1C;
inline constexpr uint32_t kSysScratch = 0x20;
inline constexpr uint32_t kSysPowerStatus = 0x24;
inline constexpr uint32_t kSysPowerCtrl = 0x28;
inline constexpr uint32_t kSysCpuName = 0x40;
inline constexpr uint32_t kSysBoardName = 0x50;
inline constexpr uint32_t kSysNameLength = 16;
inline constexpr uint32_t kSysBoardIdValue = 0x56495254;
inline constexpr uint32_t kSysBoardVersionValue = 0x00010000;
inline constexpr uint32_t kSysCpuModelCr16c = 0;
inline constexpr uint32_t kSysCpuModelCr16cPlus = 1;
inline constexpr uint32_t kSysResetKey = 0x52534554;
inline constexpr uint32_t kSysPoweroffCodeMask = 0xFF;
inline constexpr uint32_t kSysPoweroffKey = 0x504F5700;  // "POW" in bits 31:8
inline constexpr uint32_t kSysPoweroffKeyMask = 0xFFFFFF00;
inline constexpr uint32_t kSysPowerStatusButton = 0x1;
inline constexpr uint32_t kSysPowerCtrlButtonIe = 0x1;
inline constexpr uint32_t kResetCausePowerOn = 0x1;
inline constexpr uint32_t kResetCauseSoftware = 0x2;
inline constexpr uint32_t kResetCauseWatchdog = 0x4;
inline constexpr uint32_t kResetCauseExternal = 0x8;

// UART.
inline constexpr uint32_t kUartData = 0x00;
inline constexpr uint32_t kUartStatus = 0x04;
inline constexpr uint32_t kUartCtrl = 0x08;
inline constexpr uint32_t kUartFifoDepth = 0x0C;
inline constexpr uint32_t kUartFifoSize = 16;
inline constexpr uint32_t kUartStatusRxAvail = 0x01;
inline constexpr uint32_t kUartStatusTxSpace = 0x02;
inline constexpr uint32_t kUartStatusTxEmpty = 0x04;
inline constexpr uint32_t kUartStatusRxOverrun = 0x08;
inline constexpr uint32_t kUartStatusTxOverrun = 0x10;
inline constexpr uint32_t kUartStatusRxLevelShift = 8;
inline constexpr uint32_t kUartStatusTxLevelShift = 16;
inline constexpr uint32_t kUartStatusLevelMask = 0x1F;
inline constexpr uint32_t kUartStatusReset = 0x06;
inline constexpr uint32_t kUartCtrlRxie = 0x1;
inline constexpr uint32_t kUartCtrlTxie = 0x2;
inline constexpr uint32_t kUartFifoDepthValue = 0x1010;

// Timer.
inline constexpr uint32_t kTimerNowLo = 0x00;
inline constexpr uint32_t kTimerNowHi = 0x04;
inline constexpr uint32_t kTimerFreq = 0x08;
inline constexpr uint32_t kTimerFreqHz = 1000000;
inline constexpr unsigned kTimerChannelCount = 2;
inline constexpr uint32_t kTimerChannelBase =
    0x20;  // channel c at kTimerChannelBase + c * kTimerChannelStride
inline constexpr uint32_t kTimerChannelStride = 0x20;
inline constexpr uint32_t kTimerChLoad = 0x00;
inline constexpr uint32_t kTimerChCount = 0x04;
inline constexpr uint32_t kTimerChCtrl = 0x08;
inline constexpr uint32_t kTimerChStatus = 0x0C;
inline constexpr uint32_t kTimerChCtrlEnable = 0x1;
inline constexpr uint32_t kTimerChCtrlOneshot = 0x2;
inline constexpr uint32_t kTimerChCtrlIe = 0x4;
inline constexpr uint32_t kTimerChStatusExpired = 0x1;

// RTC.
inline constexpr uint32_t kRtcTime = 0x00;
inline constexpr uint32_t kRtcAlarm = 0x04;
inline constexpr uint32_t kRtcCtrl = 0x08;
inline constexpr uint32_t kRtcStatus = 0x0C;
inline constexpr uint32_t kRtcCtrlAlarmIe = 0x1;
inline constexpr uint32_t kRtcStatusAlarm = 0x1;

// Watchdog.
inline constexpr uint32_t kWdtCtrl = 0x00;
inline constexpr uint32_t kWdtTimeout = 0x04;
inline constexpr uint32_t kWdtKick = 0x08;
inline constexpr uint32_t kWdtCount = 0x0C;
inline constexpr uint32_t kWdtStatus = 0x10;
inline constexpr uint32_t kWdtCtrlEnable = 0x1;
inline constexpr uint32_t kWdtTimeoutReset = 1000000;
inline constexpr uint32_t kWdtKickKey = 0x4B49434B;
inline constexpr uint32_t kWdtStatusWdtReset = 0x1;

// Flash controller.
inline constexpr uint32_t kFlashKey = 0x00;
inline constexpr uint32_t kFlashAddr = 0x04;
inline constexpr uint32_t kFlashData = 0x08;
inline constexpr uint32_t kFlashCmd = 0x0C;
inline constexpr uint32_t kFlashStatus = 0x10;
inline constexpr uint32_t kFlashCtrl = 0x14;
inline constexpr uint32_t kFlashSector = 0x18;
inline constexpr uint32_t kFlashKey1 = 0x0000AA55;
inline constexpr uint32_t kFlashKey2 = 0x000055AA;
inline constexpr uint32_t kFlashAddrMask = 0x000FFFFF;
inline constexpr uint32_t kFlashDataMask = 0x0000FFFF;
inline constexpr uint32_t kFlashCmdProgram = 1;
inline constexpr uint32_t kFlashCmdEraseSector = 2;
inline constexpr uint32_t kFlashCmdEraseAll = 3;
inline constexpr uint32_t kFlashStatusBusy = 0x1;
inline constexpr uint32_t kFlashStatusError = 0x2;
inline constexpr uint32_t kFlashStatusUnlocked = 0x4;
inline constexpr uint32_t kFlashStatusDone = 0x8;
inline constexpr uint32_t kFlashCtrlDoneIe = 0x1;
inline constexpr uint32_t kFlashCtrlLock = 0x2;

// Display controller (offsets from kDisplayBase).
inline constexpr uint32_t kDispCtrl = 0x00;
inline constexpr uint32_t kDispMode = 0x04;
inline constexpr uint32_t kDispBase = 0x08;
inline constexpr uint32_t kDispStatus = 0x0C;
inline constexpr uint32_t kDispWidth = 0x10;
inline constexpr uint32_t kDispHeight = 0x14;
inline constexpr uint32_t kDispStride = 0x18;
inline constexpr uint32_t kDispFbSize = 0x1C;
inline constexpr uint32_t kDispFrame = 0x20;
inline constexpr uint32_t kDispCtrlEnable = 0x1;
inline constexpr uint32_t kDispCtrlVblankIe = 0x2;
inline constexpr uint32_t kDispModeResMask = 0x3;  // bits 1:0
inline constexpr uint32_t kDispModeRes320x240 = 0;
inline constexpr uint32_t kDispModeRes640x480 = 1;
inline constexpr uint32_t kDispModeFormatShift = 8;
inline constexpr uint32_t kDispModeFormatMask = 0x300;  // bits 9:8
inline constexpr uint32_t kDispFormatRgb565 = 0;
inline constexpr uint32_t kDispFormatXrgb8888 = 1;
inline constexpr uint32_t kDispBaseMask = 0x00FFFFFC;
inline constexpr uint32_t kDispStatusVblank = 0x1;
inline constexpr uint32_t kDispStatusFbFault = 0x2;
inline constexpr uint32_t kDispRefreshHz = 60;

// Keyboard controller (offsets from kKeyboardBase).
inline constexpr uint32_t kKbdData = 0x00;
inline constexpr uint32_t kKbdStatus = 0x04;
inline constexpr uint32_t kKbdCtrl = 0x08;
inline constexpr uint32_t kKbdFifoDepth = 0x0C;
inline constexpr uint32_t kKbdFifoSize = 32;
inline constexpr uint32_t kKbdStatusNotEmpty = 0x1;
inline constexpr uint32_t kKbdStatusOverflow = 0x2;
inline constexpr uint32_t kKbdStatusLevelShift = 8;
inline constexpr uint32_t kKbdStatusLevelMask = 0x3F;
inline constexpr uint32_t kKbdCtrlIe = 0x1;

/// Nanoseconds per tick of the 1 MHz timer and watchdog.
inline constexpr int64_t kNsPerTick = 1000;

}  // namespace cr16::virt
