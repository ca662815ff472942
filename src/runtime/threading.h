#pragma once
// Threads. A run's parallel work goes through the executable's WorkTeam (work_team.h): chunks
// claimed by whichever thread is on a core, so a busy host slows a run down to about one
// thread's pace and no further. oneDNN, which Debian builds on GNU OpenMP, is only ever called
// with one OpenMP thread: each chunk of a convolution is a oneDNN primitive of its own (a band of
// output rows), so OpenMP never starts a team and never waits at its barriers. The OpenMP entry
// points are looked up in the process (libdnnl loads libgomp); without them there is nothing to
// set.
#include <cstdint>
#include <type_traits>

#include "runtime/work_team.h"

namespace pipecut::runtime {

// Sets OpenMP's thread count for the calling thread (its nthreads-var).
void set_openmp_threads(int threads);

// For its lifetime, parallel_for on this thread runs on `team` (null: on this thread alone), and
// OpenMP on this thread uses one thread. Restores both on exit.
class TeamScope {
 public:
  explicit TeamScope(WorkTeam* team);
  ~TeamScope();
  TeamScope(const TeamScope&) = delete;
  TeamScope& operator=(const TeamScope&) = delete;

 private:
  WorkTeam* saved_team_;
  int saved_openmp_ = 0;
};

// Threads parallel work started now on this thread may use (1 outside a TeamScope).
int team_threads();

// Calls fn(i, slot) for every i in [0, chunks) on the current team (see WorkTeam::run); slot is
// below team_threads().
void parallel_chunks(int chunks, ChunkFn fn);

// A range [begin, end) of indices.
using RangeFn = FunctionRef<void(int64_t, int64_t)>;

void parallel_for_range(int64_t n, int64_t min_chunk, RangeFn fn);

// Calls fn(begin, end) on contiguous, disjoint chunks covering [0, n), in parallel when n is at
// least 2 * min_chunk. Each index is handled exactly once, whatever the thread count; fn must
// compute every result from its own index only, so results do not depend on the split.
template <typename F>
void parallel_for(int64_t n, int64_t min_chunk, F&& fn) {
  std::remove_reference_t<F>& f = fn;
  parallel_for_range(n, min_chunk, RangeFn(f));
}

}  // namespace pipecut::runtime
