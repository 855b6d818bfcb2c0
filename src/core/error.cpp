#include "core/error.h"

#include <cstdio>
#include <cstdlib>

namespace prima {

void assert_fail(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "prima: internal error: assertion `%s` failed at %s:%d\n", expr, file, line);
  std::abort();
}

const char* to_string(Status::Code code) {
  switch (code) {
    case Status::Code::ok: return "ok";
    case Status::Code::invalid: return "invalid";
    case Status::Code::io: return "io";
    case Status::Code::timeout: return "timeout";
    case Status::Code::closed: return "closed";
    case Status::Code::protocol: return "protocol";
    case Status::Code::mismatch: return "mismatch";
    case Status::Code::cancelled: return "cancelled";
    case Status::Code::internal: return "internal";
  }
  return "unknown";
}

}  // namespace prima
