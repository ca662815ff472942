// The exact partitioner on plain numbers: checked against exhaustive search on small random
// problems, on 10,000 candidates with a known answer, and for its error messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "pipecut/error.h"
#include "pipecut/partition.h"
#include "support/partition_problems.h"

namespace pipecut {
namespace {

using testing::logged;
using testing::numbers;

int64_t largest(const Partition& partition) {
  return *std::max_element(partition.sizes.begin(), partition.sizes.end());
}

int64_t crossing(const PartitionProblem& problem, const Partition& partition) {
  int64_t sum = 0;
  for (int c : partition.cuts) sum += problem.cuts[c].crossing_bytes;
  return sum;
}

// Consistent, and every size within the problem's window.
void expect_valid(const PartitionProblem& problem, const Partition& partition) {
  testing::expect_consistent(problem, partition);
  if (::testing::Test::HasFatalFailure()) return;
  for (int64_t size : partition.sizes) {
    EXPECT_GE(size, problem.low);
    EXPECT_LE(size, problem.high);
  }
  EXPECT_TRUE(partition.within_window);
}

// The best (K, largest, crossing) over every subset of cuts; found = false when none fits.
struct Best {
  bool found = false;
  int segments = 0;
  int64_t largest = 0;
  int64_t crossing = 0;
};

Best exhaustive(const PartitionProblem& problem) {
  Best best;
  const int n = static_cast<int>(problem.cuts.size());
  for (uint32_t mask = 0; mask < (1u << n); ++mask) {
    const int segments = std::popcount(mask) + 1;
    if (problem.segments > 0 && segments != problem.segments) continue;
    int64_t from = 0;
    int64_t max_size = 0;
    int64_t sum = 0;
    bool fits = true;
    for (int i = 0; i <= n && fits; ++i) {
      if (i < n && !(mask & (1u << i))) continue;
      const int64_t to = i < n ? problem.cuts[i].prefix_size : problem.total_size;
      fits = problem.low <= to - from && to - from <= problem.high;
      max_size = std::max(max_size, to - from);
      if (i < n) sum += problem.cuts[i].crossing_bytes;
      from = to;
    }
    if (!fits) continue;
    const Best candidate{true, segments, max_size, sum};
    if (!best.found || std::tie(candidate.segments, candidate.largest, candidate.crossing) <
                           std::tie(best.segments, best.largest, best.crossing)) {
      best = candidate;
    }
  }
  return best;
}

TEST(PartitionOptimalTest, MatchesExhaustiveSearchOnRandomProblems) {
  int solved = 0;
  int impossible = 0;
  for (uint32_t seed = 0; seed < 2500; ++seed) {
    std::mt19937 rng(seed);
    const int n = static_cast<int>(rng() % 13);
    std::vector<int64_t> prefixes;
    std::vector<int64_t> crossings;
    int64_t total = 0;
    const bool flat_crossing = rng() % 4 == 0;
    for (int i = 0; i < n; ++i) {
      total += rng() % 5 == 0 ? 0 : rng() % 12;
      prefixes.push_back(total);
      crossings.push_back(flat_crossing ? 5 : rng() % 20);
    }
    total += 1 + rng() % 12;
    const int64_t high = 1 + rng() % 30;
    const int64_t low = rng() % 3 == 0 ? 0 : rng() % (high + 1);
    const int segments = rng() % 3 == 0 ? 1 + static_cast<int>(rng() % (n + 1)) : 0;
    const PartitionProblem problem = numbers(prefixes, total, low, high, segments, crossings);
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Best best = exhaustive(problem);
    if (!best.found) {
      ++impossible;
      EXPECT_THROW(partition_optimal(problem), Error);
      continue;
    }
    ++solved;
    const Partition partition = partition_optimal(problem);
    expect_valid(problem, partition);
    EXPECT_EQ(static_cast<int>(partition.sizes.size()), best.segments);
    EXPECT_EQ(largest(partition), best.largest);
    EXPECT_EQ(crossing(problem, partition), best.crossing);
  }
  // Both kinds of outcome were exercised.
  EXPECT_GT(solved, 500);
  EXPECT_GT(impossible, 100);
}

TEST(PartitionOptimalTest, TenThousandCandidatesWithAKnownAnswer) {
  // 10,001 pieces of 1,000 B; HIGH = 250,000 B needs K = 41 (40 segments hold at most 10,000
  // pieces), and 41 segments need at least ceil(10,001 / 41) = 244 pieces in the largest one.
  // Crossing is free only every 244 pieces, so the cheapest such partition cuts exactly there.
  const int n = 10'000;
  std::vector<int64_t> prefixes(n);
  std::vector<int64_t> crossings(n);
  for (int i = 0; i < n; ++i) {
    prefixes[i] = int64_t{1'000} * (i + 1);
    crossings[i] = (i + 1) % 244 == 0 ? 0 : 1'000 + i % 7;
  }
  const PartitionProblem problem =
      numbers(prefixes, int64_t{1'000} * (n + 1), 100'000, 250'000, 0, crossings);
  const auto started = std::chrono::steady_clock::now();
  const Partition partition = partition_optimal(problem);
  const auto elapsed =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
  std::cout << "[   INFO   ] optimal on 10,000 candidates: " << elapsed.count() << " ms\n";
  expect_valid(problem, partition);
  ASSERT_EQ(partition.sizes.size(), 41u);
  EXPECT_EQ(largest(partition), 244'000);
  EXPECT_EQ(crossing(problem, partition), 0);
  for (size_t s = 0; s < partition.cuts.size(); ++s) {
    EXPECT_EQ(partition.cuts[s], 244 * static_cast<int>(s + 1) - 1);
  }
  EXPECT_EQ(partition.sizes.back(), 241'000);
}

TEST(PartitionOptimalTest, TenThousandRandomCandidates) {
  std::mt19937 rng(11);
  const int n = 10'000;
  std::vector<int64_t> prefixes(n);
  std::vector<int64_t> crossings(n);
  int64_t total = 0;
  for (int i = 0; i < n; ++i) {
    total += rng() % 10 == 0 ? 0 : 1'000 + rng() % 200'000;
    prefixes[i] = total;
    crossings[i] = rng() % 100'000;
  }
  total += 5'000;
  const PartitionProblem problem = numbers(prefixes, total, 2'000'000, 12'000'000, 0, crossings);
  const auto started = std::chrono::steady_clock::now();
  const Partition partition = partition_optimal(problem);
  const auto elapsed =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
  std::cout << "[   INFO   ] optimal on 10,000 random candidates: " << elapsed.count() << " ms\n";
  expect_valid(problem, partition);
  const int k = static_cast<int>(partition.sizes.size());
  EXPECT_GE(k, static_cast<int>((total + problem.high - 1) / problem.high));
  // One segment fewer is impossible, and so is a smaller largest segment with the same K.
  PartitionProblem fewer = problem;
  fewer.segments = k - 1;
  EXPECT_THROW(partition_optimal(fewer), Error);
  PartitionProblem smaller = problem;
  smaller.segments = k;
  smaller.high = largest(partition) - 1;
  EXPECT_THROW(partition_optimal(smaller), Error);
  // Asking for that K explicitly gives the same answer.
  PartitionProblem same = problem;
  same.segments = k;
  const Partition again = partition_optimal(same);
  EXPECT_EQ(again.cuts, partition.cuts);
}

TEST(PartitionOptimalTest, LogExplainsTheChoice) {
  const PartitionProblem problem = numbers({4, 10, 12, 16}, 20, 0, 10, 0, {9, 1, 9, 9});
  const Partition partition = partition_optimal(problem);
  expect_valid(problem, partition);
  // K = 2 allows only the 10/10 split at c1; the log names K, the largest segment, the crossing.
  EXPECT_EQ(partition.cuts, (std::vector<int>{1}));
  EXPECT_TRUE(
      logged(partition, "K = 2: the fewest segments that all fit in the window (1 cannot)"));
  EXPECT_TRUE(logged(partition, "largest segment 10 B"));
  EXPECT_TRUE(logged(partition, "crossing bytes 1 B over 1 cuts"));
  EXPECT_EQ(partition.algorithm, Algorithm::kOptimal);
}

TEST(PartitionOptimalTest, CrossingBytesBreakTiesAmongEqualMaxima) {
  // K = 3 and the largest segment is 4 B in all three splits: c0 + c2 cross 2 B, c1 + c2 6 B and
  // c1 + c3 7 B.
  const PartitionProblem problem = numbers({3, 4, 7, 8}, 11, 3, 4, 0, {1, 5, 1, 2});
  const Partition partition = partition_optimal(problem);
  expect_valid(problem, partition);
  EXPECT_EQ(partition.sizes.size(), 3u);
  EXPECT_EQ(largest(partition), 4);
  EXPECT_EQ(crossing(problem, partition), 2);
  EXPECT_EQ(partition.cuts, (std::vector<int>{0, 2}));
}

TEST(PartitionOptimalTest, GivenSegmentCountIsExact) {
  const PartitionProblem problem = numbers({2, 4, 6, 8, 10}, 12, 1, 12, 4);
  const Partition partition = partition_optimal(problem);
  expect_valid(problem, partition);
  EXPECT_EQ(partition.sizes.size(), 4u);
  EXPECT_EQ(largest(partition), 4);
  EXPECT_TRUE(logged(partition, "K = 4 (given)"));
}

TEST(PartitionOptimalTest, NamesThePieceLargerThanHighByItsLabel) {
  PartitionProblem problem = numbers({2, 9}, 10, 0, 5);
  problem.piece_labels = {"stem", "conv5_block1", "head"};
  try {
    partition_optimal(problem);
    FAIL() << "expected pipecut::Error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("piece 'conv5_block1' (7 B) is larger than HIGH by itself"),
              std::string::npos)
        << message;
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
}

TEST(PartitionOptimalTest, NamesThePieceLargerThanHighByItsCuts) {
  try {
    partition_optimal(numbers({2, 9}, 10, 0, 5));
    FAIL() << "expected pipecut::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the piece between c0 and c1 (7 B)"), std::string::npos)
        << e.what();
  }
  try {
    partition_optimal(numbers({2, 4}, 10, 0, 5));
    FAIL() << "expected pipecut::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the piece after c1 (6 B)"), std::string::npos)
        << e.what();
  }
}

TEST(PartitionOptimalTest, SaysWhenLowCannotBeMet) {
  // Every piece fits under HIGH, but 6 + 6 cannot be grouped into segments of 8..10.
  try {
    partition_optimal(numbers({6}, 12, 8, 10));
    FAIL() << "expected pipecut::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("LOW cannot be met"), std::string::npos) << e.what();
  }
  // Four segments of at least 4 B need 16 B.
  try {
    partition_optimal(numbers({3, 6, 9}, 12, 4, 12, 4));
    FAIL() << "expected pipecut::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("LOW cannot be met"), std::string::npos) << e.what();
  }
}

TEST(PartitionOptimalTest, SaysWhenTheGivenCountCannotWork) {
  try {
    partition_optimal(numbers({3, 6, 9}, 12, 0, 5, 2));
    FAIL() << "expected pipecut::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("into exactly 2 segments"), std::string::npos) << e.what();
  }
}

TEST(PartitionOptimalTest, RejectsAnInvalidProblem) {
  EXPECT_THROW(partition_optimal(numbers({5, 3}, 10, 0, 10)), Error);
  EXPECT_THROW(partition_optimal(numbers({5, 11}, 10, 0, 10)), Error);
  EXPECT_THROW(partition_optimal(numbers({5}, 10, 0, 10, 3)), Error);
}

}  // namespace
}  // namespace pipecut
