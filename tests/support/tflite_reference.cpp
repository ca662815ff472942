#include "support/tflite_reference.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "runtime/op_options.h"
#include "support/tflite_arithmetic.h"

namespace pipecut::testing {
namespace {

using runtime::Activation;
using runtime::OpOptions;
using runtime::Padding;

struct Shape4 {
  int64_t n, h, w, c;
};

Shape4 nhwc(const Tensor& t) {
  if (t.shape.size() != 4) throw std::runtime_error(t.name + ": not a 4-d tensor");
  return {t.shape[0], t.shape[1], t.shape[2], t.shape[3]};
}

void require_uint8_per_tensor(const Tensor& t) {
  if (t.type != DType::kUInt8 || t.quant.scale.size() != 1 || t.quant.zero_point.size() != 1)
    throw std::runtime_error(t.name + ": not uint8 with one scale and zero point");
}

// TensorFlow Lite's CalculateActivationRangeQuantized for a uint8 output.
std::pair<int32_t, int32_t> activation_range(Activation act, const Tensor& out) {
  const auto q = [&](float f) {
    return static_cast<int32_t>(out.quant.zero_point[0]) +
           static_cast<int32_t>(std::round(f / out.quant.scale[0]));
  };
  switch (act) {
    case Activation::kNone:
      return {0, 255};
    case Activation::kRelu:
      return {std::max(0, q(0.f)), 255};
    case Activation::kRelu6:
      return {std::max(0, q(0.f)), std::min(255, q(6.f))};
    default:
      throw std::runtime_error(out.name + ": unsupported fused activation");
  }
}

// CONV_2D (depthwise = false, filter [oc][kh][kw][ic]) or DEPTHWISE_CONV_2D (filter
// [1][kh][kw][ic * multiplier]), dilation 1.
std::vector<uint8_t> convolution(const Model& m, const Op& op, const OpOptions& o, bool depthwise,
                                 const std::vector<uint8_t>& x) {
  const Tensor& in = m.tensor(op.inputs[0]);
  const Tensor& w = m.tensor(op.inputs[1]);
  const Tensor& out = m.tensor(op.outputs[0]);
  for (const Tensor* t : {&in, &w, &out}) require_uint8_per_tensor(*t);
  if (o.dilation_h != 1 || o.dilation_w != 1) throw std::runtime_error(out.name + ": dilation");
  const Shape4 is = nhwc(in), ws = nhwc(w), os = nhwc(out);
  const int64_t kh = ws.h, kw = ws.w;
  const auto* bias = reinterpret_cast<const int32_t*>(m.tensor(op.inputs[2]).data.data());
  const int32_t zin = static_cast<int32_t>(in.quant.zero_point[0]);
  const int32_t zw = static_cast<int32_t>(w.quant.zero_point[0]);
  const int32_t zout = static_cast<int32_t>(out.quant.zero_point[0]);
  const tfl::Multiplier mult = tfl::quantize_multiplier(static_cast<double>(in.quant.scale[0]) *
                                                        static_cast<double>(w.quant.scale[0]) /
                                                        static_cast<double>(out.quant.scale[0]));
  const auto [lo, hi] = activation_range(o.activation, out);
  const int64_t pt = tfl::pad_before(o.padding == Padding::kSame, is.h, os.h, kh, o.stride_h);
  const int64_t pl = tfl::pad_before(o.padding == Padding::kSame, is.w, os.w, kw, o.stride_w);
  const int64_t multiplier = depthwise ? os.c / is.c : 1;

  std::vector<uint8_t> y(static_cast<size_t>(os.n * os.h * os.w * os.c));
  for (int64_t n = 0; n < os.n; ++n) {
    for (int64_t oy = 0; oy < os.h; ++oy) {
      for (int64_t ox = 0; ox < os.w; ++ox) {
        for (int64_t oc = 0; oc < os.c; ++oc) {
          int32_t acc = 0;
          for (int64_t fy = 0; fy < kh; ++fy) {
            const int64_t iy = oy * o.stride_h - pt + fy;
            if (iy < 0 || iy >= is.h) continue;
            for (int64_t fx = 0; fx < kw; ++fx) {
              const int64_t ix = ox * o.stride_w - pl + fx;
              if (ix < 0 || ix >= is.w) continue;
              const uint8_t* px = &x[static_cast<size_t>(((n * is.h + iy) * is.w + ix) * is.c)];
              if (depthwise) {
                const int32_t wv = w.data[static_cast<size_t>((fy * kw + fx) * os.c + oc)];
                acc += (px[oc / multiplier] - zin) * (wv - zw);
              } else {
                const uint8_t* pw = &w.data[static_cast<size_t>(((oc * kh + fy) * kw + fx) * is.c)];
                for (int64_t ic = 0; ic < is.c; ++ic) acc += (px[ic] - zin) * (pw[ic] - zw);
              }
            }
          }
          const int32_t v = tfl::mbqm(acc + bias[oc], mult) + zout;
          y[static_cast<size_t>(((n * os.h + oy) * os.w + ox) * os.c + oc)] =
              static_cast<uint8_t>(std::clamp(v, lo, hi));
        }
      }
    }
  }
  return y;
}

std::vector<uint8_t> average_pool(const Model& m, const Op& op, const OpOptions& o,
                                  const std::vector<uint8_t>& x) {
  const Tensor& in = m.tensor(op.inputs[0]);
  const Tensor& out = m.tensor(op.outputs[0]);
  require_uint8_per_tensor(in);
  require_uint8_per_tensor(out);
  if (in.quant.scale[0] != out.quant.scale[0] || in.quant.zero_point[0] != out.quant.zero_point[0])
    throw std::runtime_error(out.name + ": pooling that requantizes");
  const Shape4 is = nhwc(in), os = nhwc(out);
  const auto [lo, hi] = activation_range(o.activation, out);
  const int64_t pt =
      tfl::pad_before(o.padding == Padding::kSame, is.h, os.h, o.filter_h, o.stride_h);
  const int64_t pl =
      tfl::pad_before(o.padding == Padding::kSame, is.w, os.w, o.filter_w, o.stride_w);
  std::vector<uint8_t> y(static_cast<size_t>(os.n * os.h * os.w * os.c));
  for (int64_t n = 0; n < os.n; ++n) {
    for (int64_t oy = 0; oy < os.h; ++oy) {
      for (int64_t ox = 0; ox < os.w; ++ox) {
        const int64_t y0 = std::max<int64_t>(0, oy * o.stride_h - pt);
        const int64_t y1 = std::min<int64_t>(is.h, oy * o.stride_h - pt + o.filter_h);
        const int64_t x0 = std::max<int64_t>(0, ox * o.stride_w - pl);
        const int64_t x1 = std::min<int64_t>(is.w, ox * o.stride_w - pl + o.filter_w);
        const int32_t count = static_cast<int32_t>((y1 - y0) * (x1 - x0));
        for (int64_t c = 0; c < os.c; ++c) {
          int32_t sum = 0;
          for (int64_t iy = y0; iy < y1; ++iy)
            for (int64_t ix = x0; ix < x1; ++ix)
              sum += x[static_cast<size_t>(((n * is.h + iy) * is.w + ix) * is.c + c)];
          const int32_t average = (sum + count / 2) / count;
          y[static_cast<size_t>(((n * os.h + oy) * os.w + ox) * os.c + c)] =
              static_cast<uint8_t>(std::clamp(average, lo, hi));
        }
      }
    }
  }
  return y;
}

}  // namespace

std::vector<std::vector<uint8_t>> run_tflite_uint8_reference(const Model& model,
                                                             const std::vector<uint8_t>& input,
                                                             size_t op_count) {
  if (model.inputs().size() != 1) throw std::runtime_error("one model input is expected");
  if (op_count > model.ops().size()) throw std::runtime_error("more ops than the model has");
  std::vector<std::vector<uint8_t>> outputs;
  outputs.reserve(op_count);  // x points into it
  int previous = model.inputs()[0];
  const std::vector<uint8_t>* x = &input;
  for (size_t k = 0; k < op_count; ++k) {
    const Op& op = model.ops()[k];
    const std::string type = model.op_type(op);
    if (op.inputs.empty() || op.inputs[0] != previous || op.outputs.size() != 1)
      throw std::runtime_error("op " + std::to_string(k) + " does not continue the chain");
    const OpOptions o = runtime::read_op_options(model, op);
    if (type == "CONV_2D" || type == "DEPTHWISE_CONV_2D") {
      outputs.push_back(convolution(model, op, o, type == "DEPTHWISE_CONV_2D", *x));
    } else if (type == "AVERAGE_POOL_2D") {
      outputs.push_back(average_pool(model, op, o, *x));
    } else if (type == "RESHAPE") {
      outputs.push_back(*x);
    } else {
      throw std::runtime_error("op " + std::to_string(k) + " " + type + " is not covered");
    }
    previous = op.outputs[0];
    x = &outputs.back();
  }
  return outputs;
}

}  // namespace pipecut::testing
