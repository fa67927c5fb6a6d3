#include "stack/base/time.h"

#include <ctime>

namespace locus {

Instant MonotonicNow() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Instant::FromNanos(static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec);
}

}  // namespace locus
