#include <algorithm>
#include <cstring>

#include "runtime/conv_kernels.h"
#include "runtime/dnnl_conv_common.h"
#include "runtime/dnnl_env.h"

namespace pipecut::runtime {

namespace {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

class DnnlConvKernel : public DnnlPrimitiveKernel {
 public:
  DnnlConvKernel(OpContext& ctx, const ConvSetup& s) : DnnlPrimitiveKernel(ctx, s) {
    const ConvGeometry& g = s.g;
    const dt act = s.is_float ? dt::f32 : dt::u8;
    const memory::dims src_dims{g.n, g.ic, g.ih, g.iw}, dst_dims{g.n, g.oc, g.oh, g.ow};
    src_md_ = memory::desc(src_dims, act, tag::nhwc);
    dst_md_ = memory::desc(dst_dims, act, tag::nhwc);

    // The file's weight layout, described by strides over oneDNN's logical dimensions.
    memory::dims wdims, wstrides;
    const int64_t icg = g.ic_per_group(), ocg = g.oc_per_group();
    if (g.depthwise) {  // [kh][kw][oc], oc = group * multiplier + o
      wdims = {g.groups, ocg, 1, g.kh, g.kw};
      wstrides = {ocg, 1, 1, int64_t{g.kw} * g.oc, g.oc};
    } else if (g.groups == 1) {  // [oc][kh][kw][ic]
      wdims = {g.oc, g.ic, g.kh, g.kw};
      wstrides = {int64_t{g.kh} * g.kw * g.ic, 1, int64_t{g.kw} * g.ic, g.ic};
    } else {  // [oc][kh][kw][ic/groups], oc = group * (oc/groups) + o
      wdims = {g.groups, ocg, icg, g.kh, g.kw};
      wstrides = {ocg * g.kh * g.kw * icg, int64_t{g.kh} * g.kw * icg, 1, int64_t{g.kw} * icg, icg};
    }
    const dt wtype = s.is_float ? dt::f32 : dt::s8;
    const memory::desc user_wmd(wdims, wtype, wstrides);
    const memory::desc any_wmd(wdims, wtype, tag::any);
    const memory::desc bias_md({g.oc}, s.is_float ? dt::f32 : dt::s32, tag::a);

    const dnnl::primitive_attr attr = conv_primitive_attr(s);

    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md_, any_wmd,
        bias_md, dst_md_, {g.stride_h, g.stride_w}, {g.dilation_h - 1, g.dilation_w - 1},
        {g.pad_top, g.pad_left}, {g.pad_bottom, g.pad_right});
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, env_->engine);

    // Weights, reordered once into the layout the primitive prefers.
    std::vector<int8_t> s8;
    const void* wdata = s.w.values.data();
    if (!s.is_float) {
      s8.assign(s.w.centered.begin(), s.w.centered.end());
      wdata = s8.data();
    }
    adopt(ctx, s, pd, dnnl::convolution_forward(pd), user_wmd, wdata, bias_md);
  }

  std::string detail() const override { return "dnnl conv " + impl(); }
};

}  // namespace

std::unique_ptr<Kernel> make_dnnl_conv(OpContext& ctx, const ConvSetup& s) {
  return std::make_unique<DnnlConvKernel>(ctx, s);
}

}  // namespace pipecut::runtime
