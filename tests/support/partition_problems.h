#pragma once
// Partition problems on plain numbers, shared by the partitioner tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
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

// Cuts ascending and in range, one size per segment, sizes matching the prefixes and adding up to
// the total.
inline void expect_consistent(const PartitionProblem& problem, const Partition& partition) {
  ASSERT_EQ(partition.sizes.size(), partition.cuts.size() + 1);
  int64_t from = 0;
  for (size_t s = 0; s < partition.cuts.size(); ++s) {
    const int c = partition.cuts[s];
    ASSERT_GE(c, 0);
    ASSERT_LT(c, static_cast<int>(problem.cuts.size()));
    if (s > 0) {
      ASSERT_GT(c, partition.cuts[s - 1]);
    }
    EXPECT_EQ(partition.sizes[s], problem.cuts[static_cast<size_t>(c)].prefix_size - from);
    from = problem.cuts[static_cast<size_t>(c)].prefix_size;
  }
  EXPECT_EQ(partition.sizes.back(), problem.total_size - from);
  EXPECT_EQ(std::accumulate(partition.sizes.begin(), partition.sizes.end(), int64_t{0}),
            problem.total_size);
}

}  // namespace pipecut::testing
