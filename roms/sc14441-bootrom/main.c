/*
 * The sc14441 boot ROM: UART boot as in docs/boards/sc14441.md ("The boot ROM").
 *
 *   ROM -> host  02 (STX) every ~200 ms until SOH arrives (other bytes ignored)
 *   host -> ROM  01 LL HH   image length, little-endian
 *   ROM -> host  06 (1 <= length <= 0x3F80) or 15 (refused: back to STX)
 *   host -> ROM  the image, received straight into 0x010080
 *   ROM -> host  XOR of all image bytes
 *   host -> ROM  06: start the image (anything else, or ~2 s of silence: STX)
 *
 * Any silence of ~2 s once SOH has arrived sends the ROM back to STX.
 * Timeouts are poll-loop counts: the board runs the CPU paced at about
 * 3.9 M instructions per second (one per 256 ns), and the loop costs are
 * taken from the disassembly (see the constants below).
 */
#include <stdint.h>

#include "sc14441.h"

#define REG16(address) (*(volatile uint16_t*)(address))

/*
 * uart_poll_byte() spends 7 instructions per empty poll (loadw, andw, beq,
 * addd, cmpd, bne + the loop branch, see the disassembly in README.md),
 * so one poll is about 7 x 256 ns = 1.8 us.
 */
#define POLLS_PER_MS 560UL
#define STX_PERIOD_POLLS (200UL * POLLS_PER_MS) /* ~200 ms between STX */
#define SILENCE_POLLS (2000UL * POLLS_PER_MS)   /* ~2 s without a byte */
#define TX_READY_POLLS 0x10000UL                /* TI should be set at once */

void rom_start_payload(void) __attribute__((noreturn));
void rom_main(void) __attribute__((noreturn));

static void uart_send(uint8_t byte) {
  REG16(SC14441_UART_RX_TX) = byte;
  for (uint32_t polls = TX_READY_POLLS; polls != 0; polls--) {
    if (REG16(SC14441_UART_CTRL) & SC14441_UART_CTRL_TI) break;
  }
  REG16(SC14441_UART_CLEAR_TX_INT) = 1;
}

/* The next received byte (0-255), or -1 when none arrived within `polls`. */
static int16_t uart_poll_byte(uint32_t polls) {
  do {
    if (REG16(SC14441_UART_CTRL) & SC14441_UART_CTRL_RI)
      return (int16_t)(REG16(SC14441_UART_RX_TX) & 0xFF);
  } while (--polls != 0);
  return -1;
}

/* Waits one STX period for SOH, dropping every other byte. 1 when SOH came. */
static int wait_for_soh(void) {
  uint32_t polls = STX_PERIOD_POLLS;
  do {
    if (REG16(SC14441_UART_CTRL) & SC14441_UART_CTRL_RI) {
      if ((REG16(SC14441_UART_RX_TX) & 0xFF) == SC14441_BOOT_SOH) return 1;
    }
  } while (--polls != 0);
  return 0;
}

/*
 * One boot attempt after SOH: length, image, XOR, final ACK. Returns only
 * when the attempt failed (the caller goes back to sending STX).
 */
static void receive_image(void) {
  int16_t low = uart_poll_byte(SILENCE_POLLS);
  if (low < 0) return;
  int16_t high = uart_poll_byte(SILENCE_POLLS);
  if (high < 0) return;
  uint16_t length = (uint16_t)low | ((uint16_t)high << 8);
  if (length == 0 || length > SC14441_PAYLOAD_MAX) {
    uart_send(SC14441_BOOT_NACK);
    return;
  }
  uart_send(SC14441_BOOT_ACK);

  uint8_t* destination = (uint8_t*)SC14441_PAYLOAD_BASE;
  uint8_t checksum = 0;
  for (uint16_t i = 0; i < length; i++) {
    int16_t byte = uart_poll_byte(SILENCE_POLLS);
    if (byte < 0) return; /* the host went silent mid-upload */
    destination[i] = (uint8_t)byte;
    checksum ^= (uint8_t)byte;
  }
  uart_send(checksum);

  if (uart_poll_byte(SILENCE_POLLS) != SC14441_BOOT_ACK) return;

  /* Hand over: watchdog running again with a full period, no interrupt
     source left enabled or pending, then PSR = 0 and jump. */
  REG16(SC14441_RESET_FREEZE) = SC14441_FREEZE_WDOG;
  REG16(SC14441_WATCHDOG) = SC14441_WATCHDOG_RELOAD;
  REG16(SC14441_INT0_PRIORITY) = 0;
  REG16(SC14441_INT1_PRIORITY) = 0;
  REG16(SC14441_INT2_PRIORITY) = 0;
  REG16(SC14441_INT3_PRIORITY) = 0;
  REG16(SC14441_RESET_INT_PENDING) = 0xFFFF;
  rom_start_payload();
}

void rom_main(void) {
  REG16(SC14441_SET_FREEZE) = SC14441_FREEZE_WDOG;
  REG16(SC14441_UART_CTRL) = SC14441_UART_CTRL_REN | SC14441_UART_CTRL_TEN; /* 9600 8N1 */
  for (;;) {
    uart_send(SC14441_BOOT_STX);
    if (wait_for_soh()) receive_image();
  }
}
