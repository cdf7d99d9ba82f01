/*
 * The Dialog SC14441 (CR16C DECT SoC) as the `sc14441` board models it:
 * memory map and the peripheral registers our boot ROM and test loader use,
 * as plain C #defines. Source of every value: docs/boards/sc14441-registers.md (the
 * board's spec) and the device semantics agreed for issue 12.
 *
 * Values are wrapped in SC_U() so the header also works in assembly sources
 * (int is 16 bits under cr16-elf-gcc, so C constants get an UL suffix).
 * Naming: SC14441_<BLOCK>_<REG> is a register's absolute address,
 * SC14441_<REG>_<FIELD> a bit mask (or _SHIFT for multi-bit fields).
 * It contains no code.
 */
#ifndef CR16_ROMS_SC14441_H
#define CR16_ROMS_SC14441_H

#ifdef __ASSEMBLER__
#define SC_U(x) x
#else
#define SC_U(x) x##UL
#endif

/* ---- Memory map --------------------------------------------------------- */

#define SC14441_RAM0_BASE SC_U(0x000000) /* 16 KiB */
#define SC14441_RAM0_SIZE SC_U(0x4000)
#define SC14441_RAM_ADM_BASE SC_U(0x009000) /* 4 KiB */
#define SC14441_RAM_ADM_SIZE SC_U(0x1000)
#define SC14441_SHARED_RAM_BASE SC_U(0x010000) /* 32 KiB, CR16C + DSP */
#define SC14441_SHARED_RAM_SIZE SC_U(0x8000)
#define SC14441_FLASH_WINDOW_BASE SC_U(0x0F0000) /* QSPI XIP window (auto mode) */
#define SC14441_BOOTROM_BASE SC_U(0xFEF000)      /* mask ROM, reset entry */
#define SC14441_BOOTROM_SIZE SC_U(0x800)
#define SC14441_SFR_BASE SC_U(0xFF0000)
#define SC14441_INTA_ADDRESS SC_U(0xFFFE00) /* maskable interrupt acknowledge */

/* UART boot: where the ROM puts the uploaded image and jumps. */
#define SC14441_PAYLOAD_BASE SC_U(0x010080)
#define SC14441_PAYLOAD_MAX SC_U(0x3F80) /* largest image the ROM accepts */
#define SC14441_PAYLOAD_END SC_U(0x014000)

/* ROM boot protocol bytes (notes §3). */
#define SC14441_BOOT_SOH SC_U(0x01)
#define SC14441_BOOT_STX SC_U(0x02)
#define SC14441_BOOT_ACK SC_U(0x06)
#define SC14441_BOOT_NACK SC_U(0x15)

/* ---- QSPI controller (notes §5.7) ---------------------------------------- */

#define SC14441_QSPIC_CTRLBUS SC_U(0xFF0C00)  /* 32-bit writes: strobes */
#define SC14441_QSPIC_CTRLMODE SC_U(0xFF0C04) /* 16-bit */
#define SC14441_QSPIC_RECVDATA SC_U(0xFF0C08) /* 32-bit, first byte in 7:0 */
#define SC14441_QSPIC_BURSTCMDA SC_U(0xFF0C0C)
#define SC14441_QSPIC_BURSTCMDB SC_U(0xFF0C10)
#define SC14441_QSPIC_STATUS SC_U(0xFF0C14)    /* 16-bit */
#define SC14441_QSPIC_WRITEDATA SC_U(0xFF0C18) /* 8/16/32-bit writes, low byte first */
#define SC14441_QSPIC_READDATA SC_U(0xFF0C1C)  /* 16/32-bit reads clock 2/4 bytes in */
#define SC14441_QSPIC_DUMMYDATA SC_U(0xFF0C20)
#define SC14441_QSPIC_LAST SC_U(0xFF0C3C) /* last register of the block */

#define SC14441_QSPIC_CTRLBUS_SET_SINGLE SC_U(0x01)
#define SC14441_QSPIC_CTRLBUS_SET_DUAL SC_U(0x02)
#define SC14441_QSPIC_CTRLBUS_SET_QUAD SC_U(0x04)
#define SC14441_QSPIC_CTRLBUS_EN_CS SC_U(0x08)
#define SC14441_QSPIC_CTRLBUS_DIS_CS SC_U(0x10)

#define SC14441_QSPIC_CTRLMODE_AUTO_MD SC_U(0x0001)
#define SC14441_QSPIC_CTRLMODE_CLK_MD SC_U(0x0002)
#define SC14441_QSPIC_CTRLMODE_IO2_OEN SC_U(0x0004)
#define SC14441_QSPIC_CTRLMODE_IO3_OEN SC_U(0x0008)
#define SC14441_QSPIC_CTRLMODE_IO2_DAT SC_U(0x0010) /* WP# level */
#define SC14441_QSPIC_CTRLMODE_IO3_DAT SC_U(0x0020) /* HOLD#/RESET# level */
#define SC14441_QSPIC_CTRLMODE_MANUAL SC_U(0x002C)  /* the loader's set-up value */

#define SC14441_QSPIC_STATUS_BUSY SC_U(0x0001)

/* ---- Clocks (notes §5.4) ------------------------------------------------- */

#define SC14441_CLK_AMBA SC_U(0xFF4000)
#define SC14441_CLK_PER10_DIV SC_U(0xFF400E)
#define SC14441_CLK_PLL_CTRL SC_U(0xFF4010)
#define SC14441_CLK_PLL_DIV SC_U(0xFF4012)
#define SC14441_CLK_XTAL_CTRL SC_U(0xFF4018)
#define SC14441_CLK_AUX SC_U(0xFF401A)

#define SC14441_CLK_PER10_QSPI_DIV_MASK SC_U(0x0300)
#define SC14441_CLK_PER10_QSPI_DIV_1 SC_U(0x0100)
#define SC14441_CLK_PER10_QSPI_CLK_EN SC_U(0x0400)

/* ---- DMA, 4 channels (notes §5.2) ---------------------------------------- */

#define SC14441_DMA_BASE SC_U(0xFF4400)
#define SC14441_DMA_CHANNEL_STRIDE SC_U(0x10)
#define SC14441_DMA_CHANNEL(n) (SC14441_DMA_BASE + SC14441_DMA_CHANNEL_STRIDE * (n))
#define SC14441_DMA_A_STARTL SC_U(0x0) /* source, bits 15:0 */
#define SC14441_DMA_A_STARTH SC_U(0x2) /* source, bits 23:16 */
#define SC14441_DMA_B_STARTL SC_U(0x4) /* destination */
#define SC14441_DMA_B_STARTH SC_U(0x6)
#define SC14441_DMA_INT SC_U(0x8)
#define SC14441_DMA_LEN SC_U(0xA)
#define SC14441_DMA_CTRL SC_U(0xC)
#define SC14441_DMA_IDX SC_U(0xE) /* read-only: units moved since start */

#define SC14441_DMA_SPI_RX_CHANNEL SC_U(0)
#define SC14441_DMA_SPI_TX_CHANNEL SC_U(1)
#define SC14441_DMA_UART_RX_CHANNEL SC_U(2)
#define SC14441_DMA_UART_TX_CHANNEL SC_U(3)

#define SC14441_DMA_CTRL_DMA_ON SC_U(0x0001)
#define SC14441_DMA_CTRL_BW_SHIFT SC_U(1) /* 0 byte, 1 halfword, 2 word */
#define SC14441_DMA_CTRL_DINT_MODE SC_U(0x0008)
#define SC14441_DMA_CTRL_DREQ_MODE SC_U(0x0010)
#define SC14441_DMA_CTRL_BINC SC_U(0x0020)
#define SC14441_DMA_CTRL_AINC SC_U(0x0040)
#define SC14441_DMA_CTRL_CIRCULAR SC_U(0x0080)
#define SC14441_DMA_CTRL_PRIO_SHIFT SC_U(8)
#define SC14441_DMA_CTRL_UART_RX_RING SC_U(0x02B8) /* the loader's RX set-up (§5.2) */

/* ---- Battery / charge pump, test env (notes §5.5) ------------------------ */

#define SC14441_TEST_ENV SC_U(0xFF4800)
#define SC14441_BAT_CTRL2 SC_U(0xFF4814)
#define SC14441_BAT_STATUS SC_U(0xFF4816)
#define SC14441_CP_CTRL SC_U(0xFF481C)

/* ---- UART (notes §5.1) -------------------------------------------------- */

#define SC14441_UART_CTRL SC_U(0xFF4900)
#define SC14441_UART_RX_TX SC_U(0xFF4902)
#define SC14441_UART_CLEAR_TX_INT SC_U(0xFF4904)
#define SC14441_UART_CLEAR_RX_INT SC_U(0xFF4906)
#define SC14441_UART_ERROR SC_U(0xFF4908)
#define SC14441_UART2_CTRL SC_U(0xFF4910)

#define SC14441_UART_CTRL_REN SC_U(0x0001)
#define SC14441_UART_CTRL_TEN SC_U(0x0002)
#define SC14441_UART_CTRL_BAUD_SHIFT SC_U(2)
#define SC14441_UART_CTRL_BAUD_MASK SC_U(0x001C)
#define SC14441_UART_CTRL_TI SC_U(0x0020) /* read-only status */
#define SC14441_UART_CTRL_RI SC_U(0x0040) /* read-only status */
#define SC14441_UART_CTRL_MODE SC_U(0x0080)
#define SC14441_UART_CTRL_IRDA_EN SC_U(0x0100)
#define SC14441_UART_CTRL_INV_URX SC_U(0x0200)
#define SC14441_UART_CTRL_INV_UTX SC_U(0x0400)

/* BAUDRATE field codes. */
#define SC14441_UART_BAUD_9600 SC_U(0)
#define SC14441_UART_BAUD_19200 SC_U(1)
#define SC14441_UART_BAUD_57600 SC_U(2)
#define SC14441_UART_BAUD_115200 SC_U(3)
#define SC14441_UART_BAUD_230400 SC_U(4)

/* ---- Timers, watchdog, freeze, debug (notes §5.5) ------------------------ */

#define SC14441_TIMER_CTRL SC_U(0xFF4970)
#define SC14441_WATCHDOG SC_U(0xFF4C00) /* counts down per 10 ms; write reloads */
#define SC14441_WATCHDOG_RELOAD SC_U(0x00FF)
#define SC14441_SET_FREEZE SC_U(0xFF5000)
#define SC14441_RESET_FREEZE SC_U(0xFF5002)
#define SC14441_FREEZE_WDOG SC_U(0x0008)
#define SC14441_DEBUG SC_U(0xFF5004)
#define SC14441_DEBUG_SW_RESET SC_U(0x0080)

/* ---- Interrupt controller (notes §4) ------------------------------------ */

#define SC14441_SET_INT_PENDING SC_U(0xFF5400)
#define SC14441_RESET_INT_PENDING SC_U(0xFF5402)
#define SC14441_INT0_PRIORITY SC_U(0xFF5404)
#define SC14441_INT1_PRIORITY SC_U(0xFF5406)
#define SC14441_INT2_PRIORITY SC_U(0xFF5408)
#define SC14441_INT3_PRIORITY SC_U(0xFF540A)
#define SC14441_PC_START SC_U(0xFF540C)

/* Maskable source bits (vector = 16 + bit). */
#define SC14441_IRQ_ACCESS SC_U(0)
#define SC14441_IRQ_KEYB SC_U(1)
#define SC14441_IRQ_UART2 SC_U(2)
#define SC14441_IRQ_CT_CLASSD SC_U(3)
#define SC14441_IRQ_UART_RI SC_U(4)
#define SC14441_IRQ_UART_TI SC_U(5)
#define SC14441_IRQ_SPI SC_U(6)
#define SC14441_IRQ_TIM0 SC_U(7)
#define SC14441_IRQ_TIM1 SC_U(8)
#define SC14441_IRQ_CLK100 SC_U(9)
#define SC14441_IRQ_DIP SC_U(10)
#define SC14441_IRQ_AD SC_U(11)
#define SC14441_IRQ_SPI2 SC_U(12)
#define SC14441_IRQ_DSP SC_U(13)
#define SC14441_IRQ_ULP SC_U(14)
#define SC14441_IRQ_VECTOR_BASE SC_U(16)

/* CPU exception vectors the loader handles. */
#define SC14441_VECTOR_SVC SC_U(5)
#define SC14441_VECTOR_DVZ SC_U(6)
#define SC14441_VECTOR_FLG SC_U(7)
#define SC14441_VECTOR_BPT SC_U(8)
#define SC14441_VECTOR_TRC SC_U(9)
#define SC14441_VECTOR_UND SC_U(10)
#define SC14441_VECTOR_IAD SC_U(12)

/* ---- Chip identification (notes §5.6), byte reads ------------------------ */

#define SC14441_CHIP_TEST1 SC_U(0xFFFBF4)
#define SC14441_CHIP_ID1 SC_U(0xFFFBF8) /* '4' */
#define SC14441_CHIP_ID2 SC_U(0xFFFBF9) /* '4' */
#define SC14441_CHIP_ID3 SC_U(0xFFFBFA) /* '1' */
#define SC14441_CHIP_MEM_SIZE SC_U(0xFFFBFB)
#define SC14441_CHIP_REVISION SC_U(0xFFFBFC)
#define SC14441_CHIP_ID_LENGTH SC_U(5)

/* ---- SPI NOR flash behind the QSPI controller (notes §6) ----------------- */

#define SC14441_NOR_READ_SFDP SC_U(0x5A)
#define SC14441_NOR_READ_STATUS SC_U(0x05)
#define SC14441_NOR_WRITE_ENABLE SC_U(0x06)
#define SC14441_NOR_WRITE_DISABLE SC_U(0x04)
#define SC14441_NOR_SECTOR_ERASE SC_U(0x20) /* 4 KiB */
#define SC14441_NOR_BLOCK_ERASE SC_U(0xD8)  /* 64 KiB */
#define SC14441_NOR_CHIP_ERASE SC_U(0x60)   /* also 0xC7 */
#define SC14441_NOR_PAGE_PROGRAM SC_U(0x02) /* 256-byte page */
#define SC14441_NOR_READ SC_U(0x03)
#define SC14441_NOR_READ_ID SC_U(0x9F)
#define SC14441_NOR_STATUS_WIP SC_U(0x01)
#define SC14441_NOR_STATUS_WEL SC_U(0x02)
#define SC14441_NOR_SECTOR_SIZE SC_U(0x1000)
#define SC14441_NOR_PAGE_SIZE SC_U(0x100)

#endif /* CR16_ROMS_SC14441_H */
