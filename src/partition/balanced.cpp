// The Edge TPU compiler's --num_segments baseline: walk the cuts and close a segment just before
// it would grow past total / K.
#include <string>
#include <vector>

#include "partition/problem_view.h"
#include "pipecut/partition.h"

namespace pipecut {

using partition_internal::bytes;
using partition_internal::ProblemView;
using partition_internal::Wide;

Partition partition_balanced(const PartitionProblem& problem) {
  const ProblemView view(problem);
  const bool given = problem.segments > 0;
  const int k = given ? problem.segments : partition_internal::segments_for_high(view);
  const int64_t limit = view.total() / k;
  std::vector<std::string> log;
  log.push_back(
      "balanced: " + bytes(view.total()) + " in K = " + std::to_string(k) +
      (given ? " segments (given)"
             : " segments (ceil(" + bytes(view.total()) + " / " + bytes(problem.high) + "))") +
      "; each closes before it would exceed total / K = " + bytes(limit));

  // A segment from `start` may end at p while K * size <= total, i.e. size <= total / K exactly.
  auto fits = [&](int start, int p) { return Wide(k) * view.size(start, p) <= view.total(); };
  std::vector<int> cut_positions;
  int start = 0;
  while (static_cast<int>(cut_positions.size()) < k - 1) {
    if (start + 1 > view.cut_count()) {
      log.push_back("ran out of cuts after " + std::to_string(cut_positions.size()) +
                    "; the partition has " + std::to_string(cut_positions.size() + 1) +
                    " segments");
      break;
    }
    // The last cut that still fits; sizes grow with the position, so binary search.
    int lo = start + 1;
    int hi = view.cut_count();
    if (!fits(start, lo)) {
      hi = lo;  // even the next cut is too far: cut there so that the walk moves on
    } else {
      while (lo < hi) {
        const int mid = lo + (hi - lo + 1) / 2;
        if (fits(start, mid)) {
          lo = mid;
        } else {
          hi = mid - 1;
        }
      }
    }
    const int end = hi;
    log.push_back("segment " + std::to_string(cut_positions.size() + 1) + ": cut at " +
                  view.name(end) + ", size " + bytes(view.size(start, end)) +
                  (fits(start, end) ? "" : " (the next cut already exceeds total / K)"));
    cut_positions.push_back(end);
    start = end;
  }
  log.push_back("segment " + std::to_string(cut_positions.size() + 1) + " (last): the rest, size " +
                bytes(view.size(start, view.end())));
  Partition partition =
      view.result(Algorithm::kBalanced, cut_positions, problem.low, problem.high, std::move(log));
  if (partition.within_window) {
    partition.log.push_back("every segment is within " +
                            partition_internal::window(problem.low, problem.high));
  } else {
    for (size_t s = 0; s < partition.sizes.size(); ++s) {
      const int64_t size = partition.sizes[s];
      if (size < problem.low || size > problem.high) {
        partition.log.push_back("segment " + std::to_string(s + 1) + " (" + bytes(size) +
                                ") is outside " +
                                partition_internal::window(problem.low, problem.high));
      }
    }
  }
  return partition;
}

}  // namespace pipecut
