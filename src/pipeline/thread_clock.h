#pragma once
// CPU time of the calling thread, for stage statistics: unlike the wall clock it stops while the
// thread is preempted, so it tells a stage's own work from the time it waited for a core.
#include <time.h>

#include <chrono>

namespace pipecut::pipeline_detail {

inline std::chrono::nanoseconds thread_cpu_time() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
}

}  // namespace pipecut::pipeline_detail
