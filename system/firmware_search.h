// Finds the default firmware image when neither -bios nor -kernel is given.
#pragma once

#include <string>
#include <vector>

#include "util/error.h"

namespace cr16::system {

/// Directories searched, in order: each -L DIR, then `<exe dir>/../roms`,
/// `<exe dir>/roms`, and the source tree's roms/ compiled into the binary.
std::vector<std::string> firmware_search_path(const std::vector<std::string>& data_dirs);

/// Returns the first existing `<dir>/<name>` on the search path, or an Error
/// listing where it looked.
Expected<std::string> find_firmware(const std::string& name,
                                    const std::vector<std::string>& data_dirs);

}  // namespace cr16::system
