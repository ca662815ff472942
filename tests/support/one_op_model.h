#pragma once
// A .tflite of one op, built with the flatbuffers object API, for the runtime's kernel tests.
#include <cstdint>
#include <string>
#include <vector>

#include "format/tflite_schema.h"
#include "pipecut/model.h"

namespace pipecut::testing {

struct OneOpTensor {
  std::string name;
  tflite::TensorType type = tflite::TensorType_INT8;
  std::vector<int32_t> shape;
  std::vector<float> scale;  // 8-bit only
  std::vector<int64_t> zero;
  int axis = 0;               // quantized dimension of per-channel scales
  std::vector<uint8_t> data;  // constant bytes, empty for activations
};

// Op `code` with `options` reads `inputs` (-1: absent) and writes `outputs` (indices into
// `tensors`); the non-constant inputs become the model's inputs, in order.
Model build_one_op_model(const std::vector<OneOpTensor>& tensors, tflite::BuiltinOperator code,
                         tflite::BuiltinOptionsUnion options, const std::vector<int>& inputs,
                         const std::vector<int>& outputs);

}  // namespace pipecut::testing
