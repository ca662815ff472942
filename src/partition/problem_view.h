#pragma once
// The partitioners' shared view of a problem: validated, with the prefix sizes laid out as
// positions (0 is the model start, i + 1 is cut i, end() is the model end).
#include <cstdint>
#include <string>
#include <vector>

#include "pipecut/partition.h"

namespace pipecut::partition_internal {

// 128-bit arithmetic for products such as K * HIGH that may not fit in 64 bits.
using Wide = __int128;

class ProblemView {
 public:
  // Validates the problem; throws pipecut::Error with one line naming what is wrong.
  explicit ProblemView(const PartitionProblem& problem);

  const PartitionProblem& problem() const { return problem_; }
  const std::vector<int64_t>& prefix() const { return prefix_; }
  int end() const { return static_cast<int>(prefix_.size()) - 1; }
  int cut_count() const { return end() - 1; }
  int64_t total() const { return prefix_.back(); }
  int64_t size(int from, int to) const { return prefix_[to] - prefix_[from]; }
  int64_t crossing(int position) const { return problem_.cuts[position - 1].crossing_bytes; }

  // The cut's name, or "the model start" / "the model end".
  std::string name(int position) const;
  // The piece between position and position + 1, for error messages.
  std::string piece(int position) const;

  // The partition whose inner cuts are at the given positions (ascending, within 1..cut_count()).
  Partition result(Algorithm algorithm, const std::vector<int>& cut_positions, int64_t low,
                   int64_t high, std::vector<std::string> log) const;

 private:
  const PartitionProblem& problem_;
  std::vector<int64_t> prefix_;
};

// "44,657,504 B".
std::string bytes(int64_t value);
// "[2,097,152 B, 7,340,032 B]".
std::string window(int64_t low, int64_t high);
// ceil(total / HIGH), at least 1: the segment count the size limit alone asks for.
int segments_for_high(const ProblemView& view);

}  // namespace pipecut::partition_internal
