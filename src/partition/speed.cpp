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
  std::vector<int64_t> prefix(static_cast<size_t>(n));
  for (int p = 1; p + 1 < n; ++p)
    prefix[static_cast<size_t>(p)] = problem.cuts[static_cast<size_t>(p) - 1].prefix_size;
  prefix[static_cast<size_t>(n) - 1] = problem.total_size;
  // A cut's index in problem.cuts for position p (1..C); the model's ends have no hand-off.
  const auto handoff = [&](int position) {
    return position == 0 || position == n - 1 ? 0.0 : costs.handoff_ms(position - 1);
  };
  const auto crossing = [&](int position) -> int64_t {
    return position == 0 || position == n - 1
               ? 0
               : problem.cuts[static_cast<size_t>(position) - 1].crossing_bytes;
  };
  // Prefixes never decrease, so the positions i < j whose segment (i, j) fits the window form one
  // range [first[j], last[j]]; only those segments are ever costed, each once.
  std::vector<int> first(static_cast<size_t>(n)), last(static_cast<size_t>(n));
  std::vector<size_t> offset(static_cast<size_t>(n) + 1, 0);
  for (int j = 0; j < n; ++j) {
    const int64_t at = prefix[static_cast<size_t>(j)];
    first[static_cast<size_t>(j)] = static_cast<int>(
        std::lower_bound(prefix.begin(), prefix.begin() + j, at - problem.high) - prefix.begin());
    last[static_cast<size_t>(j)] =
        static_cast<int>(std::upper_bound(prefix.begin(), prefix.begin() + j, at - problem.low) -
                         prefix.begin()) -
        1;
    const int width = std::max(0, last[static_cast<size_t>(j)] - first[static_cast<size_t>(j)] + 1);
    offset[static_cast<size_t>(j) + 1] =
        offset[static_cast<size_t>(j)] + static_cast<size_t>(width);
  }
  constexpr size_t kMaxSegments = 4'000'000;
  if (offset.back() > kMaxSegments) {
    throw Error("the speed objectives would cost " + std::to_string(offset.back()) +
                " possible segments; narrow the window (--min-size, --max-size) or give --cuts");
  }
  std::vector<double> seg(offset.back(), kInf);
  const auto segment = [&](int i, int j) -> double {
    double& v = seg[offset[static_cast<size_t>(j)] +
                    static_cast<size_t>(i - first[static_cast<size_t>(j)])];
    if (v == kInf) v = costs.segment_ms(i - 1, j - 1);
    return v;
  };

  // The number of segments: given, or for throughput the fewest that fit the window.
  int k_fixed = problem.segments;
  if (k_fixed == 0 && objective == Algorithm::kThroughput) {
    std::vector<int> fewest(static_cast<size_t>(n), std::numeric_limits<int>::max());
    fewest[0] = 0;
    for (int j = 1; j < n; ++j)
      for (int i = first[static_cast<size_t>(j)]; i <= last[static_cast<size_t>(j)]; ++i)
        if (fewest[static_cast<size_t>(i)] != std::numeric_limits<int>::max())
          fewest[static_cast<size_t>(j)] =
              std::min(fewest[static_cast<size_t>(j)], fewest[static_cast<size_t>(i)] + 1);
    k_fixed = fewest[static_cast<size_t>(n) - 1] == std::numeric_limits<int>::max()
                  ? -1
                  : fewest[static_cast<size_t>(n) - 1];
  }
  const auto extend = [&](const Best& prev, int i, int j) {
    Best candidate;
    candidate.from = i;
    candidate.crossing = prev.crossing + crossing(j);
    const double s = segment(i, j);
    if (objective == Algorithm::kLatency) {
      candidate.value = prev.value + handoff(i) + s;
    } else {  // the stage holds both hand-offs around it
      candidate.value = std::max(prev.value, handoff(i) + s + handoff(j));
    }
    return candidate;
  };

  // Layers of the DP: one (any number of segments, latency only) or one per segment count.
  const int layers = k_fixed > 0 ? k_fixed : (k_fixed == 0 ? 1 : 0);
  std::vector<std::vector<Best>> best(static_cast<size_t>(layers) + 1,
                                      std::vector<Best>(static_cast<size_t>(n)));
  best[0][0].value = 0;
  for (int k = 1; k <= layers; ++k) {
    auto& row = best[static_cast<size_t>(k)];
    for (int j = 1; j < n; ++j) {
      for (int i = first[static_cast<size_t>(j)]; i <= last[static_cast<size_t>(j)]; ++i) {
        // Any count: extend this layer itself (positions before j are final); else the layer below.
        const Best& prev = k_fixed == 0 ? (i == 0 ? best[0][0] : row[static_cast<size_t>(i)])
                                        : best[static_cast<size_t>(k) - 1][static_cast<size_t>(i)];
        if (prev.value == kInf) continue;
        const Best candidate = extend(prev, i, j);
        if (candidate.better_than(row[static_cast<size_t>(j)]))
          row[static_cast<size_t>(j)] = candidate;
      }
    }
  }
  const Best* end_best =
      layers > 0 ? &best[static_cast<size_t>(layers)][static_cast<size_t>(n) - 1] : nullptr;
  if (!end_best || end_best->value == kInf) {
    throw Error("no partition " +
                (problem.segments > 0 ? "into " + std::to_string(problem.segments) + " segments "
                                      : std::string()) +
                "has every segment within [" + format_size(problem.low) + ", " +
                format_size(problem.high) + "]");
  }
  std::vector<int> positions;
  for (int j = n - 1, k = layers; j > 0;) {
    positions.push_back(j);
    const int from = best[static_cast<size_t>(k)][static_cast<size_t>(j)].from;
    if (k_fixed != 0) --k;
    j = from;
  }
  std::reverse(positions.begin(), positions.end());
  const int k_best = static_cast<int>(positions.size());
  Partition partition;
  partition.algorithm = objective;
  partition.low = problem.low;
  partition.high = problem.high;
  int previous = 0;
  for (int position : positions) {
    partition.sizes.push_back(prefix[static_cast<size_t>(position)] -
                              prefix[static_cast<size_t>(previous)]);
    if (position != n - 1) partition.cuts.push_back(position - 1);
    previous = position;
  }
  const double value = end_best->value;
  partition.log.push_back(
      std::string(objective == Algorithm::kLatency ? "least single-input latency"
                                                   : "least slowest stage") +
      " over " + std::to_string(c) + " candidate cuts: " + std::to_string(k_best) + " segments, " +
      std::to_string(std::round(value * 1000) / 1000) + " ms (estimated)");
  return partition;
}

}  // namespace pipecut
