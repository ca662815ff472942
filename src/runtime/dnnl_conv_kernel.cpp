#include <algorithm>
#include <cstring>

#include "runtime/conv_kernels.h"
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

    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::post_ops po;
    if (s.is_float) {
      if (s.float_act.lo > -INFINITY || s.float_act.hi < INFINITY) {
        if (s.float_act.hi == INFINITY) {
          po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
        } else {
          po.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, s.float_act.lo, s.float_act.hi);
        }
      }
    } else {
      const bool common = std::all_of(s.q.scale.begin(), s.q.scale.end(),
                                      [&](float v) { return v == s.q.scale[0]; });
      attr.set_output_scales(common ? 0 : 2, common ? std::vector<float>{s.q.scale[0]} : s.q.scale);
      if (s.q.input_zero != 0) attr.set_zero_points(DNNL_ARG_SRC, 0, {s.q.input_zero});
      if (s.q.output_zero != 0) attr.set_zero_points(DNNL_ARG_DST, 0, {s.q.output_zero});
      if (s.q.act.lo > ValueInfo::kMin || s.q.act.hi < ValueInfo::kMax) {
        po.append_eltwise(1.f, dnnl::algorithm::eltwise_clip,
                          static_cast<float>(s.q.act.lo - s.q.output_zero),
                          static_cast<float>(s.q.act.hi - s.q.output_zero));
      }
    }
    attr.set_post_ops(po);

    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md_, any_wmd,
        bias_md, dst_md_, {g.stride_h, g.stride_w}, {g.dilation_h - 1, g.dilation_w - 1},
        {g.pad_top, g.pad_left}, {g.pad_bottom, g.pad_right});
    dnnl::convolution_forward::primitive_desc pd(desc, attr, env_->engine);
    impl_ = pd.impl_info_str();
    primitive_ = dnnl::convolution_forward(pd);

    // Weights, reordered once into the layout the primitive prefers.
    std::vector<int8_t> s8;
    void* wdata = nullptr;
    if (s.is_float) {
      wdata = const_cast<float*>(s.w.values.data());
    } else {
      s8.assign(s.w.centered.begin(), s.w.centered.end());
      wdata = s8.data();
    }
    memory user_w(user_wmd, env_->engine, wdata);
    weights_ = memory(pd.weights_desc(), env_->engine);
    dnnl::reorder(user_w, weights_).execute(env_->stream, user_w, weights_);
    bias_ = memory(bias_md, env_->engine);
    const void* bsrc = s.is_float ? static_cast<const void*>(s.float_bias.data()) : s.q.bias.data();
    std::memcpy(bias_.get_data_handle(), bsrc, static_cast<size_t>(g.oc) * 4);
    env_->stream.wait();
    weight_bytes_ = static_cast<int64_t>(pd.weights_desc().get_size()) + g.oc * 4;

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
