#include <unordered_set>

#include "pipecut/analysis.h"

namespace pipecut {

std::vector<int64_t> op_param_bytes(const Model& model) {
  std::vector<int64_t> bytes(model.ops().size(), 0);
  std::unordered_set<uint32_t> counted;  // buffers already attributed to an earlier op
  for (const Op& op : model.ops()) {
    for (int t : op.inputs) {
      if (t < 0) continue;
      const Tensor& tensor = model.tensor(t);
      if (!tensor.is_constant()) continue;
      if (counted.insert(tensor.buffer).second) {
        bytes[static_cast<size_t>(op.index)] += static_cast<int64_t>(tensor.data.size());
      }
    }
  }
  return bytes;
}

std::vector<int64_t> op_file_bytes(const Model& model) {
  // Rough per-entry costs of the flatbuffer tables (measured on converter output): a tensor
  // table with its vtable, shape vector and quantization table; an op table with its option
  // table; each weight buffer is padded to 16 bytes.
  constexpr int64_t kTensorTable = 96, kPerDim = 4, kPerScale = 12, kOpTable = 72,
                    kBufferTable = 24;
  std::vector<int64_t> bytes(model.ops().size(), 0);
  std::vector<bool> tensor_counted(model.tensors().size(), false);
  std::unordered_set<uint32_t> buffer_counted;
  for (const Op& op : model.ops()) {
    int64_t& b = bytes[static_cast<size_t>(op.index)];
    b += kOpTable + 4 * static_cast<int64_t>(op.inputs.size() + op.outputs.size());
    for (const auto* list : {&op.inputs, &op.outputs, &op.intermediates}) {
      for (int t : *list) {
        if (t < 0 || tensor_counted[static_cast<size_t>(t)]) continue;
        tensor_counted[static_cast<size_t>(t)] = true;
        const Tensor& tensor = model.tensor(t);
        b += kTensorTable + static_cast<int64_t>(tensor.name.size()) +
             kPerDim * static_cast<int64_t>(tensor.shape.size()) +
             kPerScale * static_cast<int64_t>(tensor.quant.scale.size());
        if (tensor.is_constant() && buffer_counted.insert(tensor.buffer).second) {
          b += kBufferTable + ((static_cast<int64_t>(tensor.data.size()) + 15) / 16) * 16;
        }
      }
    }
  }
  return bytes;
}

}  // namespace pipecut
