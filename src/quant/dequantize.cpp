// The 8-bit model as float32: the object API unpacks the whole model, quantized tensors are
// rewritten in place (constants dequantized into new float buffers), QUANTIZE and DEQUANTIZE ops
// are dropped by pointing their consumers at their inputs, and the model is packed again.
#include <cstring>
#include <map>

#include "format/tflite_schema.h"
#include "pipecut/error.h"
#include "pipecut/quant.h"
#include "quant/buffers.h"

namespace pipecut {

namespace {

bool quantized_type(tflite::TensorType t) {
  return t == tflite::TensorType_INT8 || t == tflite::TensorType_UINT8 ||
         t == tflite::TensorType_INT16 || t == tflite::TensorType_INT32;
}

// The integer at index i of a constant of type t.
int64_t integer_at(const Tensor& tensor, int64_t i) {
  const uint8_t* p = tensor.data.data();
  switch (tensor.type) {
    case DType::kInt8:
      return static_cast<int8_t>(p[i]);
    case DType::kUInt8:
      return p[i];
    case DType::kInt16: {
      int16_t v;
      std::memcpy(&v, p + 2 * i, 2);
      return v;
    }
    case DType::kInt32: {
      int32_t v;
      std::memcpy(&v, p + 4 * i, 4);
      return v;
    }
    default:
      return 0;
  }
}

// real = scale x (q - zero_point), per channel along `axis` when there are several scales.
std::vector<uint8_t> dequantized(const Model& model, const Tensor& t) {
  const auto& q = t.quant;
  const int64_t n = t.num_elements();
  if (q.scale.empty() || q.zero_point.size() != q.scale.size())
    throw Error(model.origin() + ": tensor '" + t.name + "' has no usable scale and zero point");
  int64_t inner = 1, channels = 1;
  if (q.per_channel()) {
    if (q.axis < 0 || static_cast<size_t>(q.axis) >= t.shape.size() ||
        t.shape[static_cast<size_t>(q.axis)] != static_cast<int32_t>(q.scale.size()))
      throw Error(model.origin() + ": tensor '" + t.name +
                  "' has per-channel scales that do not "
                  "match its axis " +
                  std::to_string(q.axis));
    channels = static_cast<int64_t>(q.scale.size());
    for (size_t d = static_cast<size_t>(q.axis) + 1; d < t.shape.size(); ++d) inner *= t.shape[d];
  }
  if (static_cast<int64_t>(t.data.size()) < n * dtype_bits(t.type) / 8)
    throw Error(model.origin() + ": tensor '" + t.name + "' holds fewer bytes than its shape");
  std::vector<uint8_t> out(static_cast<size_t>(n) * 4);
  for (int64_t i = 0; i < n; ++i) {
    const size_t c = static_cast<size_t>(channels > 1 ? (i / inner) % channels : 0);
    const float v = q.scale[c] * static_cast<float>(integer_at(t, i) - q.zero_point[c]);
    std::memcpy(out.data() + 4 * i, &v, 4);
  }
  return out;
}

}  // namespace

std::vector<uint8_t> dequantize_model(const Model& model) {
  std::unique_ptr<tflite::ModelT> m(model.flatbuffer()->UnPack());
  if (!m || m->subgraphs.size() != 1) throw Error(model.origin() + ": expected one subgraph");
  auto& graph = *m->subgraphs[0];
  for (const auto& buffer : m->buffers)
    if (buffer && buffer->offset > 1)
      throw Error(model.origin() + ": buffers stored past the flatbuffer are not supported here");

  for (size_t i = 0; i < graph.tensors.size(); ++i) {
    auto& t = *graph.tensors[i];
    const Tensor& view = model.tensor(static_cast<int>(i));
    if (!quantized_type(t.type) || !view.quant.present()) continue;  // shapes, indices: as they are
    if (view.is_constant()) {
      auto buffer = std::make_unique<tflite::BufferT>();
      buffer->data = dequantized(model, view);
      t.buffer = static_cast<uint32_t>(m->buffers.size());
      m->buffers.push_back(std::move(buffer));
    }
    t.type = tflite::TensorType_FLOAT32;
    t.quantization.reset();
  }

  // QUANTIZE and DEQUANTIZE are identities now: their output is replaced by their input.
  std::map<int32_t, int32_t> replace;
  std::vector<std::unique_ptr<tflite::OperatorT>> kept;
  for (auto& op : graph.operators) {
    const auto code = m->operator_codes[op->opcode_index]->builtin_code;
    // An identity now only where both sides are float32 (a float16 weight's DEQUANTIZE stays).
    const bool identity =
        (code == tflite::BuiltinOperator_QUANTIZE || code == tflite::BuiltinOperator_DEQUANTIZE) &&
        op->inputs.size() == 1 && op->outputs.size() == 1 && op->inputs[0] >= 0 &&
        graph.tensors[static_cast<size_t>(op->inputs[0])]->type == tflite::TensorType_FLOAT32 &&
        graph.tensors[static_cast<size_t>(op->outputs[0])]->type == tflite::TensorType_FLOAT32;
    if (identity) {
      int32_t source = op->inputs[0];
      if (const auto it = replace.find(source); it != replace.end()) source = it->second;
      replace[op->outputs[0]] = source;
      continue;
    }
    for (int32_t& input : op->inputs)
      if (const auto it = replace.find(input); it != replace.end()) input = it->second;
    kept.push_back(std::move(op));
  }
  graph.operators = std::move(kept);
  const auto rewire = [&](std::vector<int32_t>& list) {
    for (int32_t& t : list)
      if (const auto it = replace.find(t); it != replace.end()) t = it->second;
  };
  rewire(graph.outputs);
  for (auto& signature : m->signature_defs)
    for (auto& output : signature->outputs)
      if (const auto it = replace.find(static_cast<int32_t>(output->tensor_index));
          it != replace.end())
        output->tensor_index = static_cast<uint32_t>(it->second);
  // Two outputs that became one tensor, or an input that is now an output, stay as they are:
  // TFLite and our runtime accept both.

  drop_unused_buffers(*m);
  m->description = "pipecut dequantize of " + model.origin() + ": float32 with dequantized weights";
  flatbuffers::FlatBufferBuilder fbb(model.bytes().size() * 5);
  tflite::FinishModelBuffer(fbb, tflite::Model::Pack(fbb, m.get()));
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

}  // namespace pipecut
