#include "system/chardev/mux.h"

#include <algorithm>
#include <cstring>

namespace cr16::system {

EscapeFilter::Result EscapeFilter::feed(uint8_t byte) {
  Result result;
  if (!escape_pending_) {
    if (byte == kEscapeByte) {
      escape_pending_ = true;
    } else {
      result.has_byte = true;
      result.byte = byte;
    }
    return result;
  }
  escape_pending_ = false;
  switch (byte) {
    case 'x':
    case 'X':
      result.command = Command::kQuit;
      break;
    case 'h':
    case 'H':
    case '?':
      result.command = Command::kHelp;
      break;
    case 'c':
    case 'C':
      result.command = Command::kSwitch;
      break;
    case kEscapeByte:
      result.has_byte = true;
      result.byte = kEscapeByte;
      break;
    default:
      break;  // an unknown escape passes nothing on
  }
  return result;
}

const char* EscapeFilter::help_text() {
  return "\r\n"
         "C-a h    print this help\r\n"
         "C-a x    exit emulator\r\n"
         "C-a c    switch between console and monitor\r\n"
         "C-a C-a  sends C-a\r\n";
}

// ---------------------------------------------------------------------------

/// One frontend's view of the shared backend.
class MuxCharDevice::Port : public CharBackend {
 public:
  Port(MuxCharDevice& mux, unsigned index) : mux_(mux), index_(index) {}

  size_t write(std::span<const uint8_t> bytes) override { return mux_.backend_->write(bytes); }

  void attach(CharFrontend* frontend) override {
    frontend_ = frontend;
    if (frontend_ == nullptr) return;
    if (mux_.focus_ != index_) frontend_->char_event(CharEvent::kFocusOut);
    if (mux_.opened_) frontend_->char_event(CharEvent::kOpened);
    if (mux_.focus_ == index_) mux_.backend_->frontend_ready();  // input may flow now
  }

  void frontend_ready() override {
    mux_.drain(*this);
    if (mux_.focus_ == index_) mux_.backend_->frontend_ready();
  }

  CharFrontend* frontend() const { return frontend_; }
  std::deque<uint8_t>& input() { return input_; }

 private:
  MuxCharDevice& mux_;
  unsigned index_;
  CharFrontend* frontend_ = nullptr;
  std::deque<uint8_t> input_;  // typed for this frontend, not taken yet
};

MuxCharDevice::MuxCharDevice(std::unique_ptr<CharBackend> backend, std::function<void()> quit)
    : backend_(std::move(backend)), quit_(std::move(quit)) {
  backend_->attach(this);
}

MuxCharDevice::~MuxCharDevice() {
  backend_->attach(nullptr);
}

CharBackend* MuxCharDevice::add_port() {
  if (ports_.size() >= kMaxPorts) return nullptr;
  ports_.push_back(std::make_unique<Port>(*this, static_cast<unsigned>(ports_.size())));
  return ports_.back().get();
}

void MuxCharDevice::set_focus(unsigned index) {
  if (index >= ports_.size() || index == focus_) return;
  Port& old_port = *ports_[focus_];
  drain(old_port);  // what was typed before the switch is still the old frontend's
  focus_ = index;
  if (old_port.frontend()) old_port.frontend()->char_event(CharEvent::kFocusOut);
  Port& port = *ports_[focus_];
  if (port.frontend()) port.frontend()->char_event(CharEvent::kFocusIn);
  drain(port);
  backend_->frontend_ready();  // reading may have stopped for the old focus
}

void MuxCharDevice::switch_focus() {
  if (ports_.empty()) return;
  set_focus((focus_ + 1) % static_cast<unsigned>(ports_.size()));
}

size_t MuxCharDevice::can_receive() {
  if (ports_.empty()) return 0;
  size_t buffered = ports_[focus_]->input().size();
  return buffered >= kPortBuffer ? 0 : kPortBuffer - buffered;
}

void MuxCharDevice::receive(std::span<const uint8_t> bytes) {
  for (uint8_t byte : bytes) {
    EscapeFilter::Result result = filter_.feed(byte);
    switch (result.command) {
      case EscapeFilter::Command::kQuit:
        if (!ports_.empty()) drain(*ports_[focus_]);  // typed before the quit: delivered
        if (quit_) quit_();
        return;  // what follows the quit is not for anyone
      case EscapeFilter::Command::kHelp:
        print(EscapeFilter::help_text());
        break;
      case EscapeFilter::Command::kSwitch:
        switch_focus();
        break;
      case EscapeFilter::Command::kNone:
        break;
    }
    if (result.has_byte && !ports_.empty()) ports_[focus_]->input().push_back(result.byte);
  }
  if (!ports_.empty()) drain(*ports_[focus_]);
}

void MuxCharDevice::char_event(CharEvent event) {
  if (event == CharEvent::kOpened) opened_ = true;
  if (event == CharEvent::kClosed) opened_ = false;
  if (event != CharEvent::kOpened && event != CharEvent::kClosed) return;
  for (auto& port : ports_) {
    if (port->frontend()) port->frontend()->char_event(event);
  }
}

void MuxCharDevice::drain(Port& port) {
  CharFrontend* frontend = port.frontend();
  std::deque<uint8_t>& input = port.input();
  if (frontend == nullptr) {
    input.clear();  // nobody listens on this port: typed bytes are dropped
    return;
  }
  while (!input.empty()) {
    size_t room = std::min(frontend->can_receive(), input.size());
    if (room == 0) return;
    std::vector<uint8_t> chunk(input.begin(), input.begin() + static_cast<long>(room));
    input.erase(input.begin(), input.begin() + static_cast<long>(room));
    frontend->receive(chunk);
  }
}

void MuxCharDevice::print(const char* text) {
  backend_->write(std::span(reinterpret_cast<const uint8_t*>(text), std::strlen(text)));
}

}  // namespace cr16::system
