// Builds the CharBackend for a -serial specification.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "hw/chardev.h"
#include "io/loop.h"
#include "system/options.h"

namespace cr16::system {

/// Creates the backend for `spec` (nullptr for "none": the UART is left
/// unconnected). `label` names it in messages ("serial0"); `quit` is what
/// Ctrl-A x does on stdio. Errors name the spec.
Expected<std::unique_ptr<CharBackend>> create_char_backend(const SerialSpec& spec, io::Loop& loop,
                                                           const std::string& label,
                                                           std::function<void()> quit);

}  // namespace cr16::system
