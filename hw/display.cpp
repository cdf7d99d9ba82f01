#include "hw/display.h"

#include <algorithm>

#include "hw/virt_map.h"
#include "util/log.h"

namespace cr16 {
namespace {

constexpr uint32_t kCtrlBits = virt::kDispCtrlEnable | virt::kDispCtrlVblankIe;
constexpr uint32_t kModeBits = virt::kDispModeResMask | virt::kDispModeFormatMask;
constexpr int64_t kNsPerSecond = 1'000'000'000;
constexpr int64_t kHz = virt::kDispRefreshHz;
/// Frames a loaded state may count: frame_time() of one more stays in int64.
constexpr uint64_t kMaxFrames = static_cast<uint64_t>(kMaxStateTimeNs / (kNsPerSecond / kHz));

uint32_t mode_resolution(uint32_t mode) {
  return mode & virt::kDispModeResMask;
}
uint32_t mode_format(uint32_t mode) {
  return (mode & virt::kDispModeFormatMask) >> virt::kDispModeFormatShift;
}
/// True when MODE names a resolution and a format the controller has.
bool mode_supported(uint32_t mode) {
  return (mode & ~kModeBits) == 0 && mode_resolution(mode) <= virt::kDispModeRes640x480 &&
         mode_format(mode) <= virt::kDispFormatXrgb8888;
}

constexpr StateField kDisplayFields[] = {
    CR16_STATE_FIELD(DisplayState, epoch_ns),
    CR16_STATE_FIELD(DisplayState, frames),
    CR16_STATE_FIELD(DisplayState, ctrl).mask(kCtrlBits),
    CR16_STATE_FIELD(DisplayState, mode).mask(kModeBits),
    CR16_STATE_FIELD(DisplayState, base).mask(virt::kDispBaseMask),
    CR16_STATE_FIELD(DisplayState, status).mask(virt::kDispStatusVblank),
};

// Every field beyond its mask: the mode must be one the controller has,
// times stay in [0, 2^62) including the next frame's deadline, and a
// stopped display counts no frames.
Error validate_display(void* object) {
  const auto* state = static_cast<const DisplayState*>(object);
  if (Error error = check_state_time("epoch_ns", state->epoch_ns); !error.ok()) return error;
  if (!mode_supported(state->mode)) {
    return Error("mode: unsupported resolution or format " + std::to_string(state->mode));
  }
  if (state->base & ~virt::kDispBaseMask) return Error("base: not a 4-byte-aligned 24-bit address");
  if (state->frames >= kMaxFrames ||
      DisplayDevice::frame_time(state->epoch_ns, state->frames + 1) >= kMaxStateTimeNs) {
    return Error("frames: " + std::to_string(state->frames) + " frames run past 2^62 ns");
  }
  if (!(state->ctrl & virt::kDispCtrlEnable) && state->frames != 0) {
    return Error("frames: a disabled display counts no frames");
  }
  return Error();
}

const StateDescription kDisplayDescription = {
    "display", 1, 1, sizeof(DisplayState), kDisplayFields, {}, validate_display};

/// Frames whose start is at or before `now` (counted from `epoch_ns`).
uint64_t frames_at(int64_t epoch_ns, int64_t now) {
  if (now <= epoch_ns) return 0;
  const int64_t elapsed = now - epoch_ns;
  uint64_t frames = static_cast<uint64_t>(elapsed / kNsPerSecond * kHz +
                                          elapsed % kNsPerSecond * kHz / kNsPerSecond);
  while (DisplayDevice::frame_time(epoch_ns, frames + 1) <= now) ++frames;  // rounding
  return frames;
}

/// An RGB565 pixel as XRGB8888 (each channel's top bits repeated below).
uint32_t rgb565_to_xrgb(uint16_t pixel) {
  const uint32_t r = (pixel >> 11) & 0x1F, g = (pixel >> 5) & 0x3F, b = pixel & 0x1F;
  return ((r << 3 | r >> 2) << 16) | ((g << 2 | g >> 4) << 8) | (b << 3 | b >> 2);
}

}  // namespace

int64_t DisplayDevice::frame_time(int64_t epoch_ns, uint64_t frame) {
  const auto whole = static_cast<int64_t>(frame / kHz);
  const auto part = static_cast<int64_t>(frame % kHz);
  return epoch_ns + whole * kNsPerSecond + part * kNsPerSecond / kHz;
}

DisplayDevice::DisplayDevice(DeviceClock& clock, AddressSpace& memory, IrqLine vblank_line)
    : RegisterDevice("display"), clock_(clock), memory_(memory), line_(vblank_line) {
  reset();
}

DisplayDevice::~DisplayDevice() {
  clock_.cancel(deadline_);
}

void DisplayDevice::reset() {
  clock_.cancel(deadline_);
  deadline_ = 0;
  state_ = DisplayState{};
  full_refresh_ = true;
  update_line();
  if (frame_handler_) frame_handler_();  // the host shows the black screen now
}

bool DisplayDevice::enabled() const {
  return state_.ctrl & virt::kDispCtrlEnable;
}

DisplayMode DisplayDevice::mode() const {
  DisplayMode mode;
  const bool large = mode_resolution(state_.mode) == virt::kDispModeRes640x480;
  mode.width = large ? 640 : 320;
  mode.height = large ? 480 : 240;
  mode.format = mode_format(state_.mode) == virt::kDispFormatXrgb8888 ? PixelFormat::kXrgb8888
                                                                      : PixelFormat::kRgb565;
  mode.stride = mode.width * (mode.format == PixelFormat::kXrgb8888 ? 4 : 2);
  mode.base = state_.base;
  return mode;
}

bool DisplayDevice::framebuffer_valid() const {
  const DisplayMode current = mode();
  if (uint64_t{current.base} + current.size() > kAddressSpaceSize) return false;
  return memory_.is_ram(current.base, current.size());
}

void DisplayDevice::read_framebuffer(std::vector<uint8_t>* out) const {
  const DisplayMode current = mode();
  out->assign(current.size(), 0);
  if (!framebuffer_valid()) return;
  if (!memory_.read_bytes(current.base, *out).ok()) out->assign(current.size(), 0);
}

void DisplayDevice::read_pixels(std::vector<uint32_t>* out) const {
  const DisplayMode current = mode();
  out->assign(size_t{current.width} * current.height, 0);
  read_rows(0, current.height, out->data());
}

void DisplayDevice::read_rows(uint32_t first, uint32_t count, uint32_t* out) const {
  const DisplayMode current = mode();
  if (first >= current.height) return;
  if (count > current.height - first) count = current.height - first;
  std::fill_n(out, size_t{count} * current.width, 0u);
  if (!enabled() || !framebuffer_valid() || count == 0) return;
  std::vector<uint8_t> bytes(size_t{count} * current.stride);
  if (!memory_.read_bytes(current.base + first * current.stride, bytes).ok()) return;
  for (uint32_t y = 0; y < count; ++y) {
    const uint8_t* row = bytes.data() + size_t{y} * current.stride;
    uint32_t* pixels = out + size_t{y} * current.width;
    for (uint32_t x = 0; x < current.width; ++x) {
      if (current.format == PixelFormat::kRgb565) {
        pixels[x] = rgb565_to_xrgb(static_cast<uint16_t>(row[2 * x] | row[2 * x + 1] << 8));
      } else {
        const uint8_t* p = row + 4 * x;  // little-endian: B, G, R, X
        pixels[x] = uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16;
      }
    }
  }
}

std::vector<bool> DisplayDevice::changed_rows() {
  const DisplayMode current = mode();
  std::vector<bool> rows(current.height, false);
  const bool first = !memory_.dirty_log_active(DirtyLogClient::kDisplay);
  if (first) memory_.start_dirty_log(DirtyLogClient::kDisplay);
  const std::vector<uint64_t> pages = memory_.sync_dirty_log(DirtyLogClient::kDisplay);
  if (first || full_refresh_ || !(current == tracked_mode_) || enabled() != tracked_enabled_) {
    full_refresh_ = false;
    tracked_mode_ = current;
    tracked_enabled_ = enabled();
    rows.assign(current.height, true);
    return rows;
  }
  for (uint32_t y = 0; y < current.height; ++y) {
    const uint64_t start = uint64_t{current.base} + uint64_t{y} * current.stride;
    const uint64_t end = start + current.stride;  // exclusive
    for (uint64_t page = start / kPageSize; page <= (end - 1) / kPageSize; ++page) {
      if (page >= kPageCount) break;
      if (pages[page / 64] >> (page % 64) & 1) {
        rows[y] = true;
        break;
      }
    }
  }
  return rows;
}

void DisplayDevice::set_frame_handler(std::function<void()> handler) {
  frame_handler_ = std::move(handler);
}

uint32_t DisplayDevice::status() const {
  uint32_t value = state_.status;
  if (!framebuffer_valid()) value |= virt::kDispStatusFbFault;
  return value;
}

void DisplayDevice::update_line() {
  line_.set((state_.status & virt::kDispStatusVblank) && (state_.ctrl & virt::kDispCtrlVblankIe));
}

void DisplayDevice::rearm() {
  clock_.cancel(deadline_);
  deadline_ = 0;
  if (!enabled()) return;
  deadline_ = clock_.arm(frame_time(state_.epoch_ns, state_.frames + 1), [this] { vblank(); });
}

void DisplayDevice::vblank() {
  deadline_ = 0;
  const uint64_t frames = frames_at(state_.epoch_ns, clock_.now_ns());
  if (frames > state_.frames) {
    state_.frames = frames < kMaxFrames ? frames : kMaxFrames - 1;
    state_.status |= virt::kDispStatusVblank;
    update_line();
    if (frame_handler_) frame_handler_();
  }
  // After 2^62 ns (146 years) of one enabled stretch the count stops
  // rather than re-arming a deadline that is already past.
  if (state_.frames + 1 < kMaxFrames) rearm();
}

uint32_t DisplayDevice::read_register(uint32_t reg, bool side_effects) {
  const DisplayMode current = mode();
  switch (reg) {
    case virt::kDispCtrl:
      return state_.ctrl;
    case virt::kDispMode:
      return state_.mode;
    case virt::kDispBase:
      return state_.base;
    case virt::kDispStatus:
      return status();
    case virt::kDispWidth:
      return current.width;
    case virt::kDispHeight:
      return current.height;
    case virt::kDispStride:
      return current.stride;
    case virt::kDispFbSize:
      return current.size();
    case virt::kDispFrame:
      return static_cast<uint32_t>(state_.frames);
    default:
      log_bad_register("read", reg);
      return 0;
  }
}

void DisplayDevice::write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) {
  switch (reg) {
    case virt::kDispCtrl: {
      const bool was_enabled = enabled();
      state_.ctrl = merge(state_.ctrl, value, byte_mask) & kCtrlBits;
      if (!was_enabled && enabled()) {
        state_.epoch_ns = clock_.now_ns();
        state_.frames = 0;
        rearm();
      } else if (was_enabled && !enabled()) {
        state_.frames = 0;
        rearm();                               // cancels
        if (frame_handler_) frame_handler_();  // no more blanks: the host shows black now
      }
      update_line();
      return;
    }
    case virt::kDispMode: {
      const uint32_t mode = merge(state_.mode, value, byte_mask);
      if (!mode_supported(mode)) {
        log_printf(LogCategory::kGuestErrors,
                   "display: unsupported mode 0x%08x ignored (RES 0-1, FORMAT 0-1)", mode);
        return;
      }
      state_.mode = mode;
      return;
    }
    case virt::kDispBase:
      state_.base = merge(state_.base, value, byte_mask) & virt::kDispBaseMask;
      return;
    case virt::kDispStatus:
      state_.status &= ~(value & virt::kDispStatusVblank);
      update_line();
      return;
    case virt::kDispWidth:
    case virt::kDispHeight:
    case virt::kDispStride:
    case virt::kDispFbSize:
    case virt::kDispFrame:
      return;  // read-only
    default:
      log_bad_register("write", reg);
      return;
  }
}

const StateDescription& display_state_description() {
  return kDisplayDescription;
}

const StateDescription& DisplayDevice::state_description() const {
  return kDisplayDescription;
}

void DisplayDevice::state_loaded() {
  full_refresh_ = true;
  rearm();
  update_line();
  // A disabled display has no blanks to refresh at: show the black screen
  // now (it depends on no other section). An enabled one refreshes at its
  // next blank, once every section is in.
  if (!enabled() && frame_handler_) frame_handler_();
}

}  // namespace cr16
