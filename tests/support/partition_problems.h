#pragma once
// Partition problems on plain numbers, shared by the partitioner tests.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "pipecut/partition.h"

namespace pipecut::testing {

// Cuts c0, c1, ... at the given prefix sizes, with the given crossing bytes (or none).
inline PartitionProblem numbers(const std::vector<int64_t>& prefixes, int64_t total, int64_t low,
                                int64_t high, int segments = 0,
                                const std::vector<int64_t>& crossing = {}) {
  PartitionProblem problem;
  for (size_t i = 0; i < prefixes.size(); ++i) {
    problem.cuts.push_back(
        {"c" + std::to_string(i), prefixes[i], crossing.empty() ? 0 : crossing[i]});
  }
  problem.total_size = total;
  problem.low = low;
  problem.high = high;
  problem.segments = segments;
  return problem;
}

// Whether some line of the partition's log contains `text`.
inline bool logged(const Partition& partition, const std::string& text) {
  return std::any_of(partition.log.begin(), partition.log.end(),
                     [&](const std::string& line) { return line.find(text) != std::string::npos; });
}

}  // namespace pipecut::testing
