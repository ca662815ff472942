#pragma once
// Placing stage threads on cores. With more stage threads than cores, the kernel moves threads
// between cores as its load balancer sees fit, and a newly idle core often does not pull a
// waiting thread over (it skips the search when its idle spells are usually short), so cores
// idle while work waits. Pinning each stage to a core chosen so that every core carries about
// the same work per frame leaves the balancer nothing to move and spares the cache misses of
// migrating; the hand-off from a connection's reader thread to its worker on the same core also
// costs less. Measured, it trims the idle share a little (docs/serve.md).
#include <cstddef>
#include <vector>

namespace pipecut::pipeline_detail {

// The core index (0 .. cores-1) for each stage with these relative costs: longest costs first,
// each onto the core with the least work so far (the lowest index on a tie). Deterministic, so
// that processes serving parts of one tree compute the same plan. Costs must be comparable
// numbers (stage_cpus checks them); cores below 1 count as 1.
std::vector<size_t> cores_for_costs(const std::vector<double>& costs, size_t cores);

// The same for `workers` workers per stage sharing its work equally: per stage, the core index of
// each of its workers. A stage's workers go to different cores (the least loaded first), so that
// whichever core runs dry can take the stage's next frame from its queue; only with more workers
// than cores does a core get a second one of the stage (after every core has one). With one
// worker per stage it is cores_for_costs.
std::vector<std::vector<size_t>> cores_for_workers(const std::vector<double>& costs, size_t workers,
                                                   size_t cores);

// The CPU ids the calling thread may run on (its affinity mask: the process's, unless the thread
// was bound since), in increasing order; empty where the kernel does not tell.
std::vector<int> allowed_cpus();

// Binds the calling thread (and the threads it starts later) to one CPU. false when the kernel
// refuses; the thread then runs where the kernel puts it.
bool pin_thread_to_cpu(int cpu);

}  // namespace pipecut::pipeline_detail
