// The SDL2 window (-display sdl): shows the hub's screen with integer
// scaling, letterboxed when the window is resized; uploads only the rows the
// hub reports changed and presents only then (or when the window system asks
// for a repaint). Keys go to the guest through the hub; Ctrl-Alt-G toggles
// the keyboard and mouse grab; closing the window asks the owner to power
// the guest down. The window's events are read when the X11 connection
// becomes readable on the io loop (other video drivers: a 20 Hz poll), so an
// idle window costs no host CPU. Machine (loop) thread only.
#pragma once

#include <bitset>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "io/loop.h"
#include "ui/display_hub.h"
#include "util/error.h"

struct SDL_Window;
struct SDL_Renderer;
struct SDL_Texture;
union SDL_Event;

namespace cr16::ui {

class SdlDisplay final : public Frontend, public DisplayListener {
 public:
  /// Initialises SDL's video subsystem, opens the window showing hub's
  /// screen and starts listening to the hub. `close_requested` runs when the
  /// user closes the window (each time). Fails with SDL's reason (no display
  /// to connect to, no renderer...). The loop and hub must outlive the
  /// window. Only one SdlDisplay may exist at a time.
  static Expected<std::unique_ptr<SdlDisplay>> create(io::Loop& loop, DisplayHub& hub,
                                                      std::function<void()> close_requested);
  ~SdlDisplay() override;
  SdlDisplay(const SdlDisplay&) = delete;
  SdlDisplay& operator=(const SdlDisplay&) = delete;

  /// Stops listening to the hub and hides the window (the machine is
  /// quitting: its devices may go before this object does). Idempotent.
  void detach();

  void machine_state_changed(std::string_view name, std::string_view state) override;
  void screen_updated(const Screen& screen, const ScreenUpdate& update) override;

 private:
  SdlDisplay(io::Loop& loop, DisplayHub& hub, std::function<void()> close_requested);
  Error open();
  void watch_events();
  void arm_poll_timer();
  /// Reads and handles every queued SDL event.
  void pump_events();
  void handle_event(const SDL_Event& event);
  void handle_key(const SDL_Event& event);
  void release_all_keys();
  void set_grab(bool on);
  void update_title();
  /// Recreates the texture for a new guest size and resizes the window:
  /// to the mode's default scale (2x for 320x240, 1x for 640x480, less if
  /// the desktop is smaller) while the window has the size we gave it, to
  /// the integer scale the user chose once they resized it.
  bool resize_to(uint32_t width, uint32_t height);
  void upload_rows(const Screen& screen, uint32_t first, uint32_t count);
  void present();

  io::Loop& loop_;
  DisplayHub& hub_;
  std::function<void()> close_requested_;
  bool sdl_started_ = false;
  bool attached_ = false;
  SDL_Window* window_ = nullptr;
  SDL_Renderer* renderer_ = nullptr;
  SDL_Texture* texture_ = nullptr;
  uint32_t texture_width_ = 0;
  uint32_t texture_height_ = 0;
  int sized_width_ = 0;  // the window size resize_to() last asked for
  int sized_height_ = 0;
  io::Loop::WatchId event_watch_ = 0;
  io::Loop::TimerId poll_timer_ = 0;
  int64_t poll_interval_ns_ = 0;

  std::string vm_name_;
  std::string run_state_ = "running";
  bool grabbed_ = false;
  bool hotkey_g_down_ = false;  // the G of Ctrl-Alt-G: its release is not the guest's
  std::bitset<512> keys_down_;  // SDL scancodes the guest was told are pressed
};

}  // namespace cr16::ui
