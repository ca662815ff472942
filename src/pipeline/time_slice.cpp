#include "pipeline/time_slice.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

namespace pipecut::pipeline_detail {
namespace {

// struct sched_attr as of SCHED_ATTR_SIZE_VER0 (glibc 2.36 has no wrapper and no declaration).
struct SchedAttr {
  uint32_t size = sizeof(SchedAttr);
  uint32_t policy = 0;
  uint64_t flags = 0;
  int32_t nice = 0;
  uint32_t priority = 0;
  uint64_t runtime_ns = 0;  // for a normal thread: its slice (Linux 6.12+)
  uint64_t deadline_ns = 0;
  uint64_t period_ns = 0;
};
static_assert(sizeof(SchedAttr) == 48, "SCHED_ATTR_SIZE_VER0");

bool get_attr(SchedAttr* attr) {
#ifdef SYS_sched_getattr
  return syscall(SYS_sched_getattr, 0, attr, sizeof(SchedAttr), 0) == 0;
#else
  (void)attr;
  return false;
#endif
}

}  // namespace

std::chrono::microseconds current_time_slice() {
  SchedAttr attr;
  if (!get_attr(&attr)) return std::chrono::microseconds(0);
  return std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::nanoseconds(attr.runtime_ns));
}

bool request_time_slice(std::chrono::microseconds slice) {
#ifdef SYS_sched_setattr
  SchedAttr attr;
  if (!get_attr(&attr)) return false;
  if (attr.policy != SCHED_OTHER && attr.policy != SCHED_BATCH) return false;
  const auto wanted =
      std::clamp(slice, std::chrono::microseconds(100), std::chrono::microseconds(100'000));
  attr.size = sizeof(SchedAttr);
  attr.flags = 0;
  attr.runtime_ns =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(wanted).count());
  if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0) return false;
  return current_time_slice() == wanted;
#else
  (void)slice;
  return false;
#endif
}

}  // namespace pipecut::pipeline_detail
