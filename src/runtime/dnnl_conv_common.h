#pragma once
// What oneDNN convolution and matmul kernels set up the same way: the attributes that carry the
// requantization (scales, zero points, the activation clamp) and the weights and bias, reordered
// once at load into the layout the primitive prefers.
#include <cstdint>

#include "runtime/conv_setup.h"
#include "runtime/dnnl_env.h"

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

}  // namespace pipecut::runtime
