/*
 * The virt board's memory map and device registers, as plain C #defines.
 *
 * This header is the C form of docs/virt.md (the authoritative description of
 * every register's semantics). It is used by the firmware in roms/ (compiled
 * by cr16-elf-gcc, where int is 16 bits: every constant is unsigned long via
 * VIRT_U(), which drops the suffix in assembly sources) and by the
 * emulator's C++ code and tests. It contains no code.
 *
 * Naming: VIRT_<DEVICE>_BASE is a device's base address, VIRT_<DEVICE>_<REG>
 * a register's byte offset from that base, VIRT_<DEVICE>_<REG>_<FIELD> a bit
 * mask (or _SHIFT for multi-bit fields).
 */
#ifndef CR16_ROMS_VIRT_H
#define CR16_ROMS_VIRT_H

#ifdef __ASSEMBLER__
#define VIRT_U(x) x
#else
#define VIRT_U(x) x##UL
#endif

/* ---- Memory map --------------------------------------------------------- */

#define VIRT_RAM_BASE VIRT_U(0x000000)
#define VIRT_RAM_DEFAULT_SIZE VIRT_U(0x200000) /* 2 MiB */
#define VIRT_RAM_MIN_SIZE VIRT_U(0x010000)     /* 64 KiB */
#define VIRT_RAM_MAX_SIZE VIRT_U(0xE00000)     /* 14 MiB */

#define VIRT_FLASH_BASE VIRT_U(0xE00000)
#define VIRT_FLASH_SIZE VIRT_U(0x100000) /* 1 MiB */
#define VIRT_FLASH_SECTOR_SIZE VIRT_U(0x1000)
#define VIRT_RESET_PC VIRT_FLASH_BASE

#define VIRT_IO_BASE VIRT_U(0xFF0000)
#define VIRT_IO_END VIRT_U(0xFFFBFF) /* inclusive */
#define VIRT_DEVICE_WINDOW VIRT_U(0x100)

#define VIRT_SYSCTL_BASE VIRT_U(0xFF0000)
#define VIRT_UART0_BASE VIRT_U(0xFF0100)
#define VIRT_UART1_BASE VIRT_U(0xFF0200)
#define VIRT_TIMER_BASE VIRT_U(0xFF0300)
#define VIRT_RTC_BASE VIRT_U(0xFF0400)
#define VIRT_WDT_BASE VIRT_U(0xFF0500)
#define VIRT_FLASHCTL_BASE VIRT_U(0xFF0600)
#define VIRT_KBD_BASE VIRT_U(0xFF0700)
#define VIRT_DISPLAY_BASE VIRT_U(0xFF1000)
#define VIRT_DISPLAY_SIZE VIRT_U(0x1000)
#define VIRT_ICU_BASE VIRT_U(0xFFFC00)
#define VIRT_ICU_SIZE VIRT_U(0x400)

/* ---- Interrupts --------------------------------------------------------- */

#define VIRT_ICU_NUM_SOURCES VIRT_U(32)
#define VIRT_IRQ_VECTOR_BASE VIRT_U(16) /* source n uses vector 16 + n */
#define VIRT_IRQ_VECTOR(n) (VIRT_IRQ_VECTOR_BASE + (n))
#define VIRT_IRQ_SPURIOUS_VECTOR VIRT_U(48)

#define VIRT_IRQ_TIMER0 VIRT_U(0)
#define VIRT_IRQ_TIMER1 VIRT_U(1)
#define VIRT_IRQ_UART0_RX VIRT_U(2)
#define VIRT_IRQ_UART0_TX VIRT_U(3)
#define VIRT_IRQ_UART1_RX VIRT_U(4)
#define VIRT_IRQ_UART1_TX VIRT_U(5)
#define VIRT_IRQ_RTC VIRT_U(6)
#define VIRT_IRQ_FLASH VIRT_U(7)
#define VIRT_IRQ_DISPLAY VIRT_U(8)      /* display vertical blank */
#define VIRT_IRQ_POWER_BUTTON VIRT_U(9) /* sysctl power button */
#define VIRT_IRQ_KBD VIRT_U(10)         /* keyboard FIFO not empty */
#define VIRT_IRQ_SOFT_FIRST VIRT_U(16)  /* 16..31: software-only sources */

/* CPU exception vectors (PRM chapter 3). */
#define VIRT_VEC_NMI VIRT_U(1)
#define VIRT_VEC_SVC VIRT_U(5)
#define VIRT_VEC_DVZ VIRT_U(6)
#define VIRT_VEC_FLG VIRT_U(7)
#define VIRT_VEC_BPT VIRT_U(8)
#define VIRT_VEC_TRC VIRT_U(9)
#define VIRT_VEC_UND VIRT_U(10)
#define VIRT_VEC_IAD VIRT_U(12)
#define VIRT_VEC_DBG VIRT_U(14)
#define VIRT_VEC_ISE VIRT_U(15)

/* ---- ICU (base 0xFFFC00) ------------------------------------------------ */

#define VIRT_ICU_ISE_ACK VIRT_U(0x000)
#define VIRT_ICU_PENDING VIRT_U(0x010)
#define VIRT_ICU_ENABLE VIRT_U(0x014)
#define VIRT_ICU_ENABLE_SET VIRT_U(0x018)
#define VIRT_ICU_ENABLE_CLR VIRT_U(0x01C)
#define VIRT_ICU_SOFT_SET VIRT_U(0x020)
#define VIRT_ICU_SOFT_CLR VIRT_U(0x024)
#define VIRT_ICU_RAW VIRT_U(0x028)
#define VIRT_ICU_ACTIVE VIRT_U(0x02C)
#define VIRT_ICU_PRIO(k) (VIRT_U(0x040) + VIRT_U(4) * (k)) /* k = 0..3 */
#define VIRT_ICU_PRIO_SHIFT(n) (VIRT_U(4) * ((n) % VIRT_U(8)))
#define VIRT_ICU_PRIO_MASK VIRT_U(0xF)
#define VIRT_ICU_IVCT VIRT_U(0x200) /* 0xFFFE00: reading acknowledges */
#define VIRT_ICU_IVCT_PEEK VIRT_U(0x204)
#define VIRT_ICU_NMI_STATUS VIRT_U(0x208)
#define VIRT_ICU_NMI_STATUS_SW VIRT_U(0x1)
#define VIRT_ICU_NMI_TRIGGER VIRT_U(0x20C)
#define VIRT_ICU_NMI_ACK VIRT_U(0x300) /* 0xFFFF00 */

#define VIRT_ICU_IVCT_ADDR (VIRT_ICU_BASE + VIRT_ICU_IVCT)

/* ---- sysctl (base 0xFF0000) --------------------------------------------- */

#define VIRT_SYS_BOARD_ID VIRT_U(0x00)
#define VIRT_SYS_BOARD_VERSION VIRT_U(0x04)
#define VIRT_SYS_RAM_SIZE VIRT_U(0x08)
#define VIRT_SYS_FLASH_SIZE VIRT_U(0x0C)
#define VIRT_SYS_CPU_MODEL VIRT_U(0x10)
#define VIRT_SYS_RESET_CAUSE VIRT_U(0x14)
#define VIRT_SYS_POWEROFF VIRT_U(0x18)
#define VIRT_SYS_RESET VIRT_U(0x1C)
#define VIRT_SYS_SCRATCH VIRT_U(0x20)
#define VIRT_SYS_POWER_STATUS VIRT_U(0x24)
#define VIRT_SYS_POWER_CTRL VIRT_U(0x28)
#define VIRT_SYS_CPU_NAME VIRT_U(0x40)   /* 16 bytes, ASCII, NUL-padded */
#define VIRT_SYS_BOARD_NAME VIRT_U(0x50) /* 16 bytes, ASCII, NUL-padded */
#define VIRT_SYS_NAME_LEN VIRT_U(16)

#define VIRT_SYS_BOARD_ID_VALUE VIRT_U(0x56495254) /* "VIRT" */
#define VIRT_SYS_BOARD_VERSION_VALUE VIRT_U(0x00010000)
#define VIRT_SYS_CPU_MODEL_CR16C VIRT_U(0)
#define VIRT_SYS_CPU_MODEL_CR16CPLUS VIRT_U(1)
#define VIRT_SYS_RESET_KEY VIRT_U(0x52534554) /* "RSET" */
#define VIRT_SYS_POWEROFF_CODE_MASK VIRT_U(0xFF)
#define VIRT_SYS_POWEROFF_KEY VIRT_U(0x504F5700) /* "POW" in bits 31:8, exit code in 7:0 */
#define VIRT_SYS_POWEROFF_KEY_MASK VIRT_U(0xFFFFFF00)
#define VIRT_SYS_POWER_STATUS_BUTTON VIRT_U(0x1)
#define VIRT_SYS_POWER_CTRL_BUTTON_IE VIRT_U(0x1)

#define VIRT_SYS_RESET_CAUSE_POWERON VIRT_U(0x1)
#define VIRT_SYS_RESET_CAUSE_SOFTWARE VIRT_U(0x2)
#define VIRT_SYS_RESET_CAUSE_WATCHDOG VIRT_U(0x4)
#define VIRT_SYS_RESET_CAUSE_EXTERNAL VIRT_U(0x8)

/* ---- UART0 (0xFF0100) / UART1 (0xFF0200) -------------------------------- */

#define VIRT_UART_DATA VIRT_U(0x00)
#define VIRT_UART_STATUS VIRT_U(0x04)
#define VIRT_UART_CTRL VIRT_U(0x08)
#define VIRT_UART_FIFO_DEPTH VIRT_U(0x0C)

#define VIRT_UART_FIFO_SIZE VIRT_U(16)

#define VIRT_UART_STATUS_RX_AVAIL VIRT_U(0x01)
#define VIRT_UART_STATUS_TX_SPACE VIRT_U(0x02)
#define VIRT_UART_STATUS_TX_EMPTY VIRT_U(0x04)
#define VIRT_UART_STATUS_RX_OVERRUN VIRT_U(0x08)
#define VIRT_UART_STATUS_TX_OVERRUN VIRT_U(0x10)
#define VIRT_UART_STATUS_RX_LEVEL_SHIFT VIRT_U(8)
#define VIRT_UART_STATUS_RX_LEVEL_MASK VIRT_U(0x1F)
#define VIRT_UART_STATUS_TX_LEVEL_SHIFT VIRT_U(16)
#define VIRT_UART_STATUS_TX_LEVEL_MASK VIRT_U(0x1F)
#define VIRT_UART_STATUS_RESET VIRT_U(0x06)

#define VIRT_UART_CTRL_RXIE VIRT_U(0x1)
#define VIRT_UART_CTRL_TXIE VIRT_U(0x2)

#define VIRT_UART_FIFO_DEPTH_RESET VIRT_U(0x1010)

/* ---- Timer (0xFF0300) --------------------------------------------------- */

#define VIRT_TIMER_NOW_LO VIRT_U(0x00)
#define VIRT_TIMER_NOW_HI VIRT_U(0x04)
#define VIRT_TIMER_FREQ VIRT_U(0x08)
#define VIRT_TIMER_FREQ_HZ VIRT_U(1000000)
#define VIRT_TIMER_NUM_CHANNELS VIRT_U(2)

#define VIRT_TIMER_CH_BASE(c) (VIRT_U(0x20) + VIRT_U(0x20) * (c)) /* c = 0..1 */
#define VIRT_TIMER_CH_LOAD VIRT_U(0x00)                           /* relative to CH_BASE */
#define VIRT_TIMER_CH_COUNT VIRT_U(0x04)
#define VIRT_TIMER_CH_CTRL VIRT_U(0x08)
#define VIRT_TIMER_CH_STATUS VIRT_U(0x0C)

#define VIRT_TIMER_CH_CTRL_ENABLE VIRT_U(0x1)
#define VIRT_TIMER_CH_CTRL_ONESHOT VIRT_U(0x2)
#define VIRT_TIMER_CH_CTRL_IE VIRT_U(0x4)
#define VIRT_TIMER_CH_STATUS_EXPIRED VIRT_U(0x1)

/* ---- RTC (0xFF0400) ----------------------------------------------------- */

#define VIRT_RTC_TIME VIRT_U(0x00)
#define VIRT_RTC_ALARM VIRT_U(0x04)
#define VIRT_RTC_CTRL VIRT_U(0x08)
#define VIRT_RTC_STATUS VIRT_U(0x0C)
#define VIRT_RTC_CTRL_ALARM_IE VIRT_U(0x1)
#define VIRT_RTC_STATUS_ALARM VIRT_U(0x1)

/* ---- Watchdog (0xFF0500) ------------------------------------------------ */

#define VIRT_WDT_CTRL VIRT_U(0x00)
#define VIRT_WDT_TIMEOUT VIRT_U(0x04)
#define VIRT_WDT_KICK VIRT_U(0x08)
#define VIRT_WDT_COUNT VIRT_U(0x0C)
#define VIRT_WDT_STATUS VIRT_U(0x10)

#define VIRT_WDT_CTRL_ENABLE VIRT_U(0x1)
#define VIRT_WDT_TIMEOUT_RESET VIRT_U(1000000)
#define VIRT_WDT_KICK_KEY VIRT_U(0x4B49434B) /* "KICK" */
#define VIRT_WDT_STATUS_WDT_RESET VIRT_U(0x1)

/* ---- Flash controller (0xFF0600) ---------------------------------------- */

#define VIRT_FLASH_KEY VIRT_U(0x00)
#define VIRT_FLASH_ADDR VIRT_U(0x04)
#define VIRT_FLASH_DATA VIRT_U(0x08)
#define VIRT_FLASH_CMD VIRT_U(0x0C)
#define VIRT_FLASH_STATUS VIRT_U(0x10)
#define VIRT_FLASH_CTRL VIRT_U(0x14)
#define VIRT_FLASH_SECTOR VIRT_U(0x18)

#define VIRT_FLASH_KEY1 VIRT_U(0x0000AA55)
#define VIRT_FLASH_KEY2 VIRT_U(0x000055AA)
#define VIRT_FLASH_ADDR_MASK VIRT_U(0x000FFFFF)
#define VIRT_FLASH_DATA_MASK VIRT_U(0x0000FFFF)

#define VIRT_FLASH_CMD_PROGRAM VIRT_U(1)
#define VIRT_FLASH_CMD_ERASE_SECTOR VIRT_U(2)
#define VIRT_FLASH_CMD_ERASE_ALL VIRT_U(3)

#define VIRT_FLASH_STATUS_BUSY VIRT_U(0x1)
#define VIRT_FLASH_STATUS_ERROR VIRT_U(0x2)
#define VIRT_FLASH_STATUS_UNLOCKED VIRT_U(0x4)
#define VIRT_FLASH_STATUS_DONE VIRT_U(0x8)

#define VIRT_FLASH_CTRL_DONE_IE VIRT_U(0x1)
#define VIRT_FLASH_CTRL_LOCK VIRT_U(0x2)

/* ---- Keyboard controller (0xFF0700) ------------------------------------- */

/* Scancodes are PC set 1 bytes: make code, break = make | 0x80, extended
 * keys preceded by 0xE0 (each byte a FIFO entry). */
#define VIRT_KBD_DATA VIRT_U(0x00)
#define VIRT_KBD_STATUS VIRT_U(0x04)
#define VIRT_KBD_CTRL VIRT_U(0x08)
#define VIRT_KBD_FIFO_DEPTH VIRT_U(0x0C)

#define VIRT_KBD_FIFO_SIZE VIRT_U(32)
#define VIRT_KBD_STATUS_NOT_EMPTY VIRT_U(0x1)
#define VIRT_KBD_STATUS_OVERFLOW VIRT_U(0x2)
#define VIRT_KBD_STATUS_LEVEL_SHIFT VIRT_U(8)
#define VIRT_KBD_STATUS_LEVEL_MASK VIRT_U(0x3F)
#define VIRT_KBD_CTRL_IE VIRT_U(0x1)

/* ---- Display controller (0xFF1000) -------------------------------------- */

#define VIRT_DISP_CTRL VIRT_U(0x00)
#define VIRT_DISP_MODE VIRT_U(0x04)
#define VIRT_DISP_BASE VIRT_U(0x08)
#define VIRT_DISP_STATUS VIRT_U(0x0C)
#define VIRT_DISP_WIDTH VIRT_U(0x10)
#define VIRT_DISP_HEIGHT VIRT_U(0x14)
#define VIRT_DISP_STRIDE VIRT_U(0x18)
#define VIRT_DISP_FB_SIZE VIRT_U(0x1C)
#define VIRT_DISP_FRAME VIRT_U(0x20)

#define VIRT_DISP_CTRL_ENABLE VIRT_U(0x1)
#define VIRT_DISP_CTRL_VBLANK_IE VIRT_U(0x2)
#define VIRT_DISP_MODE_RES_MASK VIRT_U(0x3)
#define VIRT_DISP_MODE_RES_320X240 VIRT_U(0)
#define VIRT_DISP_MODE_RES_640X480 VIRT_U(1)
#define VIRT_DISP_MODE_FORMAT_SHIFT VIRT_U(8)
#define VIRT_DISP_MODE_FORMAT_MASK VIRT_U(0x300)
#define VIRT_DISP_FORMAT_RGB565 VIRT_U(0)
#define VIRT_DISP_FORMAT_XRGB8888 VIRT_U(1)
#define VIRT_DISP_BASE_MASK VIRT_U(0x00FFFFFC)
#define VIRT_DISP_STATUS_VBLANK VIRT_U(0x1)
#define VIRT_DISP_STATUS_FB_FAULT VIRT_U(0x2)
#define VIRT_DISP_REFRESH_HZ VIRT_U(60)

#endif /* CR16_ROMS_VIRT_H */
