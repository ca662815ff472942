#include "partition/feasibility.h"

#include <algorithm>
#include <functional>

namespace pipecut::partition_internal {
namespace {

// Indices into a value array whose values are monotone from front to back, so that the front
// holds the best index of the window; among equal values the earliest index stays in front.
template <typename Better>
class MonotoneQueue {
 public:
  explicit MonotoneQueue(size_t capacity) { items_.reserve(capacity); }

  template <typename Values>
  void push(int index, const Values& values) {
    while (head_ < items_.size() && Better{}(values[index], values[items_.back()])) {
      items_.pop_back();
    }
    items_.push_back(index);
  }
  void drop_before(int first) {
    while (head_ < items_.size() && items_[head_] < first) ++head_;
  }
  bool empty() const { return head_ == items_.size(); }
  int front() const { return items_[head_]; }

 private:
  std::vector<int> items_;
  size_t head_ = 0;
};

}  // namespace

PredecessorRanges predecessor_ranges(const std::vector<int64_t>& prefix, int64_t low,
                                     int64_t high) {
  const int positions = static_cast<int>(prefix.size());
  PredecessorRanges ranges;
  ranges.first.assign(positions, 0);
  ranges.last.assign(positions, -1);
  int first = 0;
  int last = -1;
  for (int j = 1; j < positions; ++j) {
    while (prefix[j] - prefix[first] > high) ++first;  // stops at j at the latest: 0 <= high
    while (last + 1 < j && prefix[j] - prefix[last + 1] >= low) ++last;
    ranges.first[j] = first;
    ranges.last[j] = last;
  }
  return ranges;
}

SegmentCounts counts_from_start(const std::vector<int64_t>& prefix, int64_t low, int64_t high) {
  const int positions = static_cast<int>(prefix.size());
  const PredecessorRanges ranges = predecessor_ranges(prefix, low, high);
  SegmentCounts counts;
  counts.fewest.assign(positions, SegmentCounts::kNone);
  counts.most.assign(positions, -1);
  counts.fewest[0] = 0;
  counts.most[0] = 0;
  MonotoneQueue<std::less<int>> fewest(positions);
  MonotoneQueue<std::greater<int>> most(positions);
  int next = 0;  // the next position to enter the window
  for (int j = 1; j < positions; ++j) {
    for (; next <= ranges.last[j]; ++next) {
      if (!counts.reachable(next)) continue;
      fewest.push(next, counts.fewest);
      most.push(next, counts.most);
    }
    fewest.drop_before(ranges.first[j]);
    most.drop_before(ranges.first[j]);
    if (ranges.first[j] > ranges.last[j] || fewest.empty()) continue;
    counts.fewest[j] = counts.fewest[fewest.front()] + 1;
    counts.most[j] = counts.most[most.front()] + 1;
  }
  return counts;
}

SegmentCounts counts_to_end(const std::vector<int64_t>& prefix, int64_t low, int64_t high) {
  // The model read backwards: position p becomes last - p, sizes stay the same.
  const int last = static_cast<int>(prefix.size()) - 1;
  std::vector<int64_t> reversed(prefix.size());
  for (int p = 0; p <= last; ++p) reversed[p] = prefix[last] - prefix[last - p];
  SegmentCounts backwards = counts_from_start(reversed, low, high);
  std::reverse(backwards.fewest.begin(), backwards.fewest.end());
  std::reverse(backwards.most.begin(), backwards.most.end());
  return backwards;
}

int nearest_position(const std::vector<int64_t>& prefix, int first, int last, int64_t base,
                     Wide num, Wide den) {
  auto key = [&](int p) { return den * (prefix[p] - base); };
  // The first position whose key reaches num.
  int lo = first;
  int hi = last + 1;
  while (lo < hi) {
    const int mid = lo + (hi - lo) / 2;
    if (key(mid) >= num) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  const int above = lo;
  if (above == first) return first;
  // The best below num is the earliest position holding the largest prefix below it.
  const int64_t below_value = prefix[above - 1];
  const int below = static_cast<int>(
      std::lower_bound(prefix.begin() + first, prefix.begin() + above, below_value) -
      prefix.begin());
  if (above > last) return below;
  return num - key(below) <= key(above) - num ? below : above;
}

}  // namespace pipecut::partition_internal
