#include "runtime/dnnl_conv_common.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace pipecut::runtime {

dnnl::primitive_attr conv_primitive_attr(const ConvSetup& s, int32_t weight_zero) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::post_ops po;
  if (s.is_float) {
    if (s.float_act.lo > -INFINITY || s.float_act.hi < INFINITY) {
      if (s.float_act.hi == INFINITY) {  // RELU: the only clamp without an upper end
        po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      } else {
        po.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, s.float_act.lo, s.float_act.hi);
      }
    }
  } else {
    const bool common =
        std::all_of(s.q.scale.begin(), s.q.scale.end(), [&](float v) { return v == s.q.scale[0]; });
    attr.set_output_scales(common ? 0 : 2, common ? std::vector<float>{s.q.scale[0]} : s.q.scale);
    if (s.q.input_zero != 0) attr.set_zero_points(DNNL_ARG_SRC, 0, {s.q.input_zero});
    if (weight_zero != 0) attr.set_zero_points(DNNL_ARG_WEIGHTS, 0, {weight_zero});
    if (s.q.output_zero != 0) attr.set_zero_points(DNNL_ARG_DST, 0, {s.q.output_zero});
    if (s.q.act.lo > ValueInfo::kMin || s.q.act.hi < ValueInfo::kMax) {
      po.append_eltwise(1.f, dnnl::algorithm::eltwise_clip,
                        static_cast<float>(s.q.act.lo - s.q.output_zero),
                        static_cast<float>(s.q.act.hi - s.q.output_zero));
    }
  }
  attr.set_post_ops(po);
  return attr;
}

PrimitiveWeights prepare_primitive_weights(DnnlEnv& env, const ConvSetup& s,
                                           const dnnl::memory::desc& user_md, const void* weights,
                                           const dnnl::memory::desc& primitive_md,
                                           const dnnl::memory::desc& bias_md) {
  PrimitiveWeights out;
  dnnl::memory user(user_md, env.engine, const_cast<void*>(weights));
  out.weights = dnnl::memory(primitive_md, env.engine);
  dnnl::reorder(user, out.weights).execute(env.stream, user, out.weights);
  out.bias = dnnl::memory(bias_md, env.engine);
  const void* bias = s.is_float ? static_cast<const void*>(s.float_bias.data()) : s.q.bias.data();
  std::memcpy(out.bias.get_data_handle(), bias, static_cast<size_t>(s.g.oc) * 4);
  env.stream.wait();
  out.bytes = static_cast<int64_t>(primitive_md.get_size()) + int64_t{s.g.oc} * 4;
  return out;
}

void DnnlPrimitiveKernel::bind_source(const Bindings& b, uint8_t* source) {
  args_ = {{DNNL_ARG_SRC, dnnl::memory(src_md_, env_->engine, source)},
           {DNNL_ARG_WEIGHTS, weights_},
           {DNNL_ARG_BIAS, bias_},
           {DNNL_ARG_DST, dnnl::memory(dst_md_, env_->engine, b.tensor(output_))},
           {DNNL_ARG_SCRATCHPAD, dnnl::memory(scratchpad_md_, env_->engine,
                                              b.scratch.at(static_cast<size_t>(scratch_)))}};
}

}  // namespace pipecut::runtime
