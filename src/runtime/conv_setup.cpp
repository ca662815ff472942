#include "runtime/conv_setup.h"

#include <array>
#include <cstring>
#include <string>

namespace pipecut::runtime {

PaddedDim pad_dim(Padding padding, int in, int kernel, int stride, int dilation) {
  // In int64: with the window's extent and stride below kMaxWindow (place_window) every result
  // fits an int again.
  const int64_t effective = int64_t{kernel - 1} * dilation + 1;
  const int64_t out = padding == Padding::kSame ? (int64_t{in} + stride - 1) / stride
                                                : (int64_t{in} - effective + stride) / stride;
  const int64_t total = std::max<int64_t>((out - 1) * stride + effective - in, 0);
  PaddedDim d;
  d.out = static_cast<int>(out);
  d.before = static_cast<int>(total / 2);
  d.after = static_cast<int>(total - total / 2);
  return d;
}

namespace {

// Weights, biases and scales common to all three ops. `channel_axis` is the weight tensor's
// output-channel axis (0 for CONV_2D and FULLY_CONNECTED, 3 for DEPTHWISE_CONV_2D).
void read_parameters(OpContext& ctx, ConvSetup& s, int channel_axis) {
  const ValueInfo& in = ctx.in(0);
  const ValueInfo& out = ctx.out(0);
  const Tensor& w = ctx.in_tensor(1);
  const int oc = s.g.oc;
  ctx.require(w.is_constant(), "weights " + w.name + " must be constant");
  const bool float_op = in.type == DType::kFloat32;
  if (float_op) {
    ctx.require(w.type == DType::kFloat32 && out.type == DType::kFloat32,
                std::string("float input with ") + dtype_name(w.type) + " weights and " +
                    dtype_name(out.file_type) + " output is not supported (hybrid models)");
  } else {
    ctx.require(in.quantized && out.quantized, std::string("input ") + dtype_name(in.file_type) +
                                                   " and output " + dtype_name(out.file_type) +
                                                   " must be 8-bit with one scale each");
    ctx.require(w.type == DType::kInt8 || w.type == DType::kUInt8,
                std::string("weights of type ") + dtype_name(w.type) + " are not supported");
    ctx.require(w.quant.present(), "weights " + w.name + " are not quantized");
  }
  s.is_float = float_op;
  ctx.read_constant(0);
  s.input = ctx.input_index(0);
  s.output = ctx.output_index(0);
  const int64_t count = w.num_elements();
  ctx.require(static_cast<int64_t>(w.data.size()) >= count * (float_op ? 4 : 1),
              "weights data is too short");
  const int64_t inner = [&] {  // elements after the channel axis
    int64_t k = 1;
    for (size_t d = static_cast<size_t>(channel_axis) + 1; d < w.shape.size(); ++d) k *= w.shape[d];
    return k;
  }();
  auto channel_of = [&](int64_t i) { return static_cast<int>((i / inner) % oc); };

  if (float_op) {
    s.w.values.resize(static_cast<size_t>(count));
    std::memcpy(s.w.values.data(), w.data.data(), static_cast<size_t>(count) * 4);
  } else {
    const size_t nq = w.quant.scale.size();
    ctx.require(
        nq == 1 || static_cast<int>(nq) == oc,
        "weights have " + std::to_string(nq) + " scales for " + std::to_string(oc) + " channels");
    ctx.require(nq == 1 || w.quant.axis == channel_axis,
                "per-channel weights must be quantized along axis " + std::to_string(channel_axis));
    std::vector<int32_t> zero(static_cast<size_t>(oc), 0);
    for (int c = 0; c < oc; ++c) {
      const auto& zp = w.quant.zero_point;
      zero[static_cast<size_t>(c)] =
          zp.empty() ? 0 : static_cast<int32_t>(zp[zp.size() == 1 ? 0 : static_cast<size_t>(c)]);
    }
    s.w.per_tensor_zero =
        std::all_of(zero.begin(), zero.end(), [&](int32_t z) { return z == zero[0]; });
    s.w.zero = zero[0];
    s.w.raw_uint8 = w.type == DType::kUInt8;
    s.w.centered.resize(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      const int32_t v = w.type == DType::kInt8
                            ? static_cast<int8_t>(w.data[static_cast<size_t>(i)])
                            : static_cast<int32_t>(w.data[static_cast<size_t>(i)]);
      const int32_t c = v - zero[static_cast<size_t>(channel_of(i))];
      s.w.centered[static_cast<size_t>(i)] = c;
      if (c < -128 || c > 127) s.w.fits_s8 = false;
    }
    s.q.input_zero = in.zero_point;
    s.q.output_zero = out.zero_point;
    s.q.scale.resize(static_cast<size_t>(oc));
    for (int c = 0; c < oc; ++c) {
      const double sw = w.quant.scale[nq == 1 ? 0 : static_cast<size_t>(c)];
      const double scale = static_cast<double>(in.scale) * sw / static_cast<double>(out.scale);
      // A float multiplier past float's range would turn a zero accumulator into NaN.
      ctx.require(fits_float(scale), "the input, weight and output scales multiply to " +
                                         number_text(scale) + ", beyond a float");
      s.q.scale[static_cast<size_t>(c)] = static_cast<float>(scale);
    }
    ctx.require(activation_range(ctx.options().activation, out, &s.q.act),
                std::string("fused activation ") + activation_name(ctx.options().activation) +
                    " is not supported");
  }
  if (float_op) {
    ctx.require(activation_range(ctx.options().activation, &s.float_act),
                std::string("fused activation ") + activation_name(ctx.options().activation) +
                    " is not supported");
  }

  // Bias (optional).
  if (float_op)
    s.float_bias.assign(static_cast<size_t>(oc), 0.f);
  else
    s.q.bias.assign(static_cast<size_t>(oc), 0);
  if (ctx.has_input(2)) {
    const Tensor& b = ctx.in_tensor(2);
    ctx.require(b.is_constant(), "bias " + b.name + " must be constant");
    ctx.require(b.num_elements() == oc, "bias has " + std::to_string(b.num_elements()) +
                                            " values for " + std::to_string(oc) + " channels");
    if (float_op) {
      ctx.require(b.type == DType::kFloat32, "float bias expected");
      std::memcpy(s.float_bias.data(), b.data.data(), static_cast<size_t>(oc) * 4);
    } else {
      ctx.require(b.type == DType::kInt32,
                  std::string("bias of type ") + dtype_name(b.type) + " is not supported");
      std::memcpy(s.q.bias.data(), b.data.data(), static_cast<size_t>(oc) * 4);
    }
  }
}

}  // namespace

void place_window(OpContext& ctx, ConvGeometry& g, Padding padding, const ValueInfo& in,
                  const ValueInfo& out) {
  g.n = in.shape[0];
  g.ih = in.shape[1];
  g.iw = in.shape[2];
  g.ic = in.shape[3];
  for (const auto [kernel, stride, dilation] :
       {std::array{g.kh, g.stride_h, g.dilation_h}, std::array{g.kw, g.stride_w, g.dilation_w}}) {
    ctx.require(
        kernel >= 1 && int64_t{kernel - 1} * dilation + 1 <= kMaxWindow && stride <= kMaxWindow,
        "a window of " + std::to_string(kernel) + " with dilation " + std::to_string(dilation) +
            " and stride " + std::to_string(stride) + " reaches beyond " +
            std::to_string(kMaxWindow));
  }
  const PaddedDim ph = pad_dim(padding, g.ih, g.kh, g.stride_h, g.dilation_h);
  const PaddedDim pw = pad_dim(padding, g.iw, g.kw, g.stride_w, g.dilation_w);
  g.oh = ph.out;
  g.ow = pw.out;
  g.pad_top = ph.before;
  g.pad_bottom = ph.after;
  g.pad_left = pw.before;
  g.pad_right = pw.after;
  ctx.require(out.shape == std::vector<int32_t>{g.n, g.oh, g.ow, g.oc},
              "output shape " + shape_text(out.shape) + " does not match the computed [" +
                  std::to_string(g.n) + "," + std::to_string(g.oh) + "," + std::to_string(g.ow) +
                  "," + std::to_string(g.oc) + "]");
  ctx.require(g.oh > 0 && g.ow > 0, "empty output");
}

ConvSetup make_conv_setup(OpContext& ctx, bool depthwise) {
  ctx.require_arity(2, 1);
  ConvSetup s;
  const ValueInfo& in = ctx.in(0);
  const ValueInfo& out = ctx.out(0);
  const Tensor& w = ctx.in_tensor(1);
  ctx.require(in.rank() == 4 && out.rank() == 4 && w.shape.size() == 4,
              "input, weights and output must be 4-D, got " + shape_text(in.shape) + ", " +
                  shape_text(w.shape) + ", " + shape_text(out.shape));
  const OpOptions& o = ctx.options();
  ConvGeometry& g = s.g;
  g.n = in.shape[0];
  g.ih = in.shape[1];
  g.iw = in.shape[2];
  g.ic = in.shape[3];
  g.oc = out.shape[3];
  g.kh = w.shape[1];
  g.kw = w.shape[2];
  g.stride_h = o.stride_h;
  g.stride_w = o.stride_w;
  g.dilation_h = o.dilation_h;
  g.dilation_w = o.dilation_w;
  ctx.require(g.stride_h >= 1 && g.stride_w >= 1 && g.dilation_h >= 1 && g.dilation_w >= 1,
              "strides and dilations must be positive");
  if (depthwise) {
    ctx.require(w.shape[0] == 1 && w.shape[3] == g.oc, "depthwise weights " + shape_text(w.shape) +
                                                           " do not match output " +
                                                           shape_text(out.shape));
    ctx.require(g.oc % g.ic == 0, "output channels must be a multiple of input channels");
    g.depthwise = true;
    g.groups = g.ic;
    g.depth_multiplier = g.oc / g.ic;
  } else {
    ctx.require(w.shape[0] == g.oc,
                "weights " + shape_text(w.shape) + " do not match output " + shape_text(out.shape));
    ctx.require(w.shape[3] > 0 && g.ic % w.shape[3] == 0,
                "input channels " + std::to_string(g.ic) + " are not a multiple of the weights' " +
                    std::to_string(w.shape[3]));
    g.groups = g.ic / w.shape[3];
    ctx.require(g.oc % g.groups == 0, "output channels are not a multiple of the groups");
  }
  place_window(ctx, g, o.padding, in, out);
  read_parameters(ctx, s, depthwise ? 3 : 0);
  return s;
}

ConvSetup make_fc_setup(OpContext& ctx) {
  ctx.require_arity(2, 1);
  ConvSetup s;
  const ValueInfo& in = ctx.in(0);
  const ValueInfo& out = ctx.out(0);
  const Tensor& w = ctx.in_tensor(1);
  ctx.require(w.shape.size() == 2, "weights must be 2-D, got " + shape_text(w.shape));
  ctx.require(ctx.options().weights_format == 0, "shuffled weights are not supported");
  const int units = w.shape[0], depth = w.shape[1];
  ctx.require(depth > 0 && in.elements() % depth == 0,
              "input " + shape_text(in.shape) + " does not match weights " + shape_text(w.shape));
  const int64_t batch = in.elements() / depth;
  ctx.require(out.elements() == batch * units, "output " + shape_text(out.shape) +
                                                   " does not hold " + std::to_string(batch) + "x" +
                                                   std::to_string(units) + " values");
  ConvGeometry& g = s.g;
  g.n = static_cast<int>(batch);
  g.ic = depth;
  g.oc = units;
  read_parameters(ctx, s, 0);
  return s;
}

}  // namespace pipecut::runtime
