#include "format/tflite_schema.h"
#include "pipecut/analysis.h"

namespace pipecut {

std::vector<int64_t> op_macs(const Model& model) {
  std::vector<int64_t> macs(model.ops().size(), 0);
  for (const Op& op : model.ops()) {
    if (op.inputs.size() < 2 || op.inputs[1] < 0 || op.outputs.empty()) continue;
    const Tensor& weights = model.tensor(op.inputs[1]);
    const Tensor& out = model.tensor(op.outputs[0]);
    const int64_t out_elements = out.num_elements();
    int64_t& m = macs[static_cast<size_t>(op.index)];
    switch (op.builtin_code) {
      case tflite::BuiltinOperator_CONV_2D:  // weights [O, KH, KW, I]
        if (weights.shape.size() == 4)
          m = out_elements * weights.shape[1] * weights.shape[2] * weights.shape[3];
        break;
      case tflite::BuiltinOperator_DEPTHWISE_CONV_2D:  // weights [1, KH, KW, C*M]
        if (weights.shape.size() == 4) m = out_elements * weights.shape[1] * weights.shape[2];
        break;
      case tflite::BuiltinOperator_FULLY_CONNECTED:  // weights [O, I]
        if (weights.shape.size() == 2) m = out_elements * weights.shape[1];
        break;
      default:
        break;
    }
  }
  return macs;
}

}  // namespace pipecut
