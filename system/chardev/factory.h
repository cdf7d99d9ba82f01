// Builds the CharBackend for a -serial specification.
#pragma once

#include <memory>
#include <string>

#include "hw/chardev.h"
#include "io/loop.h"
#include "system/options.h"

namespace cr16::system {

/// Creates the host backend for `spec` (nullptr for "none": the frontend is
/// left unconnected). `label` names it in messages ("serial0"). The
/// multiplexer (Ctrl-A escapes, mon:) is not part of it: see mux.h.
/// Errors name the spec.
Expected<std::unique_ptr<CharBackend>> create_char_backend(const SerialSpec& spec, io::Loop& loop,
                                                           const std::string& label);

}  // namespace cr16::system
