// The firmware's roms/include/virt.h and the device models' hw/virt_map.h
// describe the same board: every value must agree.
#include <gtest/gtest.h>

#include "hw/virt_map.h"
#include "roms/include/virt.h"

namespace cr16 {
namespace {

TEST(VirtHeader, MemoryMapMatches) {
  EXPECT_EQ(VIRT_RAM_BASE, virt::kRamBase);
  EXPECT_EQ(VIRT_RAM_DEFAULT_SIZE, virt::kRamDefaultSize);
  EXPECT_EQ(VIRT_RAM_MIN_SIZE, virt::kRamMinSize);
  EXPECT_EQ(VIRT_RAM_MAX_SIZE, virt::kRamMaxSize);
  EXPECT_EQ(VIRT_FLASH_BASE, virt::kFlashBase);
  EXPECT_EQ(VIRT_FLASH_SIZE, virt::kFlashSize);
  EXPECT_EQ(VIRT_FLASH_SECTOR_SIZE, virt::kFlashSectorSize);
  EXPECT_EQ(VIRT_RESET_PC, virt::kFlashBase);
  EXPECT_EQ(VIRT_DEVICE_WINDOW, virt::kDeviceWindow);
  EXPECT_EQ(VIRT_SYSCTL_BASE, virt::kSysctlBase);
  EXPECT_EQ(VIRT_UART0_BASE, virt::kUart0Base);
  EXPECT_EQ(VIRT_UART1_BASE, virt::kUart1Base);
  EXPECT_EQ(VIRT_TIMER_BASE, virt::kTimerBase);
  EXPECT_EQ(VIRT_RTC_BASE, virt::kRtcBase);
  EXPECT_EQ(VIRT_WDT_BASE, virt::kWatchdogBase);
  EXPECT_EQ(VIRT_FLASHCTL_BASE, virt::kFlashControlBase);
  EXPECT_EQ(VIRT_KBD_BASE, virt::kKeyboardBase);
  EXPECT_EQ(VIRT_DISPLAY_BASE, virt::kDisplayBase);
  EXPECT_EQ(VIRT_DISPLAY_SIZE, virt::kDisplaySize);
  EXPECT_EQ(VIRT_ICU_BASE, virt::kIcuBase);
  EXPECT_EQ(VIRT_ICU_SIZE, virt::kIcuSize);
}

TEST(VirtHeader, InterruptsMatch) {
  EXPECT_EQ(VIRT_ICU_NUM_SOURCES, virt::kIcuSourceCount);
  EXPECT_EQ(VIRT_IRQ_VECTOR_BASE, virt::kIrqVectorBase);
  EXPECT_EQ(VIRT_IRQ_VECTOR(5), virt::kIrqVectorBase + 5);
  EXPECT_EQ(VIRT_IRQ_SPURIOUS_VECTOR, virt::kSpuriousVector);
  EXPECT_EQ(VIRT_IRQ_TIMER0, virt::kIrqTimer0);
  EXPECT_EQ(VIRT_IRQ_TIMER1, virt::kIrqTimer1);
  EXPECT_EQ(VIRT_IRQ_UART0_RX, virt::kIrqUart0Rx);
  EXPECT_EQ(VIRT_IRQ_UART0_TX, virt::kIrqUart0Tx);
  EXPECT_EQ(VIRT_IRQ_UART1_RX, virt::kIrqUart1Rx);
  EXPECT_EQ(VIRT_IRQ_UART1_TX, virt::kIrqUart1Tx);
  EXPECT_EQ(VIRT_IRQ_RTC, virt::kIrqRtc);
  EXPECT_EQ(VIRT_IRQ_FLASH, virt::kIrqFlash);
  EXPECT_EQ(VIRT_IRQ_DISPLAY, virt::kIrqDisplay);
  EXPECT_EQ(VIRT_IRQ_POWER_BUTTON, virt::kIrqPowerButton);
  EXPECT_EQ(VIRT_IRQ_KBD, virt::kIrqKeyboard);
  EXPECT_EQ(VIRT_IRQ_SOFT_FIRST, virt::kIrqSoftFirst);
}

TEST(VirtHeader, IcuRegistersMatch) {
  EXPECT_EQ(VIRT_ICU_ISE_ACK, virt::kIcuIseAck);
  EXPECT_EQ(VIRT_ICU_PENDING, virt::kIcuPending);
  EXPECT_EQ(VIRT_ICU_ENABLE, virt::kIcuEnable);
  EXPECT_EQ(VIRT_ICU_ENABLE_SET, virt::kIcuEnableSet);
  EXPECT_EQ(VIRT_ICU_ENABLE_CLR, virt::kIcuEnableClr);
  EXPECT_EQ(VIRT_ICU_SOFT_SET, virt::kIcuSoftSet);
  EXPECT_EQ(VIRT_ICU_SOFT_CLR, virt::kIcuSoftClr);
  EXPECT_EQ(VIRT_ICU_RAW, virt::kIcuRaw);
  EXPECT_EQ(VIRT_ICU_ACTIVE, virt::kIcuActive);
  for (unsigned k = 0; k < 4; ++k) EXPECT_EQ(VIRT_ICU_PRIO(k), virt::kIcuPrio0 + 4 * k);
  EXPECT_EQ(VIRT_ICU_PRIO_SHIFT(13), 4u * 5);
  EXPECT_EQ(VIRT_ICU_PRIO_MASK, 0xFu);
  EXPECT_EQ(VIRT_ICU_IVCT, virt::kIcuIvct);
  EXPECT_EQ(VIRT_ICU_IVCT_PEEK, virt::kIcuIvctPeek);
  EXPECT_EQ(VIRT_ICU_NMI_STATUS, virt::kIcuNmiStatus);
  EXPECT_EQ(VIRT_ICU_NMI_STATUS_SW, virt::kIcuNmiStatusSw);
  EXPECT_EQ(VIRT_ICU_NMI_TRIGGER, virt::kIcuNmiTrigger);
  EXPECT_EQ(VIRT_ICU_NMI_ACK, virt::kIcuNmiAck);
  EXPECT_EQ(VIRT_ICU_IVCT_ADDR, 0xFFFE00u);  // the CPU's acknowledge address
}

TEST(VirtHeader, SysctlMatches) {
  EXPECT_EQ(VIRT_SYS_BOARD_ID, virt::kSysBoardId);
  EXPECT_EQ(VIRT_SYS_BOARD_VERSION, virt::kSysBoardVersion);
  EXPECT_EQ(VIRT_SYS_RAM_SIZE, virt::kSysRamSize);
  EXPECT_EQ(VIRT_SYS_FLASH_SIZE, virt::kSysFlashSize);
  EXPECT_EQ(VIRT_SYS_CPU_MODEL, virt::kSysCpuModel);
  EXPECT_EQ(VIRT_SYS_RESET_CAUSE, virt::kSysResetCause);
  EXPECT_EQ(VIRT_SYS_POWEROFF, virt::kSysPoweroff);
  EXPECT_EQ(VIRT_SYS_RESET, virt::kSysReset);
  EXPECT_EQ(VIRT_SYS_SCRATCH, virt::kSysScratch);
  EXPECT_EQ(VIRT_SYS_POWER_STATUS, virt::kSysPowerStatus);
  EXPECT_EQ(VIRT_SYS_POWER_CTRL, virt::kSysPowerCtrl);
  EXPECT_EQ(VIRT_SYS_CPU_NAME, virt::kSysCpuName);
  EXPECT_EQ(VIRT_SYS_BOARD_NAME, virt::kSysBoardName);
  EXPECT_EQ(VIRT_SYS_NAME_LEN, virt::kSysNameLength);
  EXPECT_EQ(VIRT_SYS_BOARD_ID_VALUE, virt::kSysBoardIdValue);
  EXPECT_EQ(VIRT_SYS_BOARD_VERSION_VALUE, virt::kSysBoardVersionValue);
  EXPECT_EQ(VIRT_SYS_CPU_MODEL_CR16C, virt::kSysCpuModelCr16c);
  EXPECT_EQ(VIRT_SYS_CPU_MODEL_CR16CPLUS, virt::kSysCpuModelCr16cPlus);
  EXPECT_EQ(VIRT_SYS_RESET_KEY, virt::kSysResetKey);
  EXPECT_EQ(VIRT_SYS_POWEROFF_CODE_MASK, virt::kSysPoweroffCodeMask);
  EXPECT_EQ(VIRT_SYS_POWEROFF_KEY, virt::kSysPoweroffKey);
  EXPECT_EQ(VIRT_SYS_POWEROFF_KEY_MASK, virt::kSysPoweroffKeyMask);
  EXPECT_EQ(VIRT_SYS_POWER_STATUS_BUTTON, virt::kSysPowerStatusButton);
  EXPECT_EQ(VIRT_SYS_POWER_CTRL_BUTTON_IE, virt::kSysPowerCtrlButtonIe);
  EXPECT_EQ(VIRT_SYS_RESET_CAUSE_POWERON, virt::kResetCausePowerOn);
  EXPECT_EQ(VIRT_SYS_RESET_CAUSE_SOFTWARE, virt::kResetCauseSoftware);
  EXPECT_EQ(VIRT_SYS_RESET_CAUSE_WATCHDOG, virt::kResetCauseWatchdog);
  EXPECT_EQ(VIRT_SYS_RESET_CAUSE_EXTERNAL, virt::kResetCauseExternal);
}

TEST(VirtHeader, UartMatches) {
  EXPECT_EQ(VIRT_UART_DATA, virt::kUartData);
  EXPECT_EQ(VIRT_UART_STATUS, virt::kUartStatus);
  EXPECT_EQ(VIRT_UART_CTRL, virt::kUartCtrl);
  EXPECT_EQ(VIRT_UART_FIFO_DEPTH, virt::kUartFifoDepth);
  EXPECT_EQ(VIRT_UART_FIFO_SIZE, virt::kUartFifoSize);
  EXPECT_EQ(VIRT_UART_STATUS_RX_AVAIL, virt::kUartStatusRxAvail);
  EXPECT_EQ(VIRT_UART_STATUS_TX_SPACE, virt::kUartStatusTxSpace);
  EXPECT_EQ(VIRT_UART_STATUS_TX_EMPTY, virt::kUartStatusTxEmpty);
  EXPECT_EQ(VIRT_UART_STATUS_RX_OVERRUN, virt::kUartStatusRxOverrun);
  EXPECT_EQ(VIRT_UART_STATUS_TX_OVERRUN, virt::kUartStatusTxOverrun);
  EXPECT_EQ(VIRT_UART_STATUS_RX_LEVEL_SHIFT, virt::kUartStatusRxLevelShift);
  EXPECT_EQ(VIRT_UART_STATUS_RX_LEVEL_MASK, virt::kUartStatusLevelMask);
  EXPECT_EQ(VIRT_UART_STATUS_TX_LEVEL_SHIFT, virt::kUartStatusTxLevelShift);
  EXPECT_EQ(VIRT_UART_STATUS_TX_LEVEL_MASK, virt::kUartStatusLevelMask);
  EXPECT_EQ(VIRT_UART_STATUS_RESET, virt::kUartStatusReset);
  EXPECT_EQ(VIRT_UART_CTRL_RXIE, virt::kUartCtrlRxie);
  EXPECT_EQ(VIRT_UART_CTRL_TXIE, virt::kUartCtrlTxie);
  EXPECT_EQ(VIRT_UART_FIFO_DEPTH_RESET, virt::kUartFifoDepthValue);
}

TEST(VirtHeader, TimerRtcWatchdogMatch) {
  EXPECT_EQ(VIRT_TIMER_NOW_LO, virt::kTimerNowLo);
  EXPECT_EQ(VIRT_TIMER_NOW_HI, virt::kTimerNowHi);
  EXPECT_EQ(VIRT_TIMER_FREQ, virt::kTimerFreq);
  EXPECT_EQ(VIRT_TIMER_FREQ_HZ, virt::kTimerFreqHz);
  EXPECT_EQ(VIRT_TIMER_NUM_CHANNELS, virt::kTimerChannelCount);
  for (unsigned c = 0; c < 2; ++c) {
    EXPECT_EQ(VIRT_TIMER_CH_BASE(c), virt::kTimerChannelBase + c * virt::kTimerChannelStride);
  }
  EXPECT_EQ(VIRT_TIMER_CH_LOAD, virt::kTimerChLoad);
  EXPECT_EQ(VIRT_TIMER_CH_COUNT, virt::kTimerChCount);
  EXPECT_EQ(VIRT_TIMER_CH_CTRL, virt::kTimerChCtrl);
  EXPECT_EQ(VIRT_TIMER_CH_STATUS, virt::kTimerChStatus);
  EXPECT_EQ(VIRT_TIMER_CH_CTRL_ENABLE, virt::kTimerChCtrlEnable);
  EXPECT_EQ(VIRT_TIMER_CH_CTRL_ONESHOT, virt::kTimerChCtrlOneshot);
  EXPECT_EQ(VIRT_TIMER_CH_CTRL_IE, virt::kTimerChCtrlIe);
  EXPECT_EQ(VIRT_TIMER_CH_STATUS_EXPIRED, virt::kTimerChStatusExpired);

  EXPECT_EQ(VIRT_RTC_TIME, virt::kRtcTime);
  EXPECT_EQ(VIRT_RTC_ALARM, virt::kRtcAlarm);
  EXPECT_EQ(VIRT_RTC_CTRL, virt::kRtcCtrl);
  EXPECT_EQ(VIRT_RTC_STATUS, virt::kRtcStatus);
  EXPECT_EQ(VIRT_RTC_CTRL_ALARM_IE, virt::kRtcCtrlAlarmIe);
  EXPECT_EQ(VIRT_RTC_STATUS_ALARM, virt::kRtcStatusAlarm);

  EXPECT_EQ(VIRT_WDT_CTRL, virt::kWdtCtrl);
  EXPECT_EQ(VIRT_WDT_TIMEOUT, virt::kWdtTimeout);
  EXPECT_EQ(VIRT_WDT_KICK, virt::kWdtKick);
  EXPECT_EQ(VIRT_WDT_COUNT, virt::kWdtCount);
  EXPECT_EQ(VIRT_WDT_STATUS, virt::kWdtStatus);
  EXPECT_EQ(VIRT_WDT_CTRL_ENABLE, virt::kWdtCtrlEnable);
  EXPECT_EQ(VIRT_WDT_TIMEOUT_RESET, virt::kWdtTimeoutReset);
  EXPECT_EQ(VIRT_WDT_KICK_KEY, virt::kWdtKickKey);
  EXPECT_EQ(VIRT_WDT_STATUS_WDT_RESET, virt::kWdtStatusWdtReset);
}

TEST(VirtHeader, FlashControllerMatches) {
  EXPECT_EQ(VIRT_FLASH_KEY, virt::kFlashKey);
  EXPECT_EQ(VIRT_FLASH_ADDR, virt::kFlashAddr);
  EXPECT_EQ(VIRT_FLASH_DATA, virt::kFlashData);
  EXPECT_EQ(VIRT_FLASH_CMD, virt::kFlashCmd);
  EXPECT_EQ(VIRT_FLASH_STATUS, virt::kFlashStatus);
  EXPECT_EQ(VIRT_FLASH_CTRL, virt::kFlashCtrl);
  EXPECT_EQ(VIRT_FLASH_SECTOR, virt::kFlashSector);
  EXPECT_EQ(VIRT_FLASH_KEY1, virt::kFlashKey1);
  EXPECT_EQ(VIRT_FLASH_KEY2, virt::kFlashKey2);
  EXPECT_EQ(VIRT_FLASH_ADDR_MASK, virt::kFlashAddrMask);
  EXPECT_EQ(VIRT_FLASH_DATA_MASK, virt::kFlashDataMask);
  EXPECT_EQ(VIRT_FLASH_CMD_PROGRAM, virt::kFlashCmdProgram);
  EXPECT_EQ(VIRT_FLASH_CMD_ERASE_SECTOR, virt::kFlashCmdEraseSector);
  EXPECT_EQ(VIRT_FLASH_CMD_ERASE_ALL, virt::kFlashCmdEraseAll);
  EXPECT_EQ(VIRT_FLASH_STATUS_BUSY, virt::kFlashStatusBusy);
  EXPECT_EQ(VIRT_FLASH_STATUS_ERROR, virt::kFlashStatusError);
  EXPECT_EQ(VIRT_FLASH_STATUS_UNLOCKED, virt::kFlashStatusUnlocked);
  EXPECT_EQ(VIRT_FLASH_STATUS_DONE, virt::kFlashStatusDone);
  EXPECT_EQ(VIRT_FLASH_CTRL_DONE_IE, virt::kFlashCtrlDoneIe);
  EXPECT_EQ(VIRT_FLASH_CTRL_LOCK, virt::kFlashCtrlLock);
}

TEST(VirtHeader, DisplayMatches) {
  EXPECT_EQ(VIRT_DISP_CTRL, virt::kDispCtrl);
  EXPECT_EQ(VIRT_DISP_MODE, virt::kDispMode);
  EXPECT_EQ(VIRT_DISP_BASE, virt::kDispBase);
  EXPECT_EQ(VIRT_DISP_STATUS, virt::kDispStatus);
  EXPECT_EQ(VIRT_DISP_WIDTH, virt::kDispWidth);
  EXPECT_EQ(VIRT_DISP_HEIGHT, virt::kDispHeight);
  EXPECT_EQ(VIRT_DISP_STRIDE, virt::kDispStride);
  EXPECT_EQ(VIRT_DISP_FB_SIZE, virt::kDispFbSize);
  EXPECT_EQ(VIRT_DISP_FRAME, virt::kDispFrame);
  EXPECT_EQ(VIRT_DISP_CTRL_ENABLE, virt::kDispCtrlEnable);
  EXPECT_EQ(VIRT_DISP_CTRL_VBLANK_IE, virt::kDispCtrlVblankIe);
  EXPECT_EQ(VIRT_DISP_MODE_RES_MASK, virt::kDispModeResMask);
  EXPECT_EQ(VIRT_DISP_MODE_RES_320X240, virt::kDispModeRes320x240);
  EXPECT_EQ(VIRT_DISP_MODE_RES_640X480, virt::kDispModeRes640x480);
  EXPECT_EQ(VIRT_DISP_MODE_FORMAT_SHIFT, virt::kDispModeFormatShift);
  EXPECT_EQ(VIRT_DISP_MODE_FORMAT_MASK, virt::kDispModeFormatMask);
  EXPECT_EQ(VIRT_DISP_FORMAT_RGB565, virt::kDispFormatRgb565);
  EXPECT_EQ(VIRT_DISP_FORMAT_XRGB8888, virt::kDispFormatXrgb8888);
  EXPECT_EQ(VIRT_DISP_BASE_MASK, virt::kDispBaseMask);
  EXPECT_EQ(VIRT_DISP_STATUS_VBLANK, virt::kDispStatusVblank);
  EXPECT_EQ(VIRT_DISP_STATUS_FB_FAULT, virt::kDispStatusFbFault);
  EXPECT_EQ(VIRT_DISP_REFRESH_HZ, virt::kDispRefreshHz);
}

TEST(VirtHeader, KeyboardMatches) {
  EXPECT_EQ(VIRT_KBD_DATA, virt::kKbdData);
  EXPECT_EQ(VIRT_KBD_STATUS, virt::kKbdStatus);
  EXPECT_EQ(VIRT_KBD_CTRL, virt::kKbdCtrl);
  EXPECT_EQ(VIRT_KBD_FIFO_DEPTH, virt::kKbdFifoDepth);
  EXPECT_EQ(VIRT_KBD_FIFO_SIZE, virt::kKbdFifoSize);
  EXPECT_EQ(VIRT_KBD_STATUS_NOT_EMPTY, virt::kKbdStatusNotEmpty);
  EXPECT_EQ(VIRT_KBD_STATUS_OVERFLOW, virt::kKbdStatusOverflow);
  EXPECT_EQ(VIRT_KBD_STATUS_LEVEL_SHIFT, virt::kKbdStatusLevelShift);
  EXPECT_EQ(VIRT_KBD_STATUS_LEVEL_MASK, virt::kKbdStatusLevelMask);
  EXPECT_EQ(VIRT_KBD_CTRL_IE, virt::kKbdCtrlIe);
}

}  // namespace
}  // namespace cr16
