// Which ops the Edge TPU compiler maps, from Coral's documented requirements: a supported op,
// 8-bit tensors, shapes fixed at compile time, at most three dimensions larger than one.
#include "format/tflite_schema.h"
#include "pipecut/edgetpu.h"
#include "pipecut/edgetpu_estimate.h"

namespace pipecut {

namespace {

int dims_above_one(const Tensor& t) {
  int n = 0;
  for (int32_t d : t.shape) n += d > 1 ? 1 : 0;
  return n;
}

}  // namespace

std::string edgetpu_cpu_reason(const Model& model, const Op& op) {
  using namespace tflite;
  if (op.builtin_code == BuiltinOperator_CUSTOM) return "custom op '" + op.custom_code + "'";
  if (!edgetpu_supports_op(op.builtin_code)) return "not an Edge TPU op";
  const bool quantize = op.builtin_code == BuiltinOperator_QUANTIZE;
  for (int index : op.inputs) {
    if (index < 0) continue;
    const Tensor& t = model.tensor(index);
    if (t.is_constant()) {
      // Weights must be 8-bit; biases (int32) and shape operands are fine.
      if ((t.type == DType::kFloat32 || t.type == DType::kFloat16) && !quantize)
        return "float weights";
      continue;
    }
    // QUANTIZE from float is the host's job at a model's edge (the TPU takes 8-bit data only).
    if (!is_8bit(t.type))
      return quantize ? "quantizes from " + std::string(dtype_name(t.type))
                      : std::string(dtype_name(t.type)) + " input";
    if (!t.has_static_shape()) return "dynamic shape";
    if (dims_above_one(t) > 3) return "more than 3 dimensions larger than 1";
  }
  for (int index : op.outputs) {
    const Tensor& t = model.tensor(index);
    if (!is_8bit(t.type)) return std::string(dtype_name(t.type)) + " output";
    if (!t.has_static_shape()) return "dynamic shape";
    if (dims_above_one(t) > 3) return "more than 3 dimensions larger than 1";
  }
  return "";
}

}  // namespace pipecut
