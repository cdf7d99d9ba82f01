// Helpers shared by the option parsers (options.cpp, options_monitor.cpp).
// Private to system/.
#pragma once

#include <optional>
#include <string_view>

namespace cr16::system::detail {

/// "on"/"off" (also "yes"/"no", "true"/"false") of key=value options;
/// nullopt for anything else.
std::optional<bool> parse_switch(std::string_view value);

}  // namespace cr16::system::detail
