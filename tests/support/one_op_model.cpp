#include "support/one_op_model.h"

#include <algorithm>
#include <memory>

namespace pipecut::testing {

Model build_one_op_model(const std::vector<OneOpTensor>& tensors, tflite::BuiltinOperator code,
                         tflite::BuiltinOptionsUnion options, const std::vector<int>& inputs,
                         const std::vector<int>& outputs) {
  tflite::ModelT m;
  m.version = 3;
  m.buffers.push_back(std::make_unique<tflite::BufferT>());
  auto code_t = std::make_unique<tflite::OperatorCodeT>();
  code_t->builtin_code = code;
  code_t->deprecated_builtin_code = static_cast<int8_t>(std::min<int>(code, 127));
  code_t->version = 1;
  m.operator_codes.push_back(std::move(code_t));
  auto sg = std::make_unique<tflite::SubGraphT>();
  for (const OneOpTensor& d : tensors) {
    auto t = std::make_unique<tflite::TensorT>();
    t->name = d.name;
    t->type = d.type;
    t->shape = d.shape;
    if (!d.scale.empty()) {
      t->quantization = std::make_unique<tflite::QuantizationParametersT>();
      t->quantization->scale = d.scale;
      t->quantization->zero_point = d.zero;
      t->quantization->quantized_dimension = d.axis;
    }
    if (!d.data.empty()) {
      auto b = std::make_unique<tflite::BufferT>();
      b->data = d.data;
      t->buffer = static_cast<uint32_t>(m.buffers.size());
      m.buffers.push_back(std::move(b));
    }
    sg->tensors.push_back(std::move(t));
  }
  auto op = std::make_unique<tflite::OperatorT>();
  op->opcode_index = 0;
  op->inputs = inputs;
  op->outputs = outputs;
  op->builtin_options = std::move(options);
  sg->operators.push_back(std::move(op));
  for (int i : inputs) {
    if (i >= 0 && tensors[static_cast<size_t>(i)].data.empty()) sg->inputs.push_back(i);
  }
  sg->outputs = outputs;
  m.subgraphs.push_back(std::move(sg));
  flatbuffers::FlatBufferBuilder fbb;
  tflite::FinishModelBuffer(fbb, tflite::Model::Pack(fbb, &m));
  return Model::from_bytes(
      std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()),
      "test-model");
}

}  // namespace pipecut::testing
