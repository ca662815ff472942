#include "onnx/tflite_emitter.h"

#include <cstring>

#include "pipecut/error.h"

namespace pipecut::onnx_import {

TfliteEmitter::TfliteEmitter() : model_(std::make_unique<tflite::ModelT>()) {
  model_->version = 3;
  model_->buffers.push_back(std::make_unique<tflite::BufferT>());  // buffer 0: the empty one
  model_->subgraphs.push_back(std::make_unique<tflite::SubGraphT>());
  graph_ = model_->subgraphs.back().get();
  graph_->name = "main";
}

int TfliteEmitter::tensor(const std::string& name, const std::vector<int32_t>& shape,
                          tflite::TensorType type, std::vector<uint8_t> data) {
  auto t = std::make_unique<tflite::TensorT>();
  names_.insert(name);
  t->name = name;
  t->shape = shape;
  t->type = type;
  t->buffer = 0;
  if (!data.empty()) {
    auto buffer = std::make_unique<tflite::BufferT>();
    buffer->data = std::move(data);
    model_->buffers.push_back(std::move(buffer));
    t->buffer = static_cast<uint32_t>(model_->buffers.size() - 1);
  }
  graph_->tensors.push_back(std::move(t));
  return static_cast<int>(graph_->tensors.size() - 1);
}

int TfliteEmitter::activation(const std::string& name, const std::vector<int32_t>& shape,
                              tflite::TensorType type) {
  return tensor(name, shape, type, {});
}

int TfliteEmitter::constant(const std::string& name, const std::vector<int32_t>& shape,
                            std::span<const float> data) {
  std::vector<uint8_t> bytes(data.size_bytes());
  if (!bytes.empty()) std::memcpy(bytes.data(), data.data(), bytes.size());
  const int t = tensor(name, shape, tflite::TensorType_FLOAT32, std::move(bytes));
  return t;
}

int TfliteEmitter::constant_i32(const std::string& name, const std::vector<int32_t>& shape,
                                std::span<const int32_t> data) {
  std::vector<uint8_t> bytes(data.size_bytes());
  if (!bytes.empty()) std::memcpy(bytes.data(), data.data(), bytes.size());
  return tensor(name, shape, tflite::TensorType_INT32, std::move(bytes));
}

void TfliteEmitter::op(tflite::BuiltinOperator code, std::vector<int32_t> inputs,
                       std::vector<int32_t> outputs, tflite::BuiltinOptionsUnion options,
                       int version) {
  int32_t index = -1;
  for (size_t i = 0; i < model_->operator_codes.size(); ++i) {
    const auto& c = *model_->operator_codes[i];
    if (c.builtin_code == code && c.version == version) index = static_cast<int32_t>(i);
  }
  if (index < 0) {
    auto c = std::make_unique<tflite::OperatorCodeT>();
    c->builtin_code = code;
    // The deprecated 8-bit field holds the code where it fits, as the converter writes it.
    c->deprecated_builtin_code =
        static_cast<int8_t>(code < tflite::BuiltinOperator_PLACEHOLDER_FOR_GREATER_OP_CODES
                                ? code
                                : tflite::BuiltinOperator_PLACEHOLDER_FOR_GREATER_OP_CODES);
    c->version = version;
    model_->operator_codes.push_back(std::move(c));
    index = static_cast<int32_t>(model_->operator_codes.size() - 1);
  }
  auto o = std::make_unique<tflite::OperatorT>();
  o->opcode_index = static_cast<uint32_t>(index);
  o->inputs = std::move(inputs);
  o->outputs = std::move(outputs);
  o->builtin_options = std::move(options);
  graph_->operators.push_back(std::move(o));
}

const std::string& TfliteEmitter::name(int t) const {
  return graph_->tensors.at(static_cast<size_t>(t))->name;
}
void TfliteEmitter::rename(int t, const std::string& name) {
  auto& tensor = *graph_->tensors.at(static_cast<size_t>(t));
  names_.erase(tensor.name);
  names_.insert(name);
  tensor.name = name;
}
const std::vector<int32_t>& TfliteEmitter::shape(int t) const {
  return graph_->tensors.at(static_cast<size_t>(t))->shape;
}
bool TfliteEmitter::has_name(const std::string& name) const {
  return names_.count(name) > 0;
}
std::string TfliteEmitter::fresh_name(const std::string& base) const {
  if (!names_.count(base)) return base;
  for (int& i = next_suffix_[base];;) {
    const std::string candidate = base + "_" + std::to_string(++i);
    if (!names_.count(candidate)) return candidate;
  }
}
int TfliteEmitter::op_count() const {
  return static_cast<int>(graph_->operators.size());
}
std::vector<tflite::BuiltinOperator> TfliteEmitter::op_codes() const {
  std::vector<tflite::BuiltinOperator> codes;
  for (const auto& o : graph_->operators)
    codes.push_back(model_->operator_codes[o->opcode_index]->builtin_code);
  return codes;
}

std::vector<uint8_t> TfliteEmitter::finish(const std::vector<int32_t>& inputs,
                                           const std::vector<int32_t>& outputs,
                                           const std::string& description) {
  graph_->inputs = inputs;
  graph_->outputs = outputs;
  model_->description = description;
  // The serving_default signature, keyed by the ONNX names, as the TFLite converter writes one.
  auto sig = std::make_unique<tflite::SignatureDefT>();
  sig->signature_key = "serving_default";
  for (int32_t t : inputs) {
    auto m = std::make_unique<tflite::TensorMapT>();
    m->name = name(t);
    m->tensor_index = static_cast<uint32_t>(t);
    sig->inputs.push_back(std::move(m));
  }
  for (int32_t t : outputs) {
    auto m = std::make_unique<tflite::TensorMapT>();
    m->name = name(t);
    m->tensor_index = static_cast<uint32_t>(t);
    sig->outputs.push_back(std::move(m));
  }
  model_->signature_defs.push_back(std::move(sig));
  flatbuffers::FlatBufferBuilder fbb;
  tflite::FinishModelBuffer(fbb, tflite::Model::Pack(fbb, model_.get()));
  if (fbb.GetSize() >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    throw Error("the imported model would exceed 2 GiB, which TFLite flatbuffers cannot hold");
  }
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

}  // namespace pipecut::onnx_import
