// The list of every device's state description.
#include "hw/device_state.h"

#include "hw/display.h"
#include "hw/flash.h"
#include "hw/icu.h"
#include "hw/keyboard.h"
#include "hw/rtc.h"
#include "hw/sc14441_dma.h"
#include "hw/sc14441_icu.h"
#include "hw/sc14441_qspi.h"
#include "hw/sc14441_sysregs.h"
#include "hw/sc14441_uart.h"
#include "hw/spi_nor_flash.h"
#include "hw/sysctl.h"
#include "hw/timer.h"
#include "hw/uart.h"
#include "hw/watchdog.h"

namespace cr16 {

std::span<const StateDescription* const> hw_state_descriptions() {
  static const StateDescription* const kDescriptions[] = {
      &icu_state_description(),
      &sysctl_state_description(),
      &uart_state_description(),
      &timer_state_description(),
      &rtc_state_description(),
      &watchdog_state_description(),
      &flash_state_description(),
      &display_state_description(),
      &keyboard_state_description(),
      &spi_nor_state_description(),
      &spi_nor_contents_state_description(),
      &sc14441_icu_state_description(),
      &sc14441_uart_state_description(),
      &sc14441_dma_state_description(),
      &sc14441_qspi_state_description(),
      &sc14441_sysregs_state_description(),
  };
  return kDescriptions;
}

}  // namespace cr16
