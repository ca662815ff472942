#include <algorithm>
#include <unordered_set>

#include "pipecut/analysis.h"
#include "pipecut/error.h"
#include "pipecut/model_writer.h"
#include "pipecut/slicer.h"

namespace pipecut {

namespace {

// Model-order entries of `preferred` that are in `set`, then the rest of `set` ascending.
std::vector<int> ordered(const std::unordered_set<int>& set, const std::vector<int>& preferred) {
  std::vector<int> out;
  for (int t : preferred) {
    if (set.count(t) && std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  }
  std::vector<int> rest;
  for (int t : set) {
    if (std::find(out.begin(), out.end(), t) == out.end()) rest.push_back(t);
  }
  std::sort(rest.begin(), rest.end());
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

}  // namespace

SegmentPlan plan_op_range(const Model& model, const Graph& graph, int first_op, int last_op) {
  const int n = static_cast<int>(model.ops().size());
  if (first_op < 0 || last_op >= n || first_op > last_op) {
    throw Error(model.origin() + ": op range " + std::to_string(first_op) + ".." +
                std::to_string(last_op) + " is empty or outside 0.." + std::to_string(n - 1));
  }
  SegmentPlan plan;
  plan.first_op = first_op;
  plan.last_op = last_op;
  std::unordered_set<int> inputs, outputs;
  std::unordered_set<uint32_t> buffers;
  for (int i = first_op; i <= last_op; ++i) {
    const Op& op = model.ops()[static_cast<size_t>(i)];
    for (int t : op.inputs) {
      if (t < 0) continue;
      const Tensor& tensor = model.tensor(t);
      if (tensor.is_constant()) {
        if (buffers.insert(tensor.buffer).second) {
          plan.stored_param_bytes += static_cast<int64_t>(tensor.data.size());
        }
        continue;
      }
      if (graph.is_activation(t) && graph.producer[static_cast<size_t>(t)] < first_op)
        inputs.insert(t);
    }
    for (int t : op.outputs) {
      if (graph.used_after(t, last_op)) outputs.insert(t);
    }
  }
  const std::vector<int64_t> attributed = op_param_bytes(model);
  for (int i = first_op; i <= last_op; ++i) plan.param_bytes += attributed[static_cast<size_t>(i)];
  plan.inputs = ordered(inputs, model.inputs());
  plan.outputs = ordered(outputs, model.outputs());
  return plan;
}

std::vector<SegmentPlan> plan_segments(const Model& model, const Graph& graph,
                                       const std::vector<int>& cut_positions) {
  const int n = static_cast<int>(model.ops().size());
  std::vector<SegmentPlan> out;
  int first = 0;
  for (int cut : cut_positions) {
    if (cut < first || cut >= n - 1) {
      throw Error(model.origin() + ": cut after op " + std::to_string(cut) +
                  " is out of order or leaves an empty segment");
    }
    out.push_back(plan_op_range(model, graph, first, cut));
    first = cut + 1;
  }
  out.push_back(plan_op_range(model, graph, first, n - 1));
  return out;
}

namespace {

SubmodelSpec segment_spec(const SegmentPlan& plan, const std::string& description) {
  SubmodelSpec spec;
  for (int i = plan.first_op; i <= plan.last_op; ++i) spec.ops.push_back(i);
  spec.inputs = plan.inputs;
  spec.outputs = plan.outputs;
  spec.description = description;
  return spec;
}

}  // namespace

std::vector<uint8_t> write_segment(const Model& model, const SegmentPlan& plan,
                                   const std::string& description) {
  return write_submodel(model, segment_spec(plan, description));
}

void write_segment_to(const Model& model, const SegmentPlan& plan, const PiecesSink& sink) {
  write_submodel_to(model, segment_spec(plan, {}), sink);
}

SegmentPlan plan_tensor_range(const Model& model, const Graph& graph, int from_tensor,
                              int to_tensor) {
  const int from_producer = graph.producer[static_cast<size_t>(from_tensor)];
  const int to_producer = graph.producer[static_cast<size_t>(to_tensor)];
  if (to_producer < 0) {
    throw Error(model.origin() + ": '" + model.tensor(to_tensor).name +
                "' is a model input; --to needs a tensor an op produces");
  }
  if (to_producer <= from_producer) {
    throw Error(model.origin() + ": '" + model.tensor(to_tensor).name + "' comes before '" +
                model.tensor(from_tensor).name + "' in the execution order");
  }
  return plan_op_range(model, graph, from_producer + 1, to_producer);
}

}  // namespace pipecut
