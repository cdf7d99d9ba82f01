// Helpers shared by the option parsers (options.cpp, options_monitor.cpp).
// Private to system/.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace cr16::system::detail {

/// "on"/"off" (also "yes"/"no", "true"/"false") of key=value options;
/// nullopt for anything else.
std::optional<bool> parse_switch(std::string_view value);

/// One part of a comma-separated option value.
struct KeyValue {
  std::string key;
  std::string value;
  bool bare = false;  // written without '=' ("server", "nowait", "mux")
};

/// Splits "a=b,c,d=e" into parts; ",," is a literal comma (QEMU's escape).
/// Each key may appear once and none may be empty; errors name `option`.
Expected<std::vector<KeyValue>> split_option_parts(std::string_view text,
                                                   const std::string& option);

}  // namespace cr16::system::detail
