#pragma once
// From a model and the user's options to the cuts: builds the partition problem over the usable
// cut candidates (sizes by the chosen metric), runs the algorithm, or resolves cuts given by name.
#include <cstdint>
#include <string>
#include <vector>

#include "pipecut/analysis.h"
#include "pipecut/partition.h"

namespace pipecut {

enum class SizeMetric { kParams, kFile };
const char* size_metric_name(SizeMetric m);
SizeMetric parse_size_metric(const std::string& name);  // throws Error

struct SplitOptions {
  int64_t high = int64_t{7} << 20;  // HIGH, default 7 MiB
  int64_t low = 0;                  // LOW
  int segments = 0;                 // K; 0: the fewest feasible
  Algorithm algorithm = Algorithm::kOptimal;
  std::vector<std::string> cuts;  // cut at these tensors instead of searching
  SizeMetric metric = SizeMetric::kParams;
  CandidateOptions candidates;  // multi-tensor cuts, Edge TPU op rule
};

struct SplitPlan {
  std::vector<int> cut_positions;             // the last op of every segment but the last
  std::vector<std::vector<int>> cut_tensors;  // the activations crossing each cut
  std::vector<int64_t> sizes;                 // per segment, by the metric
  Partition partition;                        // algorithm, window used, log
  std::string method;                         // "greedy", "optimal", "balanced" or "cuts"
  SizeMetric metric = SizeMetric::kParams;
};

// Per-op sizes by the metric; the prefix sums of these are what the partitioners see.
std::vector<int64_t> op_sizes(const Model& model, SizeMetric metric);

SplitPlan plan_split(const Model& model, const Graph& graph, const SplitOptions& options);

}  // namespace pipecut
