/*
 * The virt board's memory map and device registers, as plain C #defines.
 *
 * This header is the C form of docs/virt.md (the authoritative description of
 * every register's semantics). It is used by the firmware in roms/ (compiled
 * by cr16-elf-gcc, where int is 16 bits: every constant carries a UL suffix)
 * and by the emulator's C++ code and tests. It contains no code.
 *
 * Naming: VIRT_<DEVICE>_BASE is a device's base address, VIRT_<DEVICE>_<REG>
 * a register's byte offset from that base, VIRT_<DEVICE>_<REG>_<FIELD> a bit
 * mask (or _SHIFT for multi-bit fields).
 */
#ifndef CR16_ROMS_VIRT_H
#define CR16_ROMS_VIRT_H

/* ---- Memory map --------------------------------------------------------- */

#define VIRT_RAM_BASE 0x000000UL
#define VIRT_RAM_DEFAULT_SIZE 0x200000UL /* 2 MiB */
#define VIRT_RAM_MIN_SIZE 0x010000UL     /* 64 KiB */
#define VIRT_RAM_MAX_SIZE 0xE00000UL     /* 14 MiB */

#define VIRT_FLASH_BASE 0xE00000UL
#define VIRT_FLASH_SIZE 0x100000UL /* 1 MiB */
#define VIRT_FLASH_SECTOR_SIZE 0x1000UL
#define VIRT_RESET_PC VIRT_FLASH_BASE

#define VIRT_IO_BASE 0xFF0000UL
#define VIRT_IO_END 0xFFFBFFUL /* inclusive */
#define VIRT_DEVICE_WINDOW 0x100UL

#define VIRT_SYSCTL_BASE 0xFF0000UL
#define VIRT_UART0_BASE 0xFF0100UL
#define VIRT_UART1_BASE 0xFF0200UL
#define VIRT_TIMER_BASE 0xFF0300UL
#define VIRT_RTC_BASE 0xFF0400UL
#define VIRT_WDT_BASE 0xFF0500UL
#define VIRT_FLASHCTL_BASE 0xFF0600UL
#define VIRT_DISPLAY_BASE 0xFF1000UL /* reserved */
#define VIRT_DISPLAY_SIZE 0x1000UL
#define VIRT_ICU_BASE 0xFFFC00UL
#define VIRT_ICU_SIZE 0x400UL

/* ---- Interrupts --------------------------------------------------------- */

#define VIRT_ICU_NUM_SOURCES 32UL
#define VIRT_IRQ_VECTOR_BASE 16UL /* source n uses vector 16 + n */
#define VIRT_IRQ_VECTOR(n) (VIRT_IRQ_VECTOR_BASE + (n))
#define VIRT_IRQ_SPURIOUS_VECTOR 48UL

#define VIRT_IRQ_TIMER0 0UL
#define VIRT_IRQ_TIMER1 1UL
#define VIRT_IRQ_UART0_RX 2UL
#define VIRT_IRQ_UART0_TX 3UL
#define VIRT_IRQ_UART1_RX 4UL
#define VIRT_IRQ_UART1_TX 5UL
#define VIRT_IRQ_RTC 6UL
#define VIRT_IRQ_FLASH 7UL
#define VIRT_IRQ_DISPLAY 8UL   /* reserved */
#define VIRT_IRQ_SOFT_FIRST 16UL /* 16..31: software-only sources */

/* CPU exception vectors (PRM chapter 3). */
#define VIRT_VEC_NMI 1UL
#define VIRT_VEC_SVC 5UL
#define VIRT_VEC_DVZ 6UL
#define VIRT_VEC_FLG 7UL
#define VIRT_VEC_BPT 8UL
#define VIRT_VEC_TRC 9UL
#define VIRT_VEC_UND 10UL
#define VIRT_VEC_IAD 12UL
#define VIRT_VEC_DBG 14UL
#define VIRT_VEC_ISE 15UL

/* ---- ICU (base 0xFFFC00) ------------------------------------------------ */

#define VIRT_ICU_ISE_ACK 0x000UL
#define VIRT_ICU_PENDING 0x010UL
#define VIRT_ICU_ENABLE 0x014UL
#define VIRT_ICU_ENABLE_SET 0x018UL
#define VIRT_ICU_ENABLE_CLR 0x01CUL
#define VIRT_ICU_SOFT_SET 0x020UL
#define VIRT_ICU_SOFT_CLR 0x024UL
#define VIRT_ICU_RAW 0x028UL
#define VIRT_ICU_ACTIVE 0x02CUL
#define VIRT_ICU_PRIO(k) (0x040UL + 4UL * (k)) /* k = 0..3 */
#define VIRT_ICU_PRIO_SHIFT(n) (4UL * ((n) % 8UL))
#define VIRT_ICU_PRIO_MASK 0xFUL
#define VIRT_ICU_IVCT 0x200UL /* 0xFFFE00: reading acknowledges */
#define VIRT_ICU_IVCT_PEEK 0x204UL
#define VIRT_ICU_NMI_STATUS 0x208UL
#define VIRT_ICU_NMI_STATUS_SW 0x1UL
#define VIRT_ICU_NMI_TRIGGER 0x20CUL
#define VIRT_ICU_NMI_ACK 0x300UL /* 0xFFFF00 */

#define VIRT_ICU_IVCT_ADDR (VIRT_ICU_BASE + VIRT_ICU_IVCT)

/* ---- sysctl (base 0xFF0000) --------------------------------------------- */

#define VIRT_SYS_BOARD_ID 0x00UL
#define VIRT_SYS_BOARD_VERSION 0x04UL
#define VIRT_SYS_RAM_SIZE 0x08UL
#define VIRT_SYS_FLASH_SIZE 0x0CUL
#define VIRT_SYS_CPU_MODEL 0x10UL
#define VIRT_SYS_RESET_CAUSE 0x14UL
#define VIRT_SYS_POWEROFF 0x18UL
#define VIRT_SYS_RESET 0x1CUL
#define VIRT_SYS_SCRATCH 0x20UL
#define VIRT_SYS_CPU_NAME 0x40UL   /* 16 bytes, ASCII, NUL-padded */
#define VIRT_SYS_BOARD_NAME 0x50UL /* 16 bytes, ASCII, NUL-padded */
#define VIRT_SYS_NAME_LEN 16UL

#define VIRT_SYS_BOARD_ID_VALUE 0x56495254UL /* "VIRT" */
#define VIRT_SYS_BOARD_VERSION_VALUE 0x00010000UL
#define VIRT_SYS_CPU_MODEL_CR16C 0UL
#define VIRT_SYS_CPU_MODEL_CR16CPLUS 1UL
#define VIRT_SYS_RESET_KEY 0x52534554UL /* "RSET" */
#define VIRT_SYS_POWEROFF_CODE_MASK 0xFFUL

#define VIRT_SYS_RESET_CAUSE_POWERON 0x1UL
#define VIRT_SYS_RESET_CAUSE_SOFTWARE 0x2UL
#define VIRT_SYS_RESET_CAUSE_WATCHDOG 0x4UL
#define VIRT_SYS_RESET_CAUSE_EXTERNAL 0x8UL

/* ---- UART0 (0xFF0100) / UART1 (0xFF0200) -------------------------------- */

#define VIRT_UART_DATA 0x00UL
#define VIRT_UART_STATUS 0x04UL
#define VIRT_UART_CTRL 0x08UL
#define VIRT_UART_FIFO_DEPTH 0x0CUL

#define VIRT_UART_FIFO_SIZE 16UL

#define VIRT_UART_STATUS_RX_AVAIL 0x01UL
#define VIRT_UART_STATUS_TX_SPACE 0x02UL
#define VIRT_UART_STATUS_TX_EMPTY 0x04UL
#define VIRT_UART_STATUS_RX_OVERRUN 0x08UL
#define VIRT_UART_STATUS_TX_OVERRUN 0x10UL
#define VIRT_UART_STATUS_RX_LEVEL_SHIFT 8UL
#define VIRT_UART_STATUS_RX_LEVEL_MASK 0x1FUL
#define VIRT_UART_STATUS_TX_LEVEL_SHIFT 16UL
#define VIRT_UART_STATUS_TX_LEVEL_MASK 0x1FUL
#define VIRT_UART_STATUS_RESET 0x06UL

#define VIRT_UART_CTRL_RXIE 0x1UL
#define VIRT_UART_CTRL_TXIE 0x2UL

#define VIRT_UART_FIFO_DEPTH_RESET 0x1010UL

/* ---- Timer (0xFF0300) --------------------------------------------------- */

#define VIRT_TIMER_NOW_LO 0x00UL
#define VIRT_TIMER_NOW_HI 0x04UL
#define VIRT_TIMER_FREQ 0x08UL
#define VIRT_TIMER_FREQ_HZ 1000000UL
#define VIRT_TIMER_NUM_CHANNELS 2UL

#define VIRT_TIMER_CH_BASE(c) (0x20UL + 0x20UL * (c)) /* c = 0..1 */
#define VIRT_TIMER_CH_LOAD 0x00UL                      /* relative to CH_BASE */
#define VIRT_TIMER_CH_COUNT 0x04UL
#define VIRT_TIMER_CH_CTRL 0x08UL
#define VIRT_TIMER_CH_STATUS 0x0CUL

#define VIRT_TIMER_CH_CTRL_ENABLE 0x1UL
#define VIRT_TIMER_CH_CTRL_ONESHOT 0x2UL
#define VIRT_TIMER_CH_CTRL_IE 0x4UL
#define VIRT_TIMER_CH_STATUS_EXPIRED 0x1UL

/* ---- RTC (0xFF0400) ----------------------------------------------------- */

#define VIRT_RTC_TIME 0x00UL
#define VIRT_RTC_ALARM 0x04UL
#define VIRT_RTC_CTRL 0x08UL
#define VIRT_RTC_STATUS 0x0CUL
#define VIRT_RTC_CTRL_ALARM_IE 0x1UL
#define VIRT_RTC_STATUS_ALARM 0x1UL

/* ---- Watchdog (0xFF0500) ------------------------------------------------ */

#define VIRT_WDT_CTRL 0x00UL
#define VIRT_WDT_TIMEOUT 0x04UL
#define VIRT_WDT_KICK 0x08UL
#define VIRT_WDT_COUNT 0x0CUL
#define VIRT_WDT_STATUS 0x10UL

#define VIRT_WDT_CTRL_ENABLE 0x1UL
#define VIRT_WDT_TIMEOUT_RESET 1000000UL
#define VIRT_WDT_KICK_KEY 0x4B49434BUL /* "KICK" */
#define VIRT_WDT_STATUS_WDT_RESET 0x1UL

/* ---- Flash controller (0xFF0600) ---------------------------------------- */

#define VIRT_FLASH_KEY 0x00UL
#define VIRT_FLASH_ADDR 0x04UL
#define VIRT_FLASH_DATA 0x08UL
#define VIRT_FLASH_CMD 0x0CUL
#define VIRT_FLASH_STATUS 0x10UL
#define VIRT_FLASH_CTRL 0x14UL
#define VIRT_FLASH_SECTOR 0x18UL

#define VIRT_FLASH_KEY1 0x0000AA55UL
#define VIRT_FLASH_KEY2 0x000055AAUL
#define VIRT_FLASH_ADDR_MASK 0x000FFFFFUL
#define VIRT_FLASH_DATA_MASK 0x0000FFFFUL

#define VIRT_FLASH_CMD_PROGRAM 1UL
#define VIRT_FLASH_CMD_ERASE_SECTOR 2UL
#define VIRT_FLASH_CMD_ERASE_ALL 3UL

#define VIRT_FLASH_STATUS_BUSY 0x1UL
#define VIRT_FLASH_STATUS_ERROR 0x2UL
#define VIRT_FLASH_STATUS_UNLOCKED 0x4UL
#define VIRT_FLASH_STATUS_DONE 0x8UL

#define VIRT_FLASH_CTRL_DONE_IE 0x1UL
#define VIRT_FLASH_CTRL_LOCK 0x2UL

#endif /* CR16_ROMS_VIRT_H */
