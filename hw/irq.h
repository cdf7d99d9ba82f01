// Interrupt lines from devices to an interrupt controller.
#pragma once

#include <cstdint>

namespace cr16 {

/// Receives the level of numbered interrupt lines (the ICU).
class IrqSink {
 public:
  virtual ~IrqSink() = default;
  /// Sets line `source` high or low. Out-of-range sources are ignored.
  virtual void set_irq_level(unsigned source, bool level) = 0;
};

/// One device's output line: a sink and a source number. A default-constructed
/// line is unconnected and ignores set().
class IrqLine {
 public:
  IrqLine() = default;
  IrqLine(IrqSink* sink, unsigned source) : sink_(sink), source_(source) {}
  /// Drives the line to `level`.
  void set(bool level) const {
    if (sink_ != nullptr) sink_->set_irq_level(source_, level);
  }

 private:
  IrqSink* sink_ = nullptr;
  unsigned source_ = 0;
};

}  // namespace cr16
