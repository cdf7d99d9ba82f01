// The host's view of the guest screen and the way back for keys. The hub
// keeps an XRGB8888 copy of what the display controller scans out, updated
// at the guest's vertical blank from the rows the dirty log marks (only
// those rows are read and converted), and tells its listeners (the SDL
// window, the VNC server) which rows really differ. With no listener it
// does nothing at all; an idle screen costs one dirty-log look per frame.
// Keys from any front end (SDL, VNC, QMP send-key) reach the keyboard
// controller through it as PC set 1 scancodes. Machine thread only.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "ui/keymap.h"
#include "util/error.h"

namespace cr16 {
class DisplayDevice;
class KeyboardDevice;
namespace io {
class Loop;
}
}  // namespace cr16

namespace cr16::ui {

/// The screen as the host shows it: XRGB8888, row-major, width * height
/// pixels. Black (all zero) while the guest has the display disabled or its
/// framebuffer outside RAM. A 0x0 screen before the first frame.
struct Screen {
  uint32_t width = 0;
  uint32_t height = 0;
  std::vector<uint32_t> pixels;
  bool enabled = false;  // the guest's ENABLE bit at the last refresh

  const uint32_t* row(uint32_t y) const { return pixels.data() + size_t{y} * width; }
};

/// What one refresh changed.
struct ScreenUpdate {
  /// The size differs from the previous refresh (or this is the first):
  /// every row is in `rows` too.
  bool resized = false;
  /// rows[y]: row y's pixels differ from the previous refresh (height entries).
  std::vector<bool> rows;

  bool any() const;
  /// The changed rows as [first, first + count) runs, in order.
  struct Run {
    uint32_t first;
    uint32_t count;
  };
  std::vector<Run> runs() const;
};

/// The runs of true entries in ROWS, as [first, first + count), in order.
std::vector<ScreenUpdate::Run> row_runs(const std::vector<bool>& rows);

/// Told about every refresh that changed something.
class DisplayListener {
 public:
  virtual ~DisplayListener() = default;
  virtual void screen_updated(const Screen& screen, const ScreenUpdate& update) = 0;
};

/// A user interface the machine owns (the SDL window, the VNC server):
/// it is told the VM's name and run state (a window title shows them).
class Frontend {
 public:
  virtual ~Frontend() = default;
  /// NAME is -name's (may be empty); STATE is QMP's run-state name
  /// ("running", "paused", "shutdown"...).
  virtual void machine_state_changed(std::string_view name, std::string_view state) {
    (void)name;
    (void)state;
  }
};

class DisplayHub {
 public:
  /// Both devices must outlive the hub.
  DisplayHub(DisplayDevice& display, KeyboardDevice& keyboard);
  ~DisplayHub();
  DisplayHub(const DisplayHub&) = delete;
  DisplayHub& operator=(const DisplayHub&) = delete;

  /// Adds a listener; the first one starts refreshing at the guest's
  /// vertical blank (and refreshes at once). A listener that joins later
  /// reads screen() for the whole picture. Removing the last one stops it.
  void add_listener(DisplayListener* listener);
  void remove_listener(DisplayListener* listener);

  /// The latest picture (only kept current while a listener is attached;
  /// refresh() brings it up to date on demand).
  const Screen& screen() const { return screen_; }

  /// Reads the rows the dirty log marks (every row after a mode, base or
  /// enable change), updates screen() and tells the listeners what really
  /// changed. Called at each vertical blank while listening, and by the
  /// machine when the VM stops (the last frame's writes would otherwise
  /// wait for a blank that does not come). Does nothing without listeners.
  void refresh();

  /// The whole current picture, read afresh from guest memory
  /// (screendump); does not disturb the listeners' dirty tracking.
  Screen capture() const;

  /// Queues a key press or release for the guest. False when the keyboard
  /// FIFO has no room for its bytes (the event is dropped whole, so a
  /// release is never separated from its 0xE0 prefix).
  bool send_key(Scancode code, bool down);

  /// QMP send-key: presses KEYS in order now and releases them in reverse
  /// order HOLD_MS later (on the loop given to set_loop(); at once without
  /// one). Refused as a whole, nothing queued, when the keyboard FIFO has
  /// no room for every byte of the presses and releases.
  Error send_keys(std::span<const Scancode> keys, uint32_t hold_ms);
  /// True when the keyboard FIFO can take BYTES more bytes now.
  bool has_room_for(size_t bytes) const;
  /// The loop send_keys() times its releases on (machine's main loop).
  void set_loop(io::Loop* loop) { loop_ = loop; }

 private:
  void listen(bool on);

  DisplayDevice& display_;
  KeyboardDevice& keyboard_;
  std::vector<DisplayListener*> listeners_;
  Screen screen_;
  io::Loop* loop_ = nullptr;
  std::vector<uint64_t> release_timers_;  // send_keys() releases still pending
};

}  // namespace cr16::ui
