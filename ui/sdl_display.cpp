#include "ui/sdl_display.h"

#include <SDL.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <utility>

#include "ui/keymap.h"

namespace cr16::ui {

namespace {

/// The X11 connection's fd when the window lives on X11, else -1 (defined at
/// the end of the file: the X11 headers' macros stay out of the rest).
int x11_connection_fd(SDL_Window* window);

bool g_instance_exists = false;

constexpr int64_t kX11SafetyPollNs = 250'000'000;  // 4 Hz, in case Xlib queued events unseen
constexpr int64_t kPollNs = 50'000'000;            // 20 Hz for drivers without an fd

std::string sdl_error() {
  const char* text = SDL_GetError();
  return text != nullptr && *text != '\0' ? text : "unknown SDL error";
}

}  // namespace

SdlDisplay::SdlDisplay(io::Loop& loop, DisplayHub& hub, std::function<void()> close_requested)
    : loop_(loop), hub_(hub), close_requested_(std::move(close_requested)) {}

Expected<std::unique_ptr<SdlDisplay>> SdlDisplay::create(io::Loop& loop, DisplayHub& hub,
                                                         std::function<void()> close_requested) {
  if (g_instance_exists) return Error("only one SDL window at a time");
  std::unique_ptr<SdlDisplay> display(new SdlDisplay(loop, hub, std::move(close_requested)));
  if (Error error = display->open(); !error.ok()) return error;
  return display;
}

Error SdlDisplay::open() {
  const char* driver = std::getenv("SDL_VIDEODRIVER");
  const char* x_display = std::getenv("DISPLAY");
  const char* wayland = std::getenv("WAYLAND_DISPLAY");
  const bool have_driver = driver != nullptr && *driver != '\0';
  if (!have_driver && (x_display == nullptr || *x_display == '\0') &&
      (wayland == nullptr || *wayland == '\0')) {
    return Error(
        "no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set; "
        "SDL_VIDEODRIVER names another driver)");
  }
  // The machine handles SIGINT/SIGTERM itself; the loop, not SDL, decides
  // what closing the window means; the guest wants no host text input.
  SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
  SDL_SetHint(SDL_HINT_QUIT_ON_LAST_WINDOW_CLOSE, "0");
  SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "1");
  SDL_SetHint(SDL_HINT_GRAB_KEYBOARD, "1");
  SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "nearest");
  SDL_SetHint(SDL_HINT_RENDER_VSYNC, "0");  // a present must never wait for the monitor
  // Without SDL_VIDEODRIVER, only the window systems the environment names:
  // SDL would otherwise end with its offscreen driver, a window nobody sees.
  if (!have_driver) {
    std::string drivers;
    if (x_display != nullptr && *x_display != '\0') drivers = "x11";
    if (wayland != nullptr && *wayland != '\0') drivers += drivers.empty() ? "wayland" : ",wayland";
    SDL_SetHint(SDL_HINT_VIDEODRIVER, drivers.c_str());
  }
  if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
    std::string why = "SDL_Init failed: " + sdl_error();
    if (x_display != nullptr && *x_display != '\0')
      why += " (DISPLAY=" + std::string(x_display) + ")";
    return Error(why);
  }
  sdl_started_ = true;
  g_instance_exists = true;
  window_ = SDL_CreateWindow("cr16-system", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, 640,
                             480, SDL_WINDOW_HIDDEN | SDL_WINDOW_RESIZABLE);
  if (window_ == nullptr) return Error("cannot create the window: " + sdl_error());
  renderer_ = SDL_CreateRenderer(window_, -1, 0);
  if (renderer_ == nullptr) renderer_ = SDL_CreateRenderer(window_, -1, SDL_RENDERER_SOFTWARE);
  if (renderer_ == nullptr) return Error("cannot create a renderer: " + sdl_error());
  SDL_StopTextInput();
  update_title();
  attached_ = true;
  hub_.add_listener(this);  // tells screen_updated() at once unless the hub already had a listener
  if (texture_ == nullptr) {
    const Screen& screen = hub_.screen();
    if (resize_to(screen.width, screen.height)) upload_rows(screen, 0, screen.height);
  }
  SDL_ShowWindow(window_);
  present();
  watch_events();
  pump_events();
  return {};
}

SdlDisplay::~SdlDisplay() {
  detach();
  if (event_watch_ != 0) loop_.remove_watch(event_watch_);
  if (poll_timer_ != 0) loop_.cancel_timer(poll_timer_);
  if (texture_ != nullptr) SDL_DestroyTexture(texture_);
  if (renderer_ != nullptr) SDL_DestroyRenderer(renderer_);
  if (window_ != nullptr) SDL_DestroyWindow(window_);
  if (sdl_started_) {
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    SDL_Quit();
    g_instance_exists = false;
  }
}

void SdlDisplay::detach() {
  if (!attached_) return;
  attached_ = false;
  hub_.remove_listener(this);
  if (grabbed_) set_grab(false);
  if (window_ != nullptr) SDL_HideWindow(window_);
  pump_events();
}

void SdlDisplay::watch_events() {
  const int fd = x11_connection_fd(window_);
  if (fd >= 0) {
    event_watch_ = loop_.add_watch(fd, io::kIn, [this](int, uint32_t) {
      pump_events();
      return true;
    });
    poll_interval_ns_ = kX11SafetyPollNs;
  } else {
    poll_interval_ns_ = kPollNs;
  }
  arm_poll_timer();
}

void SdlDisplay::arm_poll_timer() {
  poll_timer_ = loop_.add_timer(io::ClockType::kRealtime, loop_.now() + poll_interval_ns_, [this] {
    poll_timer_ = 0;
    pump_events();
    arm_poll_timer();
  });
}

void SdlDisplay::pump_events() {
  SDL_Event event;
  while (SDL_PollEvent(&event) != 0) handle_event(event);
}

void SdlDisplay::handle_event(const SDL_Event& event) {
  switch (event.type) {
    case SDL_KEYDOWN:
    case SDL_KEYUP:
      handle_key(event);
      break;
    case SDL_WINDOWEVENT:
      switch (event.window.event) {
        case SDL_WINDOWEVENT_CLOSE:
          if (close_requested_) close_requested_();
          break;
        case SDL_WINDOWEVENT_EXPOSED:
        case SDL_WINDOWEVENT_SIZE_CHANGED:
        case SDL_WINDOWEVENT_RESTORED:
          present();
          break;
        case SDL_WINDOWEVENT_FOCUS_LOST:
          release_all_keys();  // no modifier stays stuck after Alt-Tab
          break;
        default:
          break;
      }
      break;
    case SDL_RENDER_TARGETS_RESET:
    case SDL_RENDER_DEVICE_RESET:
      // The renderer lost its textures' contents: upload the whole screen.
      if (texture_ != nullptr && attached_) {
        const Screen& screen = hub_.screen();
        if (screen.width == texture_width_ && screen.height == texture_height_) {
          upload_rows(screen, 0, screen.height);
        }
      }
      present();
      break;
    default:
      break;
  }
}

void SdlDisplay::handle_key(const SDL_Event& event) {
  const bool down = event.type == SDL_KEYDOWN;
  const SDL_Scancode key = event.key.keysym.scancode;
  if (key == SDL_SCANCODE_G) {
    if (down && event.key.repeat == 0 && (event.key.keysym.mod & KMOD_CTRL) != 0 &&
        (event.key.keysym.mod & KMOD_ALT) != 0) {
      hotkey_g_down_ = true;
      set_grab(!grabbed_);
      return;
    }
    if (hotkey_g_down_) {  // its repeats and its release stay ours
      if (!down) hotkey_g_down_ = false;
      return;
    }
  }
  if (!attached_ || key < 0 || static_cast<size_t>(key) >= keys_down_.size()) return;
  const std::optional<Scancode> code = scancode_from_usb_hid(static_cast<uint32_t>(key));
  if (!code) return;
  // A held key's repeats go to the guest as more make codes, the way a PC
  // keyboard's typematic repeat does.
  if (!down && !keys_down_.test(key)) return;  // pressed before the window had focus
  keys_down_.set(key, down);
  (void)hub_.send_key(*code, down);  // a full FIFO drops the event (the guest sees OVERFLOW)
}

void SdlDisplay::release_all_keys() {
  for (size_t key = 0; key < keys_down_.size(); ++key) {
    if (!keys_down_.test(key)) continue;
    keys_down_.reset(key);
    if (!attached_) continue;
    if (std::optional<Scancode> code = scancode_from_usb_hid(static_cast<uint32_t>(key))) {
      (void)hub_.send_key(*code, false);
    }
  }
}

void SdlDisplay::set_grab(bool on) {
  grabbed_ = on;
  SDL_SetWindowKeyboardGrab(window_, on ? SDL_TRUE : SDL_FALSE);
  SDL_SetWindowMouseGrab(window_, on ? SDL_TRUE : SDL_FALSE);
  update_title();
}

void SdlDisplay::machine_state_changed(std::string_view name, std::string_view state) {
  vm_name_ = std::string(name);
  run_state_ = std::string(state);
  update_title();
  pump_events();
}

void SdlDisplay::update_title() {
  if (window_ == nullptr) return;
  std::string title = vm_name_.empty() ? "cr16-system" : vm_name_ + " - cr16-system";
  if (run_state_ != "running") {
    // -S waits in "prelaunch": to the user the VM is paused.
    title += " [" + (run_state_ == "prelaunch" ? std::string("paused") : run_state_) + "]";
  }
  if (grabbed_) title += " - Press Ctrl-Alt-G to exit grab";
  SDL_SetWindowTitle(window_, title.c_str());
}

bool SdlDisplay::resize_to(uint32_t width, uint32_t height) {
  if (width == 0 || height == 0) return false;
  // The default scale for the mode, unless the user resized the window
  // since we last sized it: then the integer scale that window holds.
  int scale = std::max(1, 640 / static_cast<int>(width));
  int window_width = 0;
  int window_height = 0;
  SDL_GetWindowSize(window_, &window_width, &window_height);
  const bool user_sized =
      sized_width_ != 0 && (window_width != sized_width_ || window_height != sized_height_);
  if (user_sized && texture_width_ != 0 && texture_height_ != 0) {
    scale = std::max(1, std::min(window_width / static_cast<int>(texture_width_),
                                 window_height / static_cast<int>(texture_height_)));
  } else {
    SDL_Rect usable;
    const int index = SDL_GetWindowDisplayIndex(window_);
    if (index >= 0 && SDL_GetDisplayUsableBounds(index, &usable) == 0) {
      while (scale > 1 && (static_cast<int>(width) * scale > usable.w ||
                           static_cast<int>(height) * scale > usable.h)) {
        --scale;
      }
    }
  }
  if (texture_ != nullptr) SDL_DestroyTexture(texture_);
  texture_ = SDL_CreateTexture(renderer_, SDL_PIXELFORMAT_XRGB8888, SDL_TEXTUREACCESS_STREAMING,
                               static_cast<int>(width), static_cast<int>(height));
  if (texture_ == nullptr) {
    texture_width_ = texture_height_ = 0;
    return false;
  }
  SDL_SetTextureScaleMode(texture_, SDL_ScaleModeNearest);
  texture_width_ = width;
  texture_height_ = height;
  SDL_RenderSetLogicalSize(renderer_, static_cast<int>(width), static_cast<int>(height));
  SDL_RenderSetIntegerScale(renderer_, SDL_TRUE);
  sized_width_ = static_cast<int>(width) * scale;
  sized_height_ = static_cast<int>(height) * scale;
  SDL_SetWindowSize(window_, sized_width_, sized_height_);
  return true;
}

void SdlDisplay::upload_rows(const Screen& screen, uint32_t first, uint32_t count) {
  if (texture_ == nullptr || count == 0) return;
  const SDL_Rect rect{0, static_cast<int>(first), static_cast<int>(screen.width),
                      static_cast<int>(count)};
  SDL_UpdateTexture(texture_, &rect, screen.row(first),
                    static_cast<int>(screen.width * sizeof(uint32_t)));
}

void SdlDisplay::screen_updated(const Screen& screen, const ScreenUpdate& update) {
  if (update.resized || texture_ == nullptr || screen.width != texture_width_ ||
      screen.height != texture_height_) {
    if (!resize_to(screen.width, screen.height)) return;
    upload_rows(screen, 0, screen.height);
  } else {
    for (const ScreenUpdate::Run& run : update.runs()) upload_rows(screen, run.first, run.count);
  }
  present();
  pump_events();  // the present may have pulled events into Xlib's queue
}

void SdlDisplay::present() {
  if (renderer_ == nullptr || !attached_) return;
  SDL_SetRenderDrawColor(renderer_, 0, 0, 0, 255);
  SDL_RenderClear(renderer_);
  if (texture_ != nullptr) SDL_RenderCopy(renderer_, texture_, nullptr, nullptr);
  SDL_RenderPresent(renderer_);
}

}  // namespace cr16::ui

// Last, so that Xlib's macros (None, Bool, Status...) touch nothing above.
#include <SDL_syswm.h>

namespace cr16::ui {
namespace {

int x11_connection_fd(SDL_Window* window) {
#if defined(SDL_VIDEO_DRIVER_X11)
  SDL_SysWMinfo info;
  SDL_VERSION(&info.version);
  if (SDL_GetWindowWMInfo(window, &info) == SDL_TRUE && info.subsystem == SDL_SYSWM_X11 &&
      info.info.x11.display != nullptr) {
    return ConnectionNumber(info.info.x11.display);
  }
#else
  (void)window;
#endif
  return -1;
}

}  // namespace
}  // namespace cr16::ui
