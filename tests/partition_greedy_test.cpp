// The greedy partitioner on plain numbers: the published ResNet-101 case exactly, one small case
// per step and fallback, and random inputs to show it always ends with a consistent partition.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "pipecut/error.h"
#include "pipecut/partition.h"
#include "support/partition_problems.h"

namespace pipecut {
namespace {

using testing::expect_consistent;
using testing::logged;
using testing::numbers;

constexpr int64_t kMiB = 1 << 20;

// The Keras ResNet-101 in INT8 with int32 biases (weights 1 B, biases 4 B): the usable cut
// candidates in model order, each with the parameter bytes before it. Crossing bytes are the int8
// activations at a 224x224 input.
PartitionProblem resnet101_int8(int64_t low, int64_t high) {
  PartitionProblem problem;
  problem.low = low;
  problem.high = high;
  int64_t params = 0;
  auto cut = [&](const std::string& name, int64_t crossing) {
    problem.cuts.push_back({name, params, crossing});
  };
  auto block = [](const std::string& stage, int b) {
    return stage + "_block" + std::to_string(b) + "_out";
  };
  cut("conv1_pad", 230 * 230 * 3);
  params += 9'664;  // stem conv1
  cut("conv1_relu", 112 * 112 * 64);
  cut("pool1_pad", 114 * 114 * 64);
  cut("pool1_pool", 56 * 56 * 64);
  for (int b = 1; b <= 3; ++b) {
    params += b == 1 ? 76'288 : 71'168;
    cut(block("conv2", b), 56 * 56 * 256);
  }
  for (int b = 1; b <= 4; ++b) {
    params += b == 1 ? 381'952 : 281'600;
    cut(block("conv3", b), 28 * 28 * 512);
  }
  for (int b = 1; b <= 23; ++b) {
    params += b == 1 ? 1'517'568 : 1'120'256;
    cut(block("conv4", b), 14 * 14 * 1024);
  }
  for (int b = 1; b <= 3; ++b) {
    params += b == 1 ? 6'049'792 : 4'468'736;
    cut(block("conv5", b), 7 * 7 * 2048);
  }
  cut("avg_pool", 2048);     // global pooling has no parameters
  params += 2'052'000;       // the dense layer
  cut("predictions", 1000);  // before the softmax, which has no parameters
  problem.total_size = params;
  return problem;
}

std::vector<std::string> cut_names(const PartitionProblem& problem, const Partition& partition) {
  std::vector<std::string> names;
  for (int c : partition.cuts) names.push_back(problem.cuts[c].name);
  return names;
}

TEST(PartitionGreedyTest, ResNet101HelperHasThePublishedSizes) {
  const PartitionProblem problem = resnet101_int8(2 * kMiB, 7 * kMiB);
  EXPECT_EQ(problem.total_size, 44'657'504);
  ASSERT_EQ(problem.cuts.size(), 39u);
  EXPECT_EQ(problem.cuts[1].name, "conv1_relu");
  EXPECT_EQ(problem.cuts[1].prefix_size, 9'664);
  EXPECT_EQ(problem.cuts[14].name, "conv4_block4_out");
  EXPECT_EQ(problem.cuts[14].prefix_size, 6'333'376);
  EXPECT_EQ(problem.cuts[36].name, "conv5_block3_out");
  EXPECT_EQ(problem.cuts[37].name, "avg_pool");
  EXPECT_EQ(problem.cuts[37].prefix_size, problem.cuts[36].prefix_size);
  EXPECT_EQ(problem.cuts[38].name, "predictions");
  EXPECT_EQ(problem.cuts[38].prefix_size, problem.total_size);
}

TEST(PartitionGreedyTest, ResNet101At7MiBGivesThePublishedCuts) {
  const PartitionProblem problem = resnet101_int8(2 * kMiB, 7 * kMiB);
  const Partition partition = partition_greedy(problem);
  expect_consistent(problem, partition);
  EXPECT_EQ(partition.algorithm, Algorithm::kGreedy);
  EXPECT_EQ(
      cut_names(problem, partition),
      (std::vector<std::string>{"conv4_block4_out", "conv4_block10_out", "conv4_block16_out",
                                "conv4_block22_out", "conv5_block1_out", "conv5_block2_out"}));
  EXPECT_EQ(partition.sizes, (std::vector<int64_t>{6'333'376, 6'721'536, 6'721'536, 6'721'536,
                                                   7'170'048, 4'468'736, 6'520'736}));
  EXPECT_TRUE(partition.within_window);
  EXPECT_EQ(partition.low, 2 * kMiB);
  EXPECT_EQ(partition.high, 7 * kMiB);
  // The log shows the initial K, the target and the cut of every segment, and no fallback.
  ASSERT_FALSE(partition.log.empty());
  EXPECT_NE(partition.log.front().find("K = 7"), std::string::npos);
  EXPECT_TRUE(logged(partition,
                     "segment 1: T = 6,379,643 B, cut at conv4_block4_out, size "
                     "6,333,376 B"));
  EXPECT_TRUE(logged(partition, "segment 6: T = 5,494,736 B, cut at conv5_block2_out"));
  EXPECT_TRUE(logged(partition, "segment 7 (last): the rest, size 6,520,736 B"));
  EXPECT_FALSE(logged(partition, "fallback"));
  EXPECT_FALSE(logged(partition, "last resort"));
}

TEST(PartitionGreedyTest, OptimalOnResNet101UsesSevenSegmentsAndNoLargerMaximum) {
  const PartitionProblem problem = resnet101_int8(2 * kMiB, 7 * kMiB);
  const Partition greedy = partition_greedy(problem);
  const Partition optimal = partition_optimal(problem);
  expect_consistent(problem, optimal);
  EXPECT_EQ(optimal.sizes.size(), 7u);
  EXPECT_TRUE(optimal.within_window);
  const int64_t greedy_max = *std::max_element(greedy.sizes.begin(), greedy.sizes.end());
  const int64_t optimal_max = *std::max_element(optimal.sizes.begin(), optimal.sizes.end());
  EXPECT_LE(optimal_max, greedy_max);
  // conv5_block1 alone is 6,049,792 B; with seven segments 7,170,048 B is the best possible.
  EXPECT_EQ(optimal_max, 7'170'048);
}

TEST(PartitionGreedyTest, BalancedBaselineOnResNet101OverflowsItsLastSegment) {
  const PartitionProblem problem = resnet101_int8(2 * kMiB, 7 * kMiB);
  const Partition balanced = partition_balanced(problem);
  expect_consistent(problem, balanced);
  EXPECT_EQ(
      cut_names(problem, balanced),
      (std::vector<std::string>{"conv4_block4_out", "conv4_block9_out", "conv4_block14_out",
                                "conv4_block19_out", "conv4_block23_out", "conv5_block1_out"}));
  EXPECT_EQ(balanced.sizes.back(), 10'989'472);
  EXPECT_FALSE(balanced.within_window);
}

TEST(PartitionGreedyTest, GivenSegmentCountIsUsed) {
  PartitionProblem problem = resnet101_int8(0, 44 * kMiB);
  problem.segments = 3;
  const Partition partition = partition_greedy(problem);
  expect_consistent(problem, partition);
  EXPECT_EQ(partition.sizes.size(), 3u);
  EXPECT_TRUE(partition.within_window);
  EXPECT_NE(partition.log.front().find("K = 3 (given)"), std::string::npos);
}

TEST(PartitionGreedyTest, TieGoesToTheEarlierCandidate) {
  // T = 5; c0 gives 4 and c1 gives 6.
  const PartitionProblem problem = numbers({4, 6}, 10, 0, 10, 2);
  const Partition partition = partition_greedy(problem);
  EXPECT_EQ(partition.cuts, (std::vector<int>{0}));
}

TEST(PartitionGreedyTest, Step3ScansOutwardFromThePreferredCut) {
  // Segment 1: T = 11.75; c1 (16) is closest but above HIGH, one step earlier c0 (7) fits.
  const PartitionProblem problem = numbers({7, 16, 21, 28, 34, 38, 46}, 47, 0, 14);
  const Partition partition = partition_greedy(problem);
  expect_consistent(problem, partition);
  EXPECT_EQ(partition.cuts, (std::vector<int>{0, 2, 4}));
  EXPECT_EQ(partition.sizes, (std::vector<int64_t>{7, 14, 13, 13}));
  EXPECT_TRUE(logged(partition, "closest to T was c1, size 16 B, outside the window); scanned"));
  EXPECT_FALSE(logged(partition, "fallback"));
}

TEST(PartitionGreedyTest, Fallback1MovesTheEndLaterPastAPlateau) {
  // Segment 1: T = 11.3; c0 and c1 (both 8) tie as closest and c0 is taken, below LOW = 9. The
  // alternating scan stops at once (nothing earlier), so fallback 1 walks later: c1, then c2.
  // Segment 2: T = 9.5; c5 (9) and c6 (10) tie, the earlier wins.
  const PartitionProblem problem = numbers({8, 8, 15, 18, 22, 24, 25, 34}, 34, 9, 15);
  const Partition partition = partition_greedy(problem);
  expect_consistent(problem, partition);
  EXPECT_EQ(partition.cuts, (std::vector<int>{2, 5}));
  EXPECT_EQ(partition.sizes, (std::vector<int64_t>{15, 9, 10}));
  EXPECT_TRUE(logged(partition,
                     "fallback 1: segment 1 at c0 is 8 B, below LOW; moved its end later to c2"));
  EXPECT_TRUE(partition.within_window);
}

TEST(PartitionGreedyTest, Fallback2MovesThePreviousEnd) {
  // Segment 3 from c2 (15) can end at c3 (2 B) or c4 (11 B): nothing fits [4, 10]. Its shortfall
  // is 1 B too large, so segment 2's end moves later, from c2 to c3, and segment 3 is redone.
  const PartitionProblem problem = numbers({7, 7, 15, 17, 26}, 33, 4, 10);
  const Partition partition = partition_greedy(problem);
  expect_consistent(problem, partition);
  EXPECT_EQ(partition.cuts, (std::vector<int>{0, 3, 4}));
  EXPECT_EQ(partition.sizes, (std::vector<int64_t>{7, 10, 9, 7}));
  EXPECT_TRUE(logged(partition, "fallback 1: segment 3 has no end inside the window"));
  EXPECT_TRUE(logged(partition, "fallback 2: moved the end of segment 2 from c2 to c3"));
  EXPECT_TRUE(partition.within_window);
}

TEST(PartitionGreedyTest, Fallback2SpreadsOverEarlierSegments) {
  // The last segment would be 14 B, 1 B above HIGH. Moving segment 2's end to c3 alone would make
  // it 15 B, so the 7 B move is spread over segments 1 and 2: ends c1 and c3.
  const PartitionProblem problem = numbers({8, 13, 16, 23, 26}, 30, 5, 13);
  const Partition partition = partition_greedy(problem);
  expect_consistent(problem, partition);
  EXPECT_EQ(partition.cuts, (std::vector<int>{1, 3}));
  EXPECT_EQ(partition.sizes, (std::vector<int64_t>{13, 10, 7}));
  EXPECT_TRUE(logged(partition, "segment 3 (last) would be 14 B, 1 B too large"));
  EXPECT_TRUE(logged(partition, "spread it over segments 1-2"));
  EXPECT_TRUE(partition.within_window);
}

TEST(PartitionGreedyTest, LastResortAddsOneSegment) {
  // With K = 3 the last segment ends up 15 B and no earlier end can take 4 B more; K = 4 works.
  const PartitionProblem problem = numbers({3, 3, 8, 14, 23}, 29, 2, 11);
  const Partition partition = partition_greedy(problem);
  expect_consistent(problem, partition);
  EXPECT_EQ(partition.cuts, (std::vector<int>{2, 3, 4}));
  EXPECT_EQ(partition.sizes, (std::vector<int64_t>{8, 6, 9, 6}));
  EXPECT_TRUE(logged(partition, "one more segment, K = 4"));
  EXPECT_FALSE(logged(partition, "widened"));
  EXPECT_TRUE(partition.within_window);
}

TEST(PartitionGreedyTest, LastResortWidensTheWindow) {
  // The last piece (9 B) is above HIGH = 8 and there is no cut for a fourth segment.
  const PartitionProblem problem = numbers({8, 9}, 18, 0, 8);
  const Partition partition = partition_greedy(problem);
  expect_consistent(problem, partition);
  EXPECT_EQ(partition.sizes, (std::vector<int64_t>{8, 1, 9}));
  EXPECT_EQ(partition.low, 0);
  EXPECT_EQ(partition.high, 9);
  EXPECT_FALSE(partition.within_window);
  EXPECT_TRUE(logged(partition, "last resort: window widened by 5% to [0 B, 9 B]"));
  EXPECT_FALSE(logged(partition, "one more segment"));
}

TEST(PartitionGreedyTest, GivenSegmentCountIsKeptByTheLastResort) {
  const PartitionProblem problem = numbers({4, 11, 20, 27}, 32, 1, 10, 4);
  const Partition partition = partition_greedy(problem);
  expect_consistent(problem, partition);
  EXPECT_EQ(partition.sizes, (std::vector<int64_t>{11, 9, 7, 5}));
  EXPECT_EQ(partition.high, 11);
  EXPECT_FALSE(logged(partition, "one more segment"));
  EXPECT_TRUE(logged(partition, "widened by 5%"));
}

TEST(PartitionGreedyTest, PieceLargerThanTheTotalWindowStillEnds) {
  // One piece is 100x HIGH: widening in 5% steps cannot reach it, the window opens fully.
  const PartitionProblem problem = numbers({1, 1001}, 1002, 1, 10);
  const Partition partition = partition_greedy(problem);
  expect_consistent(problem, partition);
  EXPECT_FALSE(partition.within_window);
  EXPECT_LE(partition.low, 1);
  EXPECT_GE(partition.high, 1000);
}

TEST(PartitionGreedyTest, RandomProblemsAlwaysEndConsistent) {
  for (uint32_t seed = 0; seed < 3000; ++seed) {
    std::mt19937 rng(seed);
    const int n = static_cast<int>(rng() % 20);
    std::vector<int64_t> prefixes;
    int64_t total = 0;
    for (int i = 0; i < n; ++i) {
      total += rng() % 4 == 0 ? 0 : rng() % 12;
      prefixes.push_back(total);
    }
    total += 1 + rng() % 12;
    const int64_t high = 1 + rng() % 25;
    const int64_t low = rng() % 3 == 0 ? 0 : rng() % (high + 1);
    const int segments = rng() % 3 == 0 ? 1 + static_cast<int>(rng() % (n + 1)) : 0;
    const PartitionProblem problem = numbers(prefixes, total, low, high, segments);
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Partition partition = partition_greedy(problem);
    expect_consistent(problem, partition);
    if (segments > 0) {
      EXPECT_EQ(partition.sizes.size(), static_cast<size_t>(segments));
    }
    EXPECT_LE(partition.low, low);
    EXPECT_GE(partition.high, high);
    for (int64_t size : partition.sizes) {
      EXPECT_GE(size, partition.low);
      EXPECT_LE(size, partition.high);
    }
    const bool inside = std::all_of(partition.sizes.begin(), partition.sizes.end(),
                                    [&](int64_t s) { return low <= s && s <= high; });
    EXPECT_EQ(partition.within_window, inside);
    EXPECT_FALSE(partition.log.empty());
  }
}

TEST(PartitionGreedyTest, ManyCandidatesEndQuickly) {
  std::mt19937 rng(7);
  std::vector<int64_t> prefixes;
  int64_t total = 0;
  for (int i = 0; i < 10'000; ++i) {
    total += 1'000 + rng() % 50'000;
    prefixes.push_back(total);
  }
  total += 10'000;
  const PartitionProblem problem = numbers(prefixes, total, 4'000'000, 8'000'000);
  const Partition partition = partition_greedy(problem);
  expect_consistent(problem, partition);
  EXPECT_TRUE(partition.within_window);
}

TEST(PartitionGreedyTest, RejectsAnInvalidProblem) {
  EXPECT_THROW(partition_greedy(numbers({5, 3}, 10, 0, 10)), Error);
  EXPECT_THROW(partition_greedy(numbers({5}, 10, 0, 0)), Error);
  EXPECT_THROW(partition_greedy(numbers({5}, 10, 6, 5)), Error);
  EXPECT_THROW(partition_greedy(numbers({5}, 0, 0, 10)), Error);
}

}  // namespace
}  // namespace pipecut
