#include "ui/display_hub.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "hw/display.h"
#include "hw/keyboard.h"
#include "hw/virt_map.h"
#include "io/loop.h"

namespace cr16::ui {

bool ScreenUpdate::any() const {
  return resized || std::find(rows.begin(), rows.end(), true) != rows.end();
}

std::vector<ScreenUpdate::Run> row_runs(const std::vector<bool>& rows) {
  std::vector<ScreenUpdate::Run> result;
  const uint32_t height = static_cast<uint32_t>(rows.size());
  for (uint32_t y = 0; y < height;) {
    if (!rows[y]) {
      ++y;
      continue;
    }
    const uint32_t first = y;
    while (y < height && rows[y]) ++y;
    result.push_back({first, y - first});
  }
  return result;
}

std::vector<ScreenUpdate::Run> ScreenUpdate::runs() const {
  return row_runs(rows);
}

DisplayHub::DisplayHub(DisplayDevice& display, KeyboardDevice& keyboard)
    : display_(display), keyboard_(keyboard) {}

DisplayHub::~DisplayHub() {
  if (!listeners_.empty()) display_.set_frame_handler({});
  if (loop_ != nullptr) {
    for (uint64_t timer : release_timers_) loop_->cancel_timer(timer);
  }
}

void DisplayHub::add_listener(DisplayListener* listener) {
  if (std::find(listeners_.begin(), listeners_.end(), listener) != listeners_.end()) return;
  listeners_.push_back(listener);
  if (listeners_.size() == 1) listen(true);
}

void DisplayHub::remove_listener(DisplayListener* listener) {
  auto it = std::find(listeners_.begin(), listeners_.end(), listener);
  if (it == listeners_.end()) return;
  listeners_.erase(it);
  if (listeners_.empty()) listen(false);
}

void DisplayHub::listen(bool on) {
  if (on) {
    display_.set_frame_handler([this] { refresh(); });
    refresh();
  } else {
    display_.set_frame_handler({});
  }
}

void DisplayHub::refresh() {
  if (listeners_.empty()) return;  // nobody looks: leave the dirty log alone
  const DisplayMode mode = display_.mode();
  const std::vector<bool> marked = display_.changed_rows();
  ScreenUpdate update;
  update.resized = screen_.width != mode.width || screen_.height != mode.height;
  if (update.resized) {
    screen_.width = mode.width;
    screen_.height = mode.height;
    screen_.pixels.assign(size_t{mode.width} * mode.height, 0);
  }
  screen_.enabled = display_.enabled();
  update.rows.assign(mode.height, update.resized);
  // Read each run of marked rows in one go, then keep only the rows whose
  // pixels really differ (a page holds parts of several rows).
  std::vector<uint32_t> fresh;
  for (const ScreenUpdate::Run& run : row_runs(marked)) {
    fresh.resize(size_t{run.count} * mode.width);
    display_.read_rows(run.first, run.count, fresh.data());
    for (uint32_t row = run.first; row < run.first + run.count; ++row) {
      const uint32_t* source = fresh.data() + size_t{row - run.first} * mode.width;
      uint32_t* target = screen_.pixels.data() + size_t{row} * mode.width;
      if (std::memcmp(source, target, mode.width * sizeof(uint32_t)) != 0) {
        std::memcpy(target, source, mode.width * sizeof(uint32_t));
        update.rows[row] = true;
      }
    }
  }
  if (!update.any()) return;
  // A listener may remove itself (a viewer that went away) while told.
  const std::vector<DisplayListener*> listeners = listeners_;
  for (DisplayListener* listener : listeners) {
    if (std::find(listeners_.begin(), listeners_.end(), listener) != listeners_.end()) {
      listener->screen_updated(screen_, update);
    }
  }
}

Screen DisplayHub::capture() const {
  const DisplayMode mode = display_.mode();
  Screen screen;
  screen.width = mode.width;
  screen.height = mode.height;
  screen.enabled = display_.enabled();
  display_.read_pixels(&screen.pixels);
  return screen;
}

bool DisplayHub::send_key(Scancode code, bool down) {
  const std::vector<uint8_t> bytes = scancode_bytes(code, down);
  return keyboard_.push_scancodes(bytes);
}

}  // namespace cr16::ui

namespace cr16::ui {

Error DisplayHub::send_keys(std::span<const Scancode> keys, uint32_t hold_ms) {
  if (keys.empty()) return Error("no keys to send");
  size_t bytes = 0;
  for (Scancode key : keys) bytes += 2 * scancode_bytes(key, true).size();
  if (!has_room_for(bytes)) {
    const size_t room = virt::kKbdFifoSize - keyboard_.level();
    return Error("the keyboard buffer has room for " + std::to_string(room) +
                 " bytes; these keys need " + std::to_string(bytes) +
                 " (is the guest reading the keyboard?)");
  }
  for (Scancode key : keys) send_key(key, true);
  std::vector<Scancode> releases(keys.rbegin(), keys.rend());
  auto release = [this, releases] {
    for (Scancode key : releases) send_key(key, false);
  };
  if (loop_ == nullptr || hold_ms == 0) {
    release();
    return {};
  }
  auto timer = std::make_shared<uint64_t>(0);
  *timer = loop_->add_timer(io::ClockType::kRealtime, loop_->now() + int64_t{hold_ms} * 1'000'000,
                            [this, release, timer] {
                              std::erase(release_timers_, *timer);
                              release();
                            });
  release_timers_.push_back(*timer);
  return {};
}

}  // namespace cr16::ui

namespace cr16::ui {

bool DisplayHub::has_room_for(size_t bytes) const {
  return bytes <= virt::kKbdFifoSize - keyboard_.level();
}

}  // namespace cr16::ui
