#pragma once
// From a model and the user's options to the cuts: builds the partition problem over the usable
// cut candidates (sizes by the chosen metric), runs the algorithm, or resolves cuts given by name.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pipecut/analysis.h"
#include "pipecut/partition.h"

namespace pipecut {

enum class SizeMetric { kParams, kFile };
const char* size_metric_name(SizeMetric m);
SizeMetric parse_size_metric(const std::string& name);  // throws Error

// What the speed objectives (Algorithm::kLatency, kThroughput) need to know of the target, in
// milliseconds: ops first..last run as one segment whose inputs and outputs total `in_bytes` and
// `out_bytes`, and handing `bytes` of tensors from one worker to the next. Optionally the bytes a
// worker needs to hold ops first..last (memory_bytes); with memory_limit > 0, the speed
// objectives treat a segment that needs more as infeasible (time_plan ignores the limit).
struct SpeedModel {
  std::function<double(int first_op, int last_op, int64_t in_bytes, int64_t out_bytes)> segment_ms;
  std::function<double(int64_t bytes)> handoff_ms;
  std::function<int64_t(int first_op, int last_op)> memory_bytes;
  int64_t memory_limit = 0;
};

struct SplitOptions {
  int64_t high = int64_t{7} << 20;  // HIGH, default 7 MiB
  int64_t low = 0;                  // LOW
  int segments = 0;                 // K; 0: the fewest feasible
  Algorithm algorithm = Algorithm::kOptimal;
  std::vector<std::string> cuts;  // cut at these tensors instead of searching
  SizeMetric metric = SizeMetric::kParams;
  CandidateOptions candidates;  // multi-tensor cuts, Edge TPU op rule
  SpeedModel speed;             // required by the latency and throughput algorithms
  // kThroughput without `segments`: 0 takes the fewest segments the window allows (a given set
  // of accelerators); N > 0 takes the knee of plan_granularity over K = 1..N (network_plan.h).
  int max_segments = 0;
};

struct SplitPlan {
  std::vector<int> cut_positions;             // the last op of every segment but the last
  std::vector<std::vector<int>> cut_tensors;  // the activations crossing each cut
  std::vector<int64_t> sizes;                 // per segment, by the metric
  Partition partition;                        // algorithm, window used, log
  std::string method;  // "greedy", "optimal", "balanced", "latency", "throughput" or "cuts"
  SizeMetric metric = SizeMetric::kParams;
};

// Per-op sizes by the metric; the prefix sums of these are what the partitioners see.
std::vector<int64_t> op_sizes(const Model& model, SizeMetric metric);

SplitPlan plan_split(const Model& model, const Graph& graph, const SplitOptions& options);

// A plan's speed by a SpeedModel: one input through the chain (segments plus hand-offs), and the
// slowest stage (hand-off in, segment, hand-off out), in milliseconds.
struct PlanTiming {
  double latency_ms = 0;
  double bottleneck_ms = 0;
  int bottleneck_segment = 0;  // 0-based
};
PlanTiming time_plan(const Model& model, const SplitPlan& plan, const SpeedModel& speed);

}  // namespace pipecut
