// TRANSPOSE_CONV (float32) as oneDNN deconvolutions, one per band of output rows as for the
// convolutions (dnnl_conv_kernel.cpp). TensorFlow Lite's semantics: input pixel (iy, ix) adds
// input x weights[oc][ky][kx][ic] to output pixel (iy * stride - pad_top + ky, ...), with the
// padding ComputePaddingHeightWidth gives the convolution from the output back to the input;
// output pixels no input reaches hold the bias alone. 8-bit is refused.
#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include "runtime/dnnl_conv_common.h"
#include "runtime/dnnl_env.h"
#include "runtime/kernels.h"

namespace pipecut::runtime {

namespace {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

class DnnlDeconvKernel : public DnnlPrimitiveKernel {
 public:
  DnnlDeconvKernel(OpContext& ctx, const ConvSetup& s) : DnnlPrimitiveKernel(ctx, s) {
    const ConvGeometry& g = s.g;
    // The file's [oc][kh][kw][ic] as oneDNN's logical {oc, ic, kh, kw}.
    const memory::dims wdims = {g.oc, g.ic, g.kh, g.kw};
    const memory::desc user_wmd(wdims, dt::f32,
                                {int64_t{g.kh} * g.kw * g.ic, 1, int64_t{g.kw} * g.ic, g.ic});
    const memory::desc any_wmd(wdims, dt::f32, tag::any);
    const memory::desc bias_md({g.oc}, dt::f32, tag::a);
    const dnnl::primitive_attr attr = conv_primitive_attr(s);
    // Padding after, as oneDNN counts it: negative when the output reaches past the last input
    // column's window (those columns get the bias alone). oneDNN takes down to 1 - stride.
    const int64_t pad_right = int64_t{g.iw - 1} * g.stride_w + g.kw - g.pad_left - g.ow;
    ctx.require(pad_right > -g.stride_w, "output width " + std::to_string(g.ow) +
                                             " reaches too far past the input's last window");

    // Bands of output rows, each a deconvolution of the input rows that reach it. A band's
    // padding on top is where its first output row lies below its first input row's window.
    const int64_t taps =
        int64_t{(g.kh + g.stride_h - 1) / g.stride_h} * ((g.kw + g.stride_w - 1) / g.stride_w);
    const int64_t work_per_row = int64_t{g.ow} * g.oc * g.ic * taps;
    const std::vector<std::pair<int64_t, int64_t>> bands =
        row_bands(g.oh, work_per_row, ctx.threads());
    std::map<std::array<int64_t, 4>, int> shapes;  // rows in, padding top and bottom, rows out
    for (int64_t n = 0; n < g.n; ++n) {
      for (const auto& [r0, r1] : bands) {
        // First input row whose window reaches row r0 (or, in a gap no window covers, the one
        // before), and one past the last whose window starts at r1 - 1 or above.
        const int64_t reach = r0 + g.pad_top - g.kh + 1;
        int64_t a = reach <= 0 ? 0 : (reach + g.stride_h - 1) / g.stride_h;
        if (a * g.stride_h > r0 + g.pad_top) --a;
        a = std::min<int64_t>(a, g.ih - 1);
        const int64_t b = std::min<int64_t>(g.ih, (r1 - 1 + g.pad_top) / g.stride_h + 1);
        const int64_t top = g.pad_top + r0 - a * g.stride_h;
        const int64_t bottom = (b - a - 1) * g.stride_h + g.kh - top - (r1 - r0);
        ctx.require(bottom > -g.stride_h, "output height " + std::to_string(g.oh) +
                                              " reaches too far past the input's last window");
        const std::array<int64_t, 4> shape{b - a, top, bottom, r1 - r0};
        auto it = shapes.find(shape);
        if (it == shapes.end()) {
          const memory::desc src_md({1, g.ic, shape[0], g.iw}, dt::f32, tag::nhwc);
          const memory::desc dst_md({1, g.oc, shape[3], g.ow}, dt::f32, tag::nhwc);
          const dnnl::deconvolution_forward::desc desc(
              dnnl::prop_kind::forward_inference, dnnl::algorithm::deconvolution_direct, src_md,
              any_wmd, bias_md, dst_md, {g.stride_h, g.stride_w}, {top, g.pad_left},
              {bottom, pad_right});
          const dnnl::deconvolution_forward::primitive_desc pd(desc, attr, env_->engine);
          const int id = adopt(s, pd, dnnl::deconvolution_forward(pd), src_md, dst_md, user_wmd,
                               s.w.values.data(), bias_md);
          it = shapes.emplace(shape, id).first;
        }
        add_band(it->second, ((n * g.ih + a) * g.iw * g.ic) * 4, (n * g.oh + r0) * g.ow,
                 (r1 - r0) * g.ow);
      }
    }
    finish_bands(ctx);
  }

  std::string detail() const override { return "dnnl deconv " + DnnlPrimitiveKernel::detail(); }
};

}  // namespace

std::unique_ptr<Kernel> make_transpose_conv(OpContext& ctx) {
  ctx.require(ctx.num_inputs() >= 3 && ctx.num_outputs() == 1,
              "expects output_shape, weights and input");
  const ValueInfo& in = ctx.in(2);
  const ValueInfo& out = ctx.out(0);
  const Tensor& w = ctx.in_tensor(1);
  ctx.require(in.type == DType::kFloat32 && out.type == DType::kFloat32,
              std::string("input ") + dtype_name(in.file_type) + " and output " +
                  dtype_name(out.file_type) + " are not supported (float32 only)");
  ctx.require(in.rank() == 4 && out.rank() == 4 && w.shape.size() == 4,
              "input, weights and output must be 4-D, got " + shape_text(in.shape) + ", " +
                  shape_text(w.shape) + ", " + shape_text(out.shape));
  ctx.require(w.is_constant() && w.type == DType::kFloat32,
              "weights " + w.name + " must be a float32 constant");
  ctx.require(w.shape[0] == out.shape[3] && w.shape[3] == in.shape[3],
              "weights " + shape_text(w.shape) + " do not match input " + shape_text(in.shape) +
                  " and output " + shape_text(out.shape));
  ctx.require(in.shape[0] == out.shape[0], "input and output batches differ");
  const std::vector<int64_t> out_shape = ctx.constant_ints(0);
  ctx.require(out_shape == std::vector<int64_t>(out.shape.begin(), out.shape.end()),
              "output_shape input does not match output " + shape_text(out.shape));
  const OpOptions& o = ctx.options();
  ConvSetup s;
  s.is_float = true;
  ConvGeometry& g = s.g;
  g.n = in.shape[0];
  g.ih = in.shape[1];
  g.iw = in.shape[2];
  g.ic = in.shape[3];
  g.oh = out.shape[1];
  g.ow = out.shape[2];
  g.oc = out.shape[3];
  g.kh = w.shape[1];
  g.kw = w.shape[2];
  g.stride_h = o.stride_h;
  g.stride_w = o.stride_w;
  ctx.require(
      g.stride_h >= 1 && g.stride_w >= 1 && g.stride_h <= kMaxWindow && g.stride_w <= kMaxWindow &&
          g.kh <= kMaxWindow && g.kw <= kMaxWindow,
      "strides must be positive, and strides and kernel at most " + std::to_string(kMaxWindow));
  // TensorFlow Lite pads as the convolution from the output back to the input would be padded.
  g.pad_top = pad_dim(o.padding, g.oh, g.kh, g.stride_h, 1).before;
  g.pad_left = pad_dim(o.padding, g.ow, g.kw, g.stride_w, 1).before;
  ctx.require(static_cast<int64_t>(w.data.size()) >= w.num_elements() * 4,
              "weights data is too short");
  s.w.values.resize(static_cast<size_t>(w.num_elements()));
  std::memcpy(s.w.values.data(), w.data.data(), s.w.values.size() * 4);
  s.float_bias.assign(static_cast<size_t>(g.oc), 0.f);
  if (ctx.has_input(3)) {
    const Tensor& b = ctx.in_tensor(3);
    ctx.require(
        b.is_constant() && b.type == DType::kFloat32 && b.num_elements() == g.oc &&
            static_cast<int64_t>(b.data.size()) >= int64_t{g.oc} * 4,
        "bias " + b.name + " must be a float32 constant of " + std::to_string(g.oc) + " values");
    std::memcpy(s.float_bias.data(), b.data.data(), static_cast<size_t>(g.oc) * 4);
  }
  ctx.require(
      activation_range(o.activation, &s.float_act),
      std::string("fused activation ") + activation_name(o.activation) + " is not supported");
  ctx.read_constant(2);
  s.input = ctx.input_index(2);
  s.output = ctx.output_index(0);
  return std::make_unique<DnnlDeconvKernel>(ctx, s);
}

}  // namespace pipecut::runtime
