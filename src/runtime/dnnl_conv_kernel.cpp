#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

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
    const int64_t elem = s.is_float ? 4 : 1;

    std::vector<int8_t> s8, high, low;
    const void* wdata = s.w.values.data();
    bool wide = false;
    if (!s.is_float) {
      s8.assign(s.w.centered.begin(), s.w.centered.end());
      wdata = s8.data();
      // oneDNN's depthwise kernels (multiplier 1; conv_factory sends the others to our own
      // kernel where products may saturate) multiply without pairing products.
      wide = !g.depthwise && split_weights(s8, &high, &low);
    }
    const int64_t icg = g.ic_per_group(), ocg = g.oc_per_group();
    const int64_t oc = wide ? 2 * g.oc : g.oc;  // output channels of the primitive
    const int64_t ocg_out = wide ? 2 * ocg : ocg;
    if (wide) {  // per group, the high halves of its channels, then the low halves
      const int64_t filter = int64_t{g.kh} * g.kw * icg;
      s8.assign(static_cast<size_t>(oc * filter), 0);
      for (int64_t c = 0; c < oc; ++c) {
        const int64_t from = (c / ocg_out * ocg + c % ocg) * filter;
        const std::vector<int8_t>& half = c % ocg_out < ocg ? high : low;
        std::copy_n(half.begin() + from, filter, s8.begin() + c * filter);
      }
      wdata = s8.data();
      widen(s, 0, 0, 0);
    }

    // The file's weight layout, described by strides over oneDNN's logical dimensions.
    memory::dims wdims, wstrides;
    if (g.depthwise) {  // [kh][kw][oc], oc = group * multiplier + o
      wdims = {g.groups, ocg, 1, g.kh, g.kw};
      wstrides = {ocg, 1, 1, int64_t{g.kw} * g.oc, g.oc};
    } else if (g.groups == 1) {  // [oc][kh][kw][ic]
      wdims = {oc, g.ic, g.kh, g.kw};
      wstrides = {int64_t{g.kh} * g.kw * g.ic, 1, int64_t{g.kw} * g.ic, g.ic};
    } else {  // [oc][kh][kw][ic/groups], oc = group * (oc/groups) + o
      wdims = {g.groups, ocg_out, icg, g.kh, g.kw};
      wstrides = {ocg_out * g.kh * g.kw * icg, int64_t{g.kh} * g.kw * icg, 1, int64_t{g.kw} * icg,
                  icg};
    }
    const dt wtype = s.is_float ? dt::f32 : dt::s8;
    const memory::desc user_wmd(wdims, wtype, wstrides);
    const memory::desc any_wmd(wdims, wtype, tag::any);
    // A widened primitive writes int32 sums without bias; the kernel finishes them.
    const memory::desc bias_md =
        wide ? memory::desc() : memory::desc({g.oc}, s.is_float ? dt::f32 : dt::s32, tag::a);
    const dt dst_type = wide ? dt::s32 : act;
    const dnnl::primitive_attr attr = wide ? wide_primitive_attr(s) : conv_primitive_attr(s);

    // Bands of output rows: in NHWC a band of one image's rows is contiguous, in the input as in
    // the output, so each band is a convolution of its own over dense tensors, with the padding
    // of the whole where it touches the top or bottom edge. Equal bands share one primitive.
    const int64_t kext = int64_t{g.kh - 1} * g.dilation_h + 1;
    const int64_t work_per_row = int64_t{g.ow} * g.oc * g.kh * g.kw * icg;
    const int64_t max_rows = wide ? std::max<int64_t>(1, wide_band_rows(g.oc) / g.ow) : 0;
    std::vector<std::pair<int64_t, int64_t>> bands =
        row_bands(g.oh, work_per_row, ctx.threads(), max_rows);
    bool padding_only = false;  // a band that reads padding only: keep the op whole
    for (const auto& [r0, r1] : bands) {
      const int64_t top = r0 * g.stride_h - g.pad_top,
                    end = (r1 - 1) * g.stride_h - g.pad_top + kext;
      padding_only |= std::min<int64_t>(g.ih, end) - std::max<int64_t>(0, top) < 1;
    }
    if (padding_only) bands = {{0, g.oh}};
    std::map<std::array<int64_t, 4>, int> shapes;  // rows in, padding top and bottom, rows out
    for (int64_t n = 0; n < g.n; ++n) {
      for (const auto& [r0, r1] : bands) {
        const int64_t top = r0 * g.stride_h - g.pad_top;               // first input row read
        const int64_t end = (r1 - 1) * g.stride_h - g.pad_top + kext;  // one past the last
        const int64_t lo = std::max<int64_t>(0, top), hi = std::min<int64_t>(g.ih, end);
        const std::array<int64_t, 4> shape{hi - lo, lo - top, end - hi, r1 - r0};
        auto it = shapes.find(shape);
        if (it == shapes.end()) {
          const memory::desc src_md({1, g.ic, shape[0], g.iw}, act, tag::nhwc);
          const memory::desc dst_md({1, oc, shape[3], g.ow}, dst_type, tag::nhwc);
          const dnnl::convolution_forward::desc desc(
              dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md,
              any_wmd, bias_md, dst_md, {g.stride_h, g.stride_w},
              {g.dilation_h - 1, g.dilation_w - 1}, {shape[1], g.pad_left},
              {shape[2], g.pad_right});
          const dnnl::convolution_forward::primitive_desc pd(desc, attr, env_->engine);
          const int id =
              adopt(s, pd, dnnl::convolution_forward(pd), src_md, dst_md, user_wmd, wdata, bias_md);
          it = shapes.emplace(shape, id).first;
        }
        add_band(it->second, ((n * g.ih + lo) * g.iw * g.ic) * elem, (n * g.oh + r0) * g.ow,
                 (r1 - r0) * g.ow);
      }
    }
    finish_bands(ctx);
  }

  std::string detail() const override { return "dnnl conv " + DnnlPrimitiveKernel::detail(); }
};

}  // namespace

std::unique_ptr<Kernel> make_dnnl_conv(OpContext& ctx, const ConvSetup& s) {
  return std::make_unique<DnnlConvKernel>(ctx, s);
}

}  // namespace pipecut::runtime
