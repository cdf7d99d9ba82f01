#include "hw/device_state.h"

namespace cr16 {

size_t state_field_element_size(StateFieldType type) {
  switch (type) {
    case StateFieldType::kU8:
    case StateFieldType::kBool:
    case StateFieldType::kBytes:
      return 1;
    case StateFieldType::kU16:
      return 2;
    case StateFieldType::kU32:
      return 4;
    case StateFieldType::kU64:
    case StateFieldType::kI64:
      return 8;
  }
  return 1;
}

}  // namespace cr16
