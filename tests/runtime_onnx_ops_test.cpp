// The kernels ONNX imports need: TRANSPOSE_CONV, TRANSPOSE, SLICE, STRIDED_SLICE, PRELU and DIV,
// and the float32 paths of the activations, MAXIMUM/MINIMUM, MEAN, SOFTMAX, CONCATENATION and the
// resizes the importer maps ONNX ops to. Each case builds a one-op float32 (or byte-typed) .tflite,
// runs it through load_cpu and compares with a plain loop written here from TensorFlow Lite's
// reference kernels: floats within 1e-5 of the sum of the magnitudes that make the value, bytes
// exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "format/tflite_schema.h"
#include "pipecut/error.h"
#include "pipecut/model.h"
#include "pipecut/runtime.h"
#include "support/one_op_model.h"

namespace pipecut {
namespace {

// ---- a one-op model builder --------------------------------------------------------------------

struct TensorDef {
  TensorDef(std::string name_, tflite::TensorType type_, std::vector<int32_t> shape_,
            std::vector<uint8_t> data_ = {}, std::vector<float> scale_ = {},
            std::vector<int64_t> zero_ = {})
      : name(std::move(name_)),
        type(type_),
        shape(std::move(shape_)),
        data(std::move(data_)),
        scale(std::move(scale_)),
        zero(std::move(zero_)) {}
  std::string name;
  tflite::TensorType type;
  std::vector<int32_t> shape;
  std::vector<uint8_t> data;  // constant bytes, empty for activations
  std::vector<float> scale;   // 8-bit only
  std::vector<int64_t> zero;
};

class OneOpModel {
 public:
  int add(TensorDef t) {
    defs_.push_back(std::move(t));
    return static_cast<int>(defs_.size()) - 1;
  }
  // Op `code` reads `inputs` (-1: absent) and writes `outputs`; the non-constant inputs become
  // model inputs, in order.
  Model build(tflite::BuiltinOperator code, tflite::BuiltinOptionsUnion options,
              const std::vector<int>& inputs, const std::vector<int>& outputs) const {
    std::vector<testing::OneOpTensor> tensors;
    for (const TensorDef& d : defs_)
      tensors.push_back({d.name, d.type, d.shape, d.scale, d.zero, 0, d.data});
    return testing::build_one_op_model(tensors, code, std::move(options), inputs, outputs);
  }

 private:
  std::vector<TensorDef> defs_;
};

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

std::vector<float> floats_of(const std::vector<uint8_t>& b) {
  std::vector<float> f(b.size() / 4);
  std::memcpy(f.data(), b.data(), f.size() * 4);
  return f;
}

std::vector<float> random_floats(std::mt19937& rng, int64_t n, float lo = -1.f, float hi = 1.f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(rng);
  return v;
}

int64_t count_of(const std::vector<int32_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
}

// Runs the model's inputs (raw bytes, in model input order) and returns its first output.
TensorValue run_one(const Model& model, const std::vector<std::vector<uint8_t>>& inputs,
                    int threads = 1) {
  CpuOptions options;
  options.threads = threads;
  auto exe = load_cpu(model, options);
  std::vector<TensorValue> values;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorSpec& spec = exe->inputs().at(i);
    values.push_back(TensorValue{spec.name, spec.type, spec.shape, spec.quant, inputs[i]});
  }
  return exe->run(values).at(0);
}

// What runs the model's one op, as cpu_profile names it.
std::string kernel_detail(const Model& model, const std::vector<std::vector<uint8_t>>& inputs,
                          int threads) {
  CpuOptions options;
  options.threads = threads;
  auto exe = load_cpu(model, options);
  std::vector<TensorValue> values;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorSpec& spec = exe->inputs().at(i);
    values.push_back(TensorValue{spec.name, spec.type, spec.shape, spec.quant, inputs[i]});
  }
  const std::vector<OpTime> times = cpu_profile(*exe, values, 1);
  return times.size() == 1 ? times[0].kernel : "";
}

// The message load_cpu refuses `model` with, or "" when it loads.
std::string load_error(const Model& model) {
  try {
    load_cpu(model);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

// Float results against a double reference; `magnitude[i]` is the sum of the absolute values of
// the terms that make want[i] (the scale its rounding error grows with).
void expect_floats(const std::vector<float>& got, const std::vector<double>& want,
                   const std::vector<double>& magnitude, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < got.size() && bad < 10; ++i) {
    const double tolerance = 1e-5 * std::max({magnitude[i], std::abs(want[i]), 1e-6});
    if (!(std::abs(got[i] - want[i]) <= tolerance)) {
      ADD_FAILURE() << what << ": at " << i << " got " << got[i] << ", want " << want[i];
      ++bad;
    }
  }
  // The reference must not be degenerate.
  const auto [lo, hi] = std::minmax_element(want.begin(), want.end());
  EXPECT_GT(*hi - *lo, 1e-3) << what << ": reference output is nearly constant";
}

void expect_floats(const std::vector<float>& got, const std::vector<double>& want,
                   const std::string& what) {
  std::vector<double> magnitude(want.size());
  for (size_t i = 0; i < want.size(); ++i) magnitude[i] = std::abs(want[i]);
  expect_floats(got, want, magnitude, what);
}

// ---- TRANSPOSE_CONV ----------------------------------------------------------------------------

struct DeconvCase {
  std::string name;
  int n = 1, ih = 5, iw = 6, ic = 3, oc = 5;
  int kh = 2, kw = 2, sh = 2, sw = 2;
  bool same = false;
  int oh = 0, ow = 0;  // 0: (in - 1) * stride + kernel for VALID, in * stride for SAME
  bool bias = false;
  tflite::ActivationFunctionType act = tflite::ActivationFunctionType_NONE;
  int threads = 1;
};

// TensorFlow Lite's padding before: that of the convolution from the output back to the input.
int tflite_pad_before(bool same, int out, int k, int s) {
  const int conv_out = same ? (out + s - 1) / s : (out - k + s) / s;
  return std::max((conv_out - 1) * s + k - out, 0) / 2;
}

// Returns what ran the op ("dnnl deconv ... in 4 bands").
std::string check_transpose_conv(DeconvCase c) {
  if (c.oh == 0) c.oh = c.same ? c.ih * c.sh : (c.ih - 1) * c.sh + c.kh;
  if (c.ow == 0) c.ow = c.same ? c.iw * c.sw : (c.iw - 1) * c.sw + c.kw;
  std::mt19937 rng(static_cast<uint32_t>(c.name.size() * 7919 + c.oc));
  const std::vector<float> x = random_floats(rng, int64_t{c.n} * c.ih * c.iw * c.ic);
  const std::vector<float> w = random_floats(rng, int64_t{c.oc} * c.kh * c.kw * c.ic);
  const std::vector<float> bias = random_floats(rng, c.oc);
  // Reference: TensorFlow Lite's reference TransposeConv, a scatter from every input pixel.
  const int pt = tflite_pad_before(c.same, c.oh, c.kh, c.sh);
  const int pl = tflite_pad_before(c.same, c.ow, c.kw, c.sw);
  const size_t out_count = static_cast<size_t>(c.n) * c.oh * c.ow * c.oc;
  std::vector<double> want(out_count, 0.0), magnitude(out_count, 0.0);
  for (int b = 0; b < c.n; ++b) {
    for (int iy = 0; iy < c.ih; ++iy) {
      for (int ix = 0; ix < c.iw; ++ix) {
        for (int ky = 0; ky < c.kh; ++ky) {
          for (int kx = 0; kx < c.kw; ++kx) {
            const int oy = iy * c.sh - pt + ky, ox = ix * c.sw - pl + kx;
            if (oy < 0 || oy >= c.oh || ox < 0 || ox >= c.ow) continue;
            for (int o = 0; o < c.oc; ++o) {
              const size_t at = ((static_cast<size_t>(b) * c.oh + oy) * c.ow + ox) * c.oc + o;
              for (int i = 0; i < c.ic; ++i) {
                const double term =
                    static_cast<double>(
                        x[((static_cast<size_t>(b) * c.ih + iy) * c.iw + ix) * c.ic + i]) *
                    w[((static_cast<size_t>(o) * c.kh + ky) * c.kw + kx) * c.ic + i];
                want[at] += term;
                magnitude[at] += std::abs(term);
              }
            }
          }
        }
      }
    }
  }
  for (size_t i = 0; i < out_count; ++i) {
    if (c.bias) {
      want[i] += bias[i % static_cast<size_t>(c.oc)];
      magnitude[i] += std::abs(bias[i % static_cast<size_t>(c.oc)]);
    }
    if (c.act == tflite::ActivationFunctionType_RELU) want[i] = std::max(want[i], 0.0);
    if (c.act == tflite::ActivationFunctionType_RELU6) want[i] = std::clamp(want[i], 0.0, 6.0);
  }

  OneOpModel m;
  const int shape = m.add({"output_shape",
                           tflite::TensorType_INT32,
                           {4},
                           bytes_of(std::vector<int32_t>{c.n, c.oh, c.ow, c.oc})});
  const int wt =
      m.add({"weights", tflite::TensorType_FLOAT32, {c.oc, c.kh, c.kw, c.ic}, bytes_of(w)});
  const int in = m.add({"in", tflite::TensorType_FLOAT32, {c.n, c.ih, c.iw, c.ic}, {}});
  const int bt = c.bias ? m.add({"bias", tflite::TensorType_FLOAT32, {c.oc}, bytes_of(bias)}) : -1;
  const int out = m.add({"out", tflite::TensorType_FLOAT32, {c.n, c.oh, c.ow, c.oc}, {}});
  tflite::TransposeConvOptionsT t;
  t.padding = c.same ? tflite::Padding_SAME : tflite::Padding_VALID;
  t.stride_h = c.sh;
  t.stride_w = c.sw;
  t.fused_activation_function = c.act;
  tflite::BuiltinOptionsUnion o;
  o.Set(t);
  const Model model =
      m.build(tflite::BuiltinOperator_TRANSPOSE_CONV, std::move(o), {shape, wt, in, bt}, {out});
  const std::vector<float> got = floats_of(run_one(model, {bytes_of(x)}, c.threads).data);
  expect_floats(got, want, magnitude, c.name);
  return kernel_detail(model, {bytes_of(x)}, c.threads);
}

TEST(RuntimeOnnxOps, TransposeConvStride2Kernel2Valid) {
  check_transpose_conv({.name = "U-Net upsampling", .ih = 5, .iw = 7, .ic = 12, .oc = 5});
  check_transpose_conv({.name = "batch 2", .n = 2, .ih = 4, .iw = 3, .ic = 3, .oc = 9});
}

TEST(RuntimeOnnxOps, TransposeConvStride2Kernel3Same) {
  check_transpose_conv(
      {.name = "k3 s2 SAME", .ih = 6, .iw = 5, .ic = 13, .oc = 6, .kh = 3, .kw = 3, .same = true});
  // k 4, s 2 SAME pads on both sides (total 2); k 3 s 2 SAME pads after only (total 1).
  check_transpose_conv(
      {.name = "k4 s2 SAME", .ih = 4, .iw = 7, .ic = 5, .oc = 3, .kh = 4, .kw = 4, .same = true});
}

TEST(RuntimeOnnxOps, TransposeConvStride1Kernel3BiasRelu) {
  check_transpose_conv({.name = "k3 s1 SAME bias relu",
                        .ih = 7,
                        .iw = 6,
                        .ic = 10,
                        .oc = 7,
                        .kh = 3,
                        .kw = 3,
                        .sh = 1,
                        .sw = 1,
                        .same = true,
                        .bias = true,
                        .act = tflite::ActivationFunctionType_RELU});
  check_transpose_conv({.name = "k3 s1 VALID bias relu6",
                        .ih = 5,
                        .iw = 4,
                        .ic = 11,
                        .oc = 3,
                        .kh = 3,
                        .kw = 3,
                        .sh = 1,
                        .sw = 1,
                        .bias = true,
                        .act = tflite::ActivationFunctionType_RELU6});
}

TEST(RuntimeOnnxOps, TransposeConvGeneralGeometry) {
  // Different kernels and strides per axis.
  check_transpose_conv({.name = "k3x2 s2x1 VALID",
                        .ih = 5,
                        .iw = 6,
                        .ic = 7,
                        .oc = 9,
                        .kh = 3,
                        .kw = 2,
                        .sh = 2,
                        .sw = 1,
                        .bias = true});
  check_transpose_conv({.name = "k5x3 s3x2 SAME",
                        .ih = 4,
                        .iw = 5,
                        .ic = 6,
                        .oc = 10,
                        .kh = 5,
                        .kw = 3,
                        .sh = 3,
                        .sw = 2,
                        .same = true,
                        .bias = true});
  // Stride above the kernel: rows and columns between the windows hold the bias alone.
  check_transpose_conv({.name = "k1 s2 VALID gaps",
                        .ih = 5,
                        .iw = 4,
                        .ic = 3,
                        .oc = 4,
                        .kh = 1,
                        .kw = 1,
                        .bias = true});
  check_transpose_conv({.name = "k2 s3 SAME gaps",
                        .ih = 4,
                        .iw = 4,
                        .ic = 3,
                        .oc = 5,
                        .kh = 2,
                        .kw = 2,
                        .sh = 3,
                        .sw = 3,
                        .same = true,
                        .bias = true});
  // PyTorch's output_padding 1 with VALID: a last row and column that no window reaches.
  check_transpose_conv({.name = "k2 s2 output_padding",
                        .ih = 4,
                        .iw = 5,
                        .ic = 3,
                        .oc = 5,
                        .oh = 9,
                        .ow = 11,
                        .bias = true});
  check_transpose_conv({.name = "k3 s2 output_padding",
                        .ih = 4,
                        .iw = 3,
                        .ic = 4,
                        .oc = 6,
                        .kh = 3,
                        .kw = 3,
                        .oh = 10,
                        .ow = 8,
                        .bias = true});
}

TEST(RuntimeOnnxOps, TransposeConvInBandsOnSeveralThreads) {
  // Enough work for several bands of output rows, each a deconvolution of its own.
  for (int threads : {2, 4}) {
    std::string detail;
    detail = check_transpose_conv({.name = "bands k3 s2 SAME " + std::to_string(threads),
                                   .ih = 32,
                                   .iw = 16,
                                   .ic = 33,
                                   .oc = 31,
                                   .kh = 3,
                                   .kw = 3,
                                   .same = true,
                                   .bias = true,
                                   .threads = threads});
    EXPECT_NE(detail.find("dnnl deconv"), std::string::npos) << detail;
    EXPECT_NE(detail.find(" bands"), std::string::npos) << detail;
    detail = check_transpose_conv({.name = "bands k2 s2 VALID " + std::to_string(threads),
                                   .ih = 32,
                                   .iw = 32,
                                   .ic = 64,
                                   .oc = 48,
                                   .threads = threads});
    EXPECT_NE(detail.find("dnnl deconv"), std::string::npos) << detail;
    EXPECT_NE(detail.find(" bands"), std::string::npos) << detail;
    detail = check_transpose_conv({.name = "bands k1 s2 gaps " + std::to_string(threads),
                                   .ih = 48,
                                   .iw = 32,
                                   .ic = 64,
                                   .oc = 64,
                                   .kh = 1,
                                   .kw = 1,
                                   .oh = threads == 2 ? 95 : 96,  // 95: bands start in gaps
                                   .ow = 64,
                                   .bias = true,
                                   .threads = threads});
    EXPECT_NE(detail.find("dnnl deconv"), std::string::npos) << detail;
    EXPECT_NE(detail.find(" bands"), std::string::npos) << detail;
    detail = check_transpose_conv({.name = "bands k1 s3 SAME gaps " + std::to_string(threads),
                                   .ih = 20,
                                   .iw = 20,
                                   .ic = 64,
                                   .oc = 64,
                                   .kh = 1,
                                   .kw = 1,
                                   .sh = 3,
                                   .sw = 3,
                                   .same = true,
                                   .bias = true,
                                   .threads = threads});
    EXPECT_NE(detail.find(" bands"), std::string::npos) << detail;
  }
}

TEST(RuntimeOnnxOps, TransposeConvRefusesInt8WithAReason) {
  OneOpModel m;
  const int shape = m.add(
      {"output_shape", tflite::TensorType_INT32, {4}, bytes_of(std::vector<int32_t>{1, 4, 4, 2})});
  const int wt = m.add(
      {"weights", tflite::TensorType_INT8, {2, 2, 2, 2}, std::vector<uint8_t>(16, 1), {0.1f}, {0}});
  const int in = m.add({"in", tflite::TensorType_INT8, {1, 2, 2, 2}, {}, {0.1f}, {0}});
  const int out = m.add({"out", tflite::TensorType_INT8, {1, 4, 4, 2}, {}, {0.1f}, {0}});
  tflite::TransposeConvOptionsT t;
  t.padding = tflite::Padding_VALID;
  t.stride_h = t.stride_w = 2;
  tflite::BuiltinOptionsUnion o;
  o.Set(t);
  const std::string what = load_error(
      m.build(tflite::BuiltinOperator_TRANSPOSE_CONV, std::move(o), {shape, wt, in}, {out}));
  EXPECT_NE(what.find("op 0 TRANSPOSE_CONV"), std::string::npos) << what;
  EXPECT_NE(what.find("float32 only"), std::string::npos) << what;
}

// ---- TRANSPOSE ---------------------------------------------------------------------------------

// out[i0..ik] = in[perm applied], by index arithmetic over the output.
template <typename T>
std::vector<T> transpose_reference(const std::vector<T>& x, const std::vector<int32_t>& shape,
                                   const std::vector<int>& perm) {
  const size_t rank = shape.size();
  std::vector<int64_t> in_stride(rank, 1);
  for (size_t d = rank - 1; d-- > 0;) in_stride[d] = in_stride[d + 1] * shape[d + 1];
  std::vector<int32_t> out_shape(rank);
  for (size_t d = 0; d < rank; ++d) out_shape[d] = shape[static_cast<size_t>(perm[d])];
  std::vector<T> y(x.size());
  std::vector<int64_t> idx(rank, 0);
  for (size_t i = 0; i < y.size(); ++i) {
    int64_t src = 0;
    for (size_t d = 0; d < rank; ++d) src += idx[d] * in_stride[static_cast<size_t>(perm[d])];
    y[i] = x[static_cast<size_t>(src)];
    for (size_t d = rank; d-- > 0;) {  // next output index
      if (++idx[d] < out_shape[d]) break;
      idx[d] = 0;
    }
  }
  return y;
}

template <typename T>
void check_transpose(tflite::TensorType type, const std::vector<int32_t>& shape,
                     const std::vector<int>& perm, bool quantized = false) {
  std::vector<T> x(static_cast<size_t>(count_of(shape)));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<T>(i * 37 + 11);  // all distinct
  std::vector<int32_t> out_shape;
  for (int p : perm) out_shape.push_back(shape[static_cast<size_t>(p)]);
  OneOpModel m;
  const std::vector<float> scale = quantized ? std::vector<float>{0.5f} : std::vector<float>{};
  const std::vector<int64_t> zero = quantized ? std::vector<int64_t>{3} : std::vector<int64_t>{};
  const int in = m.add({"in", type, shape, {}, scale, zero});
  const int pt = m.add({"perm",
                        tflite::TensorType_INT32,
                        {static_cast<int32_t>(perm.size())},
                        bytes_of(std::vector<int32_t>(perm.begin(), perm.end()))});
  const int out = m.add({"out", type, out_shape, {}, scale, zero});
  const Model model = m.build(tflite::BuiltinOperator_TRANSPOSE, {}, {in, pt}, {out});
  std::string text;
  for (int p : perm) text += std::to_string(p);
  EXPECT_EQ(run_one(model, {bytes_of(x)}).data, bytes_of(transpose_reference(x, shape, perm)))
      << "perm " << text;
}

TEST(RuntimeOnnxOps, TransposeEvery4DPermutation) {
  std::vector<int> perm = {0, 1, 2, 3};
  int cases = 0;
  do {
    check_transpose<float>(tflite::TensorType_FLOAT32, {2, 3, 4, 5}, perm);
    ++cases;
  } while (std::next_permutation(perm.begin(), perm.end()));
  EXPECT_EQ(cases, 24);
}

TEST(RuntimeOnnxOps, TransposeByteTypes) {
  // NCHW <-> NHWC, the importer's usual pair, in each element size.
  check_transpose<uint8_t>(tflite::TensorType_UINT8, {1, 3, 7, 9}, {0, 2, 3, 1}, true);
  check_transpose<int8_t>(tflite::TensorType_INT8, {2, 7, 9, 3}, {0, 3, 1, 2}, true);
  check_transpose<int16_t>(tflite::TensorType_INT16, {2, 5, 6, 7}, {0, 3, 1, 2});
  check_transpose<int32_t>(tflite::TensorType_INT32, {3, 5, 4}, {2, 0, 1});
  // Six dimensions, and a permutation whose size-1 axes move only (a plain copy).
  check_transpose<float>(tflite::TensorType_FLOAT32, {2, 3, 2, 4, 3, 2}, {5, 3, 1, 0, 4, 2});
  check_transpose<float>(tflite::TensorType_FLOAT32, {1, 4, 1, 5}, {2, 1, 0, 3});
}

TEST(RuntimeOnnxOps, TransposeRefusesABadPermutation) {
  OneOpModel m;
  const int in = m.add({"in", tflite::TensorType_FLOAT32, {2, 3, 4}, {}});
  const int pt =
      m.add({"perm", tflite::TensorType_INT32, {3}, bytes_of(std::vector<int32_t>{0, 2, 2})});
  const int out = m.add({"out", tflite::TensorType_FLOAT32, {2, 4, 4}, {}});
  const std::string what =
      load_error(m.build(tflite::BuiltinOperator_TRANSPOSE, {}, {in, pt}, {out}));
  EXPECT_NE(what.find("op 0 TRANSPOSE"), std::string::npos) << what;
  EXPECT_NE(what.find("not a permutation"), std::string::npos) << what;
}

// ---- SLICE and STRIDED_SLICE -------------------------------------------------------------------

// Per axis, the first index, how many, and the step, worked out by hand from the op's arguments.
struct AxisPick {
  int start, count, step;
};

std::vector<float> pick_reference(const std::vector<float>& x, const std::vector<int32_t>& shape,
                                  const std::vector<AxisPick>& picks) {
  const size_t rank = shape.size();
  std::vector<int64_t> stride(rank, 1);
  for (size_t d = rank - 1; d-- > 0;) stride[d] = stride[d + 1] * shape[d + 1];
  int64_t total = 1;
  for (const AxisPick& p : picks) total *= p.count;
  std::vector<float> y;
  std::vector<int64_t> idx(rank, 0);
  for (int64_t i = 0; i < total; ++i) {
    int64_t src = 0;
    for (size_t d = 0; d < rank; ++d) {
      const int64_t at = picks[d].start + idx[d] * picks[d].step;
      EXPECT_TRUE(at >= 0 && at < shape[d]) << "the hand-worked pick leaves the input";
      src += at * stride[d];
    }
    y.push_back(x[static_cast<size_t>(src)]);
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < picks[d].count) break;
      idx[d] = 0;
    }
  }
  return y;
}

struct StridedCase {
  std::string name;
  std::vector<int32_t> begin, end, strides;
  int begin_mask = 0, end_mask = 0, shrink_mask = 0;
  bool offset = false;
  std::vector<AxisPick> picks;  // what TensorFlow Lite selects
  std::vector<int32_t> out_shape;
};

TEST(RuntimeOnnxOps, StridedSliceMasksNegativeIndicesAndShrink) {
  const std::vector<int32_t> shape = {2, 5, 6, 4};
  std::mt19937 rng(5);
  const std::vector<float> x = random_floats(rng, count_of(shape));
  const std::vector<StridedCase> cases = {
      {"masks, negative begin and end, stride 2",
       {0, -4, 1, 0},
       {0, -1, 6, 4},
       {1, 1, 2, 1},
       0b0001,
       0b0001,
       0,
       false,
       {{0, 2, 1}, {1, 3, 1}, {1, 3, 2}, {0, 4, 1}},
       {2, 3, 3, 4}},
      {"negative strides, end mask backwards, shrink",
       {1, -1, 0, 3},
       {0, 0, 6, 0},
       {1, -2, 1, -1},
       0,
       0b1000,
       0b0001,
       false,
       {{1, 1, 1}, {4, 2, -2}, {0, 6, 1}, {3, 4, -1}},
       {2, 6, 4}},
      {"two shrunk axes with negative indices",
       {0, -2, 0, -1},
       {1, -1, 6, 0},
       {1, 1, 1, 1},
       0,
       0,
       0b1010,
       false,
       {{0, 1, 1}, {3, 1, 1}, {0, 6, 1}, {3, 1, 1}},
       {1, 6}},
      {"fewer values than axes",
       {1},
       {2},
       {1},
       0,
       0,
       0,
       false,
       {{1, 1, 1}, {0, 5, 1}, {0, 6, 1}, {0, 4, 1}},
       {1, 5, 6, 4}},
      {"out-of-range indices clamp",
       {0, -100, 2, 1},
       {2, 100, 100, 3},
       {1, 1, 1, 1},
       0,
       0,
       0,
       false,
       {{0, 2, 1}, {0, 5, 1}, {2, 4, 1}, {1, 2, 1}},
       {2, 5, 4, 2}},
      {"begin mask backwards starts at the end",
       {0, 0, 0, 0},
       {2, 5, -7, 4},
       {1, 1, -3, 1},
       0b0100,
       0,
       0,
       false,
       {{0, 2, 1}, {0, 5, 1}, {5, 2, -3}, {0, 4, 1}},
       {2, 5, 2, 4}},
      {"offset: end counts from begin",
       {1, 1, 2, 0},
       {1, 3, 3, 4},
       {1, 2, 1, 1},
       0,
       0,
       0,
       true,
       {{1, 1, 1}, {1, 2, 2}, {2, 3, 1}, {0, 4, 1}},
       {1, 2, 3, 4}},
  };
  for (const StridedCase& c : cases) {
    const int32_t given = static_cast<int32_t>(c.begin.size());
    OneOpModel m;
    const int in = m.add({"in", tflite::TensorType_FLOAT32, shape, {}});
    const int b = m.add({"begin", tflite::TensorType_INT32, {given}, bytes_of(c.begin)});
    const int e = m.add({"end", tflite::TensorType_INT32, {given}, bytes_of(c.end)});
    const int s = m.add({"strides", tflite::TensorType_INT32, {given}, bytes_of(c.strides)});
    const int out = m.add({"out", tflite::TensorType_FLOAT32, c.out_shape, {}});
    tflite::StridedSliceOptionsT opt;
    opt.begin_mask = c.begin_mask;
    opt.end_mask = c.end_mask;
    opt.shrink_axis_mask = c.shrink_mask;
    opt.offset = c.offset;
    tflite::BuiltinOptionsUnion o;
    o.Set(opt);
    const Model model =
        m.build(tflite::BuiltinOperator_STRIDED_SLICE, std::move(o), {in, b, e, s}, {out});
    const std::vector<float> want = pick_reference(x, shape, c.picks);
    ASSERT_EQ(static_cast<int64_t>(want.size()), count_of(c.out_shape)) << c.name;
    EXPECT_EQ(floats_of(run_one(model, {bytes_of(x)}).data), want) << c.name;
  }
}

TEST(RuntimeOnnxOps, StridedSliceOfBytesAndRefusals) {
  // int8 with its quantization, every other channel backwards.
  const std::vector<int32_t> shape = {1, 3, 4, 6};
  std::vector<int8_t> x(static_cast<size_t>(count_of(shape)));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int8_t>(i * 5 - 100);
  auto model_with = [&](int ellipsis_mask, const std::vector<int32_t>& out_shape) {
    OneOpModel m;
    const int in = m.add({"in", tflite::TensorType_INT8, shape, {}, {0.1f}, {-4}});
    const int b = m.add(
        {"begin", tflite::TensorType_INT32, {4}, bytes_of(std::vector<int32_t>{0, 0, 0, -1})});
    const int e =
        m.add({"end", tflite::TensorType_INT32, {4}, bytes_of(std::vector<int32_t>{1, 3, 4, 0})});
    const int s = m.add(
        {"strides", tflite::TensorType_INT32, {4}, bytes_of(std::vector<int32_t>{1, 1, 1, -2})});
    const int out = m.add({"out", tflite::TensorType_INT8, out_shape, {}, {0.1f}, {-4}});
    tflite::StridedSliceOptionsT opt;
    opt.ellipsis_mask = ellipsis_mask;
    opt.end_mask = 0b1000;
    tflite::BuiltinOptionsUnion o;
    o.Set(opt);
    return m.build(tflite::BuiltinOperator_STRIDED_SLICE, std::move(o), {in, b, e, s}, {out});
  };
  std::vector<int8_t> want;
  for (int y = 0; y < 3; ++y)
    for (int xx = 0; xx < 4; ++xx)
      for (int c = 5; c >= 0; c -= 2) want.push_back(x[static_cast<size_t>((y * 4 + xx) * 6 + c)]);
  EXPECT_EQ(run_one(model_with(0, {1, 3, 4, 3}), {bytes_of(x)}).data, bytes_of(want));

  std::string what = load_error(model_with(0b0010, {1, 3, 4, 3}));
  EXPECT_NE(what.find("op 0 STRIDED_SLICE"), std::string::npos) << what;
  EXPECT_NE(what.find("ellipsis_mask"), std::string::npos) << what;
  what = load_error(model_with(0, {1, 3, 4, 2}));  // a stored shape that does not match
  EXPECT_NE(what.find("does not match the computed [1,3,4,3]"), std::string::npos) << what;
}

TEST(RuntimeOnnxOps, Slice) {
  const std::vector<int32_t> shape = {3, 4, 5};
  std::mt19937 rng(6);
  const std::vector<float> x = random_floats(rng, count_of(shape));
  for (const bool int64_args : {false, true}) {
    OneOpModel m;
    const int in = m.add({"in", tflite::TensorType_FLOAT32, shape, {}});
    const std::vector<int64_t> begin = {1, 0, 2}, size = {2, -1, 3};  // -1: to the end
    const auto args = [&](const std::vector<int64_t>& v) {
      return int64_args ? bytes_of(v) : bytes_of(std::vector<int32_t>(v.begin(), v.end()));
    };
    const auto type = int64_args ? tflite::TensorType_INT64 : tflite::TensorType_INT32;
    const int b = m.add({"begin", type, {3}, args(begin)});
    const int s = m.add({"size", type, {3}, args(size)});
    const int out = m.add({"out", tflite::TensorType_FLOAT32, {2, 4, 3}, {}});
    const Model model = m.build(tflite::BuiltinOperator_SLICE, {}, {in, b, s}, {out});
    EXPECT_EQ(floats_of(run_one(model, {bytes_of(x)}).data),
              pick_reference(x, shape, {{1, 2, 1}, {0, 4, 1}, {2, 3, 1}}))
        << (int64_args ? "int64" : "int32") << " arguments";
  }
}

// ---- PRELU and DIV -----------------------------------------------------------------------------

TEST(RuntimeOnnxOps, PreluChannelWise) {
  const int h = 5, w = 7, c = 6;
  std::mt19937 rng(7);
  const std::vector<float> x = random_floats(rng, h * w * c, -2.f, 2.f);
  const std::vector<float> alpha = random_floats(rng, c, 0.f, 0.5f);
  for (const std::vector<int32_t>& alpha_shape :
       {std::vector<int32_t>{1, 1, c}, std::vector<int32_t>{c}}) {
    OneOpModel m;
    const int in = m.add({"in", tflite::TensorType_FLOAT32, {1, h, w, c}, {}});
    const int a = m.add({"alpha", tflite::TensorType_FLOAT32, alpha_shape, bytes_of(alpha)});
    const int out = m.add({"out", tflite::TensorType_FLOAT32, {1, h, w, c}, {}});
    const Model model = m.build(tflite::BuiltinOperator_PRELU, {}, {in, a}, {out});
    std::vector<double> want;
    for (size_t i = 0; i < x.size(); ++i)
      want.push_back(x[i] >= 0 ? x[i] : static_cast<double>(x[i]) * alpha[i % c]);
    expect_floats(floats_of(run_one(model, {bytes_of(x)}).data), want,
                  "alpha of rank " + std::to_string(alpha_shape.size()));
  }
}

TEST(RuntimeOnnxOps, DivBroadcastsWithFusedActivation) {
  std::mt19937 rng(8);
  {  // [2,3,4,5] / constant [3,1,5], RELU
    const std::vector<int32_t> as = {2, 3, 4, 5}, bs = {3, 1, 5};
    const std::vector<float> a = random_floats(rng, count_of(as), -3.f, 3.f);
    const std::vector<float> b = random_floats(rng, count_of(bs), 0.5f, 2.f);
    OneOpModel m;
    const int ia = m.add({"a", tflite::TensorType_FLOAT32, as, {}});
    const int ib = m.add({"b", tflite::TensorType_FLOAT32, bs, bytes_of(b)});
    const int out = m.add({"out", tflite::TensorType_FLOAT32, as, {}});
    tflite::DivOptionsT d;
    d.fused_activation_function = tflite::ActivationFunctionType_RELU;
    tflite::BuiltinOptionsUnion o;
    o.Set(d);
    const Model model = m.build(tflite::BuiltinOperator_DIV, std::move(o), {ia, ib}, {out});
    std::vector<double> want;
    for (int n = 0; n < 2; ++n)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 4; ++j)
          for (int k = 0; k < 5; ++k) {
            const double q =
                static_cast<double>(a[static_cast<size_t>(((n * 3 + i) * 4 + j) * 5 + k)]) /
                b[static_cast<size_t>(i * 5 + k)];
            want.push_back(std::max(q, 0.0));
          }
    expect_floats(floats_of(run_one(model, {bytes_of(a)}).data), want, "constant divisor, relu");
  }
  {  // [4,1,3] / [1,5,1], both activations: the output is wider than either
    const std::vector<float> a = random_floats(rng, 12, -3.f, 3.f);
    std::vector<float> b = random_floats(rng, 5, 0.5f, 2.f);
    b[2] = -b[2];
    OneOpModel m;
    const int ia = m.add({"a", tflite::TensorType_FLOAT32, {4, 1, 3}, {}});
    const int ib = m.add({"b", tflite::TensorType_FLOAT32, {1, 5, 1}, {}});
    const int out = m.add({"out", tflite::TensorType_FLOAT32, {4, 5, 3}, {}});
    tflite::BuiltinOptionsUnion o;
    o.Set(tflite::DivOptionsT{});
    const Model model = m.build(tflite::BuiltinOperator_DIV, std::move(o), {ia, ib}, {out});
    std::vector<double> want;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 5; ++j)
        for (int k = 0; k < 3; ++k)
          want.push_back(static_cast<double>(a[static_cast<size_t>(i * 3 + k)]) /
                         b[static_cast<size_t>(j)]);
    expect_floats(floats_of(run_one(model, {bytes_of(a), bytes_of(b)}).data), want,
                  "two activations");
  }
}

TEST(RuntimeOnnxOps, DivRefusesEightBitWithAReason) {
  OneOpModel m;
  const int ia = m.add({"a", tflite::TensorType_INT8, {4}, {}, {0.1f}, {0}});
  const int ib = m.add({"b", tflite::TensorType_INT8, {4}, {}, {0.1f}, {0}});
  const int out = m.add({"out", tflite::TensorType_INT8, {4}, {}, {0.1f}, {0}});
  tflite::BuiltinOptionsUnion o;
  o.Set(tflite::DivOptionsT{});
  const std::string what =
      load_error(m.build(tflite::BuiltinOperator_DIV, std::move(o), {ia, ib}, {out}));
  EXPECT_NE(what.find("op 0 DIV"), std::string::npos) << what;
  EXPECT_NE(what.find("float32 only"), std::string::npos) << what;
}

// ---- float32 paths of the ops the importer maps to ---------------------------------------------

// A one-input float op of the same shape in and out.
std::vector<float> run_unary(tflite::BuiltinOperator code, tflite::BuiltinOptionsUnion options,
                             const std::vector<float>& x) {
  OneOpModel m;
  const int32_t n = static_cast<int32_t>(x.size());
  const int in = m.add({"in", tflite::TensorType_FLOAT32, {1, n}, {}});
  const int out = m.add({"out", tflite::TensorType_FLOAT32, {1, n}, {}});
  return floats_of(run_one(m.build(code, std::move(options), {in}, {out}), {bytes_of(x)}).data);
}

TEST(RuntimeOnnxOps, FloatActivations) {
  std::mt19937 rng(9);
  const std::vector<float> x = random_floats(rng, 300, -8.f, 8.f);
  std::vector<double> hard_swish, logistic, leaky;
  for (float v : x) {
    const double d = v;
    hard_swish.push_back(d * std::min(6.0, std::max(0.0, d + 3)) / 6);
    logistic.push_back(1 / (1 + std::exp(-d)));
    leaky.push_back(d > 0 ? d : 0.2 * d);
  }
  expect_floats(run_unary(tflite::BuiltinOperator_HARD_SWISH, {}, x), hard_swish, "HARD_SWISH");
  expect_floats(run_unary(tflite::BuiltinOperator_LOGISTIC, {}, x), logistic, "LOGISTIC");
  tflite::LeakyReluOptionsT l;
  l.alpha = 0.2f;
  tflite::BuiltinOptionsUnion o;
  o.Set(l);
  expect_floats(run_unary(tflite::BuiltinOperator_LEAKY_RELU, std::move(o), x), leaky,
                "LEAKY_RELU");
}

TEST(RuntimeOnnxOps, FloatMaximumMinimumBroadcast) {
  std::mt19937 rng(10);
  const std::vector<float> a = random_floats(rng, 2 * 3 * 4), b = random_floats(rng, 4);
  for (const bool max : {true, false}) {
    OneOpModel m;
    const int ia = m.add({"a", tflite::TensorType_FLOAT32, {2, 3, 4}, {}});
    const int ib = m.add({"b", tflite::TensorType_FLOAT32, {4}, bytes_of(b)});
    const int out = m.add({"out", tflite::TensorType_FLOAT32, {2, 3, 4}, {}});
    const Model model =
        m.build(max ? tflite::BuiltinOperator_MAXIMUM : tflite::BuiltinOperator_MINIMUM, {},
                {ia, ib}, {out});
    std::vector<double> want;
    for (size_t i = 0; i < a.size(); ++i)
      want.push_back(max ? std::max(a[i], b[i % 4]) : std::min(a[i], b[i % 4]));
    expect_floats(floats_of(run_one(model, {bytes_of(a)}).data), want, max ? "MAXIMUM" : "MINIMUM");
  }
}

TEST(RuntimeOnnxOps, FloatMeanSoftmaxConcatenation) {
  std::mt19937 rng(11);
  const int h = 4, w = 5, c = 7;
  const std::vector<float> x = random_floats(rng, h * w * c, -4.f, 4.f);
  {  // MEAN over H and W (global average pooling), keep_dims
    OneOpModel m;
    const int in = m.add({"in", tflite::TensorType_FLOAT32, {1, h, w, c}, {}});
    const int axes =
        m.add({"axes", tflite::TensorType_INT32, {2}, bytes_of(std::vector<int32_t>{1, 2})});
    const int out = m.add({"out", tflite::TensorType_FLOAT32, {1, 1, 1, c}, {}});
    tflite::ReducerOptionsT r;
    r.keep_dims = true;
    tflite::BuiltinOptionsUnion o;
    o.Set(r);
    std::vector<double> want(c, 0.0), magnitude(c, 0.0);
    for (size_t i = 0; i < x.size(); ++i) {
      want[i % c] += x[i] / static_cast<double>(h * w);
      magnitude[i % c] += std::abs(x[i]) / (h * w);
    }
    expect_floats(
        floats_of(run_one(m.build(tflite::BuiltinOperator_MEAN, std::move(o), {in, axes}, {out}),
                          {bytes_of(x)})
                      .data),
        want, magnitude, "MEAN");
  }
  {  // SOFTMAX over channels, beta 0.7
    OneOpModel m;
    const int in = m.add({"in", tflite::TensorType_FLOAT32, {1, h, w, c}, {}});
    const int out = m.add({"out", tflite::TensorType_FLOAT32, {1, h, w, c}, {}});
    tflite::SoftmaxOptionsT s;
    s.beta = 0.7f;
    tflite::BuiltinOptionsUnion o;
    o.Set(s);
    std::vector<double> want;
    for (int p = 0; p < h * w; ++p) {
      double sum = 0;
      for (int k = 0; k < c; ++k) sum += std::exp(0.7 * x[static_cast<size_t>(p * c + k)]);
      for (int k = 0; k < c; ++k)
        want.push_back(std::exp(0.7 * x[static_cast<size_t>(p * c + k)]) / sum);
    }
    expect_floats(
        floats_of(run_one(m.build(tflite::BuiltinOperator_SOFTMAX, std::move(o), {in}, {out}),
                          {bytes_of(x)})
                      .data),
        want, "SOFTMAX");
  }
  {  // CONCATENATION of two activations along channels (axis -1)
    const std::vector<float> y = random_floats(rng, h * w * 3);
    OneOpModel m;
    const int a = m.add({"a", tflite::TensorType_FLOAT32, {1, h, w, c}, {}});
    const int b = m.add({"b", tflite::TensorType_FLOAT32, {1, h, w, 3}, {}});
    const int out = m.add({"out", tflite::TensorType_FLOAT32, {1, h, w, c + 3}, {}});
    tflite::ConcatenationOptionsT cc;
    cc.axis = -1;
    tflite::BuiltinOptionsUnion o;
    o.Set(cc);
    std::vector<double> want;
    for (int p = 0; p < h * w; ++p) {
      for (int k = 0; k < c; ++k) want.push_back(x[static_cast<size_t>(p * c + k)]);
      for (int k = 0; k < 3; ++k) want.push_back(y[static_cast<size_t>(p * 3 + k)]);
    }
    expect_floats(floats_of(run_one(m.build(tflite::BuiltinOperator_CONCATENATION, std::move(o),
                                            {a, b}, {out}),
                                    {bytes_of(x), bytes_of(y)})
                                .data),
                  want, "CONCATENATION");
  }
}

// TensorFlow Lite's reference ResizeBilinear and GetNearestNeighbor, in float.
struct ResizeMode {
  bool align_corners, half_pixel;
};

float resize_scale(int in, int out, bool align_corners) {
  return align_corners && out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1)
                                  : static_cast<float>(in) / static_cast<float>(out);
}

TEST(RuntimeOnnxOps, FloatResizeBilinearCoordinateModes) {
  const int h = 5, w = 4, c = 3;
  std::mt19937 rng(12);
  const std::vector<float> x = random_floats(rng, h * w * c);
  for (const ResizeMode mode :
       {ResizeMode{false, false}, ResizeMode{true, false}, ResizeMode{false, true}}) {
    for (const auto& [oh, ow] : {std::pair{10, 8}, std::pair{7, 11}, std::pair{3, 2}}) {
      const float sy = resize_scale(h, oh, mode.align_corners);
      const float sx = resize_scale(w, ow, mode.align_corners);
      auto source = [&](int v, float scale, int in, int* lo, int* hi) {
        const float p = mode.half_pixel ? (static_cast<float>(v) + 0.5f) * scale - 0.5f
                                        : static_cast<float>(v) * scale;
        *lo = std::max(static_cast<int>(std::floor(p)), 0);
        *hi = std::min(static_cast<int>(std::ceil(p)), in - 1);
        return p;
      };
      std::vector<double> want;
      for (int y = 0; y < oh; ++y) {
        int y0, y1;
        const double py = source(y, sy, h, &y0, &y1);
        for (int xo = 0; xo < ow; ++xo) {
          int x0, x1;
          const double px = source(xo, sx, w, &x0, &x1);
          const double dy = py - y0, dx = px - x0;
          for (int k = 0; k < c; ++k) {
            auto at = [&](int yy, int xx) {
              return static_cast<double>(x[static_cast<size_t>((yy * w + xx) * c + k)]);
            };
            want.push_back(at(y0, x0) * (1 - dy) * (1 - dx) + at(y1, x0) * dy * (1 - dx) +
                           at(y0, x1) * (1 - dy) * dx + at(y1, x1) * dy * dx);
          }
        }
      }
      OneOpModel m;
      const int in = m.add({"in", tflite::TensorType_FLOAT32, {1, h, w, c}, {}});
      const int size =
          m.add({"size", tflite::TensorType_INT32, {2}, bytes_of(std::vector<int32_t>{oh, ow})});
      const int out = m.add({"out", tflite::TensorType_FLOAT32, {1, oh, ow, c}, {}});
      tflite::ResizeBilinearOptionsT r;
      r.align_corners = mode.align_corners;
      r.half_pixel_centers = mode.half_pixel;
      tflite::BuiltinOptionsUnion o;
      o.Set(r);
      const Model model =
          m.build(tflite::BuiltinOperator_RESIZE_BILINEAR, std::move(o), {in, size}, {out});
      std::vector<double> magnitude(want.size(), 1.0);  // weights of at most 1.25 on values below 1
      expect_floats(floats_of(run_one(model, {bytes_of(x)}).data), want, magnitude,
                    "bilinear " + std::to_string(oh) + "x" + std::to_string(ow) +
                        " align_corners " + std::to_string(mode.align_corners) + " half_pixel " +
                        std::to_string(mode.half_pixel));
    }
  }
}

TEST(RuntimeOnnxOps, FloatResizeNearestCoordinateModes) {
  const int h = 5, w = 4, c = 3;
  std::mt19937 rng(13);
  const std::vector<float> x = random_floats(rng, h * w * c);
  for (const ResizeMode mode :
       {ResizeMode{false, false}, ResizeMode{true, false}, ResizeMode{false, true}}) {
    for (const auto& [oh, ow] : {std::pair{10, 8}, std::pair{7, 11}, std::pair{3, 2}}) {
      auto nearest = [&](int v, int in, int out) {
        const float scale = resize_scale(in, out, mode.align_corners);
        const float p = (static_cast<float>(v) + (mode.half_pixel ? 0.5f : 0.f)) * scale;
        int i =
            mode.align_corners ? static_cast<int>(std::round(p)) : static_cast<int>(std::floor(p));
        i = std::min(i, in - 1);
        return mode.half_pixel ? std::max(i, 0) : i;
      };
      std::vector<float> want;
      for (int y = 0; y < oh; ++y)
        for (int xo = 0; xo < ow; ++xo)
          for (int k = 0; k < c; ++k)
            want.push_back(
                x[static_cast<size_t>((nearest(y, h, oh) * w + nearest(xo, w, ow)) * c + k)]);
      OneOpModel m;
      const int in = m.add({"in", tflite::TensorType_FLOAT32, {1, h, w, c}, {}});
      const int size =
          m.add({"size", tflite::TensorType_INT32, {2}, bytes_of(std::vector<int32_t>{oh, ow})});
      const int out = m.add({"out", tflite::TensorType_FLOAT32, {1, oh, ow, c}, {}});
      tflite::ResizeNearestNeighborOptionsT r;
      r.align_corners = mode.align_corners;
      r.half_pixel_centers = mode.half_pixel;
      tflite::BuiltinOptionsUnion o;
      o.Set(r);
      const Model model =
          m.build(tflite::BuiltinOperator_RESIZE_NEAREST_NEIGHBOR, std::move(o), {in, size}, {out});
      EXPECT_EQ(floats_of(run_one(model, {bytes_of(x)}).data), want)
          << "nearest " << oh << "x" << ow << " align_corners " << mode.align_corners
          << " half_pixel " << mode.half_pixel;
    }
  }
}

}  // namespace
}  // namespace pipecut
