#pragma once
// Scheduling weight per stage. With more stage threads than cores, Linux's fair scheduler gives
// every runnable thread the same share of CPU time, but a pipeline needs each stage to get a
// share in proportion to its work per frame: a heavy stage held to an equal share falls behind,
// the stages after it run dry and a core idles. A thread's nice value sets its weight (each step
// up divides it by about 1.25), so each worker raises its own nice by one step per factor of 1.25
// its stage is lighter than the heaviest. Raising nice needs no privilege.
#include <optional>
#include <vector>

namespace pipecut::pipeline_detail {

// Nice steps per stage for these relative costs: round(log(costliest / cost) / log(1.25)), so
// the costliest stage gets 0. Costs must be positive and finite (the caller checks).
std::vector<int> nice_steps_for_costs(const std::vector<double>& costs);

// Raises the calling thread's nice value by `steps` (at most to 19). Returns the steps applied:
// fewer at the ceiling; 0 where the kernel refuses or does not tell the nice value, and for a
// thread whose policy ignores nice (real-time, SCHED_IDLE), which is left alone.
int raise_thread_nice(int steps);

// The calling thread's nice value; nullopt where the kernel does not tell.
std::optional<int> thread_nice();

}  // namespace pipecut::pipeline_detail
