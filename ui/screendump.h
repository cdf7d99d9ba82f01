// screendump: the guest screen to an image file, as QMP/HMP `screendump`
// writes it. PPM (P6, binary, 8 bits per channel) as QEMU's default, or
// PNG through libpng. The file is written beside its final name and renamed
// into place, so a reader never sees half an image.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ui/display_hub.h"
#include "util/error.h"

namespace cr16::ui {

enum class ImageFormat : uint8_t { kPpm, kPng };

/// "ppm" or "png"; the error names the value.
Expected<ImageFormat> parse_image_format(std::string_view text);

/// Writes SCREEN (XRGB8888) to PATH in FORMAT. A 0x0 screen is refused.
Error write_screendump(const Screen& screen, const std::string& path, ImageFormat format);

/// The bytes of SCREEN as a PPM or PNG file (what write_screendump writes).
Expected<std::vector<uint8_t>> encode_image(const Screen& screen, ImageFormat format);

}  // namespace cr16::ui
