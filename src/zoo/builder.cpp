// The zoo's graph builder: records tensors and ops in a tflite::ModelT and packs it.
//
// Weights: He-normal (std = sqrt(2 / fan_in)) from our own generator (splitmix64 + the polar
// Box-Muller method), so the bytes do not depend on the standard library. Quantization:
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
#include <limits>
#include <map>
#include <numbers>
#include <set>
#include <utility>

#include "format/tflite_schema.h"
#include "pipecut/error.h"

namespace pipecut::zoo {

namespace {

constexpr double kSigmas = 4.0;  // estimated range = mean +- kSigmas * std
constexpr double kInf = std::numeric_limits<double>::infinity();

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string& text) {
  uint64_t hash = 0xCBF29CE484222325ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001B3ull;
  }
  return hash;
}

// A random stream per (seed, layer key): a layer's values do not depend on the layers before it.
class Rng {
 public:
  Rng(uint64_t seed, const std::string& key) {
    uint64_t s = seed;
    state_ = splitmix64(s) ^ fnv1a(key);
  }
  double uniform() { return static_cast<double>(splitmix64(state_) >> 11) * 0x1.0p-53; }  // [0,1)
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    // Marsaglia's polar form of Box-Muller: two normals per accepted point of the unit disc.
    double u, v, s;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }

 private:
  uint64_t state_ = 0;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

double normal_cdf(double x) {
  return 0.5 * std::erfc(-x / std::numbers::sqrt2);
}
double normal_pdf(double x) {
  return std::exp(-0.5 * x * x) / std::sqrt(2.0 * std::numbers::pi);
}

struct Moments {
  double mean = 0.0;
  double m2 = 0.0;  // E[y^2]
};

// Moments of clip(X, lo, hi) for X ~ N(mu, s^2); lo may be -inf and hi +inf.
Moments clipped_moments(double mu, double s, double lo, double hi) {
  if (s <= 1e-12) {
    const double y = std::clamp(mu, lo, hi);
    return {y, y * y};
  }
  const bool has_lo = std::isfinite(lo), has_hi = std::isfinite(hi);
  const double a = has_lo ? (lo - mu) / s : -kInf;
  const double b = has_hi ? (hi - mu) / s : kInf;
  const double cdf_a = has_lo ? normal_cdf(a) : 0.0, pdf_a = has_lo ? normal_pdf(a) : 0.0;
  const double cdf_b = has_hi ? normal_cdf(b) : 1.0, pdf_b = has_hi ? normal_pdf(b) : 0.0;
  const double inside = cdf_b - cdf_a;
  Moments m;
  m.mean = mu * inside + s * (pdf_a - pdf_b);
  m.m2 = (mu * mu + s * s) * inside;
  if (has_lo) {
    m.mean += lo * cdf_a;
    m.m2 += lo * lo * cdf_a + s * (lo + mu) * pdf_a;
  }
  if (has_hi) {
    m.mean += hi * (1.0 - cdf_b);
    m.m2 += hi * hi * (1.0 - cdf_b) - s * (hi + mu) * pdf_b;
  }
  return m;
}

std::pair<double, double> activation_clip(Activation act) {
  switch (act) {
    case Activation::kRelu:
      return {0.0, kInf};
    case Activation::kRelu6:
      return {0.0, 6.0};
    case Activation::kNone:
      break;
  }
  return {-kInf, kInf};
}

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

int out_size(int in, int kernel, int stride, Padding padding) {
  if (padding == Padding::kSame) return (in + stride - 1) / stride;
  return (in - kernel) / stride + 1;
}

void append_le(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// What the builder knows about an activation tensor.
struct ActInfo {
  std::vector<int32_t> shape;
  double mean = 0.0, stddev = 1.0;  // analytic estimate, pooled over channels
  double lo = -1.0, hi = 1.0;       // estimated range the quantization covers
  float scale = 1.0f;
  int32_t zero_point = 0;
};

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

  // Sets the quantization of `info` to cover [lo, hi] (widened to include 0).
  static void quantize_range(ActInfo& info, double lo, double hi) {
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
    if (hi - lo < 1e-6) hi = lo + 1e-6;
    const double scale = (hi - lo) / 255.0;
    info.lo = lo;
    info.hi = hi;
    info.scale = static_cast<float>(scale);
    info.zero_point =
        static_cast<int32_t>(std::clamp(std::round(-128.0 - lo / scale), -128.0, 127.0));
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

  // The weights, bias and output statistics of a conv / depthwise conv / dense layer.
  struct Layer {
    std::vector<uint8_t> weights;  // int8, in the TFLite layout
    std::vector<float> weight_scales;
    std::vector<uint8_t> bias;  // int32 little-endian
    std::vector<float> bias_scales;
    std::vector<float> float_weights, float_bias;  // float models only, same layout
    ActInfo out;
  };

  // out_channels output channels, each a dot product of fan_in inputs. index(c, i) gives the
  // position of weight i of channel c in the TFLite layout.
  template <typename Index>
  Layer make_layer(const ActInfo& in, int out_channels, int fan_in, const std::string& key,
                   bool batch_norm, double bn_epsilon, Activation activation, Index index) {
    Layer layer;
    const size_t n = static_cast<size_t>(out_channels), k = static_cast<size_t>(fan_in);
    layer.weights.resize(n * k);
    layer.weight_scales.resize(n);
    layer.bias_scales.resize(n);
    layer.bias.reserve(n * 4);
    if (float_model) {
      layer.float_weights.resize(n * k);
      layer.float_bias.resize(n);
    }
    Rng weight_rng(seed, key);
    Rng bn_rng(seed, key + "#bias");
    const double he_std = std::sqrt(2.0 / fan_in);
    const auto [clip_lo, clip_hi] = activation_clip(activation);
    double lo = kInf, hi = -kInf, sum_mean = 0.0, sum_m2 = 0.0;
    std::vector<double> w(k);
    for (size_t c = 0; c < n; ++c) {
      double s1 = 0.0, s2 = 0.0, max_abs = 0.0;
      for (size_t i = 0; i < k; ++i) {
        w[i] = he_std * weight_rng.normal();
        s1 += w[i];
        s2 += w[i] * w[i];
        max_abs = std::max(max_abs, std::abs(w[i]));
      }
      max_abs = std::max(max_abs, 1e-12);
      // Raw channel output z = w . x (Keras initializes conv biases to zero).
      const double z_mean = in.mean * s1;
      const double z_std = in.stddev * std::sqrt(s2);
      double fold = 1.0, bias = 0.0;
      if (batch_norm) {
        // Seeded batch norm whose moving statistics roughly match the channel's estimated
        // statistics, as they would after training: the folded output is ~ N(beta, gamma^2).
        const double gamma = 0.6 + 0.8 * bn_rng.uniform();
        const double beta = 0.1 * bn_rng.normal();
        const double moving_mean = z_mean + 0.05 * z_std * bn_rng.normal();
        const double moving_var = z_std * z_std * std::exp(0.1 * bn_rng.normal());
        fold = gamma / std::sqrt(moving_var + bn_epsilon);
        bias = beta - moving_mean * fold;
      } else {
        bias = 0.01 * bn_rng.normal();
      }
      const double mean_c = z_mean * fold + bias;
      const double std_c = z_std * fold;
      lo = std::min(lo, mean_c - kSigmas * std_c);
      hi = std::max(hi, mean_c + kSigmas * std_c);
      const Moments m = clipped_moments(mean_c, std_c, clip_lo, clip_hi);
      sum_mean += m.mean;
      sum_m2 += m.m2;

      if (float_model) {  // the folded layer as it is; no quantization
        for (size_t i = 0; i < k; ++i)
          layer.float_weights[index(c, i)] = static_cast<float>(w[i] * fold);
        layer.float_bias[c] = static_cast<float>(bias);
        continue;
      }
      const float w_scale = static_cast<float>(max_abs * fold / 127.0);
      const double inv_step = 127.0 / max_abs;
      layer.weight_scales[c] = w_scale;
      for (size_t i = 0; i < k; ++i) {
        // |w| <= max_abs, so this rounds half away from zero into [-127, 127] (cheaper than
        // std::round, which is a library call without SSE4.1).
        const double x = w[i] * inv_step;
        const int q = static_cast<int>(x + (x >= 0.0 ? 0.5 : -0.5));
        layer.weights[index(c, i)] = static_cast<uint8_t>(static_cast<int8_t>(q));
      }
      const float b_scale = in.scale * w_scale;
      layer.bias_scales[c] = b_scale;
      const double qb = std::clamp(std::round(bias / b_scale), -2147483647.0, 2147483647.0);
      append_le(layer.bias, static_cast<uint32_t>(static_cast<int32_t>(qb)));
    }
    const double mean = sum_mean / static_cast<double>(n);
    layer.out.mean = mean;
    layer.out.stddev = std::sqrt(std::max(sum_m2 / static_cast<double>(n) - mean * mean, 1e-12));
    lo = std::max(lo, clip_lo);
    hi = std::min(hi, clip_hi);
    if (activation == Activation::kRelu6) hi = 6.0;  // the converter's range for ReLU6
    if (hi <= lo) hi = lo + 1e-3;
    quantize_range(layer.out, lo, hi);
    return layer;
  }

  // Adds the weight and bias tensors of `layer`; returns their indices.
  std::pair<int, int> add_parameters(Layer& layer, const std::string& weights_name,
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
    const size_t cs = static_cast<size_t>(channels), fan = static_cast<size_t>(fan_in);
    Layer layer =
        depthwise
            ? make_layer(in, out_channels, fan_in, spec.weights, spec.batch_norm, spec.bn_epsilon,
                         spec.activation, [cs](size_t c, size_t i) { return i * cs + c; })
            : make_layer(in, out_channels, fan_in, spec.weights, spec.batch_norm, spec.bn_epsilon,
                         spec.activation, [fan](size_t c, size_t i) { return c * fan + i; });
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
    const size_t fan = static_cast<size_t>(fan_in);
    Layer layer = make_layer(in, spec.units, fan_in, spec.weights, false, 0.0, spec.activation,
                             [fan](size_t c, size_t i) { return c * fan + i; });
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
  Impl::quantize_range(out, lo, hi);
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
  Impl::quantize_range(out, lo, hi);
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
  Impl::quantize_range(out, lo, hi);
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
