// Ranges of every activation over the calibration inputs, from our float runtime keeping them.
#include <algorithm>
#include <cstring>

#include "pipecut/error.h"
#include "pipecut/quant.h"

namespace pipecut {

namespace {

void widen(std::pair<float, float>& range, const TensorValue& v) {
  const size_t n = v.data.size() / 4;
  for (size_t i = 0; i < n; ++i) {
    float x;
    std::memcpy(&x, v.data.data() + 4 * i, 4);
    range.first = std::min(range.first, x);
    range.second = std::max(range.second, x);
  }
}

}  // namespace

Ranges calibrate(const Model& model, const std::vector<std::vector<TensorValue>>& inputs,
                 const ProgressFn& progress) {
  return calibrate(
      model, static_cast<int>(inputs.size()), [&](int i) { return inputs[static_cast<size_t>(i)]; },
      progress);
}

Ranges calibrate(const Model& model, int count,
                 const std::function<std::vector<TensorValue>(int)>& input_at,
                 const ProgressFn& progress) {
  if (count <= 0) throw Error(model.origin() + ": no calibration inputs");
  // Every float activation an op makes, kept by name; the model's inputs are read directly.
  CpuOptions options;
  std::map<std::string, int> index_of;
  for (const Op& op : model.ops()) {
    for (int t : op.outputs) {
      const Tensor& tensor = model.tensor(t);
      if (tensor.type != DType::kFloat32) continue;
      if (index_of.emplace(tensor.name, t).second) options.keep.push_back(tensor.name);
    }
  }
  auto executable = load_cpu(model, options);
  Ranges ranges;
  const auto fresh =
      std::make_pair(std::numeric_limits<float>::max(), std::numeric_limits<float>::lowest());
  for (int i = 0; i < count; ++i) {
    const std::vector<TensorValue> input = input_at(i);
    const auto outputs = executable->run(input);
    for (size_t k = 0; k < input.size(); ++k) {
      const int t = model.inputs().at(k);
      if (model.tensor(t).type != DType::kFloat32) continue;
      widen(ranges.min_max.try_emplace(t, fresh).first->second, input[k]);
    }
    for (const TensorValue& v : executable->kept()) {
      const auto it = index_of.find(v.name);
      if (it != index_of.end())
        widen(ranges.min_max.try_emplace(it->second, fresh).first->second, v);
    }
    for (size_t k = 0; k < outputs.size(); ++k) {
      const int t = model.outputs().at(k);
      if (model.tensor(t).type == DType::kFloat32)
        widen(ranges.min_max.try_emplace(t, fresh).first->second, outputs[k]);
    }
    ++ranges.inputs;
    if (progress) progress(i + 1, count, "calibrating");
  }
  return ranges;
}

}  // namespace pipecut
