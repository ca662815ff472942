// Cuts chosen for speed (latency and throughput objectives) on plain numbers, against exhaustive
// search over every subset of cuts on small random problems.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "pipecut/error.h"
#include "pipecut/partition.h"
#include "support/partition_problems.h"

namespace pipecut {
namespace {

using testing::numbers;

struct Costs {
  std::vector<std::vector<double>> segment;  // [from + 1][to + 1]
  std::vector<double> handoff;
  SegmentCosts view() const {
    return {[this](int from, int to) {
              return segment[static_cast<size_t>(from + 1)][static_cast<size_t>(to + 1)];
            },
            [this](int cut) { return handoff[static_cast<size_t>(cut)]; }};
  }
};

// The objective's value for a partition given as ascending cut indices.
double value(const PartitionProblem& p, const Costs& c, const std::vector<int>& cuts,
             Algorithm objective) {
  std::vector<int> bounds = {-1};
  bounds.insert(bounds.end(), cuts.begin(), cuts.end());
  bounds.push_back(static_cast<int>(p.cuts.size()));
  double latency = 0, slowest = 0;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    const double s =
        c.segment[static_cast<size_t>(bounds[i] + 1)][static_cast<size_t>(bounds[i + 1] + 1)];
    const double in = i == 0 ? 0 : c.handoff[static_cast<size_t>(bounds[i])];
    const double out = i + 2 == bounds.size() ? 0 : c.handoff[static_cast<size_t>(bounds[i + 1])];
    latency += s + out;
    slowest = std::max(slowest, in + s + out);
  }
  return objective == Algorithm::kLatency ? latency : slowest;
}

bool fits(const PartitionProblem& p, const std::vector<int>& cuts) {
  int64_t before = 0;
  for (int c : cuts) {
    const int64_t size = p.cuts[static_cast<size_t>(c)].prefix_size - before;
    if (size < p.low || size > p.high) return false;
    before = p.cuts[static_cast<size_t>(c)].prefix_size;
  }
  const int64_t size = p.total_size - before;
  return size >= p.low && size <= p.high;
}

TEST(PartitionSpeed, MatchesExhaustiveSearchOnRandomProblems) {
  std::mt19937 rng(7);
  int checked = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 10);
    std::vector<int64_t> prefixes;
    int64_t at = 0;
    for (int i = 0; i < n; ++i) prefixes.push_back(at += 1 + static_cast<int64_t>(rng() % 9));
    const int64_t total = at + 1 + static_cast<int64_t>(rng() % 9);
    const int64_t high = 8 + static_cast<int64_t>(rng() % 20);
    const int segments = rng() % 3 == 0 ? 1 + static_cast<int>(rng() % 4) : 0;
    const auto problem = numbers(prefixes, total, 0, high, segments);
    Costs costs;
    costs.segment.assign(static_cast<size_t>(n) + 2,
                         std::vector<double>(static_cast<size_t>(n) + 2, 0));
    for (auto& row : costs.segment)
      for (auto& v : row) v = static_cast<double>(rng() % 1000) / 10.0;
    for (int i = 0; i < n; ++i) costs.handoff.push_back(static_cast<double>(rng() % 100) / 10.0);

    // Exhaustive: every subset of cuts that fits the window (and K, when given).
    std::vector<std::vector<int>> partitions;
    int fewest = 1 << 30;
    for (uint32_t mask = 0; mask < (1u << n); ++mask) {
      std::vector<int> cuts;
      for (int i = 0; i < n; ++i)
        if (mask & (1u << i)) cuts.push_back(i);
      const int k = static_cast<int>(cuts.size()) + 1;
      if (!fits(problem, cuts) || (segments > 0 && k != segments)) continue;
      fewest = std::min(fewest, k);
      partitions.push_back(std::move(cuts));
    }
    for (Algorithm objective : {Algorithm::kLatency, Algorithm::kThroughput}) {
      // Throughput without K takes the fewest segments that fit.
      double best = INFINITY;
      for (const auto& cuts : partitions) {
        const int k = static_cast<int>(cuts.size()) + 1;
        if (objective == Algorithm::kThroughput && segments == 0 && k != fewest) continue;
        best = std::min(best, value(problem, costs, cuts, objective));
      }
      if (best == INFINITY) {
        EXPECT_THROW(partition_for_speed(problem, costs.view(), objective), Error);
        continue;
      }
      const Partition p = partition_for_speed(problem, costs.view(), objective);
      testing::expect_consistent(problem, p);
      EXPECT_TRUE(fits(problem, p.cuts));
      EXPECT_NEAR(value(problem, costs, p.cuts, objective), best, 1e-9)
          << "trial " << trial << " " << algorithm_name(objective);
      if (segments > 0) {
        EXPECT_EQ(static_cast<int>(p.sizes.size()), segments);
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 300);
}

// A segment no worker can hold costs +infinity (the CPU target's memory limit): the search never
// takes one, and throws when every partition needs one.
TEST(PartitionSpeed, InfiniteSegmentsAreNeverChosen) {
  std::mt19937 rng(3);
  int checked = 0, impossible = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 9);
    std::vector<int64_t> prefixes;
    for (int i = 0; i < n; ++i) prefixes.push_back(10 * (i + 1));
    const int segments = rng() % 2 == 0 ? 1 + static_cast<int>(rng() % 4) : 0;
    const auto problem = numbers(prefixes, 10 * (n + 1), 0, 10 * (n + 1), segments);
    Costs costs;
    costs.segment.assign(static_cast<size_t>(n) + 2,
                         std::vector<double>(static_cast<size_t>(n) + 2, 0));
    for (auto& row : costs.segment)
      for (auto& v : row) v = rng() % 3 == 0 ? INFINITY : static_cast<double>(rng() % 1000) / 10.0;
    for (int i = 0; i < n; ++i) costs.handoff.push_back(static_cast<double>(rng() % 100) / 10.0);
    for (Algorithm objective : {Algorithm::kLatency, Algorithm::kThroughput}) {
      if (objective == Algorithm::kThroughput && segments == 0) continue;  // K from the window
      double best = INFINITY;
      for (uint32_t mask = 0; mask < (1u << n); ++mask) {
        std::vector<int> cuts;
        for (int i = 0; i < n; ++i)
          if (mask & (1u << i)) cuts.push_back(i);
        if (segments > 0 && static_cast<int>(cuts.size()) + 1 != segments) continue;
        best = std::min(best, value(problem, costs, cuts, objective));
      }
      if (best == INFINITY) {
        EXPECT_THROW(partition_for_speed(problem, costs.view(), objective), Error);
        ++impossible;
        continue;
      }
      const Partition p = partition_for_speed(problem, costs.view(), objective);
      EXPECT_NEAR(value(problem, costs, p.cuts, objective), best, 1e-9) << "trial " << trial;
      ++checked;
    }
  }
  EXPECT_GT(checked, 200);
  EXPECT_GT(impossible, 5);
}

TEST(PartitionSpeed, LatencyPrefersFewerHandOffsThroughputBalances) {
  // Four equal pieces of 1 ms; a hand-off costs 0.5 ms. Latency: one segment (4 ms) if it fits.
  const auto problem = numbers({10, 20, 30}, 40, 0, 40);
  Costs costs;
  costs.segment.assign(5, std::vector<double>(5, 0));
  for (int i = 0; i < 5; ++i)
    for (int j = i + 1; j < 5; ++j)
      costs.segment[static_cast<size_t>(i)][static_cast<size_t>(j)] = j - i;
  costs.handoff = {0.5, 0.5, 0.5};
  const Partition latency = partition_for_speed(problem, costs.view(), Algorithm::kLatency);
  EXPECT_TRUE(latency.cuts.empty());
  auto two = problem;
  two.segments = 2;
  const Partition throughput = partition_for_speed(two, costs.view(), Algorithm::kThroughput);
  EXPECT_EQ(throughput.cuts, std::vector<int>{1});  // 2 + 2 pieces, 2.5 ms each
  EXPECT_EQ(throughput.algorithm, Algorithm::kThroughput);
}

TEST(PartitionSpeed, SizeAlgorithmsRefuseToRunWithoutCosts) {
  const auto problem = numbers({10}, 20, 0, 20);
  EXPECT_THROW(run_partition(problem, Algorithm::kLatency), Error);
  EXPECT_EQ(parse_algorithm("throughput"), Algorithm::kThroughput);
}

}  // namespace
}  // namespace pipecut
