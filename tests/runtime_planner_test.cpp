// The tensor memory planner: buffers whose lifetimes overlap never share bytes, buffers whose
// lifetimes do not overlap share memory, offsets are aligned, and the arena holds them all.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "runtime/memory_planner.h"

namespace pipecut::runtime {
namespace {

void expect_valid(const std::vector<BufferUse>& uses, const MemoryPlan& plan, int64_t alignment) {
  ASSERT_EQ(plan.offsets.size(), uses.size());
  for (size_t i = 0; i < uses.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % alignment, 0);
    EXPECT_LE(plan.offsets[i] + uses[i].bytes, plan.arena_bytes);
    for (size_t j = i + 1; j < uses.size(); ++j) {
      const bool live_together = uses[i].first <= uses[j].last && uses[j].first <= uses[i].last;
      const bool share = plan.offsets[i] < plan.offsets[j] + uses[j].bytes &&
                         plan.offsets[j] < plan.offsets[i] + uses[i].bytes;
      if (live_together) {
        EXPECT_FALSE(share) << i << " and " << j;
      }
    }
  }
}

TEST(RuntimePlanner, ReusesMemoryOfFinishedBuffers) {
  // A chain: each step reads the previous buffer and writes the next.
  std::vector<BufferUse> chain;
  for (int s = 0; s < 10; ++s) chain.push_back({1000, s, s + 1});
  const MemoryPlan plan = plan_memory(chain, 64);
  expect_valid(chain, plan, 64);
  EXPECT_EQ(plan.arena_bytes, 2 * 1024);  // two buffers alive at a time
}

TEST(RuntimePlanner, KeepsOverlappingBuffersApart) {
  std::mt19937 rng(1);
  for (int round = 0; round < 20; ++round) {
    std::vector<BufferUse> uses;
    int64_t total = 0;
    for (int i = 0; i < 40; ++i) {
      const int first = static_cast<int>(rng() % 30) - 1;
      const int last = first + static_cast<int>(rng() % 8);
      uses.push_back({static_cast<int64_t>(rng() % 5000 + 1), first, last});
      total += (uses.back().bytes + 63) / 64 * 64;
    }
    const MemoryPlan plan = plan_memory(uses, 64);
    expect_valid(uses, plan, 64);
    EXPECT_LE(plan.arena_bytes, total);
  }
}

}  // namespace
}  // namespace pipecut::runtime
