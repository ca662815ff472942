#pragma once
// The estimate's arithmetic on plain numbers per op, shared by estimate_edgetpu (a whole file)
// and the speed model (any op range of a model, evaluated many times while planning).
#include <cstdint>
#include <span>
#include <vector>

#include "pipecut/edgetpu_estimate.h"

namespace pipecut {

inline constexpr double kMiB = 1024.0 * 1024.0;

struct OpCost {
  bool on_tpu = false;
  bool dense = false;  // FULLY_CONNECTED: costs by its weight bytes, not its MACs
  int64_t param_bytes = 0, padded_macs = 0, macs = 0;
};

struct OpTiming {
  bool cached = false;
  double ms = 0;
};

struct SegmentTime {
  int64_t cache_bytes = 0, on_chip_bytes = 0, off_chip_bytes = 0;
  EdgeTpuLatency latency;
};

// Every op of the model with its layout and MACs; on_tpu says whether the compiler can map the op
// itself (the one-subgraph rule is applied by the caller, over the ops of the file it estimates).
std::vector<EstimatedOp> map_ops(const Model& model);
// The compiler maps one run of consecutive supported ops (see estimate_edgetpu).
std::vector<bool> one_subgraph(const std::vector<bool>& supported);
OpCost op_cost(const EstimatedOp& op);

// Caching in execution order and one invoke's latency, for ops whose inputs and outputs over the
// link are `input_bytes` and `output_bytes`. Appends one OpTiming per op to `per_op` when given.
SegmentTime time_segment(std::span<const OpCost> ops, int64_t input_bytes, int64_t output_bytes,
                         const EdgeTpuDevice& device, std::vector<OpTiming>* per_op = nullptr);

}  // namespace pipecut
