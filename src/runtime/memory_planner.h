#pragma once
// Tensor memory planned once per model: every buffer gets an offset in one arena, and buffers
// whose lifetimes overlap never share bytes. Greedy by size (largest first, lowest free offset),
// as TensorFlow Lite's arena planner does.
#include <cstdint>
#include <vector>

namespace pipecut::runtime {

struct BufferUse {
  int64_t bytes = 0;
  int first = 0;  // first step that writes (or, for a model input, -1)
  int last = 0;   // last step that reads (inclusive)
};

struct MemoryPlan {
  std::vector<int64_t> offsets;  // one per BufferUse, aligned
  int64_t arena_bytes = 0;
};

MemoryPlan plan_memory(const std::vector<BufferUse>& buffers, int64_t alignment = 64);

}  // namespace pipecut::runtime
