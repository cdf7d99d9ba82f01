#include "util/error.h"

#include <cstring>

namespace cr16 {

Error Error::from_errno(const std::string& context, int errno_value) {
  return Error(context + ": " + std::strerror(errno_value), errno_value);
}

Error Error::with_context(const std::string& context) const {
  if (ok()) return *this;
  return Error(context + ": " + message_, errno_);
}

}  // namespace cr16
