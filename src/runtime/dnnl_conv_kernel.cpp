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

class DnnlConvKernel : public Kernel {
 public:
  DnnlConvKernel(OpContext& ctx, const ConvSetup& s)
      : env_(&ctx.dnnl()), input_(s.input), output_(s.output) {
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
    dnnl::convolution_forward::primitive_desc pd(desc, attr, env_->engine);
    impl_ = pd.impl_info_str();
    primitive_ = dnnl::convolution_forward(pd);

    // Weights, reordered once into the layout the primitive prefers.
    std::vector<int8_t> s8;
    const void* wdata = s.w.values.data();
    if (!s.is_float) {
      s8.assign(s.w.centered.begin(), s.w.centered.end());
      wdata = s8.data();
    }
    PrimitiveWeights w =
        prepare_primitive_weights(*env_, s, user_wmd, wdata, pd.weights_desc(), bias_md);
    weights_ = std::move(w.weights);
    bias_ = std::move(w.bias);
    weight_bytes_ = w.bytes;

    scratchpad_md_ = pd.scratchpad_desc();
    scratch_ = ctx.scratch(static_cast<int64_t>(scratchpad_md_.get_size()));
  }

  void bind(const Bindings& b) override {
    args_ = {{DNNL_ARG_SRC, memory(src_md_, env_->engine, b.tensor(input_))},
             {DNNL_ARG_WEIGHTS, weights_},
             {DNNL_ARG_BIAS, bias_},
             {DNNL_ARG_DST, memory(dst_md_, env_->engine, b.tensor(output_))},
             {DNNL_ARG_SCRATCHPAD,
              memory(scratchpad_md_, env_->engine, b.scratch.at(static_cast<size_t>(scratch_)))}};
  }

  void run() override {
    primitive_.execute(env_->stream, args_);
    env_->stream.wait();
  }

  std::string detail() const override { return "dnnl conv " + impl_; }
  int64_t weight_bytes() const override { return weight_bytes_; }

 private:
  DnnlEnv* env_;
  int input_, output_;
  memory::desc src_md_, dst_md_, scratchpad_md_;
  memory weights_, bias_;
  dnnl::convolution_forward primitive_;
  std::unordered_map<int, memory> args_;
  int scratch_ = -1;
  std::string impl_;
  int64_t weight_bytes_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> make_dnnl_conv(OpContext& ctx, const ConvSetup& s) {
  return std::make_unique<DnnlConvKernel>(ctx, s);
}

}  // namespace pipecut::runtime
