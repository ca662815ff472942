// The float model rewritten as a full-integer 8-bit one through the object API: activations get
// int8 scales from their calibrated ranges (in op order, so the ops that must share or fix a
// scale see their input's first), weights and biases are quantized from the float constants.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "format/tflite_schema.h"
#include "pipecut/error.h"
#include "pipecut/quant.h"
#include "quant/buffers.h"

namespace pipecut {

namespace {

struct Params {
  float scale = 1.0f;
  int32_t zero_point = 0;
  bool operator==(const Params&) const = default;
};

// Asymmetric int8 for a real range; 0 is always exactly representable. A range of (nearly)
// nothing gets the scale of [0, 1], not a scale so small that every consumer's bias overflows.
Params asymmetric(float lo, float hi) {
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  if (!(hi - lo > 1e-6f)) {
    lo = 0.0f;
    hi = 1.0f;
  }
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
    case BuiltinOperator_HARD_SWISH:
    case BuiltinOperator_LEAKY_RELU:
      return 1;
    case BuiltinOperator_CONCATENATION:
    case BuiltinOperator_STRIDED_SLICE:
    case BuiltinOperator_RESIZE_BILINEAR:
    case BuiltinOperator_RESIZE_NEAREST_NEIGHBOR:
      return 2;
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
    insert_requantizations();
    if (options_.io_type != IoType::kInt8) convert_io();
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

  const Tensor& view(int t, const std::string& where) const {
    if (t < 0) fail(where + ": a required input is missing");
    return model_.tensor(t);
  }

  std::vector<float> floats(const Tensor& t) const {
    if (t.type != DType::kFloat32 || !t.is_constant())
      fail("tensor '" + t.name + "' is not a float32 constant");
    const auto n = static_cast<size_t>(t.num_elements());
    if (t.data.size() < n * 4) fail("tensor '" + t.name + "' holds fewer bytes than its shape");
    std::vector<float> v(n);
    std::memcpy(v.data(), t.data.data(), n * 4);
    return v;
  }

  // An activation from its calibrated range (once; later calls return what it got).
  Params activation(int t) {
    if (const auto it = done_.find(t); it != done_.end()) return it->second;
    const Tensor& v = model_.tensor(t);
    if (v.type != DType::kFloat32) fail("tensor '" + v.name + "' is not float32");
    const auto range = ranges_.min_max.find(t);
    if (range == ranges_.min_max.end()) fail("tensor '" + v.name + "' has no calibrated range");
    return set(t, asymmetric(range->second.first, range->second.second));
  }

  // Gives an activation its parameters; one that already has others (a consumer may have used
  // them for its bias) is refused rather than silently changed.
  Params set(int t, Params p) {
    if (const auto it = done_.find(t); it != done_.end()) {
      if (it->second == p) return p;
      fail("tensor '" + model_.tensor(t).name + "' would need two different scales");
    }
    auto& x = tensor(t);
    x.type = tflite::TensorType_INT8;
    x.quantization = quant({p.scale}, {p.zero_point}, 0);
    done_[t] = p;
    return p;
  }

  // A constant operand of an element-wise op (a scale or shift an import made of a
  // BatchNormalization, say): int8, asymmetric per tensor over its own values, as the converter
  // quantizes one. Converted once; a constant shared by several ops keeps that form.
  void constant_operand(int t, const std::string& where) {
    if (tensor(t).type == tflite::TensorType_INT8) return;
    const std::vector<float> values = floats(view(t, where));
    float lo = 0.0f, hi = 0.0f;
    for (float v : values) {
      if (!std::isfinite(v)) fail(where + ": constant '" + view(t, where).name + "' is not finite");
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    const Params p = asymmetric(lo, hi);
    std::vector<uint8_t> bytes;
    for (float v : values) {
      const float q = std::round(v / p.scale) + static_cast<float>(p.zero_point);
      bytes.push_back(static_cast<uint8_t>(static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f))));
    }
    tensor(t).buffer = static_cast<uint32_t>(new_buffer(std::move(bytes)));
    give(t, tflite::TensorType_INT8, p);
  }

  int new_buffer(std::vector<uint8_t> bytes) {
    auto buffer = std::make_unique<tflite::BufferT>();
    buffer->data = std::move(bytes);
    m_->buffers.push_back(std::move(buffer));
    return static_cast<int>(m_->buffers.size()) - 1;
  }

  // Symmetric int8 weights, per channel along `axis` (per tensor when axis < 0), each channel's
  // scale at least `min_scale` (so its bias fits int32). A tensor shared by several ops is
  // quantized once; a second use must ask for the same layout.
  std::vector<float> weights(int t, int axis, const std::vector<float>& min_scale,
                             const std::string& where) {
    const Tensor& v = view(t, where);
    if (const auto it = weight_scales_.find(t); it != weight_scales_.end()) {
      if (it->second.first != axis) fail(where + ": weights shared with another layout");
      return it->second.second;
    }
    if (tensor(t).sparsity) fail(where + ": sparse weights are not supported");
    const std::vector<float> w = floats(v);
    int64_t channels = 1, inner = 1;
    if (axis >= 0) {
      if (static_cast<size_t>(axis) >= v.shape.size())
        fail(where + ": weights of rank " + std::to_string(v.shape.size()));
      channels = v.shape[static_cast<size_t>(axis)];
      for (size_t d = static_cast<size_t>(axis) + 1; d < v.shape.size(); ++d) inner *= v.shape[d];
    }
    if (channels <= 0 || inner <= 0) fail(where + ": empty weights");
    std::vector<float> max_abs(static_cast<size_t>(channels), 0.0f);
    const auto channel = [&](size_t i) {
      return static_cast<size_t>((static_cast<int64_t>(i) / inner) % channels);
    };
    for (size_t i = 0; i < w.size(); ++i) {
      if (!std::isfinite(w[i])) fail(where + ": weights '" + v.name + "' are not finite");
      max_abs[channel(i)] = std::max(max_abs[channel(i)], std::abs(w[i]));
    }
    std::vector<float> scales(max_abs.size());
    for (size_t c = 0; c < scales.size(); ++c) {
      scales[c] = max_abs[c] > 1e-30f ? max_abs[c] / 127.0f : 1.0f;
      const float floor = min_scale.empty() ? 0.0f : min_scale[min_scale.size() == 1 ? 0 : c];
      scales[c] = std::max(scales[c], floor);
    }
    std::vector<uint8_t> q(w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      const long r = std::clamp(std::lround(w[i] / scales[channel(i)]), -127L, 127L);
      q[i] = static_cast<uint8_t>(static_cast<int8_t>(r));
    }
    auto& x = tensor(t);
    x.type = tflite::TensorType_INT8;
    x.buffer = static_cast<uint32_t>(new_buffer(std::move(q)));
    x.quantization = quant(scales, std::vector<int64_t>(scales.size(), 0), std::max(axis, 0));
    weight_scales_[t] = {axis, scales};
    return scales;
  }

  // The smallest weight scale per channel at which the bias still fits int32.
  std::vector<float> bias_floor(int t, float input_scale, int64_t channels, bool per_channel,
                                const std::string& where) {
    if (t < 0) return {};
    const std::vector<float> b = floats(view(t, where));
    if (static_cast<int64_t>(b.size()) != channels)
      fail(where + ": the bias does not match the weights' channels");
    std::vector<float> floor(per_channel ? b.size() : 1, 0.0f);
    for (size_t c = 0; c < b.size(); ++c) {
      const float need = std::abs(b[c]) / (input_scale * 2.0e9f);
      float& f = floor[per_channel ? c : 0];
      f = std::max(f, need);
    }
    return floor;
  }

  // (dequantized - float weights) x the input's channel means, per output channel: the mean
  // shift the weights' rounding adds to the output, which bias correction takes off the bias.
  // Empty when calibration has no means for the input.
  std::vector<float> rounding_shift(int weights_t, int input_t, int32_t code,
                                    const std::vector<float>& scales, const std::string& where) {
    const auto it = ranges_.channel_means.find(input_t);
    if (it == ranges_.channel_means.end()) return {};
    const std::vector<float>& mu = it->second;
    const Tensor& wv = view(weights_t, where);
    const std::vector<float> w = floats(wv);
    const auto& s = wv.shape;
    const bool depthwise = code == tflite::BuiltinOperator_DEPTHWISE_CONV_2D;
    const int64_t outputs = depthwise ? s.back() : s.front();
    const int64_t in_channels = static_cast<int64_t>(mu.size());
    if (outputs <= 0 || in_channels <= 0) return {};
    if (depthwise ? outputs % in_channels != 0 : s.back() != in_channels) return {};
    std::vector<double> shift(static_cast<size_t>(outputs), 0.0);
    const int64_t per_output = static_cast<int64_t>(w.size()) / outputs;
    for (size_t e = 0; e < w.size(); ++e) {
      const auto i = static_cast<int64_t>(e);
      const int64_t o = depthwise ? i % outputs : i / per_output;
      const int64_t c = depthwise ? o / (outputs / in_channels) : i % in_channels;
      const float scale = scales[scales.size() == 1 ? 0 : static_cast<size_t>(o)];
      const float q = std::clamp(std::round(w[e] / scale), -127.0f, 127.0f);
      shift[static_cast<size_t>(o)] +=
          static_cast<double>(q * scale - w[e]) * mu[static_cast<size_t>(c)];
    }
    return std::vector<float>(shift.begin(), shift.end());
  }

  void bias(int t, float input_scale, const std::vector<float>& weight_scales,
            const std::string& where, const std::vector<float>& shift = {}) {
    if (t < 0) return;
    const Tensor& v = view(t, where);
    std::vector<float> b = floats(v);
    if (shift.size() == b.size())
      for (size_t c = 0; c < b.size(); ++c) b[c] -= shift[c];
    std::vector<float> scales(weight_scales.size());
    for (size_t c = 0; c < scales.size(); ++c) scales[c] = input_scale * weight_scales[c];
    if (const auto it = bias_scales_.find(t); it != bias_scales_.end()) {
      if (it->second != scales) fail(where + ": bias '" + v.name + "' shared at another scale");
      return;
    }
    std::vector<uint8_t> bytes(b.size() * 4);
    for (size_t c = 0; c < b.size(); ++c) {
      const double q = std::round(static_cast<double>(b[c]) / scales[scales.size() == 1 ? 0 : c]);
      const auto v32 = static_cast<int32_t>(std::clamp(q, -2147483647.0, 2147483647.0));
      std::memcpy(bytes.data() + 4 * c, &v32, 4);
    }
    auto& x = tensor(t);
    x.type = tflite::TensorType_INT32;
    x.buffer = static_cast<uint32_t>(new_buffer(std::move(bytes)));
    x.quantization = quant(scales, std::vector<int64_t>(scales.size(), 0), 0);
    bias_scales_[t] = scales;
  }

  void quantize_op(const Op& op) {
    using namespace tflite;
    const auto& in = op.inputs;
    const std::string where = "op " + std::to_string(op.index) + " " + model_.op_type(op);
    const auto input = [&](size_t i) {
      if (i >= in.size() || in[i] < 0) fail(where + ": a required input is missing");
      return in[i];
    };
    if (op.builtin_code == BuiltinOperator_SPLIT || op.builtin_code == BuiltinOperator_SPLIT_V) {
      // Pieces of one tensor keep its scale. SPLIT reads (axis, data), SPLIT_V (data, sizes, axis).
      const Params p = activation(input(op.builtin_code == BuiltinOperator_SPLIT ? 1 : 0));
      for (int o : op.outputs) set(o, p);
      auto& code = *m_->operator_codes[static_cast<size_t>(op.opcode_index)];
      code.version = std::max(code.version, 2);
      return;
    }
    if (op.outputs.size() != 1) fail(where + ": ops with several outputs are not supported yet");
    const int out = op.outputs[0];
    switch (op.builtin_code) {
      case BuiltinOperator_CONV_2D:
      case BuiltinOperator_DEPTHWISE_CONV_2D:
      case BuiltinOperator_FULLY_CONNECTED: {
        const Params x = activation(input(0));
        const bool dense = op.builtin_code == BuiltinOperator_FULLY_CONNECTED;
        const int axis = dense || options_.per_tensor                 ? -1
                         : op.builtin_code == BuiltinOperator_CONV_2D ? 0
                                                                      : 3;
        const Tensor& w = view(input(1), where);
        const size_t channel_axis = op.builtin_code == BuiltinOperator_DEPTHWISE_CONV_2D ? 3 : 0;
        if (w.shape.size() <= channel_axis)
          fail(where + ": weights of rank " + std::to_string(w.shape.size()));
        const int bias_index = in.size() > 2 ? in[2] : -1;
        const auto floor = bias_floor(bias_index, x.scale, w.shape[channel_axis], axis >= 0, where);
        const auto scales = weights(input(1), axis, floor, where);
        bias(bias_index, x.scale, scales, where,
             options_.bias_correction
                 ? rounding_shift(input(1), input(0), op.builtin_code, scales, where)
                 : std::vector<float>{});
        activation(out);
        break;
      }
      case BuiltinOperator_SOFTMAX:
      case BuiltinOperator_LOGISTIC:
        activation(input(0));
        set(out, {1.0f / 256.0f, -128});
        break;
      case BuiltinOperator_TANH:
        activation(input(0));
        set(out, {1.0f / 128.0f, 0});
        break;
      case BuiltinOperator_AVERAGE_POOL_2D:
      case BuiltinOperator_MAX_POOL_2D:
      case BuiltinOperator_RESHAPE:
      case BuiltinOperator_SQUEEZE:
      case BuiltinOperator_PAD:
      case BuiltinOperator_STRIDED_SLICE:
      case BuiltinOperator_RESIZE_NEAREST_NEIGHBOR:
      case BuiltinOperator_RESIZE_BILINEAR:
        set(out, activation(input(0)));  // the same scale in and out, as TFLite requires
        break;
      case BuiltinOperator_PADV2: {
        // The pad value in the input's scale: an import's max-pool padding (the lowest float)
        // becomes -128, which never wins a max either.
        const Params p = set(out, activation(input(0)));
        const int value = input(2);
        if (tensor(value).type == tflite::TensorType_INT8) {  // shared with an earlier PADV2
          const auto& q = tensor(value).quantization;
          if (!q || q->scale.size() != 1 || q->scale[0] != p.scale ||
              q->zero_point[0] != p.zero_point)
            fail(where + ": its pad value is shared with a PADV2 of another scale");
          break;
        }
        const Tensor& v = view(value, where);
        const std::vector<float> f = floats(v);
        if (f.size() != 1) fail(where + ": the pad value must be a scalar");
        const float q = std::round(f[0] / p.scale) + static_cast<float>(p.zero_point);
        const auto byte = static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f));
        tensor(value).buffer = static_cast<uint32_t>(new_buffer({static_cast<uint8_t>(byte)}));
        give(value, tflite::TensorType_INT8, p);
        break;
      }
      case BuiltinOperator_CONCATENATION: {
        // TFLite's int8 concatenation takes pieces at the output's scale only. Each producer
        // keeps its own calibrated scale (not widened to the union), and a piece at another
        // scale goes through an int8 -> int8 QUANTIZE first, as the TFLite converter writes it.
        for (int t : in) {
          if (t < 0 || model_.tensor(t).type != DType::kFloat32) continue;
          if (model_.tensor(t).is_constant()) fail(where + ": constant pieces are not supported");
          activation(t);
        }
        const Params o = activation(out);
        for (size_t k = 0; k < in.size(); ++k) {
          if (in[k] < 0 || activation(in[k]) == o) continue;
          requantize_.push_back({op.index, static_cast<int>(k), o});
        }
        break;
      }
      case BuiltinOperator_HARD_SWISH:
      case BuiltinOperator_LEAKY_RELU:
      case BuiltinOperator_ADD:
      case BuiltinOperator_SUB:
      case BuiltinOperator_MUL:
      case BuiltinOperator_MEAN:
      case BuiltinOperator_RELU:
      case BuiltinOperator_RELU6:
        for (int t : in) {
          if (t < 0 || model_.tensor(t).type != DType::kFloat32) continue;  // axes, paddings
          if (model_.tensor(t).is_constant()) {
            constant_operand(t, where);
          } else {
            activation(t);
          }
        }
        activation(out);
        break;
      default:
        fail(where + " (version " + std::to_string(op.version) +
             "): not supported by the quantizer yet");
    }
    auto& code = *m_->operator_codes[static_cast<size_t>(op.opcode_index)];
    code.version = std::max(code.version, int8_version(op.builtin_code));
  }

  // The opcode index of `code` at `version`, added when the model has none.
  int32_t opcode(tflite::BuiltinOperator code, int version) {
    for (size_t i = 0; i < m_->operator_codes.size(); ++i) {
      auto& c = *m_->operator_codes[i];
      if (c.builtin_code == code) {
        c.version = std::max(c.version, version);
        return static_cast<int32_t>(i);
      }
    }
    auto c = std::make_unique<tflite::OperatorCodeT>();
    c->builtin_code = code;
    c->deprecated_builtin_code = static_cast<int8_t>(std::min<int>(code, 127));
    c->version = version;
    m_->operator_codes.push_back(std::move(c));
    return static_cast<int32_t>(m_->operator_codes.size()) - 1;
  }

  // Inputs that must reach their op at another scale: an int8 QUANTIZE is put before the op.
  struct Requantize {
    int op = 0, input = 0;
    Params to;
  };
  std::vector<Requantize> requantize_;

  void insert_requantizations() {
    if (requantize_.empty()) return;
    std::map<int, std::vector<std::unique_ptr<tflite::OperatorT>>> before;  // by op index
    for (const Requantize& r : requantize_) {
      auto& consumer = *graph_->operators[static_cast<size_t>(r.op)];
      const int32_t from = consumer.inputs[static_cast<size_t>(r.input)];
      const int32_t twin = add_twin(from, "_requantized");
      give(twin, tflite::TensorType_INT8, r.to);
      auto q = std::make_unique<tflite::OperatorT>();
      q->opcode_index = static_cast<uint32_t>(opcode(tflite::BuiltinOperator_QUANTIZE, 2));
      q->inputs = {from};
      q->outputs = {twin};
      consumer.inputs[static_cast<size_t>(r.input)] = twin;
      before[r.op].push_back(std::move(q));
    }
    std::vector<std::unique_ptr<tflite::OperatorT>> ops;
    for (size_t i = 0; i < graph_->operators.size(); ++i) {
      if (auto it = before.find(static_cast<int>(i)); it != before.end())
        for (auto& q : it->second) ops.push_back(std::move(q));
      ops.push_back(std::move(graph_->operators[i]));
    }
    graph_->operators = std::move(ops);
  }

  // A copy of tensor t (shape, signature, name + suffix) with no buffer, as a new index.
  int32_t add_twin(int32_t t, const std::string& suffix) {
    auto twin = std::make_unique<tflite::TensorT>();
    const auto& original = tensor(t);
    twin->shape = original.shape;
    twin->shape_signature = original.shape_signature;
    twin->name = original.name + suffix;
    twin->buffer = 0;
    graph_->tensors.push_back(std::move(twin));
    return static_cast<int32_t>(graph_->tensors.size()) - 1;
  }

  void give(int32_t t, tflite::TensorType type, Params p) {
    auto& x = tensor(t);
    x.type = type;
    if (type == tflite::TensorType_FLOAT32) {
      x.quantization.reset();
    } else {
      x.quantization = quant({p.scale}, {p.zero_point}, 0);
    }
  }

  // Float32 or uint8 at the model's edges: the int8 network between a QUANTIZE in and a
  // DEQUANTIZE (or QUANTIZE to uint8) out, as the converter writes it.
  void convert_io() {
    const bool to_float = options_.io_type == IoType::kFloat32;
    const auto edge_type = to_float ? tflite::TensorType_FLOAT32 : tflite::TensorType_UINT8;
    const auto edge = [&](Params p) { return Params{p.scale, p.zero_point + 128}; };
    std::vector<std::unique_ptr<tflite::OperatorT>> first, last;
    for (int32_t& input : graph_->inputs) {
      const auto known = done_.find(input);
      if (known == done_.end()) continue;  // not an activation we quantized (indices, shapes)
      const Params p = known->second;
      const int32_t inner = add_twin(input, "_int8");
      give(inner, tflite::TensorType_INT8, p);
      give(input, edge_type, edge(p));
      for (auto& op : graph_->operators)
        for (int32_t& t : op->inputs)
          if (t == input) t = inner;
      auto q = std::make_unique<tflite::OperatorT>();
      q->opcode_index = static_cast<uint32_t>(opcode(tflite::BuiltinOperator_QUANTIZE, 2));
      q->inputs = {input};
      q->outputs = {inner};
      first.push_back(std::move(q));
    }
    for (int32_t& output : graph_->outputs) {
      const auto known = done_.find(output);
      if (known == done_.end()) continue;
      const Params p = known->second;
      const int32_t inner = add_twin(output, "_int8");
      give(inner, tflite::TensorType_INT8, p);
      give(output, edge_type, edge(p));
      for (auto& op : graph_->operators) {
        for (int32_t& t : op->inputs)
          if (t == output) t = inner;
        for (int32_t& t : op->outputs)
          if (t == output) t = inner;
      }
      auto d = std::make_unique<tflite::OperatorT>();
      d->opcode_index =
          static_cast<uint32_t>(to_float ? opcode(tflite::BuiltinOperator_DEQUANTIZE, 2)
                                         : opcode(tflite::BuiltinOperator_QUANTIZE, 2));
      d->inputs = {inner};
      d->outputs = {output};
      last.push_back(std::move(d));
    }
    for (auto& op : graph_->operators) first.push_back(std::move(op));
    for (auto& op : last) first.push_back(std::move(op));
    graph_->operators = std::move(first);
  }

  const Model& model_;
  const Ranges& ranges_;
  QuantizeOptions options_;
  std::unique_ptr<tflite::ModelT> m_;
  tflite::SubGraphT* graph_ = nullptr;
  std::map<int, Params> done_;
  std::map<int, std::pair<int, std::vector<float>>> weight_scales_;  // axis, scales
  std::map<int, std::vector<float>> bias_scales_;
};

}  // namespace

std::vector<uint8_t> quantize_model(const Model& model, const Ranges& ranges,
                                    const QuantizeOptions& options) {
  return Quantizer(model, ranges, options).run();
}

}  // namespace pipecut
