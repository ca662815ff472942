#include "runtime/memory_planner.h"

#include <algorithm>
#include <numeric>

namespace pipecut::runtime {

namespace {

int64_t align_up(int64_t v, int64_t a) {
  return (v + a - 1) / a * a;
}

bool overlap(const BufferUse& a, const BufferUse& b) {
  return a.first <= b.last && b.first <= a.last;
}

}  // namespace

MemoryPlan plan_memory(const std::vector<BufferUse>& buffers, int64_t alignment) {
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (buffers[a].bytes != buffers[b].bytes) return buffers[a].bytes > buffers[b].bytes;
    return buffers[a].first < buffers[b].first;
  });

  std::vector<size_t> placed;
  std::vector<std::pair<int64_t, int64_t>> busy;  // [begin, end) of overlapping placed buffers
  for (size_t i : order) {
    const int64_t size = align_up(std::max<int64_t>(buffers[i].bytes, 1), alignment);
    busy.clear();
    for (size_t j : placed) {
      if (overlap(buffers[i], buffers[j])) {
        busy.emplace_back(
            plan.offsets[j],
            plan.offsets[j] + align_up(std::max<int64_t>(buffers[j].bytes, 1), alignment));
      }
    }
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (offset + size <= begin) break;
      offset = std::max(offset, end);
    }
    plan.offsets[i] = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, offset + size);
    placed.push_back(i);
  }
  return plan;
}

}  // namespace pipecut::runtime
