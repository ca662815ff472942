#pragma once
// Which positions can be reached with how many segments inside a size window. Positions are
// indices into a non-decreasing prefix array (0 is the model start, the last is the model end).
//
// Because prefixes never decrease, the positions i < j with prefix[j] - prefix[i] in [low, high]
// form one contiguous range, and both its ends move forward as j does. That makes every question
// here a sliding-window minimum or maximum, O(positions) each.
//
// Segment counts form an interval: if a position can be reached with a and with b segments, it
// can be reached with every count in between (docs/split-algorithms.md has the exchange
// argument). So "exactly K segments" is decided by the fewest and the most alone.
#include <cstdint>
#include <limits>
#include <vector>

#include "partition/problem_view.h"

namespace pipecut::partition_internal {

// For each position j: the positions i < j whose segment (i, j) fits in [low, high], as the range
// [first[j], last[j]] (empty when first[j] > last[j]).
struct PredecessorRanges {
  std::vector<int> first, last;
};
PredecessorRanges predecessor_ranges(const std::vector<int64_t>& prefix, int64_t low, int64_t high);

// For each position: the fewest and the most segments within the window that join it to the
// model start (counts_from_start) or to the model end (counts_to_end).
struct SegmentCounts {
  static constexpr int kNone = std::numeric_limits<int>::max();
  std::vector<int> fewest;  // kNone when unreachable
  std::vector<int> most;    // -1 when unreachable

  bool reachable(int position) const { return most[position] >= 0; }
  bool allows(int position, int count) const {
    return fewest[position] <= count && count <= most[position];
  }
};
SegmentCounts counts_from_start(const std::vector<int64_t>& prefix, int64_t low, int64_t high);
SegmentCounts counts_to_end(const std::vector<int64_t>& prefix, int64_t low, int64_t high);

// The position p in [first, last] (first <= last) minimising |den * (prefix[p] - base) - num|,
// i.e. whose offset from base is closest to num / den (den > 0). Ties go to the earlier position.
int nearest_position(const std::vector<int64_t>& prefix, int first, int last, int64_t base,
                     Wide num, Wide den);

}  // namespace pipecut::partition_internal
