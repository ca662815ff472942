#pragma once
// The kernels a convolution or fully-connected op can compile to (conv_factory.cpp chooses):
// a oneDNN convolution (weights that fit int8, float), a oneDNN matmul (fully connected, and
// convolutions with uint8 weights whose zero point leaves them outside int8: matmul takes a weight
// zero point, convolution does not), and our own depthwise kernel for the latter case.
#include <memory>

#include "runtime/conv_setup.h"
#include "runtime/kernel.h"

namespace pipecut::runtime {

// oneDNN convolution (groups for depthwise). Requires s.is_float or s.w.fits_s8.
std::unique_ptr<Kernel> make_dnnl_conv(OpContext& ctx, const ConvSetup& s);
// oneDNN matmul: [n*oh*ow, kh*kw*ic] x [kh*kw*ic, oc], through an im2col buffer unless the
// convolution is pointwise. Requires groups == 1.
std::unique_ptr<Kernel> make_matmul_conv(OpContext& ctx, const ConvSetup& s);
// Our own 8-bit depthwise convolution, for any weight zero point.
std::unique_ptr<Kernel> make_own_depthwise(OpContext& ctx, const ConvSetup& s);

}  // namespace pipecut::runtime
