// What a CPU worker holds for one segment: its weights and an estimate of its activation arena
// from the tensor lifetimes inside the segment.
#include <algorithm>
#include <climits>

#include "pipecut/analysis.h"
#include "pipecut/error.h"
#include "pipecut/network_plan.h"

namespace pipecut {

namespace {

constexpr int64_t kAlignment = 64;  // the runtime's arena aligns every buffer so

}  // namespace

WorkerMemory::WorkerMemory(const Model& model, const Graph& graph)
    : ops_(static_cast<int>(model.ops().size())) {
  const std::vector<int64_t> params = op_param_bytes(model);
  weight_prefix_.assign(params.size() + 1, 0);
  for (size_t i = 0; i < params.size(); ++i) weight_prefix_[i + 1] = weight_prefix_[i] + params[i];
  for (const Tensor& t : model.tensors()) {
    if (t.is_constant() || !graph.is_activation(t.index)) continue;
    const auto& readers = graph.consumers[static_cast<size_t>(t.index)];
    const int producer = graph.producer[static_cast<size_t>(t.index)];
    const int last = graph.is_output[static_cast<size_t>(t.index)]
                         ? INT_MAX
                         : (readers.empty() ? producer : readers.back());
    const int64_t bytes =
        (std::max<int64_t>(t.byte_size(), 1) + kAlignment - 1) / kAlignment * kAlignment;
    lifetimes_.push_back({bytes, producer, last});
  }
  peak_.resize(static_cast<size_t>(ops_));
}

int64_t WorkerMemory::weight_bytes(int first, int last) const {
  if (first < 0 || last < first || last >= ops_) throw Error("WorkerMemory: no such op range");
  return weight_prefix_[static_cast<size_t>(last) + 1] - weight_prefix_[static_cast<size_t>(first)];
}

int64_t WorkerMemory::arena_bytes(int first, int last) const {
  if (first < 0 || last < first || last >= ops_) throw Error("WorkerMemory: no such op range");
  std::vector<int64_t>& peak = peak_[static_cast<size_t>(first)];
  if (peak.empty()) {
    // Live bytes at each op from `first` on, for a segment starting there: a tensor read at or
    // after `first` lives from max(its producer, first) to its last reader. Whether a later op
    // ends the segment does not change that: a tensor read past the segment's end is one of its
    // outputs, kept to the end.
    const size_t width = static_cast<size_t>(ops_ - first);
    std::vector<int64_t> diff(width + 1, 0);
    for (const Lifetime& t : lifetimes_) {
      if (t.last < first) continue;
      const int start = std::max(t.first, first);
      const int end = std::min(t.last, ops_ - 1);
      if (end < start) continue;
      diff[static_cast<size_t>(start - first)] += t.bytes;
      diff[static_cast<size_t>(end - first) + 1] -= t.bytes;
    }
    peak.resize(width);
    int64_t live = 0, highest = 0;
    for (size_t s = 0; s < width; ++s) {
      live += diff[s];
      highest = std::max(highest, live);
      peak[s] = highest;
    }
  }
  return peak[static_cast<size_t>(last - first)];
}

}  // namespace pipecut
