// Exact partitioning in three stages: the fewest segments, then the smallest largest segment,
// then the fewest crossing bytes. Each stage fixes the previous stage's value, so the result is
// lexicographically optimal (docs/split-algorithms.md).
#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "partition/feasibility.h"
#include "partition/problem_view.h"
#include "pipecut/error.h"
#include "pipecut/partition.h"

namespace pipecut {

using partition_internal::bytes;
using partition_internal::counts_from_start;
using partition_internal::counts_to_end;
using partition_internal::predecessor_ranges;
using partition_internal::PredecessorRanges;
using partition_internal::ProblemView;
using partition_internal::SegmentCounts;
using partition_internal::Wide;
using partition_internal::window;

namespace {

// Why no partition exists, in one line.
std::string no_partition(const ProblemView& view, int k, const SegmentCounts& counts) {
  const PartitionProblem& problem = view.problem();
  const std::string head = "optimal: no partition" +
                           (k > 0 ? " into exactly " + std::to_string(k) + " segments" : "") +
                           " has every segment within " + window(problem.low, problem.high) + ": ";
  for (int p = 0; p < view.end(); ++p) {
    if (view.size(p, p + 1) > problem.high) {
      return head + view.piece(p) + " (" + bytes(view.size(p, p + 1)) +
             ") is larger than HIGH by itself";
    }
  }
  if (k > 0) {
    if (Wide(k) * problem.high < view.total()) {
      return head + std::to_string(k) + " x HIGH is less than the total " + bytes(view.total());
    }
    if (Wide(k) * problem.low > view.total()) {
      return head + "LOW cannot be met: " + std::to_string(k) + " x LOW is more than the total " +
             bytes(view.total());
    }
    if (counts.reachable(view.end())) {
      return head + "the cuts allow only " + std::to_string(counts.fewest[view.end()]) + " to " +
             std::to_string(counts.most[view.end()]) + " segments";
    }
  }
  return head + "LOW cannot be met (every piece fits under HIGH, but the cuts cannot group them " +
         "so that each segment reaches LOW)";
}

// Stage 3: exactly k segments within [low, high] with the fewest total crossing bytes.
// A layered DP: layer r holds the positions that can end segment r while leaving k - r segments
// for the rest (a band of positions); each layer takes a sliding-window minimum over the last.
std::vector<int> fewest_crossing(const ProblemView& view, int k, int64_t low, int64_t high,
                                 int64_t& crossing_total) {
  crossing_total = 0;
  if (k == 1) return {};
  const std::vector<int64_t>& prefix = view.prefix();
  const int end = view.end();
  const SegmentCounts before = counts_from_start(prefix, low, high);
  const SegmentCounts after = counts_to_end(prefix, low, high);
  const PredecessorRanges ranges = predecessor_ranges(prefix, low, high);
  // The layers in which position j can be the end of a segment.
  auto layers = [&](int j) {
    const int64_t from = std::max<int64_t>({1, before.fewest[j], int64_t{k} - after.most[j]});
    const int64_t to = std::min<int64_t>({k - 1, before.most[j], int64_t{k} - after.fewest[j]});
    return std::pair<int64_t, int64_t>(from, to);
  };
  std::vector<int> band_first(k, end);
  std::vector<int> band_last(k, -1);
  for (int j = 1; j < end; ++j) {
    const auto [from, to] = layers(j);
    for (int64_t r = from; r <= to; ++r) {
      band_first[r] = std::min(band_first[r], j);
      band_last[r] = std::max(band_last[r], j);
    }
  }

  constexpr int64_t kNone = std::numeric_limits<int64_t>::max();
  std::vector<std::vector<int>> parent(k);
  std::vector<int64_t> previous{0};  // layer 0: the model start alone
  int previous_first = 0;
  int previous_last = 0;
  std::vector<int> queue;
  // Sliding-window minimum of `previous` over the positions [first, last] as both move forward.
  size_t head = 0;
  int next = 0;
  auto advance = [&](int first, int last) {
    for (; next <= std::min(last, previous_last); ++next) {
      const int64_t cost = previous[next - previous_first];
      if (cost == kNone) continue;
      while (queue.size() > head && previous[queue.back() - previous_first] > cost) {
        queue.pop_back();
      }
      queue.push_back(next);
    }
    while (queue.size() > head && queue[head] < first) ++head;
  };
  for (int r = 1; r < k; ++r) {
    const int first = band_first[r];
    const int last = band_last[r];
    std::vector<int64_t> cost(last - first + 1, kNone);
    parent[r].assign(last - first + 1, -1);
    queue.clear();
    head = 0;
    next = previous_first;
    for (int j = first; j <= last; ++j) {
      const auto [from, to] = layers(j);
      if (r < from || r > to) continue;
      advance(ranges.first[j], ranges.last[j]);
      // Non-empty: a position in layer r has a predecessor in layer r - 1 (the interval property).
      const int best = queue[head];
      cost[j - first] = previous[best - previous_first] + view.crossing(j);
      parent[r][j - first] = best;
    }
    previous = std::move(cost);
    previous_first = first;
    previous_last = last;
  }
  queue.clear();
  head = 0;
  next = previous_first;
  advance(ranges.first[end], ranges.last[end]);
  int position = queue[head];
  crossing_total = previous[position - previous_first];
  std::vector<int> cut_positions(k - 1);
  for (int r = k - 1; r >= 1; --r) {
    cut_positions[r - 1] = position;
    position = parent[r][position - band_first[r]];
  }
  return cut_positions;
}

}  // namespace

Partition partition_optimal(const PartitionProblem& problem) {
  const ProblemView view(problem);
  const std::vector<int64_t>& prefix = view.prefix();
  const int end = view.end();
  const int64_t low = problem.low;
  const int64_t high = std::min(problem.high, view.total());  // no segment exceeds the total
  std::vector<std::string> log;
  log.push_back("optimal: " + bytes(view.total()) + ", window " +
                window(problem.low, problem.high));

  // Stage 1: the segment count.
  const SegmentCounts counts = counts_from_start(prefix, low, high);
  int k = problem.segments;
  if (k > 0) {
    if (!counts.allows(end, k)) throw Error(no_partition(view, k, counts));
    log.push_back("K = " + std::to_string(k) + " (given); the window allows " +
                  std::to_string(counts.fewest[end]) + " to " + std::to_string(counts.most[end]) +
                  " segments");
  } else {
    if (!counts.reachable(end)) throw Error(no_partition(view, 0, counts));
    k = counts.fewest[end];
    log.push_back("K = " + std::to_string(k) + ": the fewest segments that all fit in the window" +
                  (k > 1 ? " (" + std::to_string(k - 1) + " cannot)" : ""));
  }

  // Stage 2: the smallest largest segment, by binary search over the size. Feasibility only
  // changes at sizes that some segment has, so the smallest feasible value is such a size.
  int64_t lo = std::max<int64_t>(low, view.total() / k + (view.total() % k != 0 ? 1 : 0));
  int64_t hi = high;
  int checks = 0;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    ++checks;
    if (counts_from_start(prefix, low, mid).allows(end, k)) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  const int64_t largest = lo;
  log.push_back("largest segment " + bytes(largest) + ": the smallest possible with " +
                std::to_string(k) + " segments (" + std::to_string(checks) +
                " binary-search checks)");

  // Stage 3: the fewest crossing bytes among those.
  int64_t crossing = 0;
  const std::vector<int> cut_positions = fewest_crossing(view, k, low, largest, crossing);
  log.push_back("crossing bytes " + bytes(crossing) + " over " + std::to_string(k - 1) +
                " cuts: the fewest with " + std::to_string(k) + " segments each within " +
                window(low, largest));
  int from = 0;
  for (size_t s = 0; s <= cut_positions.size(); ++s) {
    const int to = s < cut_positions.size() ? cut_positions[s] : end;
    log.push_back("segment " + std::to_string(s + 1) + ": ends at " + view.name(to) + ", size " +
                  bytes(view.size(from, to)) +
                  (to == end ? "" : ", crossing " + bytes(view.crossing(to))));
    from = to;
  }
  return view.result(Algorithm::kOptimal, cut_positions, problem.low, problem.high, std::move(log));
}

}  // namespace pipecut
