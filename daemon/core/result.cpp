#include "daemon/core/result.h"

namespace sfkb::core {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kRetry:
      return "retry";
    case ErrorKind::kReauth:
      return "reauth";
    case ErrorKind::kRehandshake:
      return "rehandshake";
    case ErrorKind::kInvalidInput:
      return "invalid_input";
    case ErrorKind::kFatal:
      return "fatal";
    case ErrorKind::kStopped:
      return "stopped";
  }
  return "unknown";
}

}  // namespace sfkb::core
