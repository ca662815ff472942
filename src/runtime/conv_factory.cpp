// Chooses the kernel for CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED. Each choice depends on
// the op alone (its shapes, types and weights), never on its neighbours, so a segment and the
// whole model always compile an op to the same kernel.
#include "runtime/conv_kernels.h"
#include "runtime/dnnl_conv_common.h"
#include "runtime/kernels.h"

namespace pipecut::runtime {

std::unique_ptr<Kernel> make_conv_2d(OpContext& ctx) {
  const ConvSetup s = make_conv_setup(ctx, false);
  if (s.is_float || s.w.fits_s8) return make_dnnl_conv(ctx, s);
  ctx.require(
      s.g.groups == 1 && s.w.raw_uint8 && s.w.per_tensor_zero,
      "weights centred on their zero points do not fit int8 (grouped or per-channel zero points)");
  return make_matmul_conv(ctx, s);
}

std::unique_ptr<Kernel> make_depthwise_conv_2d(OpContext& ctx) {
  const ConvSetup s = make_conv_setup(ctx, true);
  // A depth multiplier above 1 may leave oneDNN's depthwise kernel for grouped ones that pair
  // products in int16 on CPUs without VNNI (see split_weights): our own kernel is exact there.
  const bool may_saturate = s.g.depth_multiplier > 1 && int8_products_saturate();
  if (s.is_float || (s.w.fits_s8 && !may_saturate)) return make_dnnl_conv(ctx, s);
  return make_own_depthwise(ctx, s);
}

std::unique_ptr<Kernel> make_fully_connected(OpContext& ctx) {
  const ConvSetup s = make_fc_setup(ctx);
  ctx.require(s.is_float || s.w.fits_s8 || (s.w.raw_uint8 && s.w.per_tensor_zero),
              "weights centred on their per-channel zero points do not fit int8");
  return make_matmul_conv(ctx, s);
}

}  // namespace pipecut::runtime
