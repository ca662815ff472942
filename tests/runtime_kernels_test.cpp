// Accuracy cross-check of the CPU runtime's kernels against TensorFlow Lite's integer semantics.
// Each case builds a one-op .tflite with random (seeded) data, runs it through load_cpu, and
// compares with a reference written here from TensorFlow Lite's reference kernels:
// MultiplyByQuantizedMultiplier (rounding doubling high mul, rounding right shift), ADD's
// left_shift 20, MEAN's rescale-then-divide, softmax's gemmlowp fixed-point exp and reciprocal,
// RESIZE_BILINEAR's 1/1024 positions. The runtime requantizes in float, so results may differ by
// one step on a small fraction of values (docs/runtime.md); every case asserts |diff| <= 1 and
// bounds how often it happens. Ops whose semantics are exact (pooling averages, max, copies,
// table-based requantization) must match bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "format/tflite_schema.h"
#include "pipecut/error.h"
#include "pipecut/model.h"
#include "pipecut/runtime.h"
#include "runtime/quant_math.h"
#include "runtime/simd.h"
#include "support/one_op_model.h"
#include "support/tflite_arithmetic.h"

namespace pipecut {
namespace {

// ---- TensorFlow Lite's integer arithmetic ------------------------------------------------------

using testing::tfl::mbqm;
using testing::tfl::Multiplier;
using testing::tfl::quantize_multiplier;
using testing::tfl::rounding_divide_by_pot;
using testing::tfl::saturating_shift_left;
using testing::tfl::srdhm;

// gemmlowp fixed point pieces used by softmax.
int32_t rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = static_cast<int64_t>(a) + b;
  return static_cast<int32_t>((sum + (sum >= 0 ? 1 : -1)) / 2);
}

int32_t exp_quarter(int32_t a) {  // exp(a) for a in [-1/4, 0), Q0.31
  const int32_t constant_term = 1895147668, one_third = 715827883;
  const int32_t x = a + (1 << 28);
  const int32_t x2 = srdhm(x, x), x3 = srdhm(x2, x), x4 = srdhm(x2, x2);
  const int32_t x4_over_4 = rounding_divide_by_pot(x4, 2);
  const int32_t poly = rounding_divide_by_pot(srdhm(x4_over_4 + x3, one_third) + x2, 1);
  return constant_term + srdhm(constant_term, x + poly);
}

int32_t exp_on_negative_values_q5(int32_t a) {  // input Q5.26, result Q0.31
  constexpr int kFractional = 26;
  const int32_t quarter = 1 << (kFractional - 2);
  const int32_t a_mod = (a & (quarter - 1)) - quarter;
  int32_t result = exp_quarter(saturating_shift_left(a_mod, 5));
  const int32_t remainder = a_mod - a;
  const int32_t multipliers[] = {1672461947, 1302514674, 790015084, 290630308,
                                 39332535,   720401,     242};
  for (int e = -2; e <= 4; ++e) {
    if (remainder & (1 << (kFractional + e))) result = srdhm(result, multipliers[e + 2]);
  }
  return a == 0 ? std::numeric_limits<int32_t>::max() : result;
}

int32_t one_over_one_plus_x(int32_t a) {  // Q0.31 in and out
  const int32_t half_denominator = rounding_half_sum(a, std::numeric_limits<int32_t>::max());
  int32_t x = 1515870810 + srdhm(half_denominator, -1010580540);
  for (int i = 0; i < 3; ++i) {
    const int32_t one_minus = (1 << 29) - srdhm(half_denominator, x);
    x = x + saturating_shift_left(srdhm(x, one_minus), 2);
  }
  return saturating_shift_left(x, 1);
}

int count_leading_zeros(uint32_t x) {
  return x == 0 ? 32 : __builtin_clz(x);
}

// ---- the arithmetic itself, on values worked out by hand ---------------------------------------

// The reference above and the runtime's own quant_math (used for its lookup tables) must both give
// TensorFlow Lite's answers on cases computed by hand, including the double rounding of
// MultiplyByQuantizedMultiplier: 95 x 2^-6 = 1.484 becomes 95 x 0.5 = 47.5 -> 48 in the high
// multiply, then 48 / 32 = 1.5 -> 2 in the rounding shift, where one rounding would give 1.
TEST(RuntimeKernels, FixedPointArithmeticKnownValues) {
  const auto check_all = [](auto high_mul, auto divide, auto quantize, auto multiply) {
    const int32_t kMin = std::numeric_limits<int32_t>::min();
    const int32_t kMax = std::numeric_limits<int32_t>::max();
    EXPECT_EQ(high_mul(1 << 30, 1 << 30), 1 << 29);  // 0.5 x 0.5 in Q0.31
    EXPECT_EQ(high_mul(-(1 << 30), 1 << 30), -(1 << 29));
    EXPECT_EQ(high_mul(kMin, kMin), kMax);  // the one product that saturates
    EXPECT_EQ(divide(5, 1), 3);             // 2.5: halves round away from zero
    EXPECT_EQ(divide(-5, 1), -3);
    EXPECT_EQ(divide(6, 2), 2);  // 1.5
    EXPECT_EQ(divide(-6, 2), -2);
    EXPECT_EQ(divide(5, 2), 1);  // 1.25
    EXPECT_EQ(divide(7, 2), 2);  // 1.75
    const auto half = quantize(0.5), quarter = quantize(0.25), one = quantize(1.0),
               three = quantize(3.0);
    EXPECT_EQ(half.first, 1 << 30);
    EXPECT_EQ(half.second, 0);
    EXPECT_EQ(quarter.first, 1 << 30);
    EXPECT_EQ(quarter.second, -1);
    EXPECT_EQ(one.first, 1 << 30);
    EXPECT_EQ(one.second, 1);
    EXPECT_EQ(three.first, 1610612736);  // 0.75 x 2^31
    EXPECT_EQ(three.second, 2);
    const auto huge = quantize(1e30), tiny = quantize(1e-12);  // past what a shift can carry
    EXPECT_EQ(huge.first, kMax);
    EXPECT_EQ(huge.second, 30);
    EXPECT_EQ(tiny.first, 0);
    EXPECT_EQ(tiny.second, 0);
    EXPECT_EQ(multiply(95, 1 << 30, -5), 2);  // rounds twice (see above)
    // Not symmetric: the high multiply takes a negative half towards zero (-47.5 -> -47), and
    // -47 / 32 = -1.47 -> -1.
    EXPECT_EQ(multiply(-95, 1 << 30, -5), -1);
    EXPECT_EQ(high_mul(-95, 1 << 30), -47);
    EXPECT_EQ(multiply(93, 1 << 30, -5), 1);       // 1.453
    EXPECT_EQ(multiply(100, 1610612736, 2), 300);  // x 3, through the left shift
    EXPECT_EQ(multiply(-7, 1610612736, 0), -5);    // -5.25
  };
  check_all(
      srdhm, rounding_divide_by_pot,
      [](double d) {
        const Multiplier m = quantize_multiplier(d);
        return std::pair<int32_t, int>(m.m, m.shift);
      },
      [](int32_t x, int32_t m, int shift) {
        return mbqm(x, Multiplier{m, shift});
      });
  check_all(
      runtime::saturating_rounding_doubling_high_mul, runtime::rounding_divide_by_pot,
      [](double d) {
        const runtime::QuantizedMultiplier m = runtime::quantize_multiplier(d);
        return std::pair<int32_t, int>(m.multiplier, m.shift);
      },
      [](int32_t x, int32_t m, int shift) {
        return runtime::multiply_by_quantized_multiplier(x, {m, shift});
      });
}

// ---- a one-op model builder --------------------------------------------------------------------

struct TensorDef {
  std::string name;
  tflite::TensorType type = tflite::TensorType_INT8;
  std::vector<int32_t> shape;
  std::vector<float> scale;
  std::vector<int64_t> zero;
  int axis = 0;
  std::vector<uint8_t> data;  // constant bytes, empty for activations
};

class OneOpModel {
 public:
  int add(TensorDef t) {
    defs_.push_back(std::move(t));
    return static_cast<int>(defs_.size()) - 1;
  }
  // Builds the model with op `code` reading `inputs` and writing `outputs`; the non-constant inputs
  // become model inputs.
  Model build(tflite::BuiltinOperator code, tflite::BuiltinOptionsUnion options,
              const std::vector<int>& inputs, const std::vector<int>& outputs) {
    std::vector<testing::OneOpTensor> tensors;
    for (const TensorDef& d : defs_)
      tensors.push_back({d.name, d.type, d.shape, d.scale, d.zero, d.axis, d.data});
    return testing::build_one_op_model(tensors, code, std::move(options), inputs, outputs);
  }

 private:
  std::vector<TensorDef> defs_;
};

// A one-op ADD of tensors a and b into out, with a fused activation.
Model add_model(TensorDef a, TensorDef b, TensorDef out,
                tflite::ActivationFunctionType act = tflite::ActivationFunctionType_NONE) {
  OneOpModel m;
  const int ia = m.add(std::move(a)), ib = m.add(std::move(b)), io = m.add(std::move(out));
  tflite::AddOptionsT add;
  add.fused_activation_function = act;
  tflite::BuiltinOptionsUnion o;
  o.Set(add);
  return m.build(tflite::BuiltinOperator_ADD, std::move(o), {ia, ib}, {io});
}

// Quantized values in the file's domain (int8 or uint8), and their bytes.
std::vector<uint8_t> to_bytes(const std::vector<int32_t>& values) {
  std::vector<uint8_t> b(values.size());
  for (size_t i = 0; i < values.size(); ++i) b[i] = static_cast<uint8_t>(values[i]);
  return b;
}

std::vector<uint8_t> to_bytes32(const std::vector<int32_t>& values) {
  std::vector<uint8_t> b(values.size() * 4);
  std::memcpy(b.data(), values.data(), b.size());
  return b;
}

std::vector<int32_t> from_bytes(const std::vector<uint8_t>& bytes, bool is_int8) {
  std::vector<int32_t> v(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i)
    v[i] = is_int8 ? static_cast<int8_t>(bytes[i]) : bytes[i];
  return v;
}

std::vector<int32_t> random_values(std::mt19937& rng, size_t n, int lo, int hi) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int32_t> v(n);
  for (int32_t& x : v) x = d(rng);
  return v;
}

// Runs the model's single input (or inputs) and returns the first output in the file's domain.
std::vector<int32_t> run_model(const Model& model, const std::vector<std::vector<int32_t>>& inputs,
                               int threads = 1) {
  CpuOptions options;
  options.threads = threads;
  auto exe = load_cpu(model, options);
  std::vector<TensorValue> values;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorSpec& spec = exe->inputs().at(i);
    TensorValue v{spec.name, spec.type, spec.shape, spec.quant, to_bytes(inputs[i])};
    values.push_back(std::move(v));
  }
  const TensorValue out = exe->run(values).at(0);
  return from_bytes(out.data, out.type == DType::kInt8);
}

struct Comparison {
  int max_diff = 0;
  double off_fraction = 0;
};

Comparison compare(const std::vector<int32_t>& got, const std::vector<int32_t>& want) {
  EXPECT_EQ(got.size(), want.size());
  Comparison c;
  size_t off = 0;
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    const int d = std::abs(got[i] - want[i]);
    c.max_diff = std::max(c.max_diff, d);
    off += d != 0;
  }
  c.off_fraction = want.empty() ? 0 : static_cast<double>(off) / static_cast<double>(want.size());
  return c;
}

void expect_close(const std::vector<int32_t>& got, const std::vector<int32_t>& want,
                  double max_off_fraction = 0.05) {
  const Comparison c = compare(got, want);
  EXPECT_LE(c.max_diff, 1);
  EXPECT_LE(c.off_fraction, max_off_fraction);
  // The outputs must not be degenerate (the cases are scaled to spread over the range).
  const auto [lo, hi] = std::minmax_element(want.begin(), want.end());
  EXPECT_GT(*hi - *lo, 8) << "reference output is nearly constant";
}

struct IntRange {
  int32_t lo, hi;
};

IntRange act_range(int act, float scale, int32_t zero, bool is_int8) {
  const int32_t qmin = is_int8 ? -128 : 0, qmax = is_int8 ? 127 : 255;
  auto q = [&](float f) { return zero + static_cast<int32_t>(std::round(f / scale)); };
  if (act == tflite::ActivationFunctionType_RELU) return {std::max(qmin, q(0.f)), qmax};
  if (act == tflite::ActivationFunctionType_RELU6)
    return {std::max(qmin, q(0.f)), std::min(qmax, q(6.f))};
  return {qmin, qmax};
}

// ---- convolutions ------------------------------------------------------------------------------

struct ConvCase {
  bool depthwise = false;
  bool fully_connected = false;
  bool is_int8 = true;  // int8 per-channel; else uint8 per-tensor
  int n = 1, h = 9, w = 10, ic = 6, oc = 8, k = 3, stride = 1, dilation = 1, multiplier = 1;
  int groups = 1;  // CONV_2D only
  int kw = 0;      // kernel width when not k (Inception's 1x7, 7x1); k is then the height
  bool same = true;
  int act = tflite::ActivationFunctionType_NONE;
  int weight_zero = 0;      // uint8 only
  int weight_spread = 127;  // uint8: weights in [zero - spread, zero + spread] clamped to [0, 255]
  uint32_t seed = 1;
};

int out_size(bool same, int in, int k, int stride, int dilation) {
  const int eff = (k - 1) * dilation + 1;
  return same ? (in + stride - 1) / stride : (in - eff + stride) / stride;
}

using testing::tfl::pad_before;

void run_conv_case(const ConvCase& c) {
  std::mt19937 rng(c.seed);
  const bool i8 = c.is_int8;
  const int qmin = i8 ? -128 : 0, qmax = i8 ? 127 : 255;
  const int oc = c.depthwise ? c.ic * c.multiplier : c.oc;
  const int k = c.fully_connected ? 1 : c.k;                        // kernel height
  const int kw_ = c.fully_connected ? 1 : (c.kw > 0 ? c.kw : c.k);  // kernel width
  const int oh = c.fully_connected ? 1 : out_size(c.same, c.h, k, c.stride, c.dilation);
  const int ow = c.fully_connected ? 1 : out_size(c.same, c.w, kw_, c.stride, c.dilation);
  const int pt = c.fully_connected ? 0 : pad_before(c.same, c.h, oh, k, c.stride, c.dilation);
  const int pl = c.fully_connected ? 0 : pad_before(c.same, c.w, ow, kw_, c.stride, c.dilation);
  const int ih = c.fully_connected ? 1 : c.h, iw = c.fully_connected ? 1 : c.w;

  const float sx = 0.02f + static_cast<float>(rng() % 100) / 2000.f;
  const int32_t zx = static_cast<int32_t>(rng() % 60) + (i8 ? -40 : 90);
  const std::vector<int32_t> x =
      random_values(rng, static_cast<size_t>(c.n) * ih * iw * c.ic, qmin, qmax);

  // Weights: [oc][k][kw][ic] (conv), [1][k][kw][oc] (depthwise), [oc][ic] (fully connected).
  const int icg = c.ic / c.groups;  // input channels per group (CONV_2D)
  const size_t wcount =
      c.depthwise ? static_cast<size_t>(k) * kw_ * oc : static_cast<size_t>(oc) * k * kw_ * icg;
  std::vector<int32_t> wv;
  if (i8) {
    wv = random_values(rng, wcount, -127, 127);
  } else {
    wv = random_values(rng, wcount, std::max(0, c.weight_zero - c.weight_spread),
                       std::min(255, c.weight_zero + c.weight_spread));
  }
  std::vector<float> sw(i8 ? static_cast<size_t>(oc) : 1);
  for (float& s : sw) s = 0.002f + static_cast<float>(rng() % 1000) / 100000.f;
  auto w_at = [&](int o, int kh, int kw, int i) -> int32_t {
    if (c.depthwise) return wv[static_cast<size_t>((kh * kw_ + kw) * oc + o)];
    return wv[static_cast<size_t>(((o * k + kh) * kw_ + kw) * icg + i % icg)];
  };
  const int32_t zw = i8 ? 0 : c.weight_zero;

  // Accumulators, exactly.
  std::vector<int64_t> acc(static_cast<size_t>(c.n) * oh * ow * oc, 0);
  for (int n = 0; n < c.n; ++n) {
    for (int y = 0; y < oh; ++y) {
      for (int xo = 0; xo < ow; ++xo) {
        for (int o = 0; o < oc; ++o) {
          int64_t a = 0;
          for (int kh = 0; kh < k; ++kh) {
            for (int kw = 0; kw < kw_; ++kw) {
              const int yy = y * c.stride - pt + kh * c.dilation,
                        xx = xo * c.stride - pl + kw * c.dilation;
              if (yy < 0 || yy >= ih || xx < 0 || xx >= iw) continue;
              const int first = c.depthwise ? o / c.multiplier : o / (oc / c.groups) * icg;
              const int count = c.depthwise ? 1 : icg;
              for (int i = first; i < first + count; ++i) {
                const int32_t xv = x[static_cast<size_t>(((n * ih + yy) * iw + xx) * c.ic + i)];
                a += static_cast<int64_t>(xv - zx) * (w_at(o, kh, kw, i) - zw);
              }
            }
          }
          acc[static_cast<size_t>(((n * oh + y) * ow + xo) * oc + o)] = a;
        }
      }
    }
  }
  int64_t max_acc = 1;
  for (int64_t a : acc) max_acc = std::max(max_acc, std::abs(a));
  std::vector<int32_t> bias = random_values(
      rng, static_cast<size_t>(oc), -static_cast<int>(max_acc / 4), static_cast<int>(max_acc / 4));
  const float so = sx * sw[0] * static_cast<float>(max_acc) / 90.f;
  const int32_t zo =
      i8 ? static_cast<int32_t>(rng() % 40) - 20 : 100 + static_cast<int32_t>(rng() % 40);
  const IntRange range = act_range(c.act, so, zo, i8);
  std::vector<int32_t> want(acc.size());
  for (size_t j = 0; j < acc.size(); ++j) {
    const int o = static_cast<int>(j % static_cast<size_t>(oc));
    const double real =
        static_cast<double>(sx) * sw[i8 ? static_cast<size_t>(o) : 0] / static_cast<double>(so);
    const int32_t v = mbqm(static_cast<int32_t>(acc[j] + bias[static_cast<size_t>(o)]),
                           quantize_multiplier(real)) +
                      zo;
    want[j] = std::clamp(v, range.lo, range.hi);
  }

  OneOpModel b;
  const tflite::TensorType act_type = i8 ? tflite::TensorType_INT8 : tflite::TensorType_UINT8;
  const std::vector<int32_t> in_shape = c.fully_connected
                                            ? std::vector<int32_t>{c.n, c.ic}
                                            : std::vector<int32_t>{c.n, c.h, c.w, c.ic};
  const int in = b.add({"input", act_type, in_shape, {sx}, {zx}, 0, {}});
  std::vector<int32_t> wshape = c.depthwise         ? std::vector<int32_t>{1, k, kw_, oc}
                                : c.fully_connected ? std::vector<int32_t>{oc, c.ic}
                                                    : std::vector<int32_t>{oc, k, kw_, icg};
  std::vector<int64_t> wzero(sw.size(), zw);
  const int weights =
      b.add({"weights", act_type, wshape, sw, wzero, c.depthwise ? 3 : 0, to_bytes(wv)});
  std::vector<float> bscale(sw.size());
  for (size_t i = 0; i < sw.size(); ++i) bscale[i] = sx * sw[i];
  const int bias_t = b.add({"bias",
                            tflite::TensorType_INT32,
                            {oc},
                            bscale,
                            std::vector<int64_t>(sw.size(), 0),
                            0,
                            to_bytes32(bias)});
  const std::vector<int32_t> out_shape =
      c.fully_connected ? std::vector<int32_t>{c.n, oc} : std::vector<int32_t>{c.n, oh, ow, oc};
  const int out = b.add({"output", act_type, out_shape, {so}, {zo}, 0, {}});
  tflite::BuiltinOptionsUnion options;
  const auto padding = c.same ? tflite::Padding_SAME : tflite::Padding_VALID;
  const auto act = static_cast<tflite::ActivationFunctionType>(c.act);
  tflite::BuiltinOperator code;
  if (c.fully_connected) {
    tflite::FullyConnectedOptionsT o;
    o.fused_activation_function = act;
    options.Set(o);
    code = tflite::BuiltinOperator_FULLY_CONNECTED;
  } else if (c.depthwise) {
    tflite::DepthwiseConv2DOptionsT o;
    o.padding = padding;
    o.stride_w = o.stride_h = c.stride;
    o.dilation_w_factor = o.dilation_h_factor = c.dilation;
    o.depth_multiplier = c.multiplier;
    o.fused_activation_function = act;
    options.Set(o);
    code = tflite::BuiltinOperator_DEPTHWISE_CONV_2D;
  } else {
    tflite::Conv2DOptionsT o;
    o.padding = padding;
    o.stride_w = o.stride_h = c.stride;
    o.dilation_w_factor = o.dilation_h_factor = c.dilation;
    o.fused_activation_function = act;
    options.Set(o);
    code = tflite::BuiltinOperator_CONV_2D;
  }
  const Model model = b.build(code, std::move(options), {in, weights, bias_t}, {out});
  expect_close(run_model(model, {x}), want);
}

TEST(RuntimeKernels, ConvInt8PerChannel) {
  ConvCase c;
  run_conv_case(c);
  c.stride = 2;
  c.act = tflite::ActivationFunctionType_RELU6;
  c.seed = 2;
  run_conv_case(c);
  c.stride = 1;
  c.same = false;
  c.dilation = 2;
  c.act = tflite::ActivationFunctionType_RELU;
  c.seed = 3;
  run_conv_case(c);
  c = ConvCase{};
  c.k = 1;
  c.ic = 24;
  c.oc = 16;
  c.seed = 4;
  run_conv_case(c);
  c = ConvCase{};  // padding and dilation together
  c.dilation = 2;
  c.seed = 13;
  run_conv_case(c);
  c.dilation = 1;  // grouped convolution
  c.groups = 2;
  c.seed = 14;
  run_conv_case(c);
  // Inception's factorized kernels: 1 high and 7 wide, 7 high and 1 wide, 3 by 1 with a stride.
  for (const auto& [kh, kw, stride, same] :
       {std::tuple{1, 7, 1, true}, std::tuple{7, 1, 1, true}, std::tuple{3, 1, 2, false}}) {
    c = ConvCase{};
    c.k = kh;
    c.kw = kw;
    c.stride = stride;
    c.same = same;
    c.seed = static_cast<uint32_t>(20 + kh * 10 + kw);
    run_conv_case(c);
  }
  c = ConvCase{};  // and a depthwise one
  c.depthwise = true;
  c.k = 1;
  c.kw = 5;
  c.seed = 31;
  run_conv_case(c);
}

TEST(RuntimeKernels, ConvUint8WithWeightZeroPoint) {
  ConvCase c;
  c.is_int8 = false;
  c.weight_zero = 131;  // w - z_w spans [-131, 124]: outside int8, im2col + matmul path
  c.weight_spread = 200;
  run_conv_case(c);
  c.stride = 2;  // strided, dilated, VALID: im2col's general path
  c.dilation = 2;
  c.same = false;
  c.ic = 3;
  c.seed = 12;
  run_conv_case(c);
  c = ConvCase{};
  c.is_int8 = false;
  c.weight_zero = 131;
  c.weight_spread = 200;
  c.k = 1;  // pointwise: matmul straight on the input
  c.ic = 20;
  c.seed = 5;
  run_conv_case(c);
  c.k = 3;  // weights close to their zero point fit int8: oneDNN convolution
  c.weight_spread = 60;
  c.stride = 2;
  c.seed = 6;
  run_conv_case(c);
}

TEST(RuntimeKernels, DepthwiseInt8PerChannel) {
  ConvCase c;
  c.depthwise = true;
  c.ic = 16;
  run_conv_case(c);
  c.stride = 2;
  c.act = tflite::ActivationFunctionType_RELU6;
  c.seed = 7;
  run_conv_case(c);
  c.stride = 1;
  c.multiplier = 2;
  c.ic = 5;
  c.seed = 8;
  run_conv_case(c);
}

TEST(RuntimeKernels, DepthwiseUint8WithWeightZeroPoint) {
  ConvCase c;
  c.depthwise = true;
  c.is_int8 = false;
  c.ic = 40;  // a full block of 32 channels and a partial one
  c.weight_zero = 140;
  c.weight_spread = 200;
  run_conv_case(c);
  c.stride = 2;
  c.act = tflite::ActivationFunctionType_RELU6;
  c.seed = 9;
  run_conv_case(c);
  c.stride = 1;
  c.multiplier = 3;
  c.ic = 4;
  c.dilation = 2;
  c.seed = 10;
  run_conv_case(c);
}

// The AVX-512 depthwise kernel (multiplier 1) splits each output row into windows that reach into
// the padding and an interior run at fixed tap offsets; these shapes put every pixel in one or the
// other in turn.
TEST(RuntimeKernels, DepthwiseUint8WindowsAtEveryEdge) {
  ConvCase c;
  c.depthwise = true;
  c.is_int8 = false;
  c.ic = 64;  // two full blocks
  c.weight_zero = 100;
  c.weight_spread = 180;
  c.dilation = 2;  // interior from column 2 to column w - 3
  c.n = 2;
  c.seed = 11;
  run_conv_case(c);
  c.dilation = 1;
  c.k = 5;         // 25 taps: an odd tap paired with the zero weight
  c.same = false;  // no padding: every window is interior
  c.seed = 12;
  run_conv_case(c);
  c.h = 3;
  c.w = 2;  // narrower than the window: no interior column at all
  c.k = 3;
  c.same = true;
  c.ic = 33;
  c.seed = 13;
  run_conv_case(c);
  c.h = 7;
  c.w = 11;
  c.stride = 2;
  c.seed = 14;
  run_conv_case(c);
}

TEST(RuntimeKernels, FullyConnected) {
  ConvCase c;
  c.fully_connected = true;
  c.n = 3;
  c.ic = 40;
  c.oc = 12;
  run_conv_case(c);
  c.is_int8 = false;
  c.weight_zero = 120;
  c.weight_spread = 200;
  c.seed = 11;
  run_conv_case(c);
}

// ---- ADD ---------------------------------------------------------------------------------------

TEST(RuntimeKernels, AddWithBroadcast) {
  for (uint32_t seed : {1u, 2u}) {
    std::mt19937 rng(seed);
    const std::vector<int32_t> sa{1, 5, 7, 16},
        sb = seed == 1 ? sa : std::vector<int32_t>{1, 1, 1, 16};
    // Scales as calibration produces them (decimal ones like 0.05 / 0.12 land many exact sums
    // within 1e-6 of a rounding tie, which only fixed point with 31 bits resolves as TFLite does).
    const float s1 = 0.0473f, s2 = seed == 1 ? 0.1127f : 0.0291f, so = 0.1189f;
    const int32_t z1 = -7, z2 = 20, zo = 3;
    const auto a = random_values(rng, 5 * 7 * 16, -128, 127);
    const auto bv = random_values(rng, static_cast<size_t>(sb[1] * sb[2] * 16), -128, 127);
    const int left_shift = 20;
    const double twice_max = 2.0 * std::max(s1, s2);
    const Multiplier m1 = quantize_multiplier(s1 / twice_max),
                     m2 = quantize_multiplier(s2 / twice_max);
    const Multiplier mo =
        quantize_multiplier(twice_max / ((1 << left_shift) * static_cast<double>(so)));
    std::vector<int32_t> want(a.size());
    for (size_t i = 0; i < a.size(); ++i) {
      const size_t j = sb == sa ? i : i % 16;
      const int32_t x1 = mbqm((a[i] - z1) * (1 << left_shift), m1);
      const int32_t x2 = mbqm((bv[j] - z2) * (1 << left_shift), m2);
      want[i] = std::clamp(mbqm(x1 + x2, mo) + zo, -128, 127);
    }
    const Model model = add_model({"a", tflite::TensorType_INT8, sa, {s1}, {z1}, 0, {}},
                                  {"b", tflite::TensorType_INT8, sb, {s2}, {z2}, 0, {}},
                                  {"out", tflite::TensorType_INT8, sa, {so}, {zo}, 0, {}});
    expect_close(run_model(model, {a, bv}), want);
  }
}

// An output scale so small that RELU6's 6 lies 6e11 steps above the zero point: the clamp is
// worked out in double and cut to the type (it overflowed an int32 before; the fuzzer found it).
TEST(RuntimeKernels, FusedClampOnATinyOutputScale) {
  const Model model = add_model({"a", tflite::TensorType_UINT8, {1, 4}, {0.1f}, {0}, 0, {}},
                                {"b", tflite::TensorType_UINT8, {1, 4}, {0.1f}, {0}, 0, {}},
                                {"out", tflite::TensorType_UINT8, {1, 4}, {1e-11f}, {0}, 0, {}},
                                tflite::ActivationFunctionType_RELU6);
  EXPECT_EQ(run_model(model, {{0, 1, 2, 255}, {0, 0, 3, 255}}),
            (std::vector<int32_t>{0, 255, 255, 255}));
}

// ---- pooling -----------------------------------------------------------------------------------

TEST(RuntimeKernels, AveragePoolIsExact) {
  for (bool i8 : {true, false}) {
    std::mt19937 rng(i8 ? 3 : 4);
    const int h = 9, w = 11, c = 24, k = 3, s = 2;
    const int oh = out_size(true, h, k, s, 1), ow = out_size(true, w, k, s, 1);
    const int pt = pad_before(true, h, oh, k, s, 1), pl = pad_before(true, w, ow, k, s, 1);
    const auto x =
        random_values(rng, static_cast<size_t>(h * w * c), i8 ? -128 : 0, i8 ? 127 : 255);
    std::vector<int32_t> want;
    for (int y = 0; y < oh; ++y) {
      for (int xo = 0; xo < ow; ++xo) {
        for (int ch = 0; ch < c; ++ch) {
          int32_t acc = 0, count = 0;
          for (int ky = 0; ky < k; ++ky) {
            for (int kx = 0; kx < k; ++kx) {
              const int yy = y * s - pt + ky, xx = xo * s - pl + kx;
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              acc += x[static_cast<size_t>((yy * w + xx) * c + ch)];
              ++count;
            }
          }
          want.push_back(acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count);
        }
      }
    }
    OneOpModel b;
    const auto type = i8 ? tflite::TensorType_INT8 : tflite::TensorType_UINT8;
    const int in = b.add({"in", type, {1, h, w, c}, {0.1f}, {i8 ? -3 : 130}, 0, {}});
    const int out = b.add({"out", type, {1, oh, ow, c}, {0.1f}, {i8 ? -3 : 130}, 0, {}});
    tflite::Pool2DOptionsT p;
    p.padding = tflite::Padding_SAME;
    p.stride_w = p.stride_h = s;
    p.filter_width = p.filter_height = k;
    tflite::BuiltinOptionsUnion o;
    o.Set(p);
    const Model model = b.build(tflite::BuiltinOperator_AVERAGE_POOL_2D, std::move(o), {in}, {out});
    EXPECT_EQ(run_model(model, {x}), want);
  }
}

TEST(RuntimeKernels, MaxPoolIsExact) {
  std::mt19937 rng(5);
  const int h = 8, w = 7, c = 70, k = 3, s = 2;
  const int oh = out_size(false, h, k, s, 1), ow = out_size(false, w, k, s, 1);
  const auto x = random_values(rng, static_cast<size_t>(h * w * c), -128, 127);
  std::vector<int32_t> want;
  for (int y = 0; y < oh; ++y) {
    for (int xo = 0; xo < ow; ++xo) {
      for (int ch = 0; ch < c; ++ch) {
        int32_t m = -128;
        for (int ky = 0; ky < k; ++ky) {
          for (int kx = 0; kx < k; ++kx)
            m = std::max(m, x[static_cast<size_t>(((y * s + ky) * w + xo * s + kx) * c + ch)]);
        }
        want.push_back(m);
      }
    }
  }
  OneOpModel b;
  const int in = b.add({"in", tflite::TensorType_INT8, {1, h, w, c}, {0.1f}, {5}, 0, {}});
  const int out = b.add({"out", tflite::TensorType_INT8, {1, oh, ow, c}, {0.1f}, {5}, 0, {}});
  tflite::Pool2DOptionsT p;
  p.padding = tflite::Padding_VALID;
  p.stride_w = p.stride_h = s;
  p.filter_width = p.filter_height = k;
  tflite::BuiltinOptionsUnion o;
  o.Set(p);
  const Model model = b.build(tflite::BuiltinOperator_MAX_POOL_2D, std::move(o), {in}, {out});
  EXPECT_EQ(run_model(model, {x}), want);
}

// ---- MEAN --------------------------------------------------------------------------------------

TEST(RuntimeKernels, MeanOverHeightAndWidth) {
  std::mt19937 rng(6);
  const int h = 7, w = 6, c = 40;
  const float si = 0.03f, so = 0.02f;
  const int32_t zi = -5, zo = 3;
  const auto x = random_values(rng, static_cast<size_t>(h * w * c), -128, 127);
  const Multiplier m = quantize_multiplier(static_cast<double>(si) / so);
  const int count = h * w;
  std::vector<int32_t> want;
  for (int ch = 0; ch < c; ++ch) {
    int32_t acc = 0;
    for (int i = 0; i < h * w; ++i) acc += x[static_cast<size_t>(i * c + ch)] - zi;
    acc = mbqm(acc, m);
    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
    want.push_back(std::clamp(acc + zo, -128, 127));
  }
  OneOpModel b;
  const int in = b.add({"in", tflite::TensorType_INT8, {1, h, w, c}, {si}, {zi}, 0, {}});
  const int axes = b.add({"axes", tflite::TensorType_INT32, {2}, {}, {}, 0, to_bytes32({1, 2})});
  const int out = b.add({"out", tflite::TensorType_INT8, {1, 1, 1, c}, {so}, {zo}, 0, {}});
  tflite::ReducerOptionsT r;
  r.keep_dims = true;
  tflite::BuiltinOptionsUnion o;
  o.Set(r);
  const Model model = b.build(tflite::BuiltinOperator_MEAN, std::move(o), {in, axes}, {out});
  expect_close(run_model(model, {x}), want);
}

// ---- SOFTMAX -----------------------------------------------------------------------------------

std::vector<int32_t> softmax_reference(const std::vector<int32_t>& x, int depth, float beta,
                                       float input_scale, bool i8) {
  constexpr int kScaledDiffIntegerBits = 5, kAccumulationIntegerBits = 12;
  const double real =
      std::min(static_cast<double>(beta) * input_scale * (1 << (31 - kScaledDiffIntegerBits)),
               (1LL << 31) - 1.0);
  const Multiplier m = quantize_multiplier(real);
  const int left_shift = m.shift;
  const double radius = ((1 << kScaledDiffIntegerBits) - 1) *
                        static_cast<double>(1LL << (31 - kScaledDiffIntegerBits)) /
                        static_cast<double>(1LL << left_shift);
  const int diff_min = -static_cast<int>(std::floor(radius));
  std::vector<int32_t> out(x.size());
  for (size_t row = 0; row < x.size() / static_cast<size_t>(depth); ++row) {
    const int32_t* in = x.data() + row * static_cast<size_t>(depth);
    const int32_t max = *std::max_element(in, in + depth);
    auto scaled_exp = [&](int32_t diff) {
      return exp_on_negative_values_q5(srdhm(diff * (1 << left_shift), m.m));
    };
    int32_t sum = 0;
    for (int c = 0; c < depth; ++c) {
      if (in[c] - max >= diff_min)
        sum += rounding_divide_by_pot(scaled_exp(in[c] - max), kAccumulationIntegerBits);
    }
    const int headroom = count_leading_zeros(static_cast<uint32_t>(sum));
    const int bits_over_unit = kAccumulationIntegerBits - headroom;
    const int32_t shifted =
        static_cast<int32_t>((static_cast<uint32_t>(sum) << headroom) - (1U << 31));
    const int32_t reciprocal = one_over_one_plus_x(shifted);
    for (int c = 0; c < depth; ++c) {
      int32_t v = i8 ? -128 : 0;
      if (in[c] - max >= diff_min) {
        const int32_t unsat = rounding_divide_by_pot(srdhm(reciprocal, scaled_exp(in[c] - max)),
                                                     bits_over_unit + 31 - 8);
        v = i8 ? std::clamp(unsat - 128, -128, 127) : std::clamp(unsat, 0, 255);
      }
      out[row * static_cast<size_t>(depth) + static_cast<size_t>(c)] = v;
    }
  }
  return out;
}

TEST(RuntimeKernels, Softmax) {
  for (bool i8 : {true, false}) {
    std::mt19937 rng(i8 ? 7 : 8);
    const int rows = 3, depth = i8 ? 37 : 50;
    const float scale = i8 ? 0.08f : 0.1f;
    const auto x =
        random_values(rng, static_cast<size_t>(rows * depth), i8 ? -128 : 0, i8 ? 127 : 255);
    const auto want = softmax_reference(x, depth, 1.f, scale, i8);
    OneOpModel b;
    const auto type = i8 ? tflite::TensorType_INT8 : tflite::TensorType_UINT8;
    const int in = b.add({"in", type, {rows, depth}, {scale}, {i8 ? 10 : 120}, 0, {}});
    const int out = b.add({"out", type, {rows, depth}, {1.f / 256}, {i8 ? -128 : 0}, 0, {}});
    tflite::SoftmaxOptionsT s;
    s.beta = 1.f;
    tflite::BuiltinOptionsUnion o;
    o.Set(s);
    const Model model = b.build(tflite::BuiltinOperator_SOFTMAX, std::move(o), {in}, {out});
    const Comparison c = compare(run_model(model, {x}), want);
    EXPECT_LE(c.max_diff, 1);
    EXPECT_LE(c.off_fraction, 0.1);
  }
}

// A beta the kernel's table cannot hold (the fuzzer's was infinite, which made every exp and the
// output NaN) is refused at load; 0 (every class alike) loads.
TEST(RuntimeKernels, SoftmaxRefusesABetaItCannotTabulate) {
  for (const float beta : {std::numeric_limits<float>::infinity(), -1.f,
                           std::numeric_limits<float>::quiet_NaN(), 0.f}) {
    SCOPED_TRACE("beta " + std::to_string(beta));
    OneOpModel b;
    const int in = b.add({"in", tflite::TensorType_UINT8, {1, 8}, {0.1f}, {0}, 0, {}});
    const int out = b.add({"out", tflite::TensorType_UINT8, {1, 8}, {1.f / 256}, {0}, 0, {}});
    tflite::SoftmaxOptionsT s;
    s.beta = beta;
    tflite::BuiltinOptionsUnion o;
    o.Set(s);
    const Model model = b.build(tflite::BuiltinOperator_SOFTMAX, std::move(o), {in}, {out});
    try {
      const std::vector<int32_t> y = run_model(model, {{0, 10, 20, 30, 40, 50, 60, 70}});
      EXPECT_EQ(beta, 0.f) << "accepted";
      EXPECT_EQ(y, std::vector<int32_t>(8, 32));  // 1/8 each
    } catch (const Error& e) {
      EXPECT_NE(beta, 0.f) << e.what();
      EXPECT_NE(std::string(e.what()).find("op 0 SOFTMAX: beta"), std::string::npos) << e.what();
    }
  }
}

// The requantization step clamps a NaN (which only a bug upstream could give) to the top of the
// range rather than converting it to an integer, which would be undefined.
TEST(RuntimeKernels, RequantizeClampsNaN) {
  EXPECT_EQ(runtime::requantize(std::numeric_limits<float>::quiet_NaN(), 3, 0, 255), 255);
  EXPECT_EQ(runtime::requantize(1e30f, 3, 0, 255), 255);
  EXPECT_EQ(runtime::requantize(-1e30f, 3, 0, 255), 0);
  EXPECT_EQ(runtime::requantize(2.5f, 3, 0, 255), 5);  // half to even
}

// ---- RESIZE_BILINEAR ---------------------------------------------------------------------------

TEST(RuntimeKernels, ResizeBilinear) {
  struct Mode {
    bool align_corners, half_pixel;
    int oh, ow;
  };
  for (const Mode& mode : {Mode{false, false, 11, 9}, Mode{true, false, 11, 9},
                           Mode{false, true, 11, 9}, Mode{false, true, 3, 4}}) {
    std::mt19937 rng(9);
    const int h = 5, w = 6, c = mode.oh == 3 ? 21 : 8;  // 21: more than one vector of channels
    const auto x = random_values(rng, static_cast<size_t>(h * w * c), -128, 127);
    auto scale_10 = [&](int in, int out) {
      int32_t s = ((1 << 10) * in + out / 2) / out;
      if (mode.align_corners && out > 1) s = ((1 << 10) * (in - 1) + (out - 1) / 2) / (out - 1);
      return s;
    };
    auto position = [&](int v, int32_t s, int in, int32_t* p, int32_t* lo, int32_t* hi) {
      *p = mode.half_pixel ? v * s + s / 2 - (1 << 9) : v * s;
      *lo = std::max(*p / (1 << 10), 0);
      *hi = std::min((*p + (1 << 10) - 1) / (1 << 10), in - 1);
    };
    const int32_t sy = scale_10(h, mode.oh), sx = scale_10(w, mode.ow);
    std::vector<int32_t> want;
    for (int y = 0; y < mode.oh; ++y) {
      int32_t py, y0, y1;
      position(y, sy, h, &py, &y0, &y1);
      for (int xo = 0; xo < mode.ow; ++xo) {
        int32_t px, x0, x1;
        position(xo, sx, w, &px, &x0, &x1);
        for (int ch = 0; ch < c; ++ch) {
          auto at = [&](int32_t yy, int32_t xx) {
            return static_cast<int64_t>(x[static_cast<size_t>((yy * w + xx) * c + ch)]);
          };
          const int64_t dy = py - (1 << 10) * y0, dx = px - (1 << 10) * x0;
          const int64_t s = at(y0, x0) * ((1 << 10) - dy) * ((1 << 10) - dx) +
                            at(y1, x0) * dy * ((1 << 10) - dx) +
                            at(y0, x1) * ((1 << 10) - dy) * dx + at(y1, x1) * dy * dx;
          const int64_t round = s > 0 ? (1 << 19) : -(1 << 19);
          want.push_back(static_cast<int32_t>((s + round) / (1 << 20)));
        }
      }
    }
    OneOpModel b;
    const int in = b.add({"in", tflite::TensorType_INT8, {1, h, w, c}, {0.05f}, {-2}, 0, {}});
    const int size =
        b.add({"size", tflite::TensorType_INT32, {2}, {}, {}, 0, to_bytes32({mode.oh, mode.ow})});
    const int out =
        b.add({"out", tflite::TensorType_INT8, {1, mode.oh, mode.ow, c}, {0.05f}, {-2}, 0, {}});
    tflite::ResizeBilinearOptionsT r;
    r.align_corners = mode.align_corners;
    r.half_pixel_centers = mode.half_pixel;
    tflite::BuiltinOptionsUnion o;
    o.Set(r);
    const Model model =
        b.build(tflite::BuiltinOperator_RESIZE_BILINEAR, std::move(o), {in, size}, {out});
    EXPECT_EQ(run_model(model, {x}), want)
        << "align_corners " << mode.align_corners << " half_pixel " << mode.half_pixel;
  }
}

// 33 -> 513 rows without align_corners: the rounded 1/1024 scale (66) puts the last row's source
// at 512 x 66 / 1024 = 33, one past the input (TensorFlow Lite reads there; the fuzzer caught our
// copy doing so). That row is the input's last row, and every row stays inside the input.
TEST(RuntimeKernels, ResizeBilinearLastRowStaysInside) {
  OneOpModel b;
  const int in = b.add({"in", tflite::TensorType_INT8, {1, 33, 1, 1}, {0.05f}, {0}, 0, {}});
  const int size = b.add({"size", tflite::TensorType_INT32, {2}, {}, {}, 0, to_bytes32({513, 1})});
  const int out = b.add({"out", tflite::TensorType_INT8, {1, 513, 1, 1}, {0.05f}, {0}, 0, {}});
  tflite::BuiltinOptionsUnion o;
  o.Set(tflite::ResizeBilinearOptionsT{});
  const Model model =
      b.build(tflite::BuiltinOperator_RESIZE_BILINEAR, std::move(o), {in, size}, {out});
  std::vector<int32_t> x(33);
  for (int i = 0; i < 33; ++i) x[static_cast<size_t>(i)] = 3 * i - 50;  // rising
  const std::vector<int32_t> y = run_model(model, {x});
  ASSERT_EQ(y.size(), 513u);
  EXPECT_EQ(y.front(), x.front());
  EXPECT_EQ(y.back(), x.back());
  EXPECT_TRUE(std::is_sorted(y.begin(), y.end()));  // no value from outside the input
}

// ---- float32 and the QUANTIZE / DEQUANTIZE edges -----------------------------------------------

std::vector<uint8_t> float_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

std::vector<float> random_floats(std::mt19937& rng, size_t n) {
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

TensorValue run_one(const Model& model, const std::vector<std::vector<uint8_t>>& inputs) {
  auto exe = load_cpu(model);
  std::vector<TensorValue> values;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorSpec& spec = exe->inputs().at(i);
    values.push_back(TensorValue{spec.name, spec.type, spec.shape, spec.quant, inputs[i]});
  }
  return exe->run(values).at(0);
}

std::vector<float> as_floats(const TensorValue& v) {
  std::vector<float> f(v.data.size() / 4);
  std::memcpy(f.data(), v.data.data(), v.data.size());
  return f;
}

TEST(RuntimeKernels, FloatConvolutions) {
  for (int kind = 0; kind < 3; ++kind) {  // conv, depthwise (multiplier 2), fully connected
    std::mt19937 rng(20 + static_cast<uint32_t>(kind));
    const int h = kind == 2 ? 1 : 6, w = kind == 2 ? 1 : 7, ic = 4, k = kind == 2 ? 1 : 3;
    const int oc = kind == 1 ? 8 : 5;
    const auto x = random_floats(rng, static_cast<size_t>(h * w * ic));
    const auto wv = random_floats(rng, static_cast<size_t>(oc * k * k * (kind == 1 ? 1 : ic)));
    const auto bias = random_floats(rng, static_cast<size_t>(oc));
    std::vector<float> want;
    for (int y = 0; y < h; ++y) {
      for (int xo = 0; xo < w; ++xo) {
        for (int o = 0; o < oc; ++o) {
          double acc = bias[static_cast<size_t>(o)];
          for (int kh = 0; kh < k; ++kh) {
            for (int kw = 0; kw < k; ++kw) {
              const int yy = y - k / 2 + kh, xx = xo - k / 2 + kw;
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              for (int i = 0; i < ic; ++i) {
                if (kind == 1 && i != o / 2) continue;
                const double wt = kind == 1
                                      ? wv[static_cast<size_t>((kh * k + kw) * oc + o)]
                                      : wv[static_cast<size_t>(((o * k + kh) * k + kw) * ic + i)];
                acc += x[static_cast<size_t>((yy * w + xx) * ic + i)] * wt;
              }
            }
          }
          want.push_back(static_cast<float>(std::clamp(acc, 0.0, 6.0)));
        }
      }
    }
    OneOpModel b;
    const auto f32 = tflite::TensorType_FLOAT32;
    const int in =
        b.add({"in",
               f32,
               kind == 2 ? std::vector<int32_t>{1, ic} : std::vector<int32_t>{1, h, w, ic},
               {},
               {},
               0,
               {}});
    const std::vector<int32_t> wshape = kind == 0   ? std::vector<int32_t>{oc, k, k, ic}
                                        : kind == 1 ? std::vector<int32_t>{1, k, k, oc}
                                                    : std::vector<int32_t>{oc, ic};
    const int wt = b.add({"w", f32, wshape, {}, {}, 0, float_bytes(wv)});
    const int bt = b.add({"b", f32, {oc}, {}, {}, 0, float_bytes(bias)});
    const int out =
        b.add({"out",
               f32,
               kind == 2 ? std::vector<int32_t>{1, oc} : std::vector<int32_t>{1, h, w, oc},
               {},
               {},
               0,
               {}});
    tflite::BuiltinOptionsUnion o;
    tflite::BuiltinOperator code;
    if (kind == 0) {
      tflite::Conv2DOptionsT c;
      c.padding = tflite::Padding_SAME;
      c.stride_w = c.stride_h = 1;
      c.fused_activation_function = tflite::ActivationFunctionType_RELU6;
      o.Set(c);
      code = tflite::BuiltinOperator_CONV_2D;
    } else if (kind == 1) {
      tflite::DepthwiseConv2DOptionsT c;
      c.padding = tflite::Padding_SAME;
      c.stride_w = c.stride_h = 1;
      c.depth_multiplier = 2;
      c.fused_activation_function = tflite::ActivationFunctionType_RELU6;
      o.Set(c);
      code = tflite::BuiltinOperator_DEPTHWISE_CONV_2D;
    } else {
      tflite::FullyConnectedOptionsT c;
      c.fused_activation_function = tflite::ActivationFunctionType_RELU6;
      o.Set(c);
      code = tflite::BuiltinOperator_FULLY_CONNECTED;
    }
    const Model model = b.build(code, std::move(o), {in, wt, bt}, {out});
    const std::vector<float> got = as_floats(run_one(model, {float_bytes(x)}));
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 1e-4) << "kind " << kind << " at " << i;
  }
}

TEST(RuntimeKernels, QuantizeAndDequantizeAtTheEdges) {
  std::mt19937 rng(30);
  const auto x = random_floats(rng, 200);
  const float scale = 0.0078f;
  const int32_t zero = -3;
  {
    OneOpModel b;
    const int in = b.add({"in", tflite::TensorType_FLOAT32, {200}, {}, {}, 0, {}});
    const int out = b.add({"out", tflite::TensorType_INT8, {200}, {scale}, {zero}, 0, {}});
    const TensorValue got =
        run_one(b.build(tflite::BuiltinOperator_QUANTIZE, {}, {in}, {out}), {float_bytes(x)});
    for (size_t i = 0; i < x.size(); ++i) {
      const int32_t want =
          std::clamp(static_cast<int32_t>(std::round(x[i] / scale)) + zero, -128, 127);
      EXPECT_EQ(static_cast<int8_t>(got.data[i]), want) << i;
    }
  }
  {
    OneOpModel b;
    const auto q = random_values(rng, 200, 0, 255);
    const int in = b.add({"in", tflite::TensorType_UINT8, {200}, {scale}, {128}, 0, {}});
    const int out = b.add({"out", tflite::TensorType_FLOAT32, {200}, {}, {}, 0, {}});
    const std::vector<float> got = as_floats(
        run_one(b.build(tflite::BuiltinOperator_DEQUANTIZE, {}, {in}, {out}), {to_bytes(q)}));
    for (size_t i = 0; i < q.size(); ++i)
      EXPECT_EQ(got[i], static_cast<float>(q[i] - 128) * scale) << i;
  }
  {  // uint8 -> int8 requantization at another scale: TensorFlow Lite's Requantize, exactly
    OneOpModel b;
    const auto q = random_values(rng, 256, 0, 255);
    const int in = b.add({"in", tflite::TensorType_UINT8, {256}, {0.02f}, {120}, 0, {}});
    const int out = b.add({"out", tflite::TensorType_INT8, {256}, {0.03f}, {-10}, 0, {}});
    const TensorValue got =
        run_one(b.build(tflite::BuiltinOperator_QUANTIZE, {}, {in}, {out}), {to_bytes(q)});
    const Multiplier m =
        quantize_multiplier(static_cast<double>(0.02f) / static_cast<double>(0.03f));
    for (size_t i = 0; i < q.size(); ++i) {
      EXPECT_EQ(static_cast<int8_t>(got.data[i]), std::clamp(mbqm(q[i] - 120, m) - 10, -128, 127))
          << i;
    }
  }
}

// ---- refusals ----------------------------------------------------------------------------------

// The message load_cpu refuses `model` with, or "" when it loads.
std::string load_cpu_error(const Model& model) {
  try {
    load_cpu(model);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

TEST(RuntimeKernels, RefusesUnsupportedTypeAtLoadNamingOpAndIndex) {
  const Model model = add_model({"a", tflite::TensorType_INT16, {1, 4}, {0.1f}, {0}, 0, {}},
                                {"b", tflite::TensorType_INT16, {1, 4}, {0.1f}, {0}, 0, {}},
                                {"out", tflite::TensorType_INT16, {1, 4}, {0.1f}, {0}, 0, {}});
  const std::string what = load_cpu_error(model);
  ASSERT_NE(what, "") << "int16 ADD was accepted";
  EXPECT_NE(what.find("op 0 ADD"), std::string::npos) << what;
  EXPECT_NE(what.find("INT16"), std::string::npos) << what;
}

// Quantization the runtime cannot compute with (the fuzzer's first finding was a weight zero point
// of 822083769) is refused at load, naming the op and the tensor; a sound ADD loads.
TEST(RuntimeKernels, RefusesQuantizationItCannotComputeWith) {
  struct Case {
    const char* why;
    tflite::TensorType type;
    std::vector<float> scale;
    std::vector<int64_t> zero;
    const char* message;  // "" : loads
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Case cases[] = {
      {"sound uint8", tflite::TensorType_UINT8, {0.1f}, {128}, ""},
      {"sound int8", tflite::TensorType_INT8, {0.1f}, {-128}, ""},
      {"uint8 zero point 256",
       tflite::TensorType_UINT8,
       {0.1f},
       {256},
       "zero point 256 is outside UINT8's range"},
      {"int8 zero point -129",
       tflite::TensorType_INT8,
       {0.1f},
       {-129},
       "zero point -129 is outside INT8's range"},
      {"scale 0", tflite::TensorType_UINT8, {0.f}, {0}, "is not a positive normal float"},
      {"scale -0.1", tflite::TensorType_UINT8, {-0.1f}, {0}, "is not a positive normal float"},
      {"scale NaN", tflite::TensorType_UINT8, {nan}, {0}, "is not a positive normal float"},
      {"scale 1e-40", tflite::TensorType_UINT8, {1e-40f}, {0}, "is not a positive normal float"},
      {"two zero points", tflite::TensorType_UINT8, {0.1f}, {0, 0}, "2 zero points for 1 scales"},
      // Near int32's top: adding int8's shift of 128 overflowed (UBSan; found by fuzzing).
      {"zero point 2^31 - 128",
       tflite::TensorType_INT8,
       {0.1f},
       {2147483520},
       "zero point 2147483520 is outside INT8's range"},
  };
  // On a constant operand of the op (op 0 names it), and on the model's input (named as such).
  for (const bool on_input : {false, true}) {
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(c.why) + (on_input ? " on the input" : " on a constant"));
      const std::vector<uint8_t> data =
          on_input ? std::vector<uint8_t>{} : std::vector<uint8_t>(4, 1);
      const Model model = add_model({"a", c.type, {1, 4}, {0.1f}, {0}, 0, {}},
                                    {"x", c.type, {1, 4}, c.scale, c.zero, 0, data},
                                    {"out", c.type, {1, 4}, {0.1f}, {0}, 0, {}});
      const std::string what = load_cpu_error(model);
      if (std::string(c.message).empty()) {
        EXPECT_EQ(what, "");
        continue;
      }
      const char* where = on_input ? ": input tensor x: " : ": op 0 ADD: tensor x: ";
      EXPECT_NE(what.find(where), std::string::npos) << what;
      EXPECT_NE(what.find(c.message), std::string::npos) << what;
    }
  }
}

// Input, weight and output scales whose product is past float's range are refused at load: the
// kernels multiply in float, and an infinite multiplier turns a zero accumulator into NaN.
TEST(RuntimeKernels, RefusesAMultiplierBeyondAFloat) {
  OneOpModel b;
  const int in = b.add({"in", tflite::TensorType_UINT8, {1, 4}, {1e30f}, {0}, 0, {}});
  const int w =
      b.add({"w", tflite::TensorType_UINT8, {2, 4}, {1e30f}, {0}, 0, std::vector<uint8_t>(8, 1)});
  const int out = b.add({"out", tflite::TensorType_UINT8, {1, 2}, {1e-30f}, {0}, 0, {}});
  tflite::BuiltinOptionsUnion o;
  o.Set(tflite::FullyConnectedOptionsT{});
  const Model model =
      b.build(tflite::BuiltinOperator_FULLY_CONNECTED, std::move(o), {in, w}, {out});
  const std::string what = load_cpu_error(model);
  ASSERT_NE(what, "") << "a multiplier of 1e90 was accepted";
  EXPECT_NE(what.find("op 0 FULLY_CONNECTED"), std::string::npos) << what;
  EXPECT_NE(what.find("beyond a float"), std::string::npos) << what;
}

// Per-channel weights may give an all-zero channel a scale of 0 (converters do): that computes,
// and the channel's output is its zero point; a per-tensor scale of 0 is refused (see above).
TEST(RuntimeKernels, PerChannelWeightsMayHaveAZeroScale) {
  OneOpModel b;
  const int in = b.add({"in", tflite::TensorType_INT8, {1, 4}, {0.1f}, {0}, 0, {}});
  const std::vector<uint8_t> weights = {1, 2, 3, 4, 0, 0, 0, 0};  // channel 1: all zero
  const int w = b.add({"w", tflite::TensorType_INT8, {2, 4}, {0.05f, 0.f}, {0, 0}, 0, weights});
  const int out = b.add({"out", tflite::TensorType_INT8, {1, 2}, {0.1f}, {-5}, 0, {}});
  tflite::BuiltinOptionsUnion o;
  o.Set(tflite::FullyConnectedOptionsT{});
  const Model model =
      b.build(tflite::BuiltinOperator_FULLY_CONNECTED, std::move(o), {in, w}, {out});
  // Channel 0: (1 + 4 + 9 + 20) x 0.1 x 0.05 / 0.1 = 1.7, rounded: 2, plus -5.
  EXPECT_EQ(run_model(model, {{1, 2, 3, 5}}), (std::vector<int32_t>{-3, -5}));
}

// The output of an ADD must be the broadcast of its inputs, not wider (the fuzzer's two scalars
// "broadcast" to 220 million elements).
TEST(RuntimeKernels, AddRefusesAnOutputWiderThanItsInputs) {
  for (const std::vector<int32_t>& b_shape : {std::vector<int32_t>{}, std::vector<int32_t>{1, 4}}) {
    const Model model = add_model({"a", tflite::TensorType_UINT8, {}, {0.1f}, {0}, 0, {}},
                                  {"x", tflite::TensorType_UINT8, b_shape, {0.1f}, {0}, 0, {}},
                                  {"out", tflite::TensorType_UINT8, {3, 4}, {0.1f}, {0}, 0, {}});
    const std::string what = load_cpu_error(model);
    ASSERT_NE(what, "") << "inputs [] and " << shape_text(b_shape)
                        << " were accepted for output [3,4]";
    EXPECT_NE(what.find("op 0 ADD"), std::string::npos) << what;
  }
}

// ADD and MUL multiply by ratios of scales in float too: one past float's range is refused.
TEST(RuntimeKernels, AddRefusesAMultiplierBeyondAFloat) {
  const Model model = add_model({"a", tflite::TensorType_UINT8, {1, 4}, {1e30f}, {0}, 0, {}},
                                {"x", tflite::TensorType_UINT8, {1, 4}, {0.1f}, {0}, 0, {}},
                                {"out", tflite::TensorType_UINT8, {1, 4}, {1e-30f}, {0}, 0, {}});
  const std::string what = load_cpu_error(model);
  ASSERT_NE(what, "") << "a multiplier of 1e60 was accepted";
  EXPECT_NE(what.find("op 0 ADD: input over output scales 1e+60"), std::string::npos) << what;
}

// A window whose extent overflows int arithmetic (the fuzzer's dilation of 1095060738) is refused.
TEST(RuntimeKernels, RefusesAWindowBeyondAnyImage) {
  OneOpModel b;
  const int in = b.add({"in", tflite::TensorType_UINT8, {1, 5, 5, 2}, {0.1f}, {0}, 0, {}});
  const int w = b.add(
      {"w", tflite::TensorType_UINT8, {1, 3, 3, 2}, {0.1f}, {0}, 0, std::vector<uint8_t>(18, 1)});
  const int out = b.add({"out", tflite::TensorType_UINT8, {1, 5, 5, 2}, {0.1f}, {0}, 0, {}});
  tflite::DepthwiseConv2DOptionsT d;
  d.padding = tflite::Padding_SAME;
  d.stride_h = d.stride_w = 1;
  d.depth_multiplier = 1;
  d.dilation_h_factor = 1095060738;
  d.dilation_w_factor = 1;
  tflite::BuiltinOptionsUnion o;
  o.Set(d);
  const Model model =
      b.build(tflite::BuiltinOperator_DEPTHWISE_CONV_2D, std::move(o), {in, w}, {out});
  const std::string what = load_cpu_error(model);
  ASSERT_NE(what, "") << "a dilation of 1095060738 was accepted";
  EXPECT_NE(what.find("op 0 DEPTHWISE_CONV_2D: a window of 3 with dilation 1095060738"),
            std::string::npos)
      << what;
}

// A tensor with a zero dimension is refused at load (the fuzzer found a zero channel count that
// divided by zero in the convolution setup, and empty inputs copied from null pointers).
TEST(RuntimeKernels, RefusesEmptyTensors) {
  const Model model = add_model({"a", tflite::TensorType_UINT8, {1, 0}, {0.1f}, {0}, 0, {}},
                                {"x", tflite::TensorType_UINT8, {1, 0}, {0.1f}, {0}, 0, {}},
                                {"out", tflite::TensorType_UINT8, {1, 0}, {0.1f}, {0}, 0, {}});
  const std::string what = load_cpu_error(model);
  ASSERT_NE(what, "") << "an ADD of empty tensors was accepted";
  EXPECT_NE(what.find("input a [1,0] has no elements"), std::string::npos) << what;
}

TEST(RuntimeKernels, RefusesUnsupportedOpAtLoadNamingOpAndIndex) {
  OneOpModel b;
  const int in = b.add({"in", tflite::TensorType_FLOAT32, {4, 3}, {}, {}, 0, {}});
  const int out = b.add({"out", tflite::TensorType_FLOAT32, {3, 4}, {}, {}, 0, {}});
  const Model model = b.build(tflite::BuiltinOperator_TRANSPOSE, {}, {in}, {out});
  const std::string what = load_cpu_error(model);
  ASSERT_NE(what, "") << "TRANSPOSE was accepted";
  EXPECT_NE(what.find("op 0 TRANSPOSE"), std::string::npos) << what;
}

}  // namespace
}  // namespace pipecut
