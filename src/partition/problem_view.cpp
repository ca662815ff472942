#include "partition/problem_view.h"

#include <algorithm>
#include <limits>

#include "pipecut/error.h"

namespace pipecut::partition_internal {
namespace {

[[noreturn]] void invalid(const std::string& what) {
  throw Error("partition: " + what);
}

void validate(const PartitionProblem& problem) {
  if (problem.total_size <= 0) {
    invalid("the model is empty (total size " + bytes(problem.total_size) + ")");
  }
  if (problem.high <= 0) invalid("HIGH must be positive (got " + bytes(problem.high) + ")");
  if (problem.low < 0) invalid("LOW must not be negative (got " + bytes(problem.low) + ")");
  if (problem.low > problem.high) {
    invalid("LOW (" + bytes(problem.low) + ") is larger than HIGH (" + bytes(problem.high) + ")");
  }
  if (problem.segments < 0) {
    invalid("the segment count must not be negative (got " + std::to_string(problem.segments) +
            ")");
  }
  const size_t n = problem.cuts.size();
  if (n >= static_cast<size_t>(std::numeric_limits<int>::max() - 2)) {
    invalid("too many candidate cuts (" + std::to_string(n) + ")");
  }
  if (static_cast<size_t>(problem.segments) > n + 1) {
    invalid(std::to_string(problem.segments) + " segments need " +
            std::to_string(problem.segments - 1) + " cuts but only " + std::to_string(n) +
            " candidate cuts are given");
  }
  if (!problem.piece_labels.empty() && problem.piece_labels.size() != n + 1) {
    invalid("piece_labels has " + std::to_string(problem.piece_labels.size()) +
            " entries; expected none or one more than the cuts (" + std::to_string(n + 1) + ")");
  }
  int64_t previous = 0;
  for (const CutPoint& cut : problem.cuts) {
    if (cut.prefix_size < previous) {
      invalid("cut '" + cut.name + "' has prefix size " + bytes(cut.prefix_size) +
              ", below the previous " + bytes(previous) + "; prefix sizes must not decrease");
    }
    if (cut.prefix_size > problem.total_size) {
      invalid("cut '" + cut.name + "' has prefix size " + bytes(cut.prefix_size) +
              ", beyond the total size " + bytes(problem.total_size));
    }
    if (cut.crossing_bytes < 0) {
      invalid("cut '" + cut.name + "' has negative crossing bytes (" + bytes(cut.crossing_bytes) +
              ")");
    }
    previous = cut.prefix_size;
  }
}

}  // namespace

ProblemView::ProblemView(const PartitionProblem& problem) : problem_(problem) {
  validate(problem);
  prefix_.reserve(problem.cuts.size() + 2);
  prefix_.push_back(0);
  for (const CutPoint& cut : problem.cuts) prefix_.push_back(cut.prefix_size);
  prefix_.push_back(problem.total_size);
}

std::string ProblemView::name(int position) const {
  if (position == 0) return "the model start";
  if (position == end()) return "the model end";
  return problem_.cuts[position - 1].name;
}

std::string ProblemView::piece(int position) const {
  if (!problem_.piece_labels.empty()) return "piece '" + problem_.piece_labels[position] + "'";
  if (end() == 1) return "the whole model";
  if (position == 0) return "the piece before " + name(1);
  if (position + 1 == end()) return "the piece after " + name(position);
  return "the piece between " + name(position) + " and " + name(position + 1);
}

Partition ProblemView::result(Algorithm algorithm, const std::vector<int>& cut_positions,
                              int64_t low, int64_t high, std::vector<std::string> log) const {
  Partition partition;
  partition.algorithm = algorithm;
  partition.low = low;
  partition.high = high;
  int from = 0;
  for (int position : cut_positions) {
    partition.cuts.push_back(position - 1);
    partition.sizes.push_back(size(from, position));
    from = position;
  }
  partition.sizes.push_back(size(from, end()));
  partition.within_window =
      std::all_of(partition.sizes.begin(), partition.sizes.end(),
                  [&](int64_t s) { return problem_.low <= s && s <= problem_.high; });
  partition.log = std::move(log);
  return partition;
}

std::string bytes(int64_t value) {
  // Digit by digit, so that even INT64_MIN prints.
  std::string digits;
  Wide magnitude = value < 0 ? -static_cast<Wide>(value) : static_cast<Wide>(value);
  int count = 0;
  do {
    if (count > 0 && count % 3 == 0) digits.push_back(',');
    digits.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
    ++count;
  } while (magnitude > 0);
  if (value < 0) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits + " B";
}

std::string window(int64_t low, int64_t high) {
  return "[" + bytes(low) + ", " + bytes(high) + "]";
}

int segments_for_high(const ProblemView& view) {
  const int64_t high = view.problem().high;
  const int64_t k = view.total() / high + (view.total() % high != 0 ? 1 : 0);
  return static_cast<int>(std::clamp<int64_t>(k, 1, std::numeric_limits<int>::max()));
}

}  // namespace pipecut::partition_internal
