#pragma once
// The time slice a worker thread asks the Linux scheduler for. Since Linux 6.12 a normal
// (SCHED_OTHER/BATCH) thread may request its own slice through sched_setattr's sched_runtime; the
// default is short (1.4 ms on our 2-core CI machine), so with more stages than cores a stage
// whose run() takes several milliseconds is preempted mid-run and loses its caches each time.
#include <chrono>

namespace pipecut::pipeline_detail {

// Asks for `slice` (the kernel clamps it to 0.1..100 ms) for the calling thread, keeping its
// policy and nice value. Returns whether the kernel now reports that slice: false on kernels
// before 6.12 (they accept and ignore it), for real-time threads (left alone) and where refused.
bool request_time_slice(std::chrono::microseconds slice);

// The calling thread's slice as the kernel reports it; 0 where it reports none.
std::chrono::microseconds current_time_slice();

}  // namespace pipecut::pipeline_detail
