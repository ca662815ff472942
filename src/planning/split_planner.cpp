#include <algorithm>
#include <cstdio>
#include <limits>
#include <numeric>

#include "pipecut/error.h"
#include "pipecut/network_plan.h"
#include "pipecut/planner.h"
#include "pipecut/sizes.h"

namespace pipecut {

const char* size_metric_name(SizeMetric m) {
  return m == SizeMetric::kParams ? "params" : "file";
}

SizeMetric parse_size_metric(const std::string& name) {
  if (name == "params") return SizeMetric::kParams;
  if (name == "file") return SizeMetric::kFile;
  throw Error("--size-metric: '" + name + "' is not one of params, file");
}

std::vector<int64_t> op_sizes(const Model& model, SizeMetric metric) {
  return metric == SizeMetric::kParams ? op_param_bytes(model) : op_file_bytes(model);
}

namespace {

// "ops 120..131 (conv5_block1_1_conv .. conv5_block1_out), largest CONV_2D 'conv5_block1_2_conv'
// 2.25 MiB": names the piece between two candidates when it alone exceeds HIGH.
std::string describe_piece(const Model& model, const std::vector<int64_t>& sizes, int first,
                           int last) {
  int largest = first;
  for (int i = first; i <= last; ++i) {
    if (sizes[static_cast<size_t>(i)] > sizes[static_cast<size_t>(largest)]) largest = i;
  }
  auto op_label = [&](int i) {
    const Op& op = model.ops()[static_cast<size_t>(i)];
    return op.outputs.empty() ? model.op_type(op)
                              : short_tensor_name(model.tensor(op.outputs[0]).name);
  };
  const Op& big = model.ops()[static_cast<size_t>(largest)];
  return "ops " + std::to_string(first) + ".." + std::to_string(last) + " (" + op_label(first) +
         " .. " + op_label(last) + "), largest " + model.op_type(big) + " '" + op_label(largest) +
         "' " + format_size(sizes[static_cast<size_t>(largest)]);
}

std::vector<int64_t> prefix_sums(const std::vector<int64_t>& sizes) {
  std::vector<int64_t> prefix(sizes.size());
  std::partial_sum(sizes.begin(), sizes.end(), prefix.begin());
  return prefix;
}

SplitPlan plan_named_cuts(const Model& model, const Graph& graph, const SplitOptions& options,
                          const std::vector<CutCandidate>& all,
                          const std::vector<int64_t>& prefix) {
  SplitPlan plan;
  plan.method = "cuts";
  for (const std::string& name : options.cuts) {
    const int t = find_tensor(model, graph, name);
    const int position = graph.producer[static_cast<size_t>(t)];
    const auto it = std::find_if(all.begin(), all.end(),
                                 [&](const CutCandidate& c) { return c.position == position; });
    if (it == all.end() ||
        std::find(it->tensors.begin(), it->tensors.end(), t) == it->tensors.end()) {
      throw Error(
          model.origin() + ": cannot cut at '" + name + "': more than " +
          std::to_string(options.candidates.max_tensors) +
          " activations are live after it (raise --max-cut-tensors for a multi-tensor cut)");
    }
    if (!it->usable()) {
      std::string reasons;
      for (const auto& r : it->reasons) reasons += (reasons.empty() ? "" : "; ") + r;
      throw Error(model.origin() + ": cannot cut at '" + name + "': " + reasons);
    }
    plan.cut_positions.push_back(position);
    plan.cut_tensors.push_back(it->tensors);
  }
  for (size_t i = 1; i < plan.cut_positions.size(); ++i) {
    if (plan.cut_positions[i] <= plan.cut_positions[i - 1]) {
      throw Error(model.origin() + ": --cuts must name distinct cuts in execution order ('" +
                  options.cuts[i - 1] + "' does not come before '" + options.cuts[i] + "')");
    }
  }
  int64_t before = 0;
  plan.partition.algorithm = options.algorithm;
  plan.partition.low = options.low;
  plan.partition.high = options.high;
  for (int position : plan.cut_positions) {
    plan.sizes.push_back(prefix[static_cast<size_t>(position)] - before);
    before = prefix[static_cast<size_t>(position)];
  }
  plan.sizes.push_back(prefix.back() - before);
  for (int64_t s : plan.sizes) {
    if (s < options.low || s > options.high) plan.partition.within_window = false;
  }
  plan.partition.sizes = plan.sizes;
  plan.partition.log.push_back("cuts given by name; no search");
  return plan;
}

// Throughput for workers on a network: as many segments as the knee of the granularity table.
SplitPlan plan_at_knee(const Model& model, const Graph& graph, const SplitOptions& options) {
  SplitOptions each = options;
  each.max_segments = 0;
  const Granularity table = plan_granularity(model, graph, each, options.max_segments);
  if (table.knee < 0) {
    throw Error(
        model.origin() + ": no partition into 1.." +
        std::to_string(table.rows.empty() ? options.max_segments : table.rows.back().segments) +
        " segments keeps every worker within " + format_size(options.speed.memory_limit) +
        " (weights plus activation arena; raise --worker-memory or --max-k)");
  }
  const GranularityRow& knee = table.rows[static_cast<size_t>(table.knee)];
  SplitPlan plan = knee.plan;
  double best = knee.timing.bottleneck_ms;
  for (const auto& row : table.rows)
    if (row.feasible) best = std::min(best, row.timing.bottleneck_ms);
  char line[200];
  std::snprintf(line, sizeof line,
                "%d segments: the knee of K = 1..%d, the fewest whose slowest stage is within "
                "%.0f %% of the best (%.3f ms)",
                knee.segments, table.rows.back().segments, kKneeTolerance * 100, best);
  plan.partition.log.push_back(line);
  return plan;
}

}  // namespace

SplitPlan plan_split(const Model& model, const Graph& graph, const SplitOptions& options) {
  if (model.ops().empty()) throw Error(model.origin() + ": the model has no ops to split");
  if (options.cuts.empty() && options.algorithm == Algorithm::kThroughput &&
      options.segments == 0 && options.max_segments > 0) {
    return plan_at_knee(model, graph, options);
  }
  const std::vector<int64_t> sizes = op_sizes(model, options.metric);
  const std::vector<int64_t> prefix = prefix_sums(sizes);
  const auto candidates = find_cut_candidates(model, graph, options.candidates);
  if (!options.cuts.empty()) {
    SplitPlan plan = plan_named_cuts(model, graph, options, candidates, prefix);
    plan.metric = options.metric;
    return plan;
  }

  PartitionProblem problem;
  problem.total_size = prefix.back();
  problem.low = options.low;
  problem.high = options.high;
  problem.segments = options.segments;
  std::vector<const CutCandidate*> used;
  if (options.algorithm == Algorithm::kBalanced) {
    // The compiler's baseline may cut at any op boundary.
    for (int p = 0; p + 1 < static_cast<int>(sizes.size()); ++p) {
      problem.cuts.push_back({"after op " + std::to_string(p), prefix[static_cast<size_t>(p)], 0});
    }
  } else {
    for (const CutCandidate& c : candidates) {
      if (!c.usable()) continue;
      used.push_back(&c);
      problem.cuts.push_back({short_tensor_name(model.tensor(c.tensors.front()).name),
                              prefix[static_cast<size_t>(c.position)], c.crossing_bytes});
    }
    int first = 0;
    for (const CutCandidate* c : used) {
      problem.piece_labels.push_back(describe_piece(model, sizes, first, c->position));
      first = c->position + 1;
    }
    problem.piece_labels.push_back(
        describe_piece(model, sizes, first, static_cast<int>(sizes.size()) - 1));
  }

  SplitPlan plan;
  plan.metric = options.metric;
  plan.method = algorithm_name(options.algorithm);
  try {
    if (options.algorithm == Algorithm::kLatency || options.algorithm == Algorithm::kThroughput) {
      if (!options.speed.segment_ms || !options.speed.handoff_ms)
        throw Error(std::string("the ") + plan.method + " objective needs a target's cost model");
      const int last_op = static_cast<int>(sizes.size()) - 1;
      int64_t model_in = 0, model_out = 0;
      for (int t : model.inputs()) model_in += model.tensor(t).byte_size();
      for (int t : model.outputs()) model_out += model.tensor(t).byte_size();
      const bool limited = options.speed.memory_bytes && options.speed.memory_limit > 0;
      const auto solve = [&](bool with_limit) {
        SegmentCosts costs;
        costs.segment_ms = [&](int from, int to) {
          const bool starts = from < 0, ends = to >= static_cast<int>(used.size());
          const int first = starts ? 0 : used[static_cast<size_t>(from)]->position + 1;
          const int last = ends ? last_op : used[static_cast<size_t>(to)]->position;
          if (with_limit && options.speed.memory_bytes(first, last) > options.speed.memory_limit)
            return std::numeric_limits<double>::infinity();  // no worker can hold it
          const int64_t in = starts ? model_in : used[static_cast<size_t>(from)]->crossing_bytes;
          const int64_t out = ends ? model_out : used[static_cast<size_t>(to)]->crossing_bytes;
          return options.speed.segment_ms(first, last, in, out);
        };
        costs.handoff_ms = [&](int cut) {
          return options.speed.handoff_ms(used[static_cast<size_t>(cut)]->crossing_bytes);
        };
        return partition_for_speed(problem, costs, options.algorithm);
      };
      try {
        plan.partition = solve(limited);
      } catch (const Error&) {
        if (!limited) throw;
        solve(false);  // throws when the window alone leaves no partition; else memory is why
        throw Error("no partition " +
                    (problem.segments > 0
                         ? "into " + std::to_string(problem.segments) + " segments "
                         : std::string()) +
                    "keeps every worker within " + format_size(options.speed.memory_limit) +
                    " (weights plus activation arena; raise --worker-memory" +
                    (problem.segments > 0 ? " or --segments)" : ")"));
      }
    } else {
      plan.partition = run_partition(problem, options.algorithm);
    }
  } catch (const Error& e) {
    throw Error(model.origin() + ": " + e.what());
  }
  plan.sizes = plan.partition.sizes;
  for (int index : plan.partition.cuts) {
    if (options.algorithm == Algorithm::kBalanced) {  // its cuts are op boundaries
      plan.cut_positions.push_back(index);
      plan.cut_tensors.push_back(live_after(model, graph, index));
    } else {
      const CutCandidate* c = used[static_cast<size_t>(index)];
      plan.cut_positions.push_back(c->position);
      plan.cut_tensors.push_back(c->tensors);
    }
  }
  return plan;
}

}  // namespace pipecut
