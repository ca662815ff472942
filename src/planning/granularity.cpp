// The granularity trade-off: the best split for throughput with exactly K segments, K = 1 up,
// and the knee where more workers stop paying.
#include <algorithm>

#include "pipecut/analysis.h"
#include "pipecut/error.h"
#include "pipecut/network_plan.h"

namespace pipecut {

namespace {

GranularityRow describe(const Model& model, SplitPlan plan, const SpeedModel& speed,
                        bool feasible) {
  GranularityRow row;
  row.segments = static_cast<int>(plan.sizes.size());
  row.feasible = feasible;
  row.timing = time_plan(model, plan, speed);
  row.worker_bytes = plan_worker_bytes(model, plan, speed);
  if (!row.worker_bytes.empty())
    row.max_worker_bytes = *std::max_element(row.worker_bytes.begin(), row.worker_bytes.end());
  for (const auto& tensors : plan.cut_tensors)
    for (int t : tensors) row.wire_bytes += model.tensor(t).byte_size();
  row.plan = std::move(plan);
  return row;
}

}  // namespace

std::vector<int64_t> plan_worker_bytes(const Model& model, const SplitPlan& plan,
                                       const SpeedModel& speed) {
  std::vector<int64_t> out;
  const int ops = static_cast<int>(model.ops().size());
  for (size_t i = 0; i < plan.sizes.size(); ++i) {
    const int first = i == 0 ? 0 : plan.cut_positions[i - 1] + 1;
    const int last = i + 1 == plan.sizes.size() ? ops - 1 : plan.cut_positions[i];
    out.push_back(speed.memory_bytes ? speed.memory_bytes(first, last) : 0);
  }
  return out;
}

int64_t largest_worker_bytes(const Model& model, const SplitPlan& plan, const SpeedModel& speed) {
  const auto bytes = plan_worker_bytes(model, plan, speed);
  return bytes.empty() ? 0 : *std::max_element(bytes.begin(), bytes.end());
}

Granularity plan_granularity(const Model& model, const Graph& graph, const SplitOptions& options,
                             int max_k) {
  if (!options.speed.segment_ms || !options.speed.handoff_ms)
    throw Error("plan_granularity: no cost model");
  if (max_k < 1) throw Error("--max-k must be at least 1");
  Granularity table;
  for (const CutCandidate& c : find_cut_candidates(model, graph, options.candidates))
    if (c.usable()) ++table.usable_cuts;
  const int top = std::min(max_k, table.usable_cuts + 1);
  const bool limited = options.speed.memory_bytes && options.speed.memory_limit > 0;
  std::string last_error;
  for (int k = 1; k <= top; ++k) {
    SplitOptions each = options;
    each.cuts.clear();
    each.algorithm = Algorithm::kThroughput;
    each.segments = k;
    each.max_segments = 0;
    try {
      table.rows.push_back(describe(model, plan_split(model, graph, each), options.speed, true));
      continue;
    } catch (const Error& e) {
      last_error = e.what();
    }
    if (!limited) continue;
    each.speed.memory_limit = 0;  // the best split over the limit, marked infeasible
    try {
      table.rows.push_back(describe(model, plan_split(model, graph, each), options.speed, false));
    } catch (const Error& e) {
      last_error = e.what();
    }
  }
  if (table.rows.empty()) throw Error(last_error);
  double best = 0;
  bool any = false;
  for (const auto& row : table.rows) {
    if (!row.feasible) continue;
    best = any ? std::min(best, row.timing.bottleneck_ms) : row.timing.bottleneck_ms;
    any = true;
  }
  for (size_t i = 0; i < table.rows.size() && any; ++i) {
    const auto& row = table.rows[i];
    if (row.feasible && row.timing.bottleneck_ms <= best * (1 + kKneeTolerance)) {
      table.knee = static_cast<int>(i);
      break;
    }
  }
  return table;
}

}  // namespace pipecut
