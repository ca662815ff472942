#include "pipecut/json.h"

namespace pipecut {

nlohmann::ordered_json tensor_json(const Tensor& tensor) {
  nlohmann::ordered_json quant = nullptr;
  if (tensor.quant.present()) {
    quant = {{"scale", tensor.quant.scale}, {"zero_point", tensor.quant.zero_point}};
    if (tensor.quant.per_channel()) quant["axis"] = tensor.quant.axis;
  }
  return {{"index", tensor.index},
          {"name", tensor.name},
          {"short_name", short_tensor_name(tensor.name)},
          {"shape", tensor.shape},
          {"type", dtype_name(tensor.type)},
          {"bytes", tensor.byte_size()},
          {"quantization", quant}};
}

nlohmann::ordered_json candidate_json(const Model& model, const CutCandidate& c) {
  nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
  for (int t : c.tensors) tensors.push_back(tensor_json(model.tensor(t)));
  return {{"position", c.position},
          {"after_op", model.op_type(model.ops()[static_cast<size_t>(c.position)])},
          {"tensors", tensors},
          {"crossing_bytes", c.crossing_bytes},
          {"params_before", c.params_before},
          {"usable", c.usable()},
          {"reasons", c.reasons}};
}

nlohmann::ordered_json plan_json(const Model& model, const SplitPlan& plan) {
  nlohmann::ordered_json cuts = nlohmann::ordered_json::array();
  for (size_t i = 0; i < plan.cut_positions.size(); ++i) {
    nlohmann::ordered_json names = nlohmann::ordered_json::array(),
                           shorts = nlohmann::ordered_json::array();
    for (int t : plan.cut_tensors[i]) {
      names.push_back(model.tensor(t).name);
      shorts.push_back(short_tensor_name(model.tensor(t).name));
    }
    cuts.push_back(
        {{"after_op", plan.cut_positions[i]}, {"tensors", names}, {"short_names", shorts}});
  }
  return {{"method", plan.method},
          {"size_metric", size_metric_name(plan.metric)},
          {"window", {{"low", plan.partition.low}, {"high", plan.partition.high}}},
          {"within_window", plan.partition.within_window},
          {"segments", plan.sizes.size()},
          {"segment_sizes", plan.sizes},
          {"cuts", cuts},
          {"log", plan.partition.log}};
}

}  // namespace pipecut
