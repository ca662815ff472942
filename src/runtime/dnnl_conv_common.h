#pragma once
// What oneDNN convolution and matmul kernels set up and run the same way: the attributes that
// carry the requantization (scales, zero points, the activation clamp), the weights and bias,
// reordered once at load into the layout the primitive prefers, and one primitive executed on
// the op's tensors with a scratchpad from the plan.
#include <cstdint>
#include <string>
#include <unordered_map>

#include "runtime/conv_setup.h"
#include "runtime/dnnl_env.h"
#include "runtime/kernel.h"

namespace pipecut::runtime {

// Scratchpad owned by the caller; for 8-bit: output scales (one, or one per output channel),
// input/output zero points and `weight_zero` where non-zero, and the activation as a clamp in
// the output's centred domain; for float: the activation as relu or clip.
dnnl::primitive_attr conv_primitive_attr(const ConvSetup& s, int32_t weight_zero = 0);

struct PrimitiveWeights {
  dnnl::memory weights, bias;
  int64_t bytes = 0;  // both, as held
};

// Reorders `weights` (described by `user_md`) into `primitive_md` and copies `oc` 4-byte biases
// (float or int32, by the setup), waiting for the reorder to finish.
PrimitiveWeights prepare_primitive_weights(DnnlEnv& env, const ConvSetup& s,
                                           const dnnl::memory::desc& user_md, const void* weights,
                                           const dnnl::memory::desc& primitive_md,
                                           const dnnl::memory::desc& bias_md);

// A kernel that runs one oneDNN primitive from the op's source (or a buffer standing in for it)
// to its output. A subclass describes src_md_ and dst_md_, builds its primitive descriptor and
// hands it to adopt().
class DnnlPrimitiveKernel : public Kernel {
 public:
  void bind(const Bindings& b) override { bind_source(b, b.tensor(input_)); }
  void run() override { execute(); }
  std::string detail() const override { return impl_; }
  int64_t weight_bytes() const override { return weight_bytes_; }

 protected:
  DnnlPrimitiveKernel(OpContext& ctx, const ConvSetup& s)
      : env_(&ctx.dnnl()), input_(s.input), output_(s.output) {}

  // Keeps the primitive (made from `pd`), its implementation's name, its weights (`weights`
  // described by `user_wmd`, reordered into the primitive's layout) and a scratchpad of the plan.
  template <typename PrimitiveDesc>
  void adopt(OpContext& ctx, const ConvSetup& s, const PrimitiveDesc& pd, dnnl::primitive primitive,
             const dnnl::memory::desc& user_wmd, const void* weights,
             const dnnl::memory::desc& bias_md) {
    impl_ = pd.impl_info_str();
    primitive_ = std::move(primitive);
    PrimitiveWeights w =
        prepare_primitive_weights(*env_, s, user_wmd, weights, pd.weights_desc(), bias_md);
    weights_ = std::move(w.weights);
    bias_ = std::move(w.bias);
    weight_bytes_ = w.bytes;
    scratchpad_md_ = pd.scratchpad_desc();
    scratch_ = ctx.scratch(static_cast<int64_t>(scratchpad_md_.get_size()));
  }

  // Binds the primitive to `source` (the op's input, or a buffer derived from it) and the output.
  void bind_source(const Bindings& b, uint8_t* source);
  void execute() {
    primitive_.execute(env_->stream, args_);
    env_->stream.wait();
  }
  const std::string& impl() const { return impl_; }

  DnnlEnv* env_;
  int input_, output_;
  dnnl::memory::desc src_md_, dst_md_;

 private:
  dnnl::memory::desc scratchpad_md_;
  dnnl::memory weights_, bias_;
  dnnl::primitive primitive_;
  std::unordered_map<int, dnnl::memory> args_;
  int scratch_ = -1;
  std::string impl_;
  int64_t weight_bytes_ = 0;
};

}  // namespace pipecut::runtime
