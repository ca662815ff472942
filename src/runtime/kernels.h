#pragma once
// Kernel factories, one per op type (see op_registry.cpp). Each checks the op's types, shapes and
// options and refuses what it cannot run; it returns null when the op only aliases its input.
#include <memory>

#include "runtime/kernel.h"
#include "runtime/quant_math.h"

namespace pipecut::runtime {

// conv_factory.cpp
std::unique_ptr<Kernel> make_conv_2d(OpContext& ctx);
std::unique_ptr<Kernel> make_depthwise_conv_2d(OpContext& ctx);
std::unique_ptr<Kernel> make_fully_connected(OpContext& ctx);
// dnnl_deconv_kernel.cpp
std::unique_ptr<Kernel> make_transpose_conv(OpContext& ctx);
// pooling_kernels.cpp
std::unique_ptr<Kernel> make_max_pool_2d(OpContext& ctx);
std::unique_ptr<Kernel> make_average_pool_2d(OpContext& ctx);
// elementwise_kernels.cpp
std::unique_ptr<Kernel> make_add(OpContext& ctx);
std::unique_ptr<Kernel> make_sub(OpContext& ctx);
std::unique_ptr<Kernel> make_mul(OpContext& ctx);
std::unique_ptr<Kernel> make_div(OpContext& ctx);
std::unique_ptr<Kernel> make_prelu(OpContext& ctx);
std::unique_ptr<Kernel> make_maximum(OpContext& ctx);
std::unique_ptr<Kernel> make_minimum(OpContext& ctx);
// concat_split_kernels.cpp
std::unique_ptr<Kernel> make_concatenation(OpContext& ctx);
std::unique_ptr<Kernel> make_split(OpContext& ctx);
std::unique_ptr<Kernel> make_split_v(OpContext& ctx);
// shape_kernels.cpp
std::unique_ptr<Kernel> make_reshape(OpContext& ctx);
// transpose_kernel.cpp
std::unique_ptr<Kernel> make_transpose(OpContext& ctx);
// slice_kernels.cpp
std::unique_ptr<Kernel> make_slice(OpContext& ctx);
std::unique_ptr<Kernel> make_strided_slice(OpContext& ctx);
// pad_kernel.cpp
std::unique_ptr<Kernel> make_pad(OpContext& ctx);
// reduce_kernels.cpp
std::unique_ptr<Kernel> make_mean(OpContext& ctx);
std::unique_ptr<Kernel> make_sum(OpContext& ctx);
std::unique_ptr<Kernel> make_reduce_max(OpContext& ctx);
std::unique_ptr<Kernel> make_reduce_min(OpContext& ctx);
// softmax_kernel.cpp
std::unique_ptr<Kernel> make_softmax(OpContext& ctx);
// quantize_kernels.cpp
std::unique_ptr<Kernel> make_quantize(OpContext& ctx);
std::unique_ptr<Kernel> make_dequantize(OpContext& ctx);
// unary_kernels.cpp
std::unique_ptr<Kernel> make_unary(OpContext& ctx);
// resize_kernels.cpp
std::unique_ptr<Kernel> make_resize_bilinear(OpContext& ctx);
std::unique_ptr<Kernel> make_resize_nearest_neighbor(OpContext& ctx);
// table_kernel.cpp: output 0 = lut[input 0] for an 8-bit map; _or_alias: an identity table
// makes output 0 alias input 0 and no kernel runs.
std::unique_ptr<Kernel> make_table_kernel(OpContext& ctx, const Lut& lut);
std::unique_ptr<Kernel> make_table_or_alias(OpContext& ctx, const Lut& lut);
// argmax_kernel.cpp
std::unique_ptr<Kernel> make_arg_max(OpContext& ctx);
std::unique_ptr<Kernel> make_arg_min(OpContext& ctx);

}  // namespace pipecut::runtime
