// The virt board display controller (docs/virt.md section 10): a framebuffer
// in guest RAM at a programmable base, 320x240 or 640x480, RGB565 or
// XRGB8888, and a vertical-blank interrupt at 60 Hz of virtual time. The
// host side (ui/) reads the mode and the pixels through the C++ API below;
// it never touches guest memory directly.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "hw/address_space.h"
#include "hw/device_clock.h"
#include "hw/device_state.h"
#include "hw/irq.h"
#include "hw/register_device.h"

namespace cr16 {

/// Guest-visible display state. `frames` counts the vertical blanks since
/// `epoch_ns` (the time ENABLE went 0 -> 1); frame k starts at
/// epoch_ns + k * 10^9 / 60 ns, so a late deadline never drifts the rate.
struct DisplayState {
  int64_t epoch_ns = 0;
  uint64_t frames = 0;
  uint32_t ctrl = 0;    // ENABLE | VBLANK_IE
  uint32_t mode = 0;    // RES (bits 1:0) | FORMAT (bits 9:8)
  uint32_t base = 0;    // framebuffer address, 4-byte aligned, 24 bits
  uint32_t status = 0;  // VBLANK (sticky)
};
static_assert(std::has_unique_object_representations_v<DisplayState>);

/// Section "display", version 1.
const StateDescription& display_state_description();

/// Pixel formats of the framebuffer.
enum class PixelFormat : uint8_t { kRgb565 = 0, kXrgb8888 = 1 };

/// What the display scans out now.
struct DisplayMode {
  uint32_t width = 0;
  uint32_t height = 0;
  uint32_t stride = 0;  // bytes per line
  PixelFormat format = PixelFormat::kRgb565;
  uint32_t base = 0;  // guest address of row 0
  /// Bytes of the framebuffer (stride * height).
  uint32_t size() const { return stride * height; }
  bool operator==(const DisplayMode&) const = default;
};

class DisplayDevice : public RegisterDevice, public Stateful {
 public:
  /// The framebuffer is read from `memory` (which must outlive the device);
  /// `vblank_line` is the interrupt line (source 8).
  DisplayDevice(DeviceClock& clock, AddressSpace& memory, IrqLine vblank_line);
  ~DisplayDevice() override;

  /// Disables the display, mode 320x240 RGB565, base 0, status clear.
  void reset();

  // ---- Host API (machine thread). ----
  /// True while the guest has ENABLE set.
  bool enabled() const;
  /// The current mode (valid whether or not the display is enabled).
  DisplayMode mode() const;
  /// True when the whole framebuffer lies in RAM (else it scans out black
  /// and STATUS.FB_FAULT reads 1).
  bool framebuffer_valid() const;
  /// Copies the framebuffer's raw bytes (mode().size() of them) into `out`,
  /// resized. Zeros when the framebuffer is not in RAM. No side effects.
  void read_framebuffer(std::vector<uint8_t>* out) const;
  /// The visible picture as XRGB8888 pixels (width * height, row-major):
  /// black when disabled or when the framebuffer is not in RAM.
  void read_pixels(std::vector<uint32_t>* out) const;
  /// Rows [first, first + count) of that picture into `out` (count * width
  /// pixels; rows past the height are not written).
  void read_rows(uint32_t first, uint32_t count, uint32_t* out) const;
  /// Rows (0 .. height-1) that may have changed since the previous call:
  /// row r is true when a guest or loader write touched a page holding part
  /// of it. The first call, and the first after a mode, base or enable
  /// change, a reset or a state load, reports every row. Starts the
  /// address space's kDisplay dirty log on the first call (the device owns
  /// that client).
  std::vector<bool> changed_rows();
  /// Called on the machine thread at each vertical blank while enabled
  /// (after STATUS.VBLANK is set), and once when the picture turns black
  /// without a blank (the guest clears ENABLE, a reset, a state load
  /// leaving the display disabled); ui/ refreshes there. Empty clears it.
  void set_frame_handler(std::function<void()> handler);

  const DisplayState& state() const { return state_; }
  const StateDescription& state_description() const override;
  void* state_data() override { return &state_; }
  /// Re-arms the next vertical blank against the clock and drives the line.
  void state_loaded() override;

  /// Virtual time of frame `frame` counted from `epoch_ns`.
  static int64_t frame_time(int64_t epoch_ns, uint64_t frame);

 protected:
  uint32_t read_register(uint32_t reg, bool side_effects) override;
  void write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) override;

 private:
  void rearm();
  void vblank();
  void update_line();
  uint32_t status() const;

  DeviceClock& clock_;
  AddressSpace& memory_;
  IrqLine line_;
  DisplayState state_;
  DeviceClock::TimerHandle deadline_ = 0;
  std::function<void()> frame_handler_;
  bool full_refresh_ = true;  // host side: changed_rows() reports every row next
  DisplayMode tracked_mode_;  // the mode changed_rows() last reported for
  bool tracked_enabled_ = false;
};

}  // namespace cr16
