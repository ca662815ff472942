// The Edge TPU compiler's baseline on plain numbers, plus what all partitioners share: algorithm
// names, dispatch and problem validation.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "pipecut/error.h"
#include "pipecut/partition.h"
#include "support/partition_problems.h"

namespace pipecut {
namespace {

using testing::logged;
using testing::numbers;

// The message of the pipecut::Error that `run` throws; fails the test when it throws none.
template <typename Run>
std::string error_of(Run run) {
  try {
    run();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected pipecut::Error";
  return "";
}

TEST(PartitionBalancedTest, CutsBeforeASegmentWouldExceedTheAverage) {
  // Ten pieces of 2 B; K = ceil(20 / 7) = 3, so segments close before exceeding 6.67 B.
  const PartitionProblem problem = numbers({2, 4, 6, 8, 10, 12, 14, 16, 18}, 20, 0, 7);
  const Partition partition = partition_balanced(problem);
  EXPECT_EQ(partition.algorithm, Algorithm::kBalanced);
  EXPECT_EQ(partition.cuts, (std::vector<int>{2, 5}));
  EXPECT_EQ(partition.sizes, (std::vector<int64_t>{6, 6, 8}));
  // The remainder lands in the last segment, over HIGH: the baseline does not look ahead.
  EXPECT_FALSE(partition.within_window);
  EXPECT_TRUE(logged(partition, "segment 3 (8 B) is outside [0 B, 7 B]"));
}

TEST(PartitionBalancedTest, StaysWithinWhenTheAverageFits) {
  // K = 4 given: segments close before exceeding 5 B, and the remaining 8 B fit HIGH = 8 B.
  const PartitionProblem problem = numbers({2, 4, 6, 8, 10, 12, 14, 16, 18}, 20, 0, 8, 4);
  const Partition partition = partition_balanced(problem);
  EXPECT_EQ(partition.cuts, (std::vector<int>{1, 3, 5}));
  EXPECT_EQ(partition.sizes, (std::vector<int64_t>{4, 4, 4, 8}));
  EXPECT_TRUE(partition.within_window);
  EXPECT_TRUE(logged(partition, "every segment is within"));
}

TEST(PartitionBalancedTest, CutsAnywayWhenTheNextCutIsAlreadyTooFar) {
  const PartitionProblem problem = numbers({8, 9, 10}, 12, 0, 12, 2);
  const Partition partition = partition_balanced(problem);
  EXPECT_EQ(partition.cuts, (std::vector<int>{0}));
  EXPECT_EQ(partition.sizes, (std::vector<int64_t>{8, 4}));
  EXPECT_TRUE(logged(partition, "the next cut already exceeds total / K"));
}

TEST(PartitionBalancedTest, StopsWhenTheCutsRunOut) {
  const PartitionProblem problem = numbers({1, 2, 3}, 100, 0, 100, 4);
  const Partition partition = partition_balanced(problem);
  EXPECT_EQ(partition.cuts, (std::vector<int>{2}));
  EXPECT_EQ(partition.sizes, (std::vector<int64_t>{3, 97}));
  EXPECT_TRUE(logged(partition, "ran out of cuts"));
}

TEST(PartitionBalancedTest, NeverThrowsForAnImpossibleWindow) {
  // One piece is 50 B with HIGH = 10 B; optimal refuses, balanced reports.
  const PartitionProblem problem = numbers({50}, 100, 5, 10);
  EXPECT_THROW(partition_optimal(problem), Error);
  const Partition partition = partition_balanced(problem);
  EXPECT_EQ(partition.sizes, (std::vector<int64_t>{50, 50}));
  EXPECT_FALSE(partition.within_window);
}

TEST(PartitionBalancedTest, ZeroSizedCutsAreSkippedOver) {
  // Cuts at the same prefix: the walk takes the last one that still fits.
  const PartitionProblem problem = numbers({0, 0, 5, 5, 10, 10}, 15, 0, 5);
  const Partition partition = partition_balanced(problem);
  EXPECT_EQ(partition.cuts, (std::vector<int>{3, 5}));
  EXPECT_EQ(partition.sizes, (std::vector<int64_t>{5, 5, 5}));
  EXPECT_TRUE(partition.within_window);
}

TEST(PartitionAlgorithmTest, NamesRoundTrip) {
  for (Algorithm a : {Algorithm::kGreedy, Algorithm::kOptimal, Algorithm::kBalanced}) {
    EXPECT_EQ(parse_algorithm(algorithm_name(a)), a);
  }
  EXPECT_STREQ(algorithm_name(Algorithm::kGreedy), "greedy");
  EXPECT_STREQ(algorithm_name(Algorithm::kOptimal), "optimal");
  EXPECT_STREQ(algorithm_name(Algorithm::kBalanced), "balanced");
}

TEST(PartitionAlgorithmTest, UnknownNameListsTheChoices) {
  const std::string message = error_of([] { parse_algorithm("fastest"); });
  EXPECT_NE(message.find("'fastest'"), std::string::npos) << message;
  EXPECT_NE(message.find("greedy, optimal, balanced, latency or throughput"), std::string::npos)
      << message;
}

TEST(PartitionAlgorithmTest, RunPartitionDispatches) {
  const PartitionProblem problem = numbers({2, 4, 6, 8, 10, 12, 14, 16, 18}, 20, 0, 7);
  for (Algorithm a : {Algorithm::kGreedy, Algorithm::kOptimal, Algorithm::kBalanced}) {
    EXPECT_EQ(run_partition(problem, a).algorithm, a);
  }
}

TEST(PartitionValidationTest, RejectsInvalidProblemsWithOneLine) {
  const std::vector<std::pair<PartitionProblem, std::string>> cases = {
      {numbers({}, 0, 0, 10), "the model is empty"},
      {numbers({5}, 10, 0, 0), "HIGH must be positive"},
      {numbers({5}, 10, -1, 10), "LOW must not be negative"},
      {numbers({5}, 10, 8, 7), "LOW (8 B) is larger than HIGH (7 B)"},
      {numbers({5, 3}, 10, 0, 10), "cut 'c1' has prefix size 3 B, below the previous 5 B"},
      {numbers({5, 11}, 10, 0, 10), "cut 'c1' has prefix size 11 B, beyond the total size 10 B"},
      {numbers({5}, 10, 0, 10, 3), "3 segments need 2 cuts but only 1 candidate cuts are given"},
      {numbers({5}, 10, 0, 10, -1), "segment count must not be negative"},
  };
  for (const auto& entry : cases) {
    const PartitionProblem& problem = entry.first;
    const std::string& expected = entry.second;
    for (Algorithm a : {Algorithm::kGreedy, Algorithm::kOptimal, Algorithm::kBalanced}) {
      const std::string message = error_of([&] { run_partition(problem, a); });
      EXPECT_NE(message.find(expected), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
  PartitionProblem labels = numbers({5}, 10, 0, 10);
  labels.piece_labels = {"only one"};
  EXPECT_NE(error_of([&] { partition_balanced(labels); }).find("piece_labels has 1 entries"),
            std::string::npos);
  PartitionProblem crossing = numbers({5}, 10, 0, 10);
  crossing.cuts[0].crossing_bytes = -1;
  EXPECT_NE(error_of([&] { partition_balanced(crossing); }).find("negative crossing bytes"),
            std::string::npos);
}

}  // namespace
}  // namespace pipecut
