// Cuts chosen for speed: exact dynamic programming over the candidate cuts. Positions are
// 0 (the model's start), 1..C (after candidate cut c-1) and C+1 (the end); a segment (i, j)
// runs from position i to position j and must fit the size window.
#include <algorithm>
#include <cmath>
#include <limits>

#include "pipecut/error.h"
#include "pipecut/partition.h"
#include "pipecut/sizes.h"

namespace pipecut {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Best {
  double value = kInf;
  int64_t crossing = 0;  // tie-break: fewer bytes crossing the cuts
  int from = -1;
  bool better_than(const Best& other) const {
    if (value < other.value - 1e-12) return true;
    if (value > other.value + 1e-12) return false;
    return crossing < other.crossing;
  }
};

}  // namespace

Partition partition_for_speed(const PartitionProblem& problem, const SegmentCosts& costs,
                              Algorithm objective) {
  if (objective != Algorithm::kLatency && objective != Algorithm::kThroughput)
    throw Error("partition_for_speed: the objective must be latency or throughput");
  if (!costs.segment_ms || !costs.handoff_ms) throw Error("partition_for_speed: no cost model");
  const int c = static_cast<int>(problem.cuts.size());
  const int n = c + 2;  // positions
  const auto prefix = [&](int position) -> int64_t {
    if (position == 0) return 0;
    if (position == n - 1) return problem.total_size;
    return problem.cuts[static_cast<size_t>(position) - 1].prefix_size;
  };
  const auto fits = [&](int i, int j) {
    const int64_t size = prefix(j) - prefix(i);
    return size >= problem.low && size <= problem.high;
  };
  // A cut's index in problem.cuts for position p (1..C); the model's ends have no hand-off.
  const auto handoff = [&](int position) {
    return position == 0 || position == n - 1 ? 0.0 : costs.handoff_ms(position - 1);
  };
  const auto crossing = [&](int position) -> int64_t {
    return position == 0 || position == n - 1
               ? 0
               : problem.cuts[static_cast<size_t>(position) - 1].crossing_bytes;
  };
  // Segment times, each computed once.
  std::vector<double> seg(static_cast<size_t>(n) * static_cast<size_t>(n), kInf);
  const auto segment = [&](int i, int j) -> double& {
    return seg[static_cast<size_t>(i) * static_cast<size_t>(n) + static_cast<size_t>(j)];
  };
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j)
      if (fits(i, j)) segment(i, j) = costs.segment_ms(i - 1, j - 1);

  // best[k][j]: the best value reaching position j with k segments.
  const int max_k = problem.segments > 0 ? problem.segments : n - 1;
  std::vector<std::vector<Best>> best(static_cast<size_t>(max_k) + 1,
                                      std::vector<Best>(static_cast<size_t>(n)));
  best[0][0].value = 0;
  for (int k = 1; k <= max_k; ++k) {
    for (int j = 1; j < n; ++j) {
      Best& b = best[static_cast<size_t>(k)][static_cast<size_t>(j)];
      for (int i = 0; i < j; ++i) {
        const Best& prev = best[static_cast<size_t>(k) - 1][static_cast<size_t>(i)];
        const double s = segment(i, j);
        if (prev.value == kInf || s == kInf) continue;
        Best candidate;
        candidate.from = i;
        candidate.crossing = prev.crossing + crossing(j);
        if (objective == Algorithm::kLatency) {
          candidate.value = prev.value + handoff(i) + s;
        } else {  // the stage holds both hand-offs around it
          candidate.value = std::max(prev.value, handoff(i) + s + handoff(j));
        }
        if (candidate.better_than(b)) b = candidate;
      }
    }
  }
  int k_best = -1;
  for (int k = 1; k <= max_k; ++k) {
    const Best& b = best[static_cast<size_t>(k)][static_cast<size_t>(n) - 1];
    if (b.value == kInf) continue;
    if (problem.segments > 0 && k != problem.segments) continue;
    if (k_best < 0) {
      k_best = k;
      if (objective == Algorithm::kThroughput) break;  // the fewest that fit the window
      continue;
    }
    if (b.better_than(best[static_cast<size_t>(k_best)][static_cast<size_t>(n) - 1])) k_best = k;
  }
  if (k_best < 0) {
    throw Error("no partition " +
                (problem.segments > 0 ? "into " + std::to_string(problem.segments) + " segments "
                                      : std::string()) +
                "has every segment within [" + format_size(problem.low) + ", " +
                format_size(problem.high) + "]");
  }
  Partition partition;
  partition.algorithm = objective;
  partition.low = problem.low;
  partition.high = problem.high;
  std::vector<int> positions;
  for (int k = k_best, j = n - 1; k > 0; --k) {
    positions.push_back(j);
    j = best[static_cast<size_t>(k)][static_cast<size_t>(j)].from;
  }
  std::reverse(positions.begin(), positions.end());
  int previous = 0;
  for (int position : positions) {
    partition.sizes.push_back(prefix(position) - prefix(previous));
    if (position != n - 1) partition.cuts.push_back(position - 1);
    previous = position;
  }
  const double value = best[static_cast<size_t>(k_best)][static_cast<size_t>(n) - 1].value;
  partition.log.push_back(
      std::string(objective == Algorithm::kLatency ? "least single-input latency"
                                                   : "least slowest stage") +
      " over " + std::to_string(c) + " candidate cuts: " + std::to_string(k_best) + " segments, " +
      std::to_string(std::round(value * 1000) / 1000) + " ms (estimated)");
  return partition;
}

}  // namespace pipecut
