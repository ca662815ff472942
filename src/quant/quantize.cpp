// The float model rewritten as a full-integer 8-bit one through the object API: activations get
// int8 scales from their calibrated ranges (in op order, so the ops that must share or fix a
// scale see their input's first), weights and biases are quantized from the float constants.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "format/tflite_schema.h"
#include "pipecut/error.h"
#include "pipecut/quant.h"
#include "quant/buffers.h"

namespace pipecut {

namespace {

struct Params {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// Asymmetric int8 for a real range; 0 is always exactly representable.
Params asymmetric(float lo, float hi) {
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  if (hi - lo < 1e-8f) hi = lo + 1e-8f;
  Params p;
  p.scale = (hi - lo) / 255.0f;
  p.zero_point = static_cast<int32_t>(
      std::clamp(std::lround(-128.0 - static_cast<double>(lo) / p.scale), -128L, 127L));
  return p;
}

std::unique_ptr<tflite::QuantizationParametersT> quant(const std::vector<float>& scales,
                                                       const std::vector<int64_t>& zero_points,
                                                       int axis) {
  auto q = std::make_unique<tflite::QuantizationParametersT>();
  q->scale = scales;
  q->zero_point = zero_points;
  q->quantized_dimension = axis;
  return q;
}

std::vector<float> floats(const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.num_elements()));
  if (t.data.size() < v.size() * 4)
    throw Error("tensor '" + t.name + "' is shorter than its shape");
  std::memcpy(v.data(), t.data.data(), v.size() * 4);
  return v;
}

// The version the TFLite converter writes for the int8 form of each op we quantize.
int int8_version(int32_t code) {
  using namespace tflite;
  switch (code) {
    case BuiltinOperator_CONV_2D:
    case BuiltinOperator_DEPTHWISE_CONV_2D:
      return 3;
    case BuiltinOperator_FULLY_CONNECTED:
      return 4;
    case BuiltinOperator_RESHAPE:
    case BuiltinOperator_SQUEEZE:
      return 1;
    default:
      return 2;
  }
}

class Quantizer {
 public:
  Quantizer(const Model& model, const Ranges& ranges, const QuantizeOptions& options)
      : model_(model), ranges_(ranges), options_(options), m_(model.flatbuffer()->UnPack()) {}

  std::vector<uint8_t> run() {
    if (!m_ || m_->subgraphs.size() != 1) fail("expected one subgraph");
    for (const auto& buffer : m_->buffers)
      if (buffer && buffer->offset > 1)
        fail("buffers stored past the flatbuffer are not supported");
    graph_ = m_->subgraphs[0].get();
    for (int t : model_.inputs()) activation(t);
    for (const Op& op : model_.ops()) quantize_op(op);
    for (auto& code : m_->operator_codes) code->version = std::max(code->version, 1);
    // Keras models carry a dynamic batch (-1) in their shape signatures; the quantized model
    // takes the batch its shapes have (1), as 8-bit targets need static shapes.
    for (auto& t : graph_->tensors)
      if (!t->shape_signature.empty() && !t->shape.empty() && t->shape_signature[0] == -1)
        t->shape_signature[0] = t->shape[0];
    drop_unused_buffers(*m_);
    m_->description = "pipecut quantize of " + model_.origin() + ": full-integer int8";
    flatbuffers::FlatBufferBuilder fbb(model_.bytes().size() + (1 << 20));
    tflite::FinishModelBuffer(fbb, tflite::Model::Pack(fbb, m_.get()));
    return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(model_.origin() + ": " + what);
  }

  tflite::TensorT& tensor(int t) { return *graph_->tensors[static_cast<size_t>(t)]; }

  // An activation from its calibrated range (once; later calls return what it got).
  Params activation(int t) {
    if (const auto it = done_.find(t); it != done_.end()) return it->second;
    const Tensor& view = model_.tensor(t);
    if (view.type != DType::kFloat32) fail("tensor '" + view.name + "' is not float32");
    const auto range = ranges_.min_max.find(t);
    if (range == ranges_.min_max.end()) fail("tensor '" + view.name + "' has no calibrated range");
    return set(t, asymmetric(range->second.first, range->second.second));
  }

  Params set(int t, Params p) {
    auto& x = tensor(t);
    x.type = tflite::TensorType_INT8;
    x.quantization = quant({p.scale}, {p.zero_point}, 0);
    done_[t] = p;
    return p;
  }

  int new_buffer(std::vector<uint8_t> bytes) {
    auto buffer = std::make_unique<tflite::BufferT>();
    buffer->data = std::move(bytes);
    m_->buffers.push_back(std::move(buffer));
    return static_cast<int>(m_->buffers.size()) - 1;
  }

  // Symmetric int8 weights, per channel along `axis` (or per tensor when axis < 0).
  std::vector<float> weights(int t, int axis) {
    const Tensor& view = model_.tensor(t);
    if (!view.is_constant() || view.type != DType::kFloat32)
      fail("weights '" + view.name + "' are not a float32 constant");
    const std::vector<float> w = floats(view);
    int64_t channels = 1, inner = 1;
    if (axis >= 0) {
      channels = view.shape[static_cast<size_t>(axis)];
      for (size_t d = static_cast<size_t>(axis) + 1; d < view.shape.size(); ++d)
        inner *= view.shape[d];
    }
    std::vector<float> max_abs(static_cast<size_t>(channels), 0.0f);
    const auto channel = [&](size_t i) {
      return static_cast<size_t>((static_cast<int64_t>(i) / inner) % channels);
    };
    for (size_t i = 0; i < w.size(); ++i)
      max_abs[channel(i)] = std::max(max_abs[channel(i)], std::abs(w[i]));
    std::vector<float> scales(max_abs.size());
    for (size_t c = 0; c < scales.size(); ++c)
      scales[c] = max_abs[c] > 0 ? max_abs[c] / 127.0f : 1.0f;
    std::vector<uint8_t> q(w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      const long v = std::clamp(std::lround(w[i] / scales[channel(i)]), -127L, 127L);
      q[i] = static_cast<uint8_t>(static_cast<int8_t>(v));
    }
    auto& x = tensor(t);
    x.type = tflite::TensorType_INT8;
    x.buffer = static_cast<uint32_t>(new_buffer(std::move(q)));
    x.quantization = quant(scales, std::vector<int64_t>(scales.size(), 0), std::max(axis, 0));
    return scales;
  }

  void bias(int t, float input_scale, const std::vector<float>& weight_scales) {
    if (t < 0) return;
    const Tensor& view = model_.tensor(t);
    if (!view.is_constant() || view.type != DType::kFloat32)
      fail("bias '" + view.name + "' is not a float32 constant");
    const std::vector<float> b = floats(view);
    std::vector<float> scales(b.size());
    std::vector<uint8_t> bytes(b.size() * 4);
    for (size_t c = 0; c < b.size(); ++c) {
      scales[c] = input_scale * weight_scales[weight_scales.size() == 1 ? 0 : c];
      const double q = std::clamp(std::round(static_cast<double>(b[c]) / scales[c]), -2147483647.0,
                                  2147483647.0);
      const int32_t v = static_cast<int32_t>(q);
      std::memcpy(bytes.data() + 4 * c, &v, 4);
    }
    auto& x = tensor(t);
    x.type = tflite::TensorType_INT32;
    x.buffer = static_cast<uint32_t>(new_buffer(std::move(bytes)));
    x.quantization = quant(scales, std::vector<int64_t>(scales.size(), 0), 0);
  }

  void quantize_op(const Op& op) {
    using namespace tflite;
    const auto& in = op.inputs;
    const std::string where = "op " + std::to_string(op.index) + " " + model_.op_type(op);
    const auto out = [&] { return op.outputs.at(0); };
    switch (op.builtin_code) {
      case BuiltinOperator_CONV_2D:
      case BuiltinOperator_DEPTHWISE_CONV_2D:
      case BuiltinOperator_FULLY_CONNECTED: {
        if (in.size() < 2) fail(where + ": no weights");
        const Params x = activation(in[0]);
        const int axis = op.builtin_code == BuiltinOperator_FULLY_CONNECTED || options_.per_tensor
                             ? -1
                         : op.builtin_code == BuiltinOperator_CONV_2D ? 0
                                                                      : 3;
        const auto scales = weights(in[1], axis);
        bias(in.size() > 2 ? in[2] : -1, x.scale, scales);
        activation(out());
        break;
      }
      case BuiltinOperator_SOFTMAX:
      case BuiltinOperator_LOGISTIC:
        activation(in.at(0));
        set(out(), {1.0f / 256.0f, -128});
        break;
      case BuiltinOperator_TANH:
        activation(in.at(0));
        set(out(), {1.0f / 128.0f, 0});
        break;
      case BuiltinOperator_AVERAGE_POOL_2D:
      case BuiltinOperator_MAX_POOL_2D:
      case BuiltinOperator_RESHAPE:
      case BuiltinOperator_SQUEEZE:
        set(out(), activation(in.at(0)));  // the same scale in and out, as TFLite requires
        break;
      case BuiltinOperator_ADD:
      case BuiltinOperator_SUB:
      case BuiltinOperator_MUL:
      case BuiltinOperator_MEAN:
      case BuiltinOperator_PAD:
      case BuiltinOperator_RELU:
      case BuiltinOperator_RELU6:
      case BuiltinOperator_CONCATENATION:
        for (int t : in) {
          if (t < 0 || model_.tensor(t).type != DType::kFloat32) continue;  // axes, paddings
          if (model_.tensor(t).is_constant())
            fail(where + ": constant float operands are not supported yet");
          activation(t);
        }
        activation(out());
        break;
      default:
        fail(where + " (version " + std::to_string(op.version) +
             "): not supported by the quantizer yet");
    }
    auto& code = *m_->operator_codes[static_cast<size_t>(op.opcode_index)];
    code.version = std::max(code.version, int8_version(op.builtin_code));
  }

  const Model& model_;
  const Ranges& ranges_;
  QuantizeOptions options_;
  std::unique_ptr<tflite::ModelT> m_;
  tflite::SubGraphT* graph_ = nullptr;
  std::map<int, Params> done_;
};

}  // namespace

std::vector<uint8_t> quantize_model(const Model& model, const Ranges& ranges,
                                    const QuantizeOptions& options) {
  return Quantizer(model, ranges, options).run();
}

}  // namespace pipecut
