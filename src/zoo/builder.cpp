// The zoo's graph builder: records tensors and ops in a tflite::ModelT and packs it. A layer's
// weights come from layer_weights.cpp, the statistics behind the scales from activation_stats.cpp.
//
// Weights: He-normal (std = sqrt(2 / fan_in)) from our own generator (seeded_rng.h: splitmix64 +
// the polar Box-Muller method), so the bytes do not depend on the standard library. Quantization:
// per-channel symmetric int8 weights, int32 biases with scale = input_scale * weight_scale[c],
// asymmetric int8 activations.
//
// Analytic scale estimate: each activation carries an estimated mean and standard deviation
// (pooled over its channels). A convolution output channel c with folded weights w'_c and bias
// b'_c has mean  mu_x * sum(w'_c) + b'_c  and std  sigma_x * sqrt(sum(w'_c^2))  (inputs treated as
// independent with the input's pooled statistics); the estimated range is
// [min_c(mean_c - 4 std_c), max_c(mean_c + 4 std_c)], clipped by the fused activation. The
// activation's moments after ReLU / ReLU6 are those of a clipped Gaussian.
#include "zoo/builder.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "format/tflite_schema.h"
#include "pipecut/error.h"
#include "zoo/activation_stats.h"
#include "zoo/layer_weights.h"

namespace pipecut::zoo {

namespace {

tflite::ActivationFunctionType to_tflite(Activation act) {
  switch (act) {
    case Activation::kRelu:
      return tflite::ActivationFunctionType_RELU;
    case Activation::kRelu6:
      return tflite::ActivationFunctionType_RELU6;
    case Activation::kNone:
      break;
  }
  return tflite::ActivationFunctionType_NONE;
}

tflite::Padding to_tflite(Padding padding) {
  return padding == Padding::kSame ? tflite::Padding_SAME : tflite::Padding_VALID;
}

// 0 when a VALID window does not fit at all (the division alone would round that up to 1).
int out_size(int in, int kernel, int stride, Padding padding) {
  if (padding == Padding::kSame) return (in + stride - 1) / stride;
  return in < kernel ? 0 : (in - kernel) / stride + 1;
}

}  // namespace

struct GraphBuilder::Impl {
  uint64_t seed = 1;
  bool float_model = false;  // float32 tensors and weights; the int8 statistics go unused
  std::unique_ptr<tflite::ModelT> model = std::make_unique<tflite::ModelT>();
  tflite::SubGraphT* graph = nullptr;
  std::map<std::pair<int, int>, uint32_t> opcodes;  // (builtin, version) -> index
  std::set<std::string> names;
  std::vector<ActInfo> acts;  // indexed by tensor index; empty shape for constants
  size_t data_bytes = 0;
  int input = -1, output = -1;
  std::string output_signature;

  Impl(uint64_t s, bool as_float) : seed(s), float_model(as_float) {
    model->version = 3;
    model->buffers.push_back(std::make_unique<tflite::BufferT>());  // the empty sentinel
    model->subgraphs.push_back(std::make_unique<tflite::SubGraphT>());
    graph = model->subgraphs.back().get();
    graph->name = "main";
  }

  [[noreturn]] static void fail(const std::string& what) { throw Error("zoo builder: " + what); }

  const ActInfo& act(Node x) const {
    if (x.tensor < 0 || static_cast<size_t>(x.tensor) >= acts.size() ||
        acts[static_cast<size_t>(x.tensor)].shape.empty()) {
      fail("not an activation tensor: " + std::to_string(x.tensor));
    }
    return acts[static_cast<size_t>(x.tensor)];
  }

  int add_tensor(const std::string& name, tflite::TensorType type, std::vector<int32_t> shape,
                 std::vector<uint8_t> data,
                 std::unique_ptr<tflite::QuantizationParametersT> quant) {
    if (!names.insert(name).second) fail("duplicate tensor name " + name);
    auto tensor = std::make_unique<tflite::TensorT>();
    tensor->name = name;
    tensor->type = type;
    tensor->shape = std::move(shape);
    tensor->quantization = std::move(quant);
    if (!data.empty()) {
      data_bytes += data.size();
      auto buffer = std::make_unique<tflite::BufferT>();
      buffer->data = std::move(data);
      tensor->buffer = static_cast<uint32_t>(model->buffers.size());
      model->buffers.push_back(std::move(buffer));
    }
    graph->tensors.push_back(std::move(tensor));
    const int index = static_cast<int>(graph->tensors.size()) - 1;
    acts.resize(graph->tensors.size());
    return index;
  }

  Node add_activation(const std::string& name, ActInfo info) {
    std::unique_ptr<tflite::QuantizationParametersT> quant;
    if (!float_model) {
      quant = std::make_unique<tflite::QuantizationParametersT>();
      quant->scale = {info.scale};
      quant->zero_point = {info.zero_point};
    }
    const int index =
        add_tensor(name, float_model ? tflite::TensorType_FLOAT32 : tflite::TensorType_INT8,
                   info.shape, {}, std::move(quant));
    acts[static_cast<size_t>(index)] = std::move(info);
    return Node{index};
  }

  int int32_constant(const std::string& name, std::vector<int32_t> shape,
                     const std::vector<int32_t>& values) {
    std::vector<uint8_t> data;
    data.reserve(values.size() * 4);
    for (int32_t v : values) append_le(data, static_cast<uint32_t>(v));
    return add_tensor(name, tflite::TensorType_INT32, std::move(shape), std::move(data), nullptr);
  }

  // `version` is the int8 op's; every float32 op the zoo writes is version 1.
  void add_op(tflite::BuiltinOperator code, int version, std::vector<int32_t> inputs,
              std::vector<int32_t> outputs, tflite::BuiltinOptionsUnion options) {
    if (float_model) version = 1;
    const auto key = std::make_pair(static_cast<int>(code), version);
    auto it = opcodes.find(key);
    if (it == opcodes.end()) {
      auto opcode = std::make_unique<tflite::OperatorCodeT>();
      opcode->builtin_code = code;
      opcode->deprecated_builtin_code = static_cast<int8_t>(std::min<int>(code, 127));
      opcode->version = version;
      it = opcodes.emplace(key, static_cast<uint32_t>(model->operator_codes.size())).first;
      model->operator_codes.push_back(std::move(opcode));
    }
    auto op = std::make_unique<tflite::OperatorT>();
    op->opcode_index = it->second;
    op->inputs = std::move(inputs);
    op->outputs = std::move(outputs);
    op->builtin_options = std::move(options);
    graph->operators.push_back(std::move(op));
  }

  // Adds the weight and bias tensors of `layer`; returns their indices.
  std::pair<int, int> add_parameters(LayerWeights& layer, const std::string& weights_name,
                                     std::vector<int32_t> weights_shape, int quantized_dimension,
                                     const std::string& bias_name) {
    if (float_model) {
      const auto bytes = [](const std::vector<float>& values) {
        std::vector<uint8_t> data;
        data.reserve(values.size() * 4);
        for (float v : values) append_le(data, std::bit_cast<uint32_t>(v));
        return data;
      };
      const int w = add_tensor(weights_name, tflite::TensorType_FLOAT32, std::move(weights_shape),
                               bytes(layer.float_weights), nullptr);
      const int b = add_tensor(bias_name, tflite::TensorType_FLOAT32,
                               {static_cast<int32_t>(layer.float_bias.size())},
                               bytes(layer.float_bias), nullptr);
      return {w, b};
    }
    auto wq = std::make_unique<tflite::QuantizationParametersT>();
    wq->scale = layer.weight_scales;
    wq->zero_point.assign(layer.weight_scales.size(), 0);
    wq->quantized_dimension = quantized_dimension;
    const int w = add_tensor(weights_name, tflite::TensorType_INT8, std::move(weights_shape),
                             std::move(layer.weights), std::move(wq));
    auto bq = std::make_unique<tflite::QuantizationParametersT>();
    bq->scale = layer.bias_scales;
    bq->zero_point.assign(layer.bias_scales.size(), 0);
    bq->quantized_dimension = 0;
    const int b = add_tensor(bias_name, tflite::TensorType_INT32,
                             {static_cast<int32_t>(layer.bias_scales.size())},
                             std::move(layer.bias), std::move(bq));
    return {w, b};
  }

  Node conv(Node x, const ConvSpec& spec, bool depthwise) {
    const ActInfo in = act(x);
    if (in.shape.size() != 4) fail(spec.output + ": input is not 4-D");
    const int height = in.shape[1], width = in.shape[2], channels = in.shape[3];
    const int kh = spec.kernel, kw = spec.kernel_width > 0 ? spec.kernel_width : spec.kernel;
    const int out_channels = depthwise ? channels : spec.filters;
    if (out_channels <= 0 || kh <= 0 || spec.kernel_width < 0 || spec.stride <= 0)
      fail(spec.output + ": bad conv spec");
    const int oh = out_size(height, kh, spec.stride, spec.padding);
    const int ow = out_size(width, kw, spec.stride, spec.padding);
    if (oh <= 0 || ow <= 0) fail(spec.output + ": input too small");
    const int fan_in = depthwise ? kh * kw : kh * kw * channels;
    LayerWeights layer = make_layer_weights(in, {.seed = seed,
                                                 .float_model = float_model,
                                                 .key = spec.weights,
                                                 .out_channels = out_channels,
                                                 .fan_in = fan_in,
                                                 .channel_minor = depthwise,
                                                 .batch_norm = spec.batch_norm,
                                                 .bn_epsilon = spec.bn_epsilon,
                                                 .activation = spec.activation});
    const auto [w, b] =
        depthwise
            ? add_parameters(layer, spec.weights, {1, kh, kw, out_channels}, 3, spec.bias)
            : add_parameters(layer, spec.weights, {out_channels, kh, kw, channels}, 0, spec.bias);
    layer.out.shape = {in.shape[0], oh, ow, out_channels};
    const Node y = add_activation(spec.output, std::move(layer.out));
    tflite::BuiltinOptionsUnion options;
    if (depthwise) {
      tflite::DepthwiseConv2DOptionsT o;
      o.padding = to_tflite(spec.padding);
      o.stride_w = o.stride_h = spec.stride;
      o.depth_multiplier = 1;
      o.fused_activation_function = to_tflite(spec.activation);
      options.Set(std::move(o));
      add_op(tflite::BuiltinOperator_DEPTHWISE_CONV_2D, 3, {x.tensor, w, b}, {y.tensor},
             std::move(options));
    } else {
      tflite::Conv2DOptionsT o;
      o.padding = to_tflite(spec.padding);
      o.stride_w = o.stride_h = spec.stride;
      o.fused_activation_function = to_tflite(spec.activation);
      options.Set(std::move(o));
      add_op(tflite::BuiltinOperator_CONV_2D, 3, {x.tensor, w, b}, {y.tensor}, std::move(options));
    }
    return y;
  }

  Node dense(Node x, const DenseSpec& spec) {
    const ActInfo in = act(x);
    if (in.shape.size() != 2 || spec.units <= 0) fail(spec.output + ": dense needs a [1, C] input");
    const int fan_in = in.shape[1];
    LayerWeights layer = make_layer_weights(in, {.seed = seed,
                                                 .float_model = float_model,
                                                 .key = spec.weights,
                                                 .out_channels = spec.units,
                                                 .fan_in = fan_in,
                                                 .batch_norm = false,
                                                 .bn_epsilon = 0.0,
                                                 .activation = spec.activation});
    const auto [w, b] = add_parameters(layer, spec.weights, {spec.units, fan_in}, 0, spec.bias);
    layer.out.shape = {in.shape[0], spec.units};
    const Node y = add_activation(spec.output, std::move(layer.out));
    tflite::FullyConnectedOptionsT o;
    o.fused_activation_function = to_tflite(spec.activation);
    tflite::BuiltinOptionsUnion options;
    options.Set(std::move(o));
    add_op(tflite::BuiltinOperator_FULLY_CONNECTED, 4, {x.tensor, w, b}, {y.tensor},
           std::move(options));
    return y;
  }

  // MAX_POOL_2D or AVERAGE_POOL_2D: the output keeps the input's quantization (TFLite requires
  // it for int8; an average stays inside the input's range). Both are version 2 for int8.
  Node pool(tflite::BuiltinOperator op, Node x, const std::string& name, int size, int stride,
            Padding padding) {
    const auto& s = act(x).shape;
    if (s.size() != 4) fail(name + ": input is not 4-D");
    if (size <= 0 || stride <= 0) fail(name + ": bad pool window");
    if (out_size(s[1], size, stride, padding) <= 0 || out_size(s[2], size, stride, padding) <= 0)
      fail(name + ": input too small");
    const Node y = same_quant(
        x, name,
        {s[0], out_size(s[1], size, stride, padding), out_size(s[2], size, stride, padding), s[3]});
    tflite::Pool2DOptionsT o;
    o.padding = to_tflite(padding);
    o.stride_w = o.stride_h = stride;
    o.filter_width = o.filter_height = size;
    tflite::BuiltinOptionsUnion options;
    options.Set(std::move(o));
    add_op(op, 2, {x.tensor}, {y.tensor}, std::move(options));
    return y;
  }

  // An op whose output keeps the input's quantization (TFLite requires it for these int8 ops).
  Node same_quant(Node x, const std::string& name, std::vector<int32_t> shape) {
    ActInfo out = act(x);
    out.shape = std::move(shape);
    return add_activation(name, std::move(out));
  }
};

GraphBuilder::GraphBuilder(uint64_t seed, bool float_model)
    : impl_(std::make_unique<Impl>(seed, float_model)) {}
GraphBuilder::~GraphBuilder() = default;

Node GraphBuilder::input(const std::string& name, const std::vector<int32_t>& shape) {
  if (impl_->input >= 0) Impl::fail("a second input " + name);
  ActInfo info;
  info.shape = shape;
  info.mean = 0.0;
  info.stddev = 1.0 / std::sqrt(3.0);  // uniform on [-1, 1]
  info.lo = -1.0;
  info.hi = 1.0;
  info.scale = static_cast<float>(1.0 / 127.5);
  info.zero_point = -1;
  const Node x = impl_->add_activation(name, std::move(info));
  impl_->input = x.tensor;
  return x;
}

Node GraphBuilder::conv2d(Node x, const ConvSpec& spec) {
  return impl_->conv(x, spec, false);
}

Node GraphBuilder::depthwise_conv2d(Node x, const ConvSpec& spec) {
  return impl_->conv(x, spec, true);
}

Node GraphBuilder::dense(Node x, const DenseSpec& spec) {
  return impl_->dense(x, spec);
}

Node GraphBuilder::add(Node a, Node b, const std::string& name, Activation activation) {
  const ActInfo& ia = impl_->act(a);
  const ActInfo& ib = impl_->act(b);
  if (ia.shape != ib.shape) Impl::fail(name + ": ADD of different shapes");
  // The two branches are treated as independent.
  const double mean = ia.mean + ib.mean;
  const double stddev = std::sqrt(ia.stddev * ia.stddev + ib.stddev * ib.stddev);
  const auto [clip_lo, clip_hi] = activation_clip(activation);
  ActInfo out;
  out.shape = ia.shape;
  const Moments m = clipped_moments(mean, stddev, clip_lo, clip_hi);
  out.mean = m.mean;
  out.stddev = std::sqrt(std::max(m.m2 - m.mean * m.mean, 1e-12));
  double lo = std::max(mean - kSigmas * stddev, clip_lo);
  double hi = std::min(mean + kSigmas * stddev, clip_hi);
  if (hi <= lo) hi = lo + 1e-3;
  quantize_range(out, lo, hi);
  const Node y = impl_->add_activation(name, std::move(out));
  tflite::AddOptionsT o;
  o.fused_activation_function = to_tflite(activation);
  tflite::BuiltinOptionsUnion options;
  options.Set(std::move(o));
  impl_->add_op(tflite::BuiltinOperator_ADD, 2, {a.tensor, b.tensor}, {y.tensor},
                std::move(options));
  return y;
}

Node GraphBuilder::max_pool(Node x, const std::string& name, int size, int stride,
                            Padding padding) {
  return impl_->pool(tflite::BuiltinOperator_MAX_POOL_2D, x, name, size, stride, padding);
}

Node GraphBuilder::avg_pool(Node x, const std::string& name, int size, int stride,
                            Padding padding) {
  return impl_->pool(tflite::BuiltinOperator_AVERAGE_POOL_2D, x, name, size, stride, padding);
}

Node GraphBuilder::avg_pool_global(Node x, const std::string& name) {
  const ActInfo in = impl_->act(x);
  if (in.shape.size() != 4) Impl::fail(name + ": input is not 4-D");
  const int axes = impl_->int32_constant(name + "/reduction_indices", {2}, {1, 2});
  ActInfo out;
  out.shape = {in.shape[0], in.shape[3]};
  // Channel means spread less than single values: keep the pooled statistics (conservative) and
  // stay inside the input's range.
  out.mean = in.mean;
  out.stddev = in.stddev;
  const double lo = std::max(in.lo, in.mean - kSigmas * in.stddev);
  double hi = std::min(in.hi, in.mean + kSigmas * in.stddev);
  if (hi <= lo) hi = lo + 1e-3;
  quantize_range(out, lo, hi);
  const Node y = impl_->add_activation(name, std::move(out));
  tflite::ReducerOptionsT o;
  o.keep_dims = false;
  tflite::BuiltinOptionsUnion options;
  options.Set(std::move(o));
  impl_->add_op(tflite::BuiltinOperator_MEAN, 2, {x.tensor, axes}, {y.tensor}, std::move(options));
  return y;
}

Node GraphBuilder::softmax(Node x, const std::string& name) {
  ActInfo out;
  out.shape = impl_->act(x).shape;
  out.mean = 1.0 / out.shape.back();
  out.stddev = out.mean;
  out.lo = 0.0;
  out.hi = 255.0 / 256.0;
  out.scale = 1.0f / 256.0f;
  out.zero_point = -128;
  const Node y = impl_->add_activation(name, std::move(out));
  tflite::SoftmaxOptionsT o;
  o.beta = 1.0f;
  tflite::BuiltinOptionsUnion options;
  options.Set(std::move(o));
  impl_->add_op(tflite::BuiltinOperator_SOFTMAX, 2, {x.tensor}, {y.tensor}, std::move(options));
  return y;
}

Node GraphBuilder::tanh(Node x, const std::string& name) {
  ActInfo out;
  out.shape = impl_->act(x).shape;
  out.mean = 0.0;
  out.stddev = 0.5;
  out.lo = -1.0;
  out.hi = 127.0 / 128.0;
  out.scale = 1.0f / 128.0f;  // TFLite's fixed int8 TANH output: scale 1/128, zero point 0
  out.zero_point = 0;
  const Node y = impl_->add_activation(name, std::move(out));
  impl_->add_op(tflite::BuiltinOperator_TANH, 1, {x.tensor}, {y.tensor},
                tflite::BuiltinOptionsUnion());
  return y;
}

Node GraphBuilder::pad(Node x, const std::string& name, int top, int bottom, int left, int right) {
  const auto s = impl_->act(x).shape;
  if (s.size() != 4) Impl::fail(name + ": input is not 4-D");
  const int paddings =
      impl_->int32_constant(name + "/paddings", {4, 2}, {0, 0, top, bottom, left, right, 0, 0});
  const Node y = impl_->same_quant(x, name, {s[0], s[1] + top + bottom, s[2] + left + right, s[3]});
  tflite::BuiltinOptionsUnion options;
  options.Set(tflite::PadOptionsT{});
  impl_->add_op(tflite::BuiltinOperator_PAD, 2, {x.tensor, paddings}, {y.tensor},
                std::move(options));
  return y;
}

Node GraphBuilder::concat(const std::vector<Node>& xs, const std::string& name) {
  if (xs.empty()) Impl::fail(name + ": nothing to concatenate");
  ActInfo out;
  out.shape = impl_->act(xs[0]).shape;
  out.shape.back() = 0;
  double lo = kInf, hi = -kInf, mean = 0.0, m2 = 0.0;
  std::vector<int32_t> inputs;
  for (const Node& x : xs) {
    const ActInfo& in = impl_->act(x);
    if (in.shape.size() != out.shape.size() ||
        !std::equal(in.shape.begin(), in.shape.end() - 1, out.shape.begin())) {
      Impl::fail(name + ": CONCATENATION of incompatible shapes");
    }
    out.shape.back() += in.shape.back();
    lo = std::min(lo, in.lo);
    hi = std::max(hi, in.hi);
    mean += in.shape.back() * in.mean;
    m2 += in.shape.back() * (in.stddev * in.stddev + in.mean * in.mean);
    inputs.push_back(x.tensor);
  }
  // Channel-weighted mixture of the inputs; the range covers all of them.
  mean /= out.shape.back();
  m2 /= out.shape.back();
  out.mean = mean;
  out.stddev = std::sqrt(std::max(m2 - mean * mean, 1e-12));
  quantize_range(out, lo, hi);
  const int axis = static_cast<int>(out.shape.size()) - 1;
  const Node y = impl_->add_activation(name, std::move(out));
  tflite::ConcatenationOptionsT o;
  o.axis = axis;
  tflite::BuiltinOptionsUnion options;
  options.Set(std::move(o));
  impl_->add_op(tflite::BuiltinOperator_CONCATENATION, 2, std::move(inputs), {y.tensor},
                std::move(options));
  return y;
}

Node GraphBuilder::upsample(Node x, const std::string& name, int factor) {
  const auto s = impl_->act(x).shape;
  if (s.size() != 4 || factor < 1) Impl::fail(name + ": bad upsample");
  const int size = impl_->int32_constant(name + "/size", {2}, {s[1] * factor, s[2] * factor});
  const Node y = impl_->same_quant(x, name, {s[0], s[1] * factor, s[2] * factor, s[3]});
  tflite::BuiltinOptionsUnion options;
  options.Set(tflite::ResizeNearestNeighborOptionsT{});
  impl_->add_op(tflite::BuiltinOperator_RESIZE_NEAREST_NEIGHBOR, 2, {x.tensor, size}, {y.tensor},
                std::move(options));
  return y;
}

Node GraphBuilder::reshape(Node x, const std::string& name, const std::vector<int32_t>& shape) {
  const auto& s = impl_->act(x).shape;
  int64_t in_elements = 1, out_elements = 1;
  for (int32_t d : s) in_elements *= d;
  for (int32_t d : shape) out_elements *= d;
  if (in_elements != out_elements) Impl::fail(name + ": RESHAPE changes the element count");
  const int shape_tensor =
      impl_->int32_constant(name + "/shape", {static_cast<int32_t>(shape.size())}, shape);
  const Node y = impl_->same_quant(x, name, shape);
  tflite::ReshapeOptionsT o;
  o.new_shape = shape;
  tflite::BuiltinOptionsUnion options;
  options.Set(std::move(o));
  impl_->add_op(tflite::BuiltinOperator_RESHAPE, 1, {x.tensor, shape_tensor}, {y.tensor},
                std::move(options));
  return y;
}

const std::vector<int32_t>& GraphBuilder::shape(Node x) const {
  return impl_->act(x).shape;
}

void GraphBuilder::set_output(Node x, const std::string& signature_name) {
  impl_->act(x);
  impl_->output = x.tensor;
  impl_->output_signature = signature_name;
}

std::vector<uint8_t> GraphBuilder::finish(const std::string& description) {
  Impl& impl = *impl_;
  if (!impl.model) Impl::fail("finish() called twice");
  if (impl.input < 0 || impl.output < 0) Impl::fail("the graph has no input or no output");
  tflite::ModelT& model = *impl.model;
  model.description = description;
  impl.graph->inputs = {impl.input};
  impl.graph->outputs = {impl.output};
  auto signature = std::make_unique<tflite::SignatureDefT>();
  signature->signature_key = "serving_default";
  auto in = std::make_unique<tflite::TensorMapT>();
  in->name = impl.graph->tensors[static_cast<size_t>(impl.input)]->name;
  in->tensor_index = static_cast<uint32_t>(impl.input);
  signature->inputs.push_back(std::move(in));
  auto out = std::make_unique<tflite::TensorMapT>();
  out->name = impl.output_signature;
  out->tensor_index = static_cast<uint32_t>(impl.output);
  signature->outputs.push_back(std::move(out));
  model.signature_defs.push_back(std::move(signature));

  // Sized up front so the builder does not grow (and copy) a large model several times.
  const size_t estimate = impl.data_bytes + 16 * model.buffers.size() +
                          512 * impl.graph->tensors.size() + (size_t{1} << 16);
  flatbuffers::FlatBufferBuilder fbb(estimate);
  const auto root = tflite::Model::Pack(fbb, &model);
  impl.model.reset();
  tflite::FinishModelBuffer(fbb, root);
  const uint8_t* data = fbb.GetBufferPointer();
  return std::vector<uint8_t>(data, data + fbb.GetSize());
}

DenseSpec keras_dense(const std::string& name, int units, bool relu) {
  DenseSpec spec;
  spec.output = (relu ? tf_name(name + "/Relu;") : std::string()) + tf_name(name + "/MatMul;") +
                tf_name(name + "/BiasAdd");
  spec.weights = tf_name(name + "/MatMul/ReadVariableOp");
  spec.bias = tf_name(name + "/BiasAdd/ReadVariableOp");
  spec.units = units;
  spec.activation = relu ? Activation::kRelu : Activation::kNone;
  return spec;
}

}  // namespace pipecut::zoo
